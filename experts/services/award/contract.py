"""After the award (A9): the signed contract — its date against the 30 days and its price against the
award (条例57) — and the written report to the supervisor (法47: within 15 days)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive.journal import journal_append
from core.errors import AccessDenied, Conflict, RuleViolation, ValidationFailed
from experts import rules as xrules
from experts.models import Award
from experts.services.award.common import SRC_CONTRACT, _lock
from trading.access import require_login, tender_access_manage
from trading.models import Lot, Role, Tender, User

SRC_SUPERVISOR_REPORT = "招标投标法第四十七条"

# --- the contract (A9) ---------------------------------------------------------------------------------


def _date(value, *, code: str = "contract_date_invalid") -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localdate(value)
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(_("Not a date."), code=code) from None


def contract_record(*, award: Award, actor: User, signed_on, amount) -> Award:
    """Record the signed contract: its date (late ones flagged against the 30 days) and its price,
    which must be the awarded one (条例57: no terms that depart from the bid)."""
    lot = Lot.objects.select_related("tender").get(pk=award.lot_id)
    tender_access_manage(user=actor, tender=lot.tender)
    signed_on = _date(signed_on)
    try:
        amount = Decimal(str(amount).replace(",", "").strip())
    except InvalidOperation:
        raise ValidationFailed(_("Not an amount."), code="contract_amount_invalid") from None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed(
            _("An amount in yuan with at most two decimals."), code="contract_amount_invalid"
        )
    amount = xrules.q2(amount)
    with transaction.atomic():
        tender, lot = _lock(lot)
        award = Award.objects.select_for_update().get(pk=award.pk)
        if award.contract_signed_on is not None:
            raise Conflict(_("The contract has already been recorded."), code="contract_already_recorded")
        if signed_on < timezone.localdate(award.decided_at):
            raise ValidationFailed(
                _("A contract cannot be signed before the award."), code="contract_before_award"
            )
        if signed_on > timezone.localdate(timezone.now()):
            raise ValidationFailed(_("The signing date is in the future."), code="contract_date_future")
        if amount != award.amount:
            raise RuleViolation(
                _("The contract price must be the awarded price (%(amount)s).") % {"amount": award.amount},
                code="contract_amount_differs",
                source=SRC_CONTRACT,
                awarded=award.amount,
            )
        award.contract_signed_on = signed_on
        award.contract_amount = amount
        award.save(update_fields=["contract_signed_on", "contract_amount"])
        journal_append(
            stream=tender.stream,
            action="experts.contract_recorded",
            actor=actor,
            obj=award,
            payload={
                "signed_on": signed_on,
                "amount": amount,
                "due_on": award.contract_due_on,
                "late": signed_on > award.contract_due_on,
            },
        )
    return award


# --- the written report to the supervisor (法47) --------------------------------------------------------


def _tenderee_side(user: User, tender: Tender) -> None:
    """The report is the tenderee's duty (法47), filed by it or its agency — not by centre staff."""
    require_login(user)
    own = (tender.agency_id, tender.tenderee_id)
    if user.role != Role.AGENCY or user.entity_id is None or user.entity_id not in own:
        raise AccessDenied(
            _("The written report to the supervisor is filed by the tenderee or its agency."),
            code="supervisor_report_tenderee_only",
        )


def supervisor_report_record(*, award: Award, actor: User, filed_on) -> Award:
    """Record that the written report on the tender was filed with the supervisor on `filed_on`
    (not before the award, not in the future); one filed after the 15 days is recorded late."""
    lot = Lot.objects.select_related("tender").get(pk=award.lot_id)
    _tenderee_side(actor, lot.tender)
    filed_on = _date(filed_on, code="supervisor_report_date_invalid")
    with transaction.atomic():
        tender, lot = _lock(lot)
        award = Award.objects.select_for_update().get(pk=award.pk)
        if award.report_filed_on is not None:
            raise Conflict(
                _("The report to the supervisor has already been recorded."),
                code="supervisor_report_already_filed",
                filed_on=award.report_filed_on,
            )
        if filed_on < timezone.localdate(award.decided_at):
            raise ValidationFailed(
                _("The report cannot be filed before the award."), code="supervisor_report_before_award"
            )
        if filed_on > timezone.localdate(timezone.now()):
            raise ValidationFailed(
                _("The filing date is in the future."), code="supervisor_report_date_future"
            )
        award.report_filed_on = filed_on
        award.save(update_fields=["report_filed_on"])
        journal_append(
            stream=tender.stream,
            action="experts.supervisor_report_filed",
            actor=actor,
            obj=award,
            payload={
                "lot": lot.pk,
                "filed_on": filed_on,
                "due_on": award.report_due_on,
                "late": filed_on > award.report_due_on,
                "source": SRC_SUPERVISOR_REPORT,
            },
        )
    return award
