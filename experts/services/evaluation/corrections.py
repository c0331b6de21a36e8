"""Correcting a score after the summary (87号令64).

Once the scores are summed (the room is in the summary, or the report is being signed), a score may
change only in one of the four cases of 财政部令第87号第六十四条 — "评标结果汇总完成后，除下列情形外，
任何人不得修改评标结果":

    sum_error               (一) 分值汇总计算错误的 — the scores were added up wrongly;
    out_of_range            (二) 分项评分超出评分标准规定的分值范围的 — a score lies outside the range the
                            scoring rules give the criterion;
    objective_inconsistent  (三) 评标委员会成员对客观评审因素评分不一致的 — members scored an objective
                            criterion (one with a single right answer) differently;
    extreme                 (四) 经评标委员会认定评分畸高、畸低的 — the committee found the score
                            extremely high or low (the platform's outliers show the candidates).

Only the member who gave the score corrects it, naming the case and giving a reason. The score keeps
the value it had at the summary (`corrected_from`, kept over further corrections) and the case
(`correction_case`); the correction is journalled with the reason. If the report was already built
(signing), it is discarded — its signatures deleted, the Report row emptied — and the room goes back
to the summary: the chair builds it again and every member signs again. After the report is final a
score is `score_locked` (a re-evaluation reopens the room, see revisions.py); before the summary a
member simply scores again (`score_submit`).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bidding.models import Bid
from core.errors import Conflict, NotFound, ValidationFailed
from experts import rules
from experts.models import Member, Report, ReportSignature, Score
from experts.services.evaluation.common import (
    REASON_MAX,
    Phase,
    clean_text,
    journal,
    member_lock,
    price_criterion,
    require_declared,
    room_bump,
    room_lock,
    scored_criteria,
)
from experts.services.evaluation.events import Event
from experts.services.evaluation.outcome import Snapshot
from experts.services.evaluation.report import report_reset
from experts.services.evaluation.review import _refresh_outliers, _score_value
from trading.models import User

SRC_CORRECTION = rules.SRC_SCORE_CORRECTION
CORRECTION_CASES = {
    "sum_error": _("The scores were added up wrongly"),
    "out_of_range": _("A score is outside the range of the scoring rules"),
    "objective_inconsistent": _("Members scored an objective criterion differently"),
    "extreme": _("The committee found the score extremely high or low"),
}
CORRECTING_PHASES = (Phase.SUMMARY, Phase.SIGNING)


def score_correct(
    *, member: Member, actor: User, bid: Bid, criterion: str, value, case: str, reason: str
) -> Score:
    """Correct one's own score after the summary in a case of 87号令64 (see the module's docstring)."""
    if case not in CORRECTION_CASES:
        raise ValidationFailed(
            _("A score is corrected after the summary only in one of the cases of the law."),
            code="correction_case_invalid",
            allowed=list(CORRECTION_CASES),
            source=SRC_CORRECTION,
        )
    reason = clean_text(reason, code="reason_required", limit=REASON_MAX)
    now = timezone.now()
    with transaction.atomic():
        room = room_lock(member.room_id)
        member = member_lock(room, member, actor)
        require_declared(member)
        report = Report.objects.select_for_update().filter(room=room).first()
        if room.phase == Phase.CLOSED or (report is not None and report.finalized_at is not None):
            raise Conflict(
                _("The report is final: scores can no longer change."),
                code="score_locked",
                source=SRC_CORRECTION,
            )
        if room.phase not in CORRECTING_PHASES:
            raise Conflict(
                _("Before the summary a score is changed by scoring again."),
                code="phase_invalid",
                phase=room.phase,
                allowed=list(CORRECTING_PHASES),
            )
        price = price_criterion(room.lot)
        if price is not None and criterion == price["code"]:
            raise ValidationFailed(
                _("The price score is computed from the formula, never entered."), code="price_score_computed"
            )
        found = next((c for c in scored_criteria(room.lot) if c["code"] == criterion), None)
        if found is None:
            raise ValidationFailed(_("Unknown criterion."), code="criterion_unknown", criterion=criterion)
        score = (
            Score.objects.select_for_update()
            .select_related("bid")
            .filter(member=member, bid_id=getattr(bid, "pk", None), criterion=criterion)
            .first()
        )
        if score is None:
            raise NotFound(_("You have given no such score."), code="score_not_found")
        number = _score_value(value, Decimal(str(found["max"])))
        if number == score.value:
            raise ValidationFailed(
                _("The corrected score is the same as before."), code="correction_unchanged"
            )
        previous = score.value
        if score.corrected_from is None:
            score.corrected_from = previous
        score.value, score.correction_case, score.at = number, case, now
        score.save(update_fields=["value", "corrected_from", "correction_case", "at"])
        outliers = _refresh_outliers(room, Snapshot.load(room), score.bid, found)

        discarded, cleared = None, []
        if report is not None and report.data:
            discarded = report.body_sha256 or report.data_sha256
            cleared = sorted(
                ReportSignature.objects.filter(report=report).values_list("member__seat", flat=True)
            )
            ReportSignature.objects.filter(report=report).delete()
            report_reset(report)
        back = {"phase": Phase.SUMMARY, "signing_due_at": None} if room.phase == Phase.SIGNING else {}
        room_bump(room, event=Event.CORRECTED, now=now, **back)
        journal(
            room,
            action="score_corrected",
            actor=actor,
            obj=score,
            payload={
                "seat": member.seat,
                "bid": str(score.bid_id),
                "criterion": criterion,
                "from": previous,
                "to": number,
                "summary_value": score.corrected_from,
                "case": case,
                "reason": reason,
                "outliers": outliers,
                "source": SRC_CORRECTION,
            },
        )
        if discarded is not None:
            journal(
                room,
                action="report_discarded",
                actor=actor,
                obj=report,
                payload={
                    "data_sha256": discarded,
                    "revision": report.revision,
                    "signatures_cleared": cleared,
                    "why": "score_corrected",
                },
            )
    return score
