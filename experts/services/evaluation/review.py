"""The committee's work on the bids: pass/fail verdicts of the review stages, scores of the
non-price criteria with their outliers, and the chair closing each stage (DOMAIN C6–C8).

A verdict or score may be given and changed while its stage is the current one; once the stage is
closed, a member may only fill in what they have not given yet (a replacement member catching up),
never change a given one. A given score changes after the summary only by a correction in one of
the four cases of 87号令64 (experts.services.evaluation.corrections); anything else is `score_locked`.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from bidding.models import Bid
from core.errors import AccessDenied, Conflict, ValidationFailed
from experts import rules
from experts.models import (
    Clarification,
    EvaluationRoom,
    LowPriceJustification,
    Member,
    Outlier,
    Review,
    Score,
)
from experts.services.evaluation.common import (
    REASON_MAX,
    REVIEW_STAGES,
    Phase,
    clean_text,
    journal,
    member_lock,
    phase_index,
    price_criterion,
    require_declared,
    require_phase,
    review_criteria,
    room_bump,
    room_lock,
    scored_criteria,
)
from experts.services.evaluation.events import Event
from experts.services.evaluation.outcome import Snapshot, evaluated_price
from trading.models import Notification, User

# From the summary on, a given score changes only by `score_correct` (87号令64); in the summary a
# replacement member may still give the scores they have not given.
SCORES_LOCKED = frozenset({Phase.SUMMARY, Phase.SIGNING, Phase.CLOSED})
NEXT_PHASE = {
    Phase.QUALIFICATION: Phase.PRELIMINARY,
    Phase.PRELIMINARY: Phase.DETAILED,
    Phase.DETAILED: Phase.SUMMARY,
}


def _bid_in(snap: Snapshot, bid: Bid, stage: str) -> Bid:
    for b in snap.in_play(stage):
        if b.pk == getattr(bid, "pk", None):
            return b
    raise Conflict(_("This bid is not evaluated at this stage."), code="bid_not_in_stage", stage=stage)


def _may_write(room: EvaluationRoom, stage: str, existing) -> None:
    """The current stage: give or change. A closed stage (up to the summary): fill in only."""
    current = room.phase
    if current == stage:
        return
    if current in (Phase.PRELIMINARY, Phase.DETAILED, Phase.SUMMARY) and phase_index(stage) < phase_index(
        current
    ):
        if existing is None:
            return
        raise Conflict(_("This stage is closed; a given verdict can no longer change."), code="stage_closed")
    raise Conflict(_("The evaluation is not at that step."), code="phase_invalid", phase=current, stage=stage)


def review_submit(
    *, member: Member, actor: User, bid: Bid, stage: str, criterion: str, passed: bool, reason: str = ""
) -> Review:
    """One member's pass/fail of one criterion of a bid; a fail needs a reason (条例51)."""
    if stage not in REVIEW_STAGES:
        raise ValidationFailed(_("Unknown review stage."), code="stage_invalid")
    if not isinstance(passed, bool):
        raise ValidationFailed(_("Say pass or fail."), code="verdict_invalid")
    reason = clean_text(reason, code="reason_required", limit=REASON_MAX, required=not passed)
    with transaction.atomic():
        room = room_lock(member.room_id)
        member = member_lock(room, member, actor)
        require_declared(member)
        if criterion not in {c["code"] for c in review_criteria(room.lot, stage)}:
            raise ValidationFailed(_("Unknown criterion."), code="criterion_unknown", criterion=criterion)
        existing = Review.objects.filter(
            member=member, bid_id=getattr(bid, "pk", None), stage=stage, criterion=criterion
        ).first()
        _may_write(room, stage, existing)
        bid = _bid_in(Snapshot.load(room), bid, stage)
        review, _created = Review.objects.update_or_create(
            member=member,
            bid=bid,
            stage=stage,
            criterion=criterion,
            defaults={"passed": passed, "reason": reason, "at": timezone.now()},
        )
        room_bump(room, event=Event.REVIEW)
        journal(
            room,
            action="review",
            actor=actor,
            obj=review,
            payload={
                "seat": member.seat,
                "bid": str(bid.pk),
                "stage": stage,
                "criterion": criterion,
                "passed": passed,
                "reason": reason,
            },
        )
    return review


def _score_value(value, maximum: Decimal) -> Decimal:
    if isinstance(value, bool | float):
        raise ValidationFailed(_("A score is a number with at most two decimals."), code="score_invalid")
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed(
            _("A score is a number with at most two decimals."), code="score_invalid"
        ) from None
    if not number.is_finite():
        raise ValidationFailed(_("A score is a number with at most two decimals."), code="score_invalid")
    found = rules.check_score(value=number, max_points=maximum)
    if found:
        v = found[0]
        raise ValidationFailed(v.message, code=v.code, maximum=str(maximum))
    return rules.q2(number)


def _refresh_outliers(room: EvaluationRoom, snap: Snapshot, bid: Bid, criterion: dict) -> list[dict]:
    """Recompute the outliers of one bid and criterion over the active members' scores."""
    code = criterion["code"]
    by_seat = {str(m.seat): m for m in snap.active}
    values = {
        seat: s.value for seat, m in by_seat.items() if (s := snap.scores.get((m.pk, str(bid.pk), code)))
    }
    threshold = Decimal(str(rules.setting("outlier_threshold")))
    found = rules.outliers(values, max_points=Decimal(str(criterion["max"])), threshold=threshold)
    now = timezone.now()
    Outlier.objects.filter(room=room, bid=bid, criterion=code).exclude(
        member__in=[by_seat[s] for s in found]
    ).delete()
    out = []
    for seat, f in found.items():
        Outlier.objects.update_or_create(
            member=by_seat[seat],
            bid=bid,
            criterion=code,
            defaults={
                "room": room,
                "value": f["value"],
                "median": f["median"],
                "deviation": f["deviation"],
                "threshold": f["threshold"],
                "detected_at": now,
            },
        )
        out.append(
            {"seat": int(seat), "value": f["value"], "median": f["median"], "deviation": f["deviation"]}
        )
    return out


def score_submit(*, member: Member, actor: User, bid: Bid, criterion: str, value, comment: str = "") -> Score:
    """One member's score of a non-price criterion, 0 ≤ value ≤ max with two decimals. The price
    score is computed from the formula, never typed (C8)."""
    comment = clean_text(comment, code="comment_invalid", limit=REASON_MAX, required=False)
    with transaction.atomic():
        room = room_lock(member.room_id)
        member = member_lock(room, member, actor)
        require_declared(member)
        price = price_criterion(room.lot)
        if price is not None and criterion == price["code"]:
            raise ValidationFailed(
                _("The price score is computed from the formula, never entered."), code="price_score_computed"
            )
        found = next((c for c in scored_criteria(room.lot) if c["code"] == criterion), None)
        if found is None:
            raise ValidationFailed(_("Unknown criterion."), code="criterion_unknown", criterion=criterion)
        number = _score_value(value, Decimal(str(found["max"])))
        existing = Score.objects.filter(
            member=member, bid_id=getattr(bid, "pk", None), criterion=criterion
        ).first()
        if room.phase in SCORES_LOCKED and (existing is not None or room.phase != Phase.SUMMARY):
            raise Conflict(
                _("After the summary a score changes only by a correction in the cases of the law."),
                code="score_locked",
                source=rules.SRC_SCORE_CORRECTION,
            )
        _may_write(room, Phase.DETAILED, existing)
        snap = Snapshot.load(room)
        bid = _bid_in(snap, bid, Phase.DETAILED)
        score, _created = Score.objects.update_or_create(
            member=member,
            bid=bid,
            criterion=criterion,
            # Scoring again while detailed scoring is open (after a re-evaluation too) replaces any
            # earlier correction: corrections are what changed after the summary.
            defaults={
                "value": number,
                "comment": comment,
                "at": timezone.now(),
                "corrected_from": None,
                "correction_case": "",
            },
        )
        snap.scores[(member.pk, str(bid.pk), criterion)] = score
        outliers = _refresh_outliers(room, snap, bid, found)
        room_bump(room, event=Event.OUTLIER if outliers else Event.SCORE)
        journal(
            room,
            action="score",
            actor=actor,
            obj=score,
            payload={"seat": member.seat, "bid": str(bid.pk), "criterion": criterion, "value": number},
        )
        if outliers:
            journal(
                room,
                action="outliers",
                actor=None,
                payload={"bid": str(bid.pk), "criterion": criterion, "outliers": outliers},
            )
    return score


# --- closing a stage -------------------------------------------------------------------------------------


def _request_justifications(room: EvaluationRoom, snap: Snapshot, *, actor) -> list[LowPriceJustification]:
    """Entering detailed scoring: abnormally low evaluated prices among the qualifying bids must be
    justified in writing (87号令60, 条例51); each bidder is notified."""
    prices = {str(b.pk): p for b in snap.qualified() if (p := evaluated_price(room.lot, b)) is not None}
    flagged = rules.abnormally_low(prices)
    now = timezone.now()
    due = rules.justification_due(requested_at=now)
    made = []
    for bid in snap.qualified():
        ratio = flagged.get(str(bid.pk))
        if ratio is None or LowPriceJustification.objects.filter(bid=bid).exists():
            continue
        j = LowPriceJustification.objects.create(
            room=room, bid=bid, ratio=ratio, requested_at=now, due_at=due
        )
        Notification.objects.create(
            entity_id=bid.entity_id,
            kind="evaluation.low_price",
            subject=gettext("Your bid price appears abnormally low: explain it in writing by %(due)s.")
            % {"due": timezone.localtime(due).strftime("%Y-%m-%d %H:%M")},
            link=reverse("experts:evaluation-justification", args=[j.pk]),
            created_at=now,
        )
        journal(
            room,
            action="low_price_requested",
            actor=actor,
            obj=j,
            payload={"bid": str(bid.pk), "ratio": ratio, "due_at": due},
        )
        made.append(j)
    return made


def stage_complete(*, room: EvaluationRoom, actor: User) -> EvaluationRoom:
    """The chair closes the current stage once every active member has given every verdict (or
    score) it needs; otherwise `stage_incomplete` lists what is missing."""
    now = timezone.now()
    with transaction.atomic():
        room = room_lock(room.pk)
        if room.chair is None or room.chair.user_id != getattr(actor, "pk", None):
            raise AccessDenied(_("Only the chair of the committee may do this."), code="chair_only")
        member_lock(room, room.chair, actor)
        require_phase(room, *NEXT_PHASE)
        snap = Snapshot.load(room)
        missing = snap.missing(room.phase)
        if missing:
            raise Conflict(
                _("Not every member has given every verdict of this stage."),
                code="stage_incomplete",
                missing=missing[:50],
                count=len(missing),
            )
        if room.phase == Phase.DETAILED:
            undecided = [str(j.bid_id) for j in snap.justifications.values() if j.accepted is None]
            if undecided:
                raise Conflict(
                    _("The committee has not decided on every low-price justification."),
                    code="justification_pending",
                    bids=undecided,
                )
            waiting = Clarification.objects.filter(room=room, answered_at=None, due_at__gt=now).count()
            if waiting:
                raise Conflict(
                    _("A clarification is still awaiting the bidder's answer."),
                    code="clarification_pending",
                    count=waiting,
                )
        target = NEXT_PHASE[room.phase]
        rejected = {}
        if room.phase in REVIEW_STAGES:
            for b in snap.in_play(room.phase):
                if found := snap.rejections(b, room.phase):
                    rejected[str(b.pk)] = [r["criterion"] for r in found]
        previous = room.phase
        room_bump(room, event=Event.PHASE, now=now, phase=target)
        journal(
            room,
            action="stage_completed",
            actor=actor,
            payload={"stage": previous, "phase": target, "rejected": rejected},
        )
        if target == Phase.DETAILED:
            _request_justifications(room, snap, actor=actor)
    return room
