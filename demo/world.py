"""Build the demo world through the real services, under a simulated clock, so that every
journal entry, announcement and timeline is what the platform itself would have produced.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import random
from decimal import Decimal
from pathlib import Path
from unittest import mock

from django.conf import settings
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone

from archive.journal import journal_anchor, journal_append
from demo import data as D
from trading import rules
from trading.models import (
    AnnouncementKind,
    CreditRecord,
    MarketEntity,
    Role,
    Tender,
    TenderState,
    User,
)
from trading.services.accounts import user_create
from trading.services.announcements import announcement_create, announcement_publish
from trading.services.credit import credit_record_create
from trading.services.entities import entity_register, entity_verify, person_upsert
from trading.services.tenders import (
    tender_close,
    tender_create,
    tender_document_download,
    tender_publish,
    tender_set_state,
)

DEMO_PASSWORD = "Demo@2026"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@contextlib.contextmanager
def simulated_now(when: dt.datetime):
    """Run services as if it were `when` (only the demo builder does this)."""
    with mock.patch.object(timezone, "now", lambda: when):
        yield


def _uscc(rng: random.Random, prefix: str, region: str) -> str:
    from trading.codes import uscc_make

    body = prefix + region + "".join(rng.choice(USCC_ALPHABET) for _ in range(8)) + rng.choice("0123456789")
    return uscc_make(body)


def _id_number(rng: random.Random, region: str) -> str:
    """A well-formed 18-digit resident ID (GB 11643 check digit) for a made-up person."""
    birth = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(0, 14000))
    body = f"{region}{birth:%Y%m%d}{rng.randrange(0, 999):03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
    return body + check


def _person(rng: random.Random, region: str) -> dict:
    name = rng.choice(D.SURNAMES) + rng.choice(D.GIVEN)
    return {
        "name": name,
        "id_number": _id_number(rng, region),
        "phone": f"13{rng.randrange(100000000, 999999999)}",
    }


def _pdf(title: str, lines: list[str]) -> bytes:
    """A small Chinese PDF (tender documents) with reportlab's built-in CID font."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    c.setTitle(title)
    c.setFont("STSong-Light", 16)
    c.drawString(60, 780, title)
    c.setFont("STSong-Light", 11)
    for i, line in enumerate(lines):
        c.drawString(60, 750 - 18 * i, line)
    c.showPage()
    c.save()
    return buf.getvalue()


class WorldBuilder:
    def __init__(
        self, *, seed: int = 2026, password: str = DEMO_PASSWORD, now: dt.datetime | None = None, out=None
    ):
        self.rng = random.Random(seed)
        self.password = password
        self.now = now or timezone.now()
        self.out = out
        self.rf = RequestFactory()
        self.entities: dict[str, MarketEntity] = {}
        self.users: dict[str, User] = {}

    def log(self, msg: str) -> None:
        if self.out:
            self.out.write(msg)

    # --- people and entities -------------------------------------------------------------------
    def entity_form(
        self, name: str, region: str, *, kind: str = "company", roles=("bidder",), qual=None
    ) -> dict:
        rng = self.rng
        rep = _person(rng, region)
        form = {
            "uscc": _uscc(
                rng, "91" if kind == "company" else ("11" if kind == "government" else "12"), region
            ),
            "name": name,
            "kind": kind,
            "is_bidder": "bidder" in roles,
            "is_tenderee": "tenderee" in roles,
            "is_agency": "agency" in roles,
            "legal_rep": rep,
            "registered_capital": str(Decimal(rng.choice([500, 1000, 2000, 5000, 10000, 30000])) * 10000),
            "founded_on": str(dt.date(rng.randrange(1995, 2020), rng.randrange(1, 13), rng.randrange(1, 28))),
            "region_code": region,
            "address": f"{name[:2]}市{rng.choice(['青秀区', '城中区', '七星区', '西乡塘区'])}"
            f"{rng.choice(['民族大道', '东环路', '中山路', '解放路'])}{rng.randrange(1, 300)}号",
            "contact_name": rng.choice(D.SURNAMES) + rng.choice(D.GIVEN),
            "contact_phone": f"0771-{rng.randrange(2000000, 9999999)}",
            "contact_email": f"contact{rng.randrange(100, 999)}@example.cn",
            "business_scope": "工程施工；技术服务；设备销售",
            "qualifications": [],
            "shareholders": [{"person": rep, "share_pct": "60", "is_controlling": True}],
            "positions": [{"role": "legal_rep", "person": rep, "title": "法定代表人"}],
            "bank_accounts": [
                {
                    "bank_name": rng.choice(D.BANKS),
                    "account_name": name,
                    "is_basic": True,
                    "account_number": "".join(rng.choice("0123456789") for _ in range(19)),
                }
            ],
        }
        if qual:
            kind_, qname, level = qual
            form["qualifications"].append(
                {
                    "kind": kind_,
                    "name": qname,
                    "level": level,
                    "number": f"D{rng.randrange(100000000, 999999999)}",
                    "issuer": "广西壮族自治区住房和城乡建设厅",
                    "valid_from": "2022-01-01",
                    "valid_until": "2027-12-31",
                }
            )
        if "bidder" in roles:
            pm = _person(rng, region)
            form["positions"].append(
                {
                    "role": "project_manager",
                    "person": pm,
                    "title": "项目经理",
                    "professional_kind": "一级注册建造师",
                    "professional_reg_no": f"桂1{rng.randrange(10, 99)}{rng.randrange(100000, 999999)}",
                }
            )
            form["positions"].append(
                {"role": "agent", "person": _person(rng, region), "title": "投标委托代理人"}
            )
            form["shareholders"].append({"person": _person(rng, region), "share_pct": "40"})
        return form

    def register(self, form: dict, centre: User) -> MarketEntity:
        entity = entity_register(data=form)
        entity_verify(entity=entity, actor=centre, approve=True)
        entity.refresh_from_db()
        return entity

    def build(self) -> dict:
        start = self.now - dt.timedelta(days=400)
        with simulated_now(start), transaction.atomic():
            self.build_registry()
        with simulated_now(start + dt.timedelta(days=1)), transaction.atomic():
            self.build_certificates()
        self.build_tenders()
        self.build_opening_soon()
        with simulated_now(self.now - dt.timedelta(days=1)), transaction.atomic():
            # Yesterday's registration, waiting in the centre's verification queue.
            entity_register(
                data=self.entity_form(
                    "南宁市新起点建设有限公司",
                    "450100",
                    qual=("建筑业企业资质", "建筑工程施工总承包", "三级"),
                )
            )
        with simulated_now(self.now), transaction.atomic():
            journal_anchor()
        return {
            "entities": MarketEntity.objects.count(),
            "tenders": Tender.objects.count(),
            "users": User.objects.count(),
        }

    def build_registry(self) -> None:
        rng, pw = self.rng, self.password
        admin = user_create(username="admin", password=pw, role=Role.ADMIN, first_name="系统管理员")
        centre = user_create(
            username="centre",
            password=pw,
            role=Role.CENTRE,
            first_name="交易中心·陆见证",
            region_code="450100",
            department="南宁市公共资源交易中心",
        )
        user_create(
            username="centre2",
            password=pw,
            role=Role.CENTRE,
            first_name="交易中心·韦主持",
            region_code="450100",
            department="南宁市公共资源交易中心",
        )
        regulator = user_create(
            username="regulator",
            password=pw,
            role=Role.REGULATOR,
            first_name="监管·覃科长",
            region_code="450100",
            department="南宁市住房和城乡建设局",
        )
        user_create(
            username="regulator_gp",
            password=pw,
            role=Role.REGULATOR,
            first_name="监管·蒙科长",
            region_code="450100",
            department="南宁市财政局政府采购监管科",
        )
        self.users.update(admin=admin, centre=centre, regulator=regulator)

        for name, kind, region in D.TENDEREES:
            self.entities[name] = self.register(
                self.entity_form(
                    name, region, kind=kind if kind != "institution" else "institution", roles=("tenderee",)
                ),
                centre,
            )
        for i, (name, region) in enumerate(D.AGENCIES):
            ent = self.register(
                self.entity_form(name, region, roles=("agency",), qual=("招标代理", "工程招标代理", "甲级")),
                centre,
            )
            self.entities[name] = ent
            self.users[f"agency{i + 1}"] = user_create(
                username="agency" if i == 0 else f"agency{i + 1}",
                password=pw,
                role=Role.AGENCY,
                entity=ent,
                first_name=f"{name[:4]}·经办人",
            )
        shared_holder = _person(rng, "450100")  # one person behind two "competitors" (for monitoring demos)
        shared_pm = None
        for i, (name, region, qk, qn, ql) in enumerate(D.BIDDERS):
            form = self.entity_form(name, region, qual=(qk, qn, ql))
            if i in (2, 4):
                form["shareholders"][1] = {"person": shared_holder, "share_pct": "40"}
            if i == 8:
                shared_pm = next(p for p in form["positions"] if p["role"] == "project_manager")
            if i == 9 and shared_pm:
                form["positions"] = [p for p in form["positions"] if p["role"] != "project_manager"] + [
                    shared_pm
                ]
            ent = self.register(form, centre)
            self.entities[name] = ent
            username = "bidder" if i == 0 else f"bidder{i + 1}"
            rep = ent.positions.filter(role="agent").select_related("person").first()
            self.users[username] = user_create(
                username=username,
                password=pw,
                role=Role.BIDDER,
                entity=ent,
                person=rep.person if rep else None,
                first_name=(rep.person.name if rep else name[:4]),
            )
        # One blacklisted bidder (a pending registration comes last, see build()).
        barred = self.entities["北海蓝湾建设工程有限公司"]
        credit_record_create(
            actor=regulator,
            entity=barred,
            kind=CreditRecord.Kind.DISQUALIFICATION,
            legal_basis="《招标投标法实施条例》第六十七条",
            restricted_action="参加依法必须进行招标的项目的投标",
            starts_on=timezone.localdate(self.now) - dt.timedelta(days=100),
            ends_on=timezone.localdate(self.now) + dt.timedelta(days=265),
            description="以他人名义投标，经查实。",
        )
        credit_record_create(
            actor=regulator,
            entity=self.entities["广西路桥建设集团有限公司"],
            kind=CreditRecord.Kind.COMMENDATION,
            legal_basis="广西建筑市场诚信评价",
            starts_on=timezone.localdate(self.now) - dt.timedelta(days=200),
            description="年度优质工程",
        )
        from experts.models import Expert

        for i in range(12):
            region = D.REGIONS[i % len(D.REGIONS)]
            p = _person(rng, region)
            person = person_upsert(**p)
            user = user_create(
                username="expert" if i == 0 else f"expert{i + 1}",
                password=pw,
                role=Role.EXPERT,
                person=person,
                first_name=p["name"],
                region_code=region,
            )
            employer = self.entities[D.BIDDERS[i][0]] if i in (3, 7) else None  # two experts work for bidders
            Expert.objects.create(
                user=user,
                person=person,
                region_code=region,
                employer=employer,
                title=rng.choice(D.EXPERT_TITLES),
                birth_year=rng.randrange(1961, 1988),
                specialties=rng.sample(D.EXPERT_SPECIALTIES, 2),
            )
        self.log(f"registry: {MarketEntity.objects.count()} entities, {User.objects.count()} users\n")

    def build_certificates(self) -> None:
        """Keys and certificates for bidders and for the custodians of k-of-n opening keys.

        Each key is generated here (the demo stands in for the users' own devices) and written as a
        key file protected by the demo password to DEMO_KEYS_DIR, so the demo accounts can seal,
        decrypt and log in with their keys; the platform stores only the certificates.
        """
        from trading import keyclient
        from trading.services.pki import certificate_issue

        out = Path(settings.DEMO_KEYS_DIR)
        out.mkdir(parents=True, exist_ok=True)
        holders = [u for name, u in self.users.items() if name.startswith(("bidder", "agency"))]
        holders += list(User.objects.filter(role__in=[Role.CENTRE, Role.REGULATOR]).order_by("pk"))
        for user in holders:
            if (
                user.entity_id
                and MarketEntity.objects.filter(pk=user.entity_id, name="北海蓝湾建设工程有限公司").exists()
            ):
                continue  # blacklisted: no certificate
            key = keyclient.key_generate()
            cert = certificate_issue(user=user, csr_pem=keyclient.csr_build(key), actor=user)
            (out / f"{user.username}.key.json").write_bytes(
                keyclient.keyfile_dump(
                    key,
                    self.password,
                    username=user.username,
                    certificate_serial=cert.serial,
                    iterations=keyclient.KEYFILE_MIN_ITERATIONS,
                )
            )

    def build_opening_soon(self) -> None:
        """A tender whose bid deadline (= opening) is one hour after seeding, with sealed bids from
        four bidders: log in as `centre` and the bidders to run the remote opening hall."""
        from bidding import envelope
        from bidding.selectors import recipients_for
        from bidding.services import submission
        from trading import keyclient
        from trading.models import Lot

        published = timezone.localtime(self.now - dt.timedelta(days=23)).replace(
            hour=9, minute=0, second=0, microsecond=0
        )
        deadline = (self.now + dt.timedelta(hours=1)).replace(second=0, microsecond=0)
        spec = (
            "南宁市第三中学运动场改造工程施工",
            "TB",
            "works",
            0,
            0,
            6_300_000,
            "published",
            23,
            "A010203",
            "scoring",
        )
        form = self.tender_form(spec, published)
        form["deadline"] = deadline.isoformat()
        agency_user = self.users["agency1"]
        with simulated_now(published - dt.timedelta(hours=2)), transaction.atomic():
            tender = tender_create(actor=agency_user, data=form)
        with simulated_now(published), transaction.atomic():
            tender_publish(tender=tender, actor=agency_user, body_html=self.announcement_body(tender))
        tender.refresh_from_db()
        lot = Lot.objects.get(tender=tender, number=1)
        prices = ["6012500.00", "5987300.00", "6055800.00", "5940000.00"]
        for i, name in enumerate(["bidder", "bidder2", "bidder4", "bidder7"]):
            user = self.users[name]
            with simulated_now(published + dt.timedelta(days=1, hours=i)), transaction.atomic():
                tender_document_download(tender=tender, user=user, request=None)
            key = keyclient.keyfile_load(
                (Path(settings.DEMO_KEYS_DIR) / f"{name}.key.json").read_bytes(), self.password
            )
            with simulated_now(self.now - dt.timedelta(days=1, hours=4 - i)):
                info = recipients_for(lot=lot, user=user)
                pm = user.entity.positions.filter(role="project_manager").select_related("person").first()
                out = io.BytesIO()
                sealed = envelope.seal(
                    form={
                        "price": prices[i],
                        "currency": "CNY",
                        "duration_days": 150,
                        "quality": "合格",
                        "project_manager": {"name": pm.person.name, "reg_no": pm.professional_reg_no},
                        "items": {},
                    },
                    document=f"{user.entity.name} 投标文件（演示）".encode() * 200,
                    document_name="投标文件.pdf",
                    content_type="application/pdf",
                    tender=info["tender"],
                    lot=info["lot"],
                    bidder=info["bidder"],
                    cert_serial=info["cert"],
                    signing_key=key,
                    out=out,
                    recipients=[
                        envelope.Recipient(
                            to=r["to"],
                            kid=r["kid"],
                            public_key=envelope.public_key_from_b64u(r["public_key"]),
                        )
                        for r in info["recipients"]
                    ],
                )
                data = out.getvalue()
                session = submission.upload_start(lot=lot, user=user, size=len(data))
                session = submission.upload_append(upload=session, user=user, offset=0, data=data)
                submission.upload_complete(
                    upload=session,
                    user=user,
                    header=envelope.b64u(sealed.header_bytes),
                    signature=sealed.signature,
                )
        self.log(f"tender {tender.code} {tender.title}: opening at {timezone.localtime(deadline):%H:%M}\n")

    # --- tenders -----------------------------------------------------------------------------------
    TENDERS = [
        # title, regime, category, tenderee, agency, budget (yuan), target state, published days ago, class code, method
        (
            "南宁市五象大道东段道路改造工程施工",
            "TB",
            "works",
            0,
            0,
            38_600_000,
            "awarded",
            330,
            "A010101",
            "scoring",
        ),
        (
            "柳州市第十二中学教学楼新建工程施工",
            "TB",
            "works",
            1,
            2,
            21_500_000,
            "awarded",
            250,
            "A010203",
            "scoring",
        ),
        (
            "桂林市第二人民医院医用设备采购",
            "GP",
            "goods",
            2,
            1,
            6_800_000,
            "awarded",
            200,
            "B080201",
            "scoring",
        ),
        (
            "南宁市交通运输局信息化平台建设项目",
            "GP",
            "services",
            0,
            1,
            3_200_000,
            "awarded",
            150,
            "C010101",
            "scoring",
        ),
        (
            "柳州市中小学课桌椅采购项目",
            "GP",
            "goods",
            1,
            2,
            1_450_000,
            "awarded",
            95,
            "B020301",
            "lowest_price",
        ),
        (
            "南宁市邕江大桥维修加固工程施工",
            "TB",
            "works",
            0,
            0,
            12_800_000,
            "publicity",
            45,
            "A050101",
            "scoring",
        ),
        (
            "桂林市第二人民医院物业管理服务",
            "GP",
            "services",
            2,
            1,
            2_100_000,
            "evaluation",
            30,
            "C050201",
            "scoring",
        ),
        (
            "南宁市公交站台提升改造工程施工",
            "TB",
            "works",
            0,
            0,
            4_600_000,
            "failed",
            60,
            "A010101",
            "scoring",
        ),
        (
            "柳州市教育局校园安防系统采购",
            "GP",
            "goods",
            1,
            2,
            2_750_000,
            "suspended",
            10,
            "B080201",
            "scoring",
        ),
        (
            "南宁市东盟商务区市政道路工程施工",
            "TB",
            "works",
            0,
            0,
            56_000_000,
            "published",
            5,
            "A010101",
            "scoring",
        ),
        (
            "桂林市第二人民医院信息系统运维服务",
            "GP",
            "services",
            2,
            1,
            1_800_000,
            "published",
            3,
            "C010101",
            "scoring",
        ),
        ("广西某铁矿采矿权出让", "TB", "land", 3, 1, 90_000_000, "published", 2, "E010000", "scoring"),
        (
            "柳州市职业教育园区二期工程施工",
            "TB",
            "works",
            1,
            2,
            33_000_000,
            "terminated",
            120,
            "A010203",
            "scoring",
        ),
        (
            "南宁市老旧小区改造工程（2027年第一批）",
            "TB",
            "works",
            0,
            0,
            18_900_000,
            "draft",
            0,
            "A010203",
            "scoring",
        ),
    ]

    def tender_form(self, spec, published: dt.datetime) -> dict:
        title, regime, category, te, ag, budget, _state, _age, code, method = spec
        rng = self.rng
        gp = regime == "GP"
        # The earliest lawful dates (holidays included), plus a margin as agencies do.
        min_docs = rules.period_end(published, 5, working_days=gp)
        docs_until = dt.datetime.combine(
            min_docs + dt.timedelta(days=2), dt.time(17, 0), tzinfo=published.tzinfo
        )
        min_deadline = rules.period_end(published, 20, working_days=False)
        deadline = dt.datetime.combine(
            min_deadline + dt.timedelta(days=4), dt.time(9, 30), tzinfo=published.tzinfo
        )
        budget = Decimal(budget)
        lots = []
        n_lots = 2 if budget > 20_000_000 else 1
        for i in range(n_lots):
            lot_budget = (budget / n_lots).quantize(Decimal("0.01"))
            price_max = 30 if gp and category == "goods" else (10 if gp else 40) if method == "scoring" else 0
            if gp and category == "services":
                price_max = 30
            criteria = [
                {"code": "tech", "name": "技术方案", "group": "technical", "max": 100 - price_max - 20},
                {"code": "biz", "name": "商务及业绩", "group": "commercial", "max": 20},
                {"code": "price", "name": "投标报价", "group": "price", "max": price_max},
            ]
            lots.append(
                {
                    "title": f"第{'一二三'[i]}标段" if n_lots > 1 else "全部",
                    "classification_code": code,
                    "budget": str(lot_budget),
                    "ceiling_price": str((lot_budget * Decimal("0.97")).quantize(Decimal("0.01"))),
                    "bid_security": str(
                        min((lot_budget * Decimal("0.015")).quantize(Decimal("1")), Decimal(800000))
                    ),
                    "duration_days": rng.choice([90, 180, 270, 365]),
                    "evaluation_method": method,
                    "evaluation": {"criteria": criteria, "price_formula": {"kind": "gp_base_over_price"}},
                    "committee": {
                        "size": 7 if budget >= 10_000_000 else 5,
                        "experts": 6 if budget >= 10_000_000 else 4,
                        "tenderee_reps": 1,
                    },
                }
            )
        return {
            "title": title,
            "regime": regime,
            "category": category,
            "method": "open",
            "tenderee_id": self.entities[D.TENDEREES[te][0]].pk,
            "agency_id": self.entities[D.AGENCIES[ag][0]].pk,
            "region_code": D.TENDEREES[te][2] if D.TENDEREES[te][2] != "450000" else "450100",
            "description": f"<p>{title}，资金来源为财政资金，已落实。</p>",
            "funding_source": "财政资金",
            "large_or_complex": budget >= 10_000_000,
            "docs_from": published.isoformat(),
            "docs_until": docs_until.isoformat(),
            "deadline": deadline.isoformat(),
            "decryption_minutes": 30,
            "lots": lots,
            "decryption_policy": "bidder_custodian" if budget > 30_000_000 else "bidder",
            "custodian_k": 2 if budget > 30_000_000 else None,
            "custodian_n": 3 if budget > 30_000_000 else None,
        }

    def announcement_body(self, tender: Tender) -> str:
        lots = "".join(
            f"<tr><td>{lot.number}</td><td>{lot.title}</td><td>{lot.budget:,.2f}</td>"
            f"<td>{lot.ceiling_price or '—'}</td><td>{lot.bid_security:,.2f}</td></tr>"
            for lot in tender.lots.all()
        )
        dl = timezone.localtime(tender.deadline).strftime("%Y年%m月%d日 %H:%M")
        return (
            f"<h3>一、项目概况</h3><p>{tender.title}已由有关部门批准建设，招标人为{tender.tenderee.name}，"
            f"现对该项目进行公开招标，欢迎符合条件的潜在投标人参加投标。</p>"
            f"<table><thead><tr><th>标段</th><th>名称</th><th>预算（元）</th><th>最高投标限价（元）</th>"
            f"<th>投标保证金（元）</th></tr></thead><tbody>{lots}</tbody></table>"
            f"<h3>二、投标人资格要求</h3><p>投标人须为在平台完成市场主体登记并通过核验的法人，"
            f"具备相应资质，且未被列入失信名单。</p>"
            f"<h3>三、招标文件的获取</h3><p>登录平台下载，不收取费用。</p>"
            f"<h3>四、投标文件的递交</h3><p>投标截止时间（开标时间）：{dl}。投标文件须在本平台加密上传，"
            f"开标采用不见面开标，投标人远程解密。</p>"
            f"<h3>五、联系方式</h3><p>招标代理机构：{tender.agency.name if tender.agency else '—'}</p>"
        )

    def build_tenders(self) -> None:
        centre = self.users["centre"]
        agency_users = {
            self.entities[name].pk: u
            for name, u in (
                (D.AGENCIES[int(k[6:] or 1) - 1][0], u)
                for k, u in self.users.items()
                if k.startswith("agency")
            )
        }
        bidders = [u for k, u in self.users.items() if k.startswith("bidder")]
        for spec in sorted(self.TENDERS, key=lambda s: -s[7]):
            title, regime, _category, _te, ag, _budget, state, age, _code, _method = spec
            published = timezone.localtime(self.now - dt.timedelta(days=age)).replace(
                hour=9, minute=0, second=0, microsecond=0
            )
            agency_user = agency_users[self.entities[D.AGENCIES[ag][0]].pk]
            with simulated_now(published - dt.timedelta(hours=2)), transaction.atomic():
                tender = tender_create(actor=agency_user, data=self.tender_form(spec, published))
            if state == "draft":
                continue
            with simulated_now(published), transaction.atomic():
                docs = [
                    (
                        "招标文件.pdf",
                        _pdf(
                            title,
                            [
                                "第一章 招标公告",
                                "第二章 投标人须知",
                                "第三章 评标办法",
                                "第四章 合同条款及格式",
                                "第五章 技术标准和要求",
                            ],
                        ),
                        "application/pdf",
                    ),
                    (
                        "工程量清单.json",
                        json.dumps({"项目": title, "清单": []}, ensure_ascii=False).encode(),
                        "application/json",
                    ),
                ]
                tender_publish(
                    tender=tender, actor=agency_user, body_html=self.announcement_body(tender), documents=docs
                )
            tender.refresh_from_db()
            # Bidders obtain the documents (evidence: IP, user agent, hardware fingerprint).
            takers = self.rng.sample(bidders, 6)
            for j, user in enumerate(takers):
                if user.entity.name == "北海蓝湾建设工程有限公司":
                    continue
                shared = user.entity.name in ("南宁市鑫泰市政工程有限公司", "柳州润和市政工程有限公司")
                hw = {
                    "cpu_id": "BFEBFBFF000906EA" if shared else f"BFEBFBFF{self.rng.randrange(10**7, 10**8)}",
                    "mac": "00-1A-2B-3C-4D-5E"
                    if shared
                    else f"00-{self.rng.randrange(10, 99)}-2B-3C-4D-{j:02d}",
                    "disk_serial": f"WD-WX{self.rng.randrange(10**9, 10**10)}",
                }
                ip = (
                    "171.108.20.15"
                    if shared
                    else f"171.{self.rng.randrange(100, 120)}.{self.rng.randrange(1, 250)}.{j + 10}"
                )
                req = self.rf.get(
                    "/",
                    REMOTE_ADDR=ip,
                    HTTP_USER_AGENT="Mozilla/5.0 (Windows NT 10.0) BidClient/3.2",
                    HTTP_X_CLIENT_HARDWARE=json.dumps(hw),
                )
                with simulated_now(published + dt.timedelta(hours=3 + j)), transaction.atomic():
                    tender_document_download(tender=tender, user=user, request=req)
            if state == "published":
                continue
            if state == "suspended":
                from trading.services.tenders import tender_suspend

                with simulated_now(published + dt.timedelta(days=4)), transaction.atomic():
                    tender_suspend(
                        tender=tender,
                        actor=self.users["regulator"],
                        reason="收到对招标文件的异议，暂停招标活动至答复作出。",
                    )
                continue
            if state == "terminated":
                with simulated_now(published + dt.timedelta(days=12)), transaction.atomic():
                    tender_close(
                        tender=tender,
                        actor=agency_user,
                        target=TenderState.TERMINATED,
                        reason="项目建设计划调整，招标人终止招标。",
                    )
                continue
            at_deadline = tender.deadline
            with simulated_now(at_deadline), transaction.atomic():
                tender_set_state(tender=tender, actor=centre, target=TenderState.OPENING, reason="开标时间到")
            if state == "failed":
                with simulated_now(at_deadline + dt.timedelta(minutes=40)), transaction.atomic():
                    tender_close(
                        tender=tender,
                        actor=centre,
                        target=TenderState.FAILED,
                        reason="解密成功的投标人不足3家，依法流标。",
                    )
                continue
            with simulated_now(at_deadline + dt.timedelta(hours=2)), transaction.atomic():
                tender_set_state(
                    tender=tender, actor=centre, target=TenderState.EVALUATION, reason="开标结束，进入评标"
                )
            if state == "evaluation":
                continue
            ranked = [u.entity for u in takers if u.entity.name != "北海蓝湾建设工程有限公司"][:3]
            if regime == "TB":
                with simulated_now(at_deadline + dt.timedelta(days=2)), transaction.atomic():
                    tender_set_state(
                        tender=tender, actor=centre, target=TenderState.PUBLICITY, reason="评标报告已提交"
                    )
                    body = "".join(f"<p>第{i + 1}中标候选人：{e.name}</p>" for i, e in enumerate(ranked))
                    ann = announcement_create(
                        tender=tender,
                        kind=AnnouncementKind.CANDIDATES,
                        actor=agency_user,
                        title=f"{title}中标候选人公示",
                        body_html=body + "<p>公示期不少于3日，"
                        "对评标结果有异议的，请在公示期内通过平台提出。</p>",
                        open_until=at_deadline + dt.timedelta(days=5),
                    )
                    announcement_publish(announcement=ann, actor=agency_user)
                if state == "publicity":
                    continue
            award_at = at_deadline + dt.timedelta(days=8)
            with simulated_now(award_at), transaction.atomic():
                tender_set_state(tender=tender, actor=centre, target=TenderState.AWARDED, reason="确定中标人")
                lines = []
                for lot in tender.lots.all():
                    winner = ranked[(lot.number - 1) % len(ranked)]
                    ratio = Decimal(self.rng.randrange(860, 985)) / 1000
                    lot.awarded_to, lot.award_amount = winner, (lot.budget * ratio).quantize(Decimal("0.01"))
                    lot.awarded_at, lot.status = award_at, lot.Status.AWARDED
                    lot.save(update_fields=["awarded_to", "award_amount", "awarded_at", "status"])
                    journal_append(
                        stream=tender.stream,
                        action="lot.awarded",
                        actor=centre,
                        obj=lot,
                        payload={"winner": winner.pk, "amount": lot.award_amount, "demo": True},
                    )
                    lines.append(
                        f"<p>{lot.title}：中标人 {winner.name}，中标价 {lot.award_amount:,.2f} 元。</p>"
                    )
                ann = announcement_create(
                    tender=tender,
                    kind=AnnouncementKind.RESULT,
                    actor=agency_user,
                    title=f"{title}{'中标' if regime == 'TB' else '成交'}结果公告",
                    body_html="".join(lines),
                )
                announcement_publish(announcement=ann, actor=agency_user)
            self.log(f"tender {tender.code} {title}: {state}\n")


def build_world(
    *, seed: int = 2026, password: str = DEMO_PASSWORD, now: dt.datetime | None = None, out=None
) -> dict:
    if not settings.DEBUG and not password:
        raise ValueError("a password is required")
    return WorldBuilder(seed=seed, password=password, now=now, out=out).build()
