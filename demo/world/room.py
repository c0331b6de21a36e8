"""The evaluation room of a demo lot (a WorldBuilder mixin, used by the lifecycle): declarations, the
chair, the reviews, the scores, the report signed by every member, as far as the lot's plan says."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from unittest import mock

from django.conf import settings

from trading.models import Lot

MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)


class RoomMixin:
    def lot_room(self, *, lot: Lot, plan):
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
