"""Withdrawal of the active bid before the deadline (法29)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive.journal import journal_append
from bidding.lock_objects import bid_lock, lot_lock
from bidding.models import Bid
from bidding.selectors import bidder_entity
from bidding.services.submission_checks import (
    _after_deadline,
)
from core.errors import AccessDenied, Conflict


def bid_withdraw(*, bid: Bid, user) -> Bid:
    """The bidder withdraws its active bid before the deadline (法29); afterwards it cannot."""
    entity = bidder_entity(user)
    if entity.pk != bid.entity_id:
        raise AccessDenied(_("This bid belongs to another bidder."), code="bid_not_yours")
    with transaction.atomic():
        lot = lot_lock(bid.lot_id)
        locked = bid_lock(bid.pk)
        if locked.status != Bid.Status.ACTIVE:
            raise Conflict(
                _("Only the current bid can be withdrawn."), code="bid_not_active", status=locked.status
            )
        now = timezone.now()
        if now >= lot.tender.deadline:
            raise _after_deadline(_("The bid deadline has passed: a bid can no longer be withdrawn."))
        locked.status = Bid.Status.WITHDRAWN
        locked.withdrawn_at = now
        locked.save(update_fields=["status", "withdrawn_at"])
        journal_append(
            stream=lot.tender.stream,
            action="bid.withdraw",
            actor=user,
            obj=locked,
            payload={"lot": lot.number, "bidder": entity.uscc, "withdrawn_at": now},
        )
    return locked
