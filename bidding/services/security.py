"""Bid security (投标保证金), recorded with the account it came from (DOMAIN A6; D1 reads the accounts).

A bidder may declare its own payment before the deadline; centre staff record what the bank shows
(which confirms, or corrects, a declaration). The law decides which sources are acceptable:
TB cash or transfers must leave from the bidder's basic account (条例26); GP takes no cash (实施条例33).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive.journal import journal_append
from bidding.lock_objects import lot_lock, security_lock
from bidding.models import BidSecurity
from core.canonical import sha256_hex
from core.errors import AccessDenied, Conflict, RuleViolation, ValidationFailed
from trading.models import BankAccount, Lot, MarketEntity, Regime, Role, TenderState
from trading.rules.amounts import SRC_BID_SECURITY

STAFF_ROLES = {Role.CENTRE, Role.ADMIN}
CASH_LIKE = {BidSecurity.Method.CASH, BidSecurity.Method.TRANSFER}
CENT = Decimal("0.01")


def _amount(value) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationFailed(_("The amount is not a number."), code="security_amount_invalid") from None
    if not amount.is_finite() or amount <= 0:
        raise ValidationFailed(_("The amount must be positive."), code="security_amount_invalid")
    return amount


def _source_account(*, entity: MarketEntity, account: BankAccount | None, payer_account_number: str):
    """The registered account the money came from, if it is one of the entity's; and the payer number."""
    number = (payer_account_number or "").strip().replace(" ", "")
    if account is not None:
        if account.entity_id != entity.pk:
            raise ValidationFailed(
                _("This bank account is not one of the bidder's registered accounts."),
                code="security_account_not_entity",
            )
        if number and number != account.account_number:
            raise ValidationFailed(
                _("The payer account number differs from the chosen account."),
                code="security_account_mismatch",
            )
        return account, account.account_number
    if number:
        # A number typed from the bank slip: link it to the registered account when it is one.
        return BankAccount.objects.filter(entity=entity, account_number=number).first(), number
    return None, ""


def check_security_source(
    *, regime: str, method: str, account: BankAccount | None, payer: str, reference: str
):
    """The legal checks on where a bid security comes from (pure: no I/O)."""
    if method == BidSecurity.Method.CASH and regime == Regime.GP:
        raise RuleViolation(
            _("Government procurement takes bid security only in non-cash forms."),
            code="security_cash_not_allowed",
            source=SRC_BID_SECURITY[Regime.GP],
        )
    if method in CASH_LIKE and regime == Regime.TB and (account is None or not account.is_basic):
        raise RuleViolation(
            _("Cash and transfers of bid security must come from the bidder's basic account (基本账户)."),
            code="security_not_from_basic_account",
            source=SRC_BID_SECURITY[Regime.TB],
        )
    if method in CASH_LIKE and not payer:
        raise ValidationFailed(_("Give the account the money came from."), code="security_account_required")
    if method not in CASH_LIKE and not reference.strip():
        raise ValidationFailed(
            _("Give the guarantee's or policy's number."), code="security_reference_required"
        )


def bid_security_record(
    *,
    lot: Lot,
    entity: MarketEntity,
    amount,
    method: str,
    account: BankAccount | None = None,
    payer_account_number: str = "",
    reference: str,
    actor,
    received_at: dt.datetime | None = None,
) -> BidSecurity:
    """Record (centre staff) or declare (the bidder itself) the bid security of `entity` for `lot`.

    Centre staff may record after the deadline a payment that arrived before it (`received_at`, the
    bank's time); a bidder declares before the deadline, and its declaration is replaced by the
    centre's record. A recorded (verified) security is not recorded twice.
    """
    if getattr(actor, "role", None) in STAFF_ROLES:
        verified = True
    elif getattr(actor, "role", None) == Role.BIDDER and actor.entity_id == entity.pk:
        verified = False
    else:
        raise AccessDenied(
            _("Only centre staff, or the bidder itself, record a bid security."), code="security_not_allowed"
        )
    if method not in BidSecurity.Method.values:
        raise ValidationFailed(_("Unknown way of paying the bid security."), code="security_method_invalid")
    amount = _amount(amount)
    reference = (reference or "").strip()[:80]
    now = timezone.now()
    if received_at is None or not verified:
        received_at = now
    if received_at > now:
        raise ValidationFailed(_("The payment cannot arrive in the future."), code="security_time_invalid")
    with transaction.atomic():
        lot = lot_lock(lot.pk)
        tender = lot.tender
        if tender.state == TenderState.DRAFT:
            raise Conflict(_("This tender is not open for bids."), code="tender_not_open")
        if received_at >= tender.deadline:
            raise RuleViolation(
                _("The bid security must arrive before the bid deadline."),
                code="security_after_deadline",
                source=SRC_BID_SECURITY[tender.regime],
            )
        if lot.bid_security and amount < lot.bid_security:
            raise ValidationFailed(
                _("The lot asks for a bid security of %(required)s yuan.") % {"required": lot.bid_security},
                code="security_amount_short",
            )
        source, payer = _source_account(
            entity=entity, account=account, payer_account_number=payer_account_number
        )
        check_security_source(
            regime=tender.regime, method=method, account=source, payer=payer, reference=reference
        )
        existing = security_lock(lot_id=lot.pk, entity_id=entity.pk)
        if existing is not None and existing.verified_at is not None:
            raise Conflict(
                _("The bid security of this bidder has already been recorded."),
                code="security_already_recorded",
            )
        security = existing or BidSecurity(lot=lot, entity=entity)
        security.amount = amount
        security.method = method
        security.account = source
        security.payer_account_number = payer
        security.reference = reference
        security.received_at = received_at
        security.recorded_by = actor
        security.verified_at = now if verified else None
        security.save()
        journal_append(
            stream=tender.stream,
            action="bid_security.record" if verified else "bid_security.declare",
            actor=actor,
            obj=security,
            payload={
                "lot": lot.number,
                "bidder": entity.uscc,
                "amount": amount,
                "method": method,
                # The journal keeps a digest, not the account number (private data; BidSecurity has it).
                "payer_account_sha256": sha256_hex(payer.encode()) if payer else "",
                "basic_account": bool(source and source.is_basic),
                "reference": reference,
                "received_at": received_at,
                "verified": verified,
                "corrects_declaration": existing is not None,
            },
        )
    return security
