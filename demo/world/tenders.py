"""The demo world's tenders, each driven through its lifecycle by the real services (a WorldBuilder mixin)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from demo import data as D
from demo.world.clients import client_request, office_machine
from demo.world.clock import simulated_now
from demo.world.lifecycle import DAY, HOUR, MINUTE, LotPlan
from demo.world.pdf import small_pdf
from demo.world.tender_table import (
    APART,
    COLLUDERS,
    STORY,
    TENDERS,
    TRADE_BIDDERS,
    TRADE_OF,
    committee_specialties,
)
from trading import rules
from trading.models import Regime, Tender, TenderState
from trading.services.tenders import (
    tender_close,
    tender_create,
    tender_document_download,
    tender_publish,
    tender_set_state,
)


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
        n_lots = 2 if budget > 30_000_000 else 1
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
            formula = (
                {"kind": "deviation", "base": "mean", "k": "0.03", "above": "2", "below": "1"}
                if regime == "TB" and category == "works"
                else {"kind": "gp_base_over_price"}
            )
            experts = 6 if budget >= 10_000_000 else 4
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
                    "evaluation": {"criteria": criteria, "price_formula": formula},
                    "committee": {
                        "size": experts + 1,
                        "experts": experts,
                        "tenderee_reps": 1,
                        "specialties": committee_specialties(title, experts),
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

    def deadline_for(self, spec) -> dt.datetime | None:
        """Tenders in evaluation or publicity are placed so that their current step happens now."""
        _title, regime, *_rest = spec
        state = spec[6]
        local = timezone.localtime(self.now)
        if state == "publicity":
            return (local - 2 * DAY).replace(hour=9, minute=30, second=0, microsecond=0)
        if state == "evaluation" and regime == Regime.TB:
            # This morning's opening when the room has had time to get going, else yesterday's.
            day = local if (local.hour, local.minute) >= (11, 30) else local - DAY
            return day.replace(hour=9, minute=30, second=0, microsecond=0)
        if state == "evaluation":
            return (local - DAY).replace(hour=9, minute=30, second=0, microsecond=0)
        return None

    def published_before(self, published: dt.datetime, deadline: dt.datetime) -> dt.datetime:
        """`published`, or earlier if the 20-day bid period (rolled past holidays) would end after
        `deadline` (Spring Festival, National Day)."""
        while rules.period_end(published, 20, working_days=False) > timezone.localdate(deadline):
            published -= DAY
        return published

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
        for spec in sorted(self.TENDERS, key=lambda s: -s[7]):
            title, _regime, _category, _te, ag, _budget, state, age, _code, _method = spec
            published = timezone.localtime(self.now - dt.timedelta(days=age)).replace(
                hour=9, minute=0, second=0, microsecond=0
            )
            agency_user = agency_users[self.entities[D.AGENCIES[ag][0]].pk]
            deadline = self.deadline_for(spec)
            if deadline is not None:
                published = self.published_before(published, deadline)
            self.pool_agenda_run(published)
            form = self.tender_form(spec, published)
            if deadline is not None:
                form["deadline"] = deadline.isoformat()
            with simulated_now(published - dt.timedelta(hours=2)), transaction.atomic():
                tender = tender_create(actor=agency_user, data=form)
            if state == "draft":
                continue
            with simulated_now(published), transaction.atomic():
                docs = [
                    (
                        "招标文件.pdf",
                        small_pdf(
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
            # The trade's bidders obtain the documents (evidence: IP, user agent, hardware fingerprint).
            pool = [self.bidder_users[i] for i in TRADE_BIDDERS[TRADE_OF[title]]]
            takers = self.rng.sample(pool, len(pool))
            colluding = any(extra.get("collude") for extra in STORY.get(title, []))
            for j, user in enumerate(takers):
                # In the collusion story one computer serves both colluders (the first's office PC).
                works_from = COLLUDERS[0] if colluding and user.username in COLLUDERS else user.username
                req = client_request(self.rf, office_machine(works_from))
                with simulated_now(published + dt.timedelta(hours=3 + j)), transaction.atomic():
                    tender_document_download(tender=tender, user=user, request=req)
            if state == "published":
                continue
            if state == "suspended":
                # A supplier's 质疑, answered; its complaint accepted and the procurement suspended.
                self.suspend_on_complaint(tender, takers[0], agency_user, published)
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
            if state == "failed" and title not in STORY:  # no bidder decrypted in time: failed at opening
                at_deadline = tender.deadline
                with simulated_now(at_deadline), transaction.atomic():
                    tender_set_state(
                        tender=tender, actor=centre, target=TenderState.OPENING, reason="开标时间到"
                    )
                with simulated_now(at_deadline + dt.timedelta(minutes=40)), transaction.atomic():
                    tender_close(
                        tender=tender,
                        actor=centre,
                        target=TenderState.FAILED,
                        reason="解密成功的投标人不足3家，依法流标。",
                    )
                continue
            self.run_lifecycle(tender=tender, spec=spec, takers=takers, agency_user=agency_user)
            tender.refresh_from_db()
            self.log(f"tender {tender.code} {title}: {tender.state}\n")
            self.log_open_rooms(tender)

    def log_open_rooms(self, tender: Tender) -> None:
        from experts.models import EvaluationRoom, ReportSignature

        for room in EvaluationRoom.objects.filter(lot__tender=tender, closed_at=None).select_related(
            "chair__user"
        ):
            line = (
                f"  evaluation room of lot {room.lot.number}: {room.phase}, chair {room.chair.user.username}"
            )
            if room.phase == EvaluationRoom.Phase.SIGNING:
                signed = ReportSignature.objects.filter(report__room=room).values_list("member_id", flat=True)
                waiting = room.members.exclude(pk__in=signed).select_related("user")
                line += ", awaiting the signature of " + ", ".join(m.user.username for m in waiting)
            self.log(line + "\n")

    def lot_bidders(self, takers, *, offset: int, n: int, collude: bool = False) -> list[str]:
        """The usernames of the lot's `n` bidders, from the takers of the documents in turn: the
        colluding pair first in the collusion story; elsewhere never both of a pair tied in the
        registry (tender_table.APART)."""
        names = list(COLLUDERS) if collude else []
        for j in range(len(takers)):
            name = takers[(offset + j) % len(takers)].username
            if len(names) == n:
                break
            if name in names or any(name in pair and pair & set(names) for pair in APART):
                continue
            names.append(name)
        return names

    def run_lifecycle(self, *, tender: Tender, spec, takers, agency_user) -> None:
        """Bids, draws, the opening, the rooms and (as far as the state) publicity and award."""
        title, regime, *_rest = spec
        state = spec[6]
        lots = list(tender.lots.order_by("number"))
        deadline = tender.deadline
        local = timezone.localtime(deadline)
        story = STORY.get(title, [])
        plans: dict[int, LotPlan] = {}
        for k, lot in enumerate(lots):
            extra = story[k] if k < len(story) else {}
            # Three bids a lot (the legal minimum to go on); four where the committee rejects one or
            # where two of the bidders collude.
            n_bids = min(len(takers), 4 if extra.get("reject") or extra.get("collude") else 3)
            names = self.lot_bidders(takers, offset=k, n=n_bids, collude=extra.get("collude", False))
            starts = deadline + HOUR + k * 5 * HOUR
            ends = starts + 4 * HOUR
            if state == "evaluation":  # the open room's scheduled end lies ahead of the demo's now
                ends = max(ends, self.now + DAY)
            plans[lot.pk] = LotPlan(bidders=names, window=(starts, ends), **extra)
        bids_from = (local - 4 * DAY).replace(hour=9, minute=0, second=0, microsecond=0)
        for lot in lots:
            self.lot_bids(lot=lot, plan=plans[lot.pk], start=bids_from)
        draw_at = (local - DAY).replace(hour=10, minute=0, second=0, microsecond=0)
        for k, lot in enumerate(lots):
            plan = plans[lot.pk]
            if state == "failed":
                break  # the collusion story's tender fails after the opening: no committee is drawn
            if plan.chair:
                self.pool_unavailability(
                    slot=D.POOL_EVENTS["unavailable"],
                    starts_at=deadline - 12 * HOUR,
                    ends_at=deadline + DAY,
                    declared_at=deadline - 6 * DAY,
                )
            self.lot_draw(lot=lot, plan=plan, at=draw_at + k * 15 * MINUTE)
        self.tender_opening(tender=tender, plans=plans)
        self.alerts_review(plans=plans, at=deadline + 50 * MINUTE)
        if state == "failed":
            # The collusion story: the committee's review leaves fewer than three valid bids.
            self.act(
                deadline + DAY + 6 * HOUR,
                tender_close,
                tender=tender,
                actor=agency_user,
                target=TenderState.FAILED,
                reason="经评标委员会评审，有效投标不足3家，明显缺乏竞争，依法否决全部投标，本次招标失败。"
                "招标人将依法重新组织招标。",
            )
            return
        for lot in lots:
            self.lot_room(lot=lot, plan=plans[lot.pk])
        if state == "evaluation":
            return
        from experts.models import Report

        finalized = max(Report.objects.get(room__lot=lot).finalized_at for lot in lots)
        next_morning = (timezone.localtime(finalized) + DAY).replace(
            hour=9, minute=0, second=0, microsecond=0
        )
        if state == "awarded":
            for k, lot in enumerate(lots):
                self.rate_committee(lot=lot, at=next_morning + 2 * HOUR + k * MINUTE, actor=agency_user)
        if regime == Regime.GP:
            decisions = [(next_morning + HOUR + k * 10 * MINUTE, lot) for k, lot in enumerate(lots)]
        else:
            ends = {}
            for k, lot in enumerate(lots):
                ends[lot.pk] = self.lot_publicity(
                    lot=lot, plan=plans[lot.pk], at=next_morning + k * 10 * MINUTE, agency_user=agency_user
                ).ends_at
            if state == "publicity":
                return
            decisions = sorted(((ends[lot.pk] + 2 * HOUR, lot) for lot in lots), key=lambda x: x[0])
        for at, lot in decisions:
            self.lot_award(lot=lot, at=at, agency_user=agency_user)
        last = decisions[-1][0]
        for k, (_at, lot) in enumerate(decisions):
            if plans[lot.pk].contract:
                self.lot_contract(lot=lot, at=last + (7 + 3 * k) * DAY, agency_user=agency_user)
