"""The demo world's tenders, each driven through its lifecycle by the real services (a WorldBuilder mixin)."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from archive.journal import journal_append
from demo import data as D
from demo.world.clock import simulated_now
from demo.world.tender_table import TENDERS
from trading import rules
from trading.models import (
    AnnouncementKind,
    Tender,
    TenderState,
)
from trading.services.announcements import announcement_create, announcement_publish
from trading.services.tenders import (
    tender_close,
    tender_create,
    tender_document_download,
    tender_publish,
    tender_set_state,
)


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


class TendersMixin:
    TENDERS = TENDERS

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
