"""A demo tender past its deadline, driven through the real services under the simulated clock (a
WorldBuilder mixin): sealed bids and bid securities, the verifiable draw of each lot's committee,
the remote opening hall, the evaluation room (declarations, the chair, reviews, scores, the report
signed by every member), then the candidates' publicity with an objection, the award with its
signed notices, and the contract.

`stop` says where a tender is left: "qualification" (a room in its first review stage, the demo
`expert` in the chair with their own verdicts still to give), "signing" (the report drawn up, one
signature missing), "publicity" (candidates published, the publicity running) or None (awarded).
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from unittest import mock

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from demo.world.clock import simulated_now
from trading.models import Lot, Regime, User

MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


class _Refused(Exception):
    """Raised inside a savepoint to roll a trial draw back."""


@dataclass
class LotPlan:
    """What happens to one lot, beyond the ordinary: the knobs the tender table turns."""

    bidders: list[str]
    stop: str | None = None
    chair: str | None = None  # username of the expert who must chair (found by trying nonces)
    decline: bool = False  # the first called expert declines; a reserve takes the seat
    outlier: bool = False  # one member's score of one bid lies far from the others'
    reject: bool = False  # the committee rejects one bid at the preliminary review
    dissent: bool = False  # one member signs the report with a dissent
    clarify: bool = False  # a clarification asked of a bidder during the detailed scoring
    doubt: bool = False  # one member fails a bid at the qualification review (a minority verdict)
    objection: bool = False  # an objection to the candidates, answered (not upheld)
    contract: bool = True
    window: tuple[dt.datetime, dt.datetime] | None = None
    bids: list = field(default_factory=list)  # [(user, bid, cek)]


class LifecycleMixin:
    # --- small helpers --------------------------------------------------------------------------------
    def act(self, when: dt.datetime, fn, /, **kwargs):
        """Call a service as if it were `when`, in its own transaction."""
        with simulated_now(when), transaction.atomic():
            return fn(**kwargs)

    def _tenderee_rep(self, tender) -> User | None:
        for k, u in self.users.items():
            if k.startswith("tenderee") and u.entity_id == tender.tenderee_id:
                return u
        return None

    def _money(self, value: Decimal) -> Decimal:
        """A bid price: whole yuan, two places."""
        return value.quantize(Decimal(1), rounding=ROUND_HALF_UP).quantize(Decimal("0.01"))

    # --- bids -----------------------------------------------------------------------------------------
    def lot_bids(self, *, lot: Lot, plan: LotPlan, start: dt.datetime) -> None:
        """The bidders seal and upload their bids; the centre records their bank guarantees."""
        from bidding.models import BidSecurity
        from bidding.services.security import bid_security_record

        ceiling = lot.ceiling_price or lot.budget
        last = len(plan.bidders) - 1
        for i, username in enumerate(plan.bidders):
            ratio = Decimal(self.rng.randrange(905, 985)) / 1000
            price = self._money(ceiling * ratio)
            user = self.users[username]
            bid, cek = self.bid_seal_submit(
                lot=lot,
                username=username,
                price=price,
                at=start + i * 3 * HOUR + self.rng.randrange(0, 50) * MINUTE,
                # The bid the committee rejects promises a longer duration than the lot allows.
                duration_days=(lot.duration_days or 180) + (30 if plan.reject and i == last else 0),
            )
            self.act(
                start + DAY + i * 20 * MINUTE,
                bid_security_record,
                lot=lot,
                entity=user.entity,
                amount=lot.bid_security,
                method=BidSecurity.Method.GUARANTEE,
                reference=f"BH{lot.tender.code[-8:]}{lot.number}{i + 1:02d}",
                actor=self.users["centre"],
                received_at=start + DAY - HOUR,
            )
            plan.bids.append((user, bid, cek))

    # --- the draw --------------------------------------------------------------------------------------
    def lot_draw(self, *, lot: Lot, plan: LotPlan, at: dt.datetime):
        """Centre staff commit the seed; the supervisor types the nonce; the called experts confirm.

        The seed comes from the builder's random generator (so a demo seed gives the same world) and is
        still committed before any nonce. When the lot's plan names a chair, nonces demo-0001,
        demo-0002… are tried (each in a savepoint that is rolled back) until that expert is drawn —
        the draw designates no one; the record still verifies."""
        from experts import draw as core_draw
        from experts.models import Assignment
        from experts.services import draw as draws

        starts, ends = plan.window
        supervisor = self.users["regulator" if lot.tender.regime == Regime.TB else "regulator_gp"]
        seed = self.rng.randbytes(core_draw.SEED_BYTES)
        with mock.patch.object(core_draw, "seed_new", lambda: seed):
            draw = self.act(
                at,
                draws.draw_request,
                lot=lot,
                actor=self.users["centre"],
                evaluation_starts_at=starts,
                evaluation_ends_at=ends,
            )
        nonce = f"{supervisor.first_name[-3:]}-{lot.tender.code[-6:]}-{lot.number}"
        if plan.chair:
            wanted = self.users[plan.chair].pk
            for n in range(1, 200):
                nonce = f"demo-{n:04d}"
                try:
                    with simulated_now(at + 5 * MINUTE), transaction.atomic():
                        trial = draws.draw_perform(draw=draw, nonce=nonce, actor=supervisor)
                        if any(a.expert.user_id == wanted for a in draws.committee_assignments(trial)):
                            break
                        raise _Refused
                except _Refused:
                    continue
            else:  # pragma: no cover - the pool is large enough for this never to happen
                raise RuntimeError("no nonce draws the wanted expert")
            draw.refresh_from_db()
        else:
            draw = self.act(at + 5 * MINUTE, draws.draw_perform, draw=draw, nonce=nonce, actor=supervisor)
        t = at + 8 * MINUTE
        for k, a in enumerate(draws.committee_assignments(draw)):
            t += self.rng.randrange(1, 4) * MINUTE
            if plan.decline and k == 0:
                reserve = self.act(
                    t,
                    draws.assignment_decline,
                    assignment=a,
                    actor=a.expert.user,
                    reason="评标当天已安排外地出差，无法按时参加。",
                )
                self.act(
                    t + 4 * MINUTE, draws.assignment_confirm, assignment=reserve, actor=reserve.expert.user
                )
                continue
            self.act(t, draws.assignment_confirm, assignment=a, actor=a.expert.user)
        draw.refresh_from_db()
        if any(a.status != Assignment.Status.CONFIRMED for a in draws.committee_assignments(draw)):
            raise RuntimeError(f"the committee of lot {lot.pk} did not confirm")
        return draw

    # --- the opening hall ------------------------------------------------------------------------------
    def tender_opening(self, *, tender, plans: dict[int, LotPlan]) -> None:
        """不见面开标 for every lot: sign-in, the bidder list, decryption by each bidder with its content
        key, the read-out, the record confirmed with the bidders' signatures, closed."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        from bidding import envelope
        from bidding.models import OpeningRecord
        from bidding.opening import rules as hall_rules
        from bidding.opening import services as hall

        host = self.users["centre2"]
        deadline = tender.deadline
        lots = list(tender.lots.order_by("number"))
        for lot in lots:
            self.act(deadline - 2 * HOUR, hall.opening_tick, lot=lot)
            for j, (user, _bid, _cek) in enumerate(plans[lot.pk].bids):
                self.act(deadline - 90 * MINUTE + j * 7 * MINUTE, hall.opening_signin, lot=lot, user=user)
        self.act(deadline, hall.opening_tick, lot=lots[0])
        for n, lot in enumerate(lots):
            t = deadline + n * 30 * MINUTE + MINUTE
            bids = plans[lot.pk].bids
            self.act(t, hall.opening_publish_bidders, lot=lot, actor=host)
            self.act(t + MINUTE, hall.opening_start_decryption, lot=lot, actor=host)
            for j, (user, bid, cek) in enumerate(bids):
                self.act(
                    t + (3 + 2 * j) * MINUTE, hall.bid_decrypt, bid=bid, cek=envelope.b64u(cek), actor=user
                )
            t += (4 + 2 * len(bids)) * MINUTE
            self.act(t, hall.opening_start_readout, lot=lot, actor=host)
            self.act(t + 3 * MINUTE, hall.opening_start_confirmation, lot=lot, actor=host)
            record = OpeningRecord.objects.get(session__lot=lot)
            message = hall_rules.confirmation_message(body_sha256=record.data["body_sha256"])
            for j, (user, _bid, _cek) in enumerate(bids):
                key = self.bidder_key(user.username)
                signature = base64.b64encode(key.sign(message, ec.ECDSA(hashes.SHA256()))).decode()
                self.act(
                    t + (4 + j) * MINUTE, hall.bid_confirm_record, lot=lot, user=user, signature=signature
                )
            self.act(t + (5 + len(bids)) * MINUTE, hall.opening_close, lot=lot, actor=host)

    # --- the evaluation room -----------------------------------------------------------------------------
    def lot_room(self, *, lot: Lot, plan: LotPlan):
        """The room of one lot, as far as the plan's `stop`. Returns the room."""
        from experts.models import Member
        from experts.services import evaluation as ev
        from experts.services.evaluation.common import review_criteria, scored_criteria

        rng = self.rng
        t = plan.window[0]
        rep = self._tenderee_rep(lot.tender)
        room = self.act(
            t, ev.room_open, lot=lot, actor=self.users["centre"], tenderee_reps=[rep] if rep else []
        )
        members = list(Member.objects.filter(room=room).select_related("user").order_by("seat"))
        experts = [m for m in members if m.kind == Member.Kind.EXPERT]
        for m in members:
            t += rng.randrange(1, 4) * MINUTE
            self.act(t, ev.member_declare, member=m, actor=m.user)
        if plan.chair:
            chair = next(m for m in experts if m.user.username == plan.chair)
        else:
            chair = experts[rng.randrange(len(experts))]
        for m in members:
            t += MINUTE
            room.refresh_from_db()
            if room.chair_id is not None:
                break
            self.act(t, ev.chair_vote, member=m, actor=m.user, candidate=chair)
        room.refresh_from_db()
        bids = [b for _u, b, _c in plan.bids]
        # Review stages: everyone passes everything, except what the plan says.
        rejected = bids[-1] if plan.reject else None
        doubter = experts[-1]
        for stage in ("qualification", "preliminary"):
            t += 10 * MINUTE
            for m in members:
                if plan.stop == "qualification" and m.pk == chair.pk:
                    continue  # the chair's own verdicts are left for the demo tour
                for bid in bids:
                    for c in review_criteria(lot, stage):
                        passed, reason = True, ""
                        if (
                            plan.doubt
                            and stage == "qualification"
                            and c["code"] == "record"
                            and m.pk == doubter.pk
                            and bid == bids[0]
                        ):
                            passed = False
                            reason = "类似项目业绩证明材料中有一项合同未附竣工验收证明，建议不予认可。"
                        if (
                            stage == "preliminary"
                            and bid == rejected
                            and c["code"] == "duration"
                            and m.kind == Member.Kind.EXPERT
                        ):
                            passed = False
                            reason = "投标函载明的工期超过招标文件规定的最长工期，属于未实质性响应。"
                        t += 10 * dt.timedelta(seconds=1)
                        self.act(
                            t,
                            ev.review_submit,
                            member=m,
                            actor=m.user,
                            bid=bid,
                            stage=stage,
                            criterion=c["code"],
                            passed=passed,
                            reason=reason,
                        )
            if plan.stop == "qualification":
                return room
            t += 5 * MINUTE
            self.act(t, ev.stage_complete, room=room, actor=chair.user)
        # Detailed scoring of the bids still in play.
        scoring = [b for b in bids if b != rejected]
        criteria = scored_criteria(lot)
        if plan.clarify and scoring:
            from experts.models import Clarification

            asker = experts[0]
            target = scoring[-1]
            t += 5 * MINUTE
            c = self.act(
                t,
                ev.clarification_ask,
                member=asker,
                actor=asker.user,
                bid=target,
                question="请澄清投标文件中所投设备的原厂质保期限及质保期内的响应时间。",
            )
            bidder_user = next(u for u, b, _c in plan.bids if b == target)
            t += 25 * MINUTE
            self.act(
                t,
                ev.clarification_answer,
                clarification=Clarification.objects.get(pk=c.pk),
                actor=bidder_user,
                answer="所投设备原厂质保5年；质保期内接到报修后2小时响应、24小时内到场。",
            )
        quality = {b.pk: Decimal(rng.randrange(66, 92)) / 100 for b in scoring}
        bias = {m.pk: Decimal(rng.randrange(-4, 5)) / 100 for m in members}
        for m in members:
            t += 10 * MINUTE
            for n, bid in enumerate(scoring):
                for c in criteria:
                    mx = Decimal(c["max"])
                    q = quality[bid.pk] + bias[m.pk] + Decimal(rng.randrange(-4, 5)) / 100
                    comment = ""
                    if plan.outlier and m.pk == doubter.pk and n == 0 and c["group"] == "technical":
                        q -= Decimal("0.40")
                        comment = "施工组织设计未针对雨季施工和交通疏解提出具体措施，酌情扣分。"
                    value = (mx * max(min(q, Decimal(1)), Decimal("0.3")) * 2).quantize(Decimal(1)) / 2
                    t += 15 * dt.timedelta(seconds=1)
                    self.act(
                        t,
                        ev.score_submit,
                        member=m,
                        actor=m.user,
                        bid=bid,
                        criterion=c["code"],
                        value=value.quantize(Decimal("0.01")),
                        comment=comment,
                    )
        t += 5 * MINUTE
        self.act(t, ev.stage_complete, room=room, actor=chair.user)
        t += 20 * MINUTE
        if plan.stop == "signing":
            # The room left signing must still be open to sign in the demo: its signing window (a
            # setting) runs until a day after the demo's now.
            hours = int((self.now - t).total_seconds() // 3600) + 24
            rules = {**(getattr(settings, "EXPERT_RULES", None) or {}), "signing_hours": hours}
            with mock.patch.object(settings, "EXPERT_RULES", rules):
                self.act(t, ev.report_build, room=room, actor=chair.user)
        else:
            self.act(t, ev.report_build, room=room, actor=chair.user)
        for k, m in enumerate(members):
            if plan.stop == "signing" and k == len(members) - 1:  # the last seat has yet to sign
                return room
            t += rng.randrange(2, 6) * MINUTE
            if plan.dissent and m.pk == doubter.pk:
                self.act(
                    t,
                    ev.report_sign,
                    member=m,
                    actor=m.user,
                    agrees=False,
                    dissent="本人认为第一中标候选人的技术方案对既有管线保护措施不足，其技术分应低于委员会平均水平。",
                )
            else:
                self.act(t, ev.report_sign, member=m, actor=m.user, agrees=True)
        room.refresh_from_db()
        return room

    # --- publicity, award and contract ---------------------------------------------------------------
    def lot_publicity(self, *, lot: Lot, plan: LotPlan, at: dt.datetime, agency_user: User):
        from experts.services import award as aw

        publicity = self.act(at, aw.publicity_start, lot=lot, actor=agency_user)
        if plan.objection:
            objector = plan.bids[-1][0]
            objection = self.act(
                at + DAY + 2 * HOUR,
                aw.objection_raise,
                publicity=publicity,
                actor=objector,
                text="第一中标候选人拟派项目经理目前在其他在建项目担任项目经理，存在“一人多岗”情形，请予核查。",
            )
            self.act(
                at + 2 * DAY + 3 * HOUR,
                aw.objection_answer,
                objection=objection,
                actor=agency_user,
                answer="经向项目所在地住建部门核实，该项目经理原任职项目已于今年3月竣工验收并办理变更，"
                "不存在在建项目任职情形，异议不成立。",
                upheld=False,
            )
        publicity.refresh_from_db()
        return publicity

    def lot_award(self, *, lot: Lot, at: dt.datetime, agency_user: User):
        from experts.services import award as aw

        return self.act(at, aw.award_decide, lot=lot, actor=agency_user)

    def lot_contract(self, *, lot: Lot, at: dt.datetime, agency_user: User):
        from experts.models import Award
        from experts.services import award as aw

        award = Award.objects.get(lot=lot)
        return self.act(
            at,
            aw.contract_record,
            award=award,
            actor=agency_user,
            signed_on=timezone.localdate(at),
            amount=award.amount,
        )
