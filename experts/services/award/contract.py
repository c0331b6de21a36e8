"""The signed contract (A9): its date against the 30 days and its price against the award (条例57)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive.journal import journal_append
from core.errors import Conflict, RuleViolation, ValidationFailed
from experts import rules as xrules
from experts.models import Award
from experts.services.award.common import SRC_CONTRACT, _lock
from trading.access import tender_access_manage
from trading.models import Lot, User

# --- the contract (A9) ---------------------------------------------------------------------------------


def _date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localdate(value)
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(_("Not a date."), code="contract_date_invalid") from None


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
