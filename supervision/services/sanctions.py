"""Sanctions a supervising department decides (issue 7 item 5): a disqualification, a fine or a warning
on a market entity, written to its credit records (a disqualification blacklists it), or an expert's
suspension, written to the expert pool; tied to the tender, complaint or tip-off it arose from."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from archive.journal import journal_append
from core.errors import AccessDenied, ValidationFailed
from experts.models import Expert
from experts.services.pool.admission import _status_check, status_write
from experts.services.pool.common import RESTRICTED_EVALUATION
from supervision.models import Complaint, Department, Sanction, TipOff
from supervision.selectors import departments_of, may_supervise
from trading.models import CreditRecord, MarketEntity, Notification, Role, Tender
from trading.services.credit import credit_record_create

STREAM = "supervision"
ENTITY_KINDS = (Sanction.Kind.DISQUALIFICATION, Sanction.Kind.FINE, Sanction.Kind.WARNING)
CREDIT_KINDS = {
    Sanction.Kind.DISQUALIFICATION: CreditRecord.Kind.DISQUALIFICATION,
    Sanction.Kind.FINE: CreditRecord.Kind.FINE,
    Sanction.Kind.WARNING: CreditRecord.Kind.WARNING,
    Sanction.Kind.EXPERT_SUSPENSION: CreditRecord.Kind.DISQUALIFICATION,
}
DISQUALIFICATION_YEARS = (1, 2, 3)  # 招标投标法实施条例67/68: one to three years
DISQUALIFICATION_SOURCE = "《招标投标法实施条例》第六十七条、第六十八条"
# Credit records are data in the platform's official language, like the regulator's own entries.
RESTRICTED_BIDDING = "参加依法必须进行招标的项目的投标"
LEGAL_BASIS_MAX = 300
REASON_MAX = 20_000
FINE_MAX = Decimal("1e12")


def source_of(sanction: Sanction) -> str:
    """What the credit record and the expert's status change say they came from."""
    return f"supervision:sanction:{sanction.pk}"


def _refuse(message, *, code: str, field: str, **params) -> ValidationFailed:
    return ValidationFailed(message, code=code, fields={field: message}, **params)


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _fine(value) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        amount = None
    if (
        amount is None
        or not amount.is_finite()
        or amount <= 0
        or amount >= FINE_MAX
        or amount != amount.quantize(Decimal("0.01"))
    ):
        raise _refuse(
            _("State the fine as a positive amount in yuan with at most two decimals."),
            code="fine_amount_invalid",
            field="fine_amount",
        )
    return amount.quantize(Decimal("0.01"))


def _context(*, tender: Tender | None, complaint: Complaint | None, tipoff: TipOff | None) -> Tender | None:
    """The tender the sanction is about: given, or that of the complaint or tip-off (which must agree)."""
    tenders = {
        t.pk: t for t in (tender, getattr(complaint, "tender", None), getattr(tipoff, "tender", None)) if t
    }
    if len(tenders) > 1:
        raise _refuse(
            _("The complaint or tip-off is about another tender."), code="context_mismatch", field="tender"
        )
    return next(iter(tenders.values()), None)


def _department(actor, tender: Tender | None) -> Department | None:
    """Who decides: an admin, or a regulator supervising the tender (recorded with the first of its
    departments that supervises it); without a tender, a regulator of some department (its first)."""
    role = getattr(actor, "role", None)
    if role == Role.ADMIN:
        return None
    if role != Role.REGULATOR:
        raise AccessDenied(_("Only a supervising department decides sanctions."), code="forbidden")
    mine = departments_of(actor).order_by("pk")
    if tender is not None:
        if not may_supervise(actor, tender):
            raise AccessDenied(
                _("This tender is outside your department's jurisdiction."), code="outside_jurisdiction"
            )
        # None for a platform-wide regulator belonging to no department (docs/supervision.md).
        return mine.filter(supervisions__tender=tender).first()
    department = mine.first()
    if department is None:
        raise AccessDenied(
            _("Only a member of a supervising department decides a sanction outside a tender."),
            code="no_department",
        )
    return department


def sanction_check(
    *,
    kind: str,
    legal_basis: str,
    reason: str,
    entity: MarketEntity | None,
    expert: Expert | None,
    years,
    fine_amount,
    starts_on: dt.date,
    suspended_until: dt.date | None,
) -> dict:
    """The sanction's validated values (ValidationFailed with a stable code and the field otherwise)."""
    if kind not in Sanction.Kind.values:
        raise _refuse(_("Choose the kind of sanction."), code="sanction_kind_unknown", field="kind")
    legal_basis, reason = (legal_basis or "").strip(), (reason or "").strip()
    if not legal_basis:
        raise _refuse(
            _("State the legal basis (法律依据)."), code="legal_basis_required", field="legal_basis"
        )
    if len(legal_basis) > LEGAL_BASIS_MAX:
        raise _refuse(_("At most 300 characters."), code="legal_basis_too_long", field="legal_basis")
    if not reason:
        raise _refuse(_("State the facts and the reason."), code="reason_required", field="reason")
    if len(reason) > REASON_MAX:
        raise _refuse(_("At most 20,000 characters."), code="reason_too_long", field="reason")
    today = timezone.localdate()
    if starts_on < today:
        raise _refuse(_("A sanction cannot start in the past."), code="starts_on_past", field="starts_on")
    values = {"legal_basis": legal_basis, "reason": reason, "starts_on": starts_on, "ends_on": None}
    values["fine_amount"] = None
    if kind in ENTITY_KINDS:
        if entity is None:
            raise _refuse(_("Name the entity sanctioned."), code="entity_required", field="entity")
        if expert is not None:
            raise _refuse(_("This sanction applies to an entity."), code="expert_unexpected", field="expert")
    else:
        if expert is None:
            raise _refuse(_("Name the expert suspended."), code="expert_required", field="expert")
        if entity is not None:
            raise _refuse(_("A suspension applies to an expert."), code="entity_unexpected", field="entity")
    if kind == Sanction.Kind.DISQUALIFICATION:
        if years not in DISQUALIFICATION_YEARS:
            raise _refuse(
                _("A disqualification lasts 1 to 3 years."),
                code="years_invalid",
                field="years",
                source=DISQUALIFICATION_SOURCE,
            )
        values["ends_on"] = _add_years(starts_on, years) - dt.timedelta(days=1)
    elif years is not None:
        raise _refuse(_("Only a disqualification lasts years."), code="years_unexpected", field="years")
    if kind == Sanction.Kind.FINE:
        if fine_amount in (None, ""):
            raise _refuse(_("A fine needs its amount."), code="fine_amount_required", field="fine_amount")
        values["fine_amount"] = _fine(fine_amount)
    elif fine_amount not in (None, ""):
        raise _refuse(_("Only a fine has an amount."), code="fine_amount_unexpected", field="fine_amount")
    if kind == Sanction.Kind.EXPERT_SUSPENSION:
        if suspended_until is None:
            raise _refuse(
                _("A suspension needs its end date."),
                code="suspension_period_required",
                field="suspended_until",
            )
        if suspended_until < starts_on:
            raise _refuse(
                _("The period ends before it starts."),
                code="suspension_period_invalid",
                field="suspended_until",
            )
        values["ends_on"] = suspended_until
    elif suspended_until is not None:
        raise _refuse(
            _("Only an expert's suspension has an end date."),
            code="suspended_until_unexpected",
            field="suspended_until",
        )
    return values


def sanction_decide(
    *,
    actor,
    kind: str,
    legal_basis: str,
    reason: str,
    entity: MarketEntity | None = None,
    expert: Expert | None = None,
    tender: Tender | None = None,
    complaint: Complaint | None = None,
    tipoff: TipOff | None = None,
    years: int | None = None,
    fine_amount=None,
    starts_on: dt.date | None = None,
    suspended_until: dt.date | None = None,
) -> Sanction:
    """Decide a sanction: the Sanction, its credit record (a disqualification bars the entity for its
    period; an expert's suspension bars the person from evaluating) and, for an expert, the pool's
    status — all in one transaction, journalled in the tender's stream (else "supervision"), and the
    entity's users or the expert notified."""
    tender = _context(tender=tender, complaint=complaint, tipoff=tipoff)
    department = _department(actor, tender)
    values = sanction_check(
        kind=kind,
        legal_basis=legal_basis,
        reason=reason,
        entity=entity,
        expert=expert,
        years=years,
        fine_amount=fine_amount,
        starts_on=starts_on or timezone.localdate(),
        suspended_until=suspended_until,
    )
    with transaction.atomic():
        if expert is not None:
            expert = Expert.objects.select_for_update().select_related("person").get(pk=expert.pk)
            _status_check(
                expert=expert,
                status=Expert.Status.SUSPENDED,
                since=values["starts_on"],
                until=values["ends_on"],
                reason=values["reason"],
            )
        sanction = Sanction.objects.create(
            kind=kind,
            department=department,
            tender=tender,
            complaint=complaint,
            tipoff=tipoff,
            entity=entity,
            expert=expert,
            starts_on=values["starts_on"],
            ends_on=values["ends_on"],
            fine_amount=values["fine_amount"],
            legal_basis=values["legal_basis"],
            reason=values["reason"],
            decided_by=actor,
            decided_at=timezone.now(),
        )
        sanction.credit_record = _credit(sanction, actor=actor)
        sanction.save(update_fields=["credit_record"])
        if expert is not None:
            status_write(
                expert=expert,
                actor=actor,
                status=Expert.Status.SUSPENDED,
                since=values["starts_on"],
                until=values["ends_on"],
                reason=_("Suspended by the supervising department: %(basis)s")
                % {"basis": values["legal_basis"]},
                cause=source_of(sanction),
            )
        journal_append(
            stream=tender.stream if tender is not None else STREAM,
            action="supervision.sanction_decided",
            actor=actor,
            obj=sanction,
            payload={
                "sanction": sanction.pk,
                "kind": kind,
                "department": sanction.department_id,
                "tender": sanction.tender_id,
                "complaint": sanction.complaint_id,
                "tipoff": sanction.tipoff_id,
                "entity": sanction.entity_id,
                "expert": sanction.expert_id,
                "starts_on": sanction.starts_on,
                "ends_on": sanction.ends_on,
                "years": years if kind == Sanction.Kind.DISQUALIFICATION else None,
                "fine_amount": sanction.fine_amount,
                "legal_basis": sanction.legal_basis,
                "credit_record": sanction.credit_record_id,
            },
        )
        if entity is not None:
            _notify_entity(sanction)
    return sanction


def _credit(sanction: Sanction, *, actor) -> CreditRecord:
    """The credit record of the sanction: on the entity, or on the expert's person (as the expert pool's
    own sanctions do) so the suspension shows among the person's credit records too."""
    suspension = sanction.kind == Sanction.Kind.EXPERT_SUSPENSION
    disqualification = sanction.kind == Sanction.Kind.DISQUALIFICATION
    return credit_record_create(
        actor=actor,
        kind=CREDIT_KINDS[sanction.kind],
        legal_basis=sanction.legal_basis,
        starts_on=sanction.starts_on,
        ends_on=sanction.ends_on,
        entity=sanction.entity,
        person=sanction.expert.person if suspension else None,
        blocks_participation=disqualification or suspension,
        restricted_action=RESTRICTED_EVALUATION
        if suspension
        else (RESTRICTED_BIDDING if disqualification else ""),
        fine_amount=sanction.fine_amount,
        description=sanction.reason,
        source=source_of(sanction),
    )


def _notify_entity(sanction: Sanction) -> None:
    subject = _("A sanction was decided: %(kind)s") % {"kind": sanction.get_kind_display()}
    Notification.objects.create(
        entity=sanction.entity,
        kind="supervision.sanction",
        subject=str(subject)[:200],
        body=f"{sanction.legal_basis}\n{sanction.reason}",
        link=reverse("trading:entity_credit", args=[sanction.entity_id]),
        created_at=timezone.now(),
    )
