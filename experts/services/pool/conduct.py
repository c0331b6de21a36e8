"""After an evaluation: ratings by the agency, the tenderee or the centre, and sanctions by
regulators that feed the person's credit record (DOMAIN C11, 实施条例75)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive.journal import journal_append
from core.errors import AccessDenied, Conflict, RuleViolation, ValidationFailed
from experts import rules
from experts.models import Assignment, Draw, EvaluationRoom, Expert, Rating, Sanction
from experts.services.pool.admission import status_write
from experts.services.pool.common import (
    RESTRICTED_EVALUATION,
    SANCTION_ROLES,
    FieldErrors,
    expert_stream,
    notify_expert,
    require_not_removed,
)
from trading.access import manages_tender, require_login, require_role
from trading.calendar import default_calendar
from trading.models import CreditRecord, Lot, User
from trading.services.credit import credit_record_create


def rating_due_on(evaluated_at: dt.datetime) -> dt.date:
    """The last day to rate: N working days after the evaluation ended (财库〔2016〕198号 [S])."""
    return default_calendar().add_working_days(evaluated_at, int(rules.setting("rating_working_days")))


def evaluation_ended_at(lot: Lot) -> dt.datetime | None:
    """When the lot's evaluation room closed, or None while it is open (or never opened)."""
    room = EvaluationRoom.objects.filter(lot=lot).only("closed_at").first()
    return room.closed_at if room else None


def rating_record(
    *, expert: Expert, lot: Lot, actor: User, score: int, marks: dict | None = None, comment: str = ""
) -> Rating:
    """The agency, the tenderee or the centre rates an expert who sat on the lot, after its
    evaluation. Late ratings (past the working-day limit) are recorded, and marked late."""
    require_login(actor)
    if not manages_tender(actor, lot.tender):
        raise AccessDenied(
            _("Only the tender's agency, its tenderee or centre staff may rate its experts."),
            code="rating_forbidden",
        )
    e = FieldErrors()
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
        e.add("score", "out_of_range", _("Must be between %(low)s and %(high)s.") % {"low": 0, "high": 100})
    marks = marks or {}
    if not isinstance(marks, dict) or len(marks) > 10:
        e.add("marks", "invalid", _("Marks are up to ten named values from 1 to 5."))
    else:
        for key, value in marks.items():
            if not (isinstance(key, str) and 0 < len(key) <= 40 and type(value) is int and 1 <= value <= 5):
                e.add(f"marks.{key}", "out_of_range", _("Marks are up to ten named values from 1 to 5."))
    e.raise_if_any(code="rating_invalid")
    sat = Assignment.objects.filter(draw__lot=lot, expert=expert, status=Assignment.Status.CONFIRMED).exclude(
        draw__state=Draw.State.CANCELLED
    )
    if not sat.exists():
        raise RuleViolation(_("This expert did not sit on the lot's committee."), code="rating_not_member")
    ended = evaluation_ended_at(lot)
    if ended is None:
        raise Conflict(_("The lot's evaluation has not ended yet."), code="evaluation_not_finished")
    if Rating.objects.filter(expert=expert, lot=lot, rated_by=actor).exists():
        raise Conflict(_("You have already rated this expert for this lot."), code="rating_duplicate")
    now = timezone.now()
    due_on = rating_due_on(ended)
    late = timezone.localdate(now) > due_on
    with transaction.atomic():
        rating = Rating.objects.create(
            expert=expert,
            lot=lot,
            score=score,
            marks=marks,
            comment=(comment or "").strip(),
            rated_by=actor,
            rated_at=now,
            due_on=due_on,
            late=late,
        )
        journal_append(
            stream=expert_stream(expert),
            action="experts.rating_recorded",
            actor=actor,
            obj=rating,
            payload={
                "lot": lot.pk,
                "score": score,
                "marks": marks,
                "evaluated_at": ended,
                "due_on": due_on,
                "late": late,
                "working_days_late": default_calendar().working_days_between(due_on, now) if late else 0,
            },
        )
    return rating


SANCTION_CREDIT_KIND = {
    Sanction.Kind.WARNING: CreditRecord.Kind.WARNING,
    Sanction.Kind.FINE: CreditRecord.Kind.FINE,
    Sanction.Kind.SUSPENSION: CreditRecord.Kind.DISQUALIFICATION,
    Sanction.Kind.REMOVAL: CreditRecord.Kind.OTHER_PENALTY,
}


def _fine(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValidationFailed(_("Not an amount in yuan."), code="fine_amount_invalid") from None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed(_("Not an amount in yuan."), code="fine_amount_invalid")
    return amount


def sanction_impose(
    *,
    expert: Expert,
    actor: User,
    kind: str,
    legal_basis: str,
    starts_on: dt.date,
    ends_on: dt.date | None = None,
    fine_amount: Decimal | str | None = None,
    description: str = "",
    lot: Lot | None = None,
) -> Sanction:
    """A regulator sanctions an expert (实施条例75): a credit record on the person, and for a
    suspension or removal the expert's status with it."""
    require_role(actor, *SANCTION_ROLES)
    if kind not in Sanction.Kind.values:
        raise ValidationFailed(_("Unknown kind of sanction."), code="sanction_kind_unknown")
    if not (legal_basis or "").strip():
        raise ValidationFailed(_("State the legal basis (处罚依据)."), code="legal_basis_required")
    if starts_on is None:
        raise ValidationFailed(_("Give the start date."), code="sanction_start_required")
    if ends_on is not None and ends_on < starts_on:
        raise ValidationFailed(_("The period ends before it starts."), code="sanction_period_invalid")
    fine = _fine(fine_amount)
    if kind == Sanction.Kind.FINE:
        low, high = (
            Decimal(str(rules.setting("fine_min"))),
            Decimal(str(rules.setting("fine_max"))),
        )
        if fine is None:
            raise ValidationFailed(_("A fine needs its amount."), code="fine_amount_required")
        if not low <= fine <= high:
            raise RuleViolation(
                _("A fine on an expert is between %(low)s and %(high)s yuan.") % {"low": low, "high": high},
                code="fine_out_of_range",
                source="招标投标法实施条例第七十五条",
            )
    elif fine is not None:
        raise ValidationFailed(_("Only a fine has an amount."), code="fine_amount_unexpected")
    if kind == Sanction.Kind.SUSPENSION and ends_on is None:
        raise ValidationFailed(_("A suspension needs its end date."), code="suspension_period_required")
    reason = _("Sanction: %(basis)s") % {"basis": legal_basis.strip()}
    with transaction.atomic():
        expert = Expert.objects.select_for_update().select_related("person").get(pk=expert.pk)
        if kind in (Sanction.Kind.SUSPENSION, Sanction.Kind.REMOVAL):
            require_not_removed(expert)
        record = credit_record_create(
            actor=actor,
            person=expert.person,
            kind=SANCTION_CREDIT_KIND[kind],
            legal_basis=legal_basis,
            starts_on=starts_on,
            ends_on=ends_on if kind != Sanction.Kind.REMOVAL else None,
            blocks_participation=kind in (Sanction.Kind.SUSPENSION, Sanction.Kind.REMOVAL),
            restricted_action=RESTRICTED_EVALUATION
            if kind in (Sanction.Kind.SUSPENSION, Sanction.Kind.REMOVAL)
            else "",
            fine_amount=fine,
            description=(description or "").strip(),
            source=f"expert:{expert.pk}",
        )
        sanction = Sanction.objects.create(
            expert=expert,
            kind=kind,
            legal_basis=legal_basis.strip()[:300],
            description=(description or "").strip(),
            lot=lot,
            fine_amount=fine,
            starts_on=starts_on,
            ends_on=ends_on,
            credit_record=record,
            decided_by=actor,
            decided_at=timezone.now(),
        )
        journal_append(
            stream=expert_stream(expert),
            action="experts.sanction_imposed",
            actor=actor,
            obj=sanction,
            payload={
                "kind": kind,
                "legal_basis": sanction.legal_basis,
                "starts_on": starts_on,
                "ends_on": ends_on,
                "fine_amount": fine,
                "lot": lot.pk if lot else None,
                "credit_record": record.pk,
            },
        )
        if kind == Sanction.Kind.SUSPENSION:
            status_write(
                expert=expert,
                actor=actor,
                status=Expert.Status.SUSPENDED,
                since=starts_on,
                until=ends_on,
                reason=str(reason),
                cause=f"sanction:{sanction.pk}",
            )
        elif kind == Sanction.Kind.REMOVAL:
            status_write(
                expert=expert,
                actor=actor,
                status=Expert.Status.REMOVED,
                since=None,
                until=None,
                reason=str(reason),
                cause=f"sanction:{sanction.pk}",
            )
        else:
            notify_expert(
                expert,
                kind="experts.sanction",
                subject=_("A sanction was recorded: %(kind)s") % {"kind": sanction.get_kind_display()},
                body=sanction.legal_basis,
            )
    return sanction
