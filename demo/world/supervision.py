"""The demo world's supervision (issue 7): supervising departments with their regulators, made before any
tender is published so that publication assigns them; the pool of social supervisors; a GP 质疑 answered
and a complaint accepted with the tender suspended (the suspended tender of the table); and, at the end,
a complaint waiting for acceptance, an anonymous tip-off, an instruction to the centre and a deputy
invited to watch the opening that is about to start."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from demo.world.clock import simulated_now
from trading.models import Role, Tender, TenderState

# name, kind, region, regimes, categories, member usernames
DEPARTMENTS = [
    ("广西壮族自治区住房和城乡建设厅", "industry", "450000", ["TB"], ["works"], ["regulator"]),
    ("广西壮族自治区自然资源厅", "industry", "450000", ["TB"], ["land"], []),
    ("广西壮族自治区财政厅", "finance", "450000", ["GP"], [], ["regulator_gp"]),
    ("南宁市政务服务监督管理办公室", "service_office", "450100", [], [], ["regulator_nn"]),
    ("柳州市住房和城乡建设局", "industry", "450200", ["TB"], ["works"], ["regulator_lz"]),
]

# name, kind, affiliation, username (None: in the pool without an account yet)
SOCIAL_SUPERVISORS = [
    ("李建华", "deputy", "南宁市人大代表", "supervisor"),
    ("黄秀梅", "committee", "南宁市政协委员", "supervisor2"),
    ("陈志强", "deputy", "柳州市人大代表", None),
]


class SupervisionMixin:
    def build_departments(self) -> None:
        """Called in the registry's transaction, before any tender exists."""
        from supervision.services import department_create, member_add
        from supervision.services.invitations import social_supervisor_add
        from trading.services.accounts import user_create

        admin, pw = self.users["admin"], self.password
        for username, name, department in (
            ("regulator_nn", "监管·黄主任", "南宁市政务服务监督管理办公室"),
            ("regulator_lz", "监管·梁科长", "柳州市住房和城乡建设局"),
        ):
            self.users[username] = user_create(
                username=username,
                password=pw,
                role=Role.REGULATOR,
                first_name=name,
                region_code="450200" if username.endswith("lz") else "450100",
                department=department,
            )
        for name, kind, region, regimes, categories, members in DEPARTMENTS:
            dept = department_create(
                actor=admin, name=name, kind=kind, region_code=region, regimes=regimes, categories=categories
            )
            for username in members:
                member_add(actor=admin, department=dept, user=self.users[username])
        for name, kind, affiliation, username in SOCIAL_SUPERVISORS:
            user = None
            if username:
                user = self.users[username] = user_create(
                    username=username, password=pw, role=Role.SUPERVISOR, first_name=f"社会监督员·{name}"
                )
            social_supervisor_add(actor=admin, name=name, kind=kind, affiliation=affiliation, user=user)

    def suspend_on_complaint(self, tender: Tender, bidder, agency_user, published: dt.datetime) -> None:
        """GP: a supplier's 质疑 answered, then its complaint to the finance department, accepted, with the
        procurement suspended while it investigates (the table's suspended tender)."""
        from supervision.services.complaints import (
            challenge_file,
            challenge_reply,
            complaint_accept,
            complaint_file,
            complaint_suspend_tender,
        )

        regulator = self.users["regulator_gp"]
        known = published + dt.timedelta(days=1)
        with simulated_now(published + dt.timedelta(days=2)), transaction.atomic():
            challenge = challenge_file(
                actor=bidder,
                tender=tender,
                known_at=known,
                text="采购文件第三章技术参数“须为某品牌原厂配件”具有明显倾向性，限制了潜在供应商。",
            )
        with simulated_now(published + dt.timedelta(days=3)), transaction.atomic():
            challenge_reply(
                actor=agency_user,
                challenge=challenge,
                reply="经核实，该参数系采购人根据既有系统兼容性需要设定，不构成倾向性，质疑不成立。",
            )
        with simulated_now(published + dt.timedelta(days=4)), transaction.atomic():
            complaint = complaint_file(
                actor=bidder,
                tender=tender,
                matter="documents",
                known_at=known,
                text="对质疑答复不满意：技术参数指向特定品牌，违反《政府采购法实施条例》第二十条。",
                request="责令修改采购文件并重新开展采购活动。",
                evidence=[("采购文件第三章节选.txt", "第三章 技术参数：须为某品牌原厂配件。\n".encode())],
            )
        with simulated_now(published + dt.timedelta(days=5)), transaction.atomic():
            complaint = complaint_accept(actor=regulator, complaint=complaint)
            complaint_suspend_tender(
                actor=regulator,
                complaint=complaint,
                reason="投诉处理期间暂停采购活动（政府采购质疑和投诉办法第二十八条）。",
            )

    def build_supervision(self, at: dt.datetime) -> None:
        from bidding.models import Bid
        from demo.world.tender_table import OPENING_SOON
        from supervision.models import SocialSupervisor
        from supervision.services.complaints import complaint_file
        from supervision.services.instructions import instruction_issue
        from supervision.services.invitations import invitation_create
        from supervision.services.tipoffs import tipoff_submit

        soon = Tender.objects.get(title=OPENING_SOON[0])
        published = (
            Tender.objects.filter(state=TenderState.PUBLISHED, regime="TB", category="works")
            .exclude(pk=soon.pk)
            .order_by("pk")
            .first()
        )
        with simulated_now(at - dt.timedelta(hours=2)), transaction.atomic():
            bid = (
                Bid.objects.filter(lot__tender=soon, status=Bid.Status.ACTIVE)
                .select_related("entity")
                .first()
            )
            bidder = bid.entity.users.filter(role=Role.BIDDER).order_by("pk").first() if bid else None
            target = published or soon
            if bidder is None:
                bidder = self.users.get("bidder")
            complaint_file(
                actor=bidder,
                tender=target,
                matter="process",
                known_at=at - dt.timedelta(days=1),
                text="招标代理机构在投标截止前向部分潜在投标人透露已获取招标文件的单位名称。",
                request="请予调查并依法处理。",
                evidence=[
                    (
                        "通话记录截图说明.txt",
                        "2026年通话记录：代理机构工作人员告知已有五家单位购买文件。\n".encode(),
                    )
                ],
            )
            invitation_create(
                actor=self.users["regulator"],
                tender=soon,
                supervisor=SocialSupervisor.objects.get(user__username="supervisor"),
                stage="opening",
            )
            instruction_issue(
                actor=self.users["regulator"],
                tender=soon,
                addressee="centre",
                text="本项目开标请全程录音录像，开标记录及视频资料于开标结束后一个工作日内报送备查。",
                due_at=at + dt.timedelta(days=2),
            )
            _tip, code = tipoff_submit(
                actor=None,
                tender_id=soon.pk,
                text="听说本项目有两家投标单位由同一人编制投标文件，报价也是商量好的。",
                contact="",
                anonymous=True,
            )
        self.log(
            f"supervision: a complaint to accept, an instruction, a deputy invited, an anonymous tip-off ({code})\n"
        )
