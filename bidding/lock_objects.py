"""Row locks for bidding, always taken in one order so two transactions cannot deadlock.

Order between kinds: Tender → Lot → UploadSession → Bid → BidSecurity → (the journal stream row,
which `journal_append` takes last). Within one kind, rows are locked in primary-key order.
On SQLite `select_for_update` is a no-op; its IMMEDIATE transactions serialise writers instead.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models

from bidding.models import Bid, BidSecurity, UploadSession
from trading.models import Lot, Tender


def _locked(model: type[models.Model], pks: Iterable) -> list:
    """Lock the rows of `model` with these keys, in primary-key order; missing keys are skipped."""
    keys = sorted(set(pks), key=str)
    return list(model.objects.select_for_update().filter(pk__in=keys).order_by("pk"))


def lot_lock(pk: int) -> Lot:
    """The lot row is the lock that orders everything about its bids: submissions, replacements,
    withdrawals and the deadline check. The opening takes it too before it lists the bids, so a
    submission that read the clock before the deadline commits before the list is taken."""
    lot = Lot.objects.select_for_update().get(pk=pk)
    # Read the tender afresh after the lock is held (a joined read would lock the tender row too,
    # against the Tender → Lot order, and could return the row as it was before the wait).
    lot.tender = Tender.objects.get(pk=lot.tender_id)
    return lot


def uploads_lock(pks: Iterable) -> list[UploadSession]:
    return _locked(UploadSession, pks)


def upload_lock(pk) -> UploadSession:
    return UploadSession.objects.select_for_update().get(pk=pk)


def bids_lock(pks: Iterable) -> list[Bid]:
    return _locked(Bid, pks)


def bid_lock_active(*, lot_id: int, entity_id: int) -> Bid | None:
    """The entity's current bid for the lot, locked (call while holding the lot lock)."""
    return (
        Bid.objects.select_for_update()
        .filter(lot_id=lot_id, entity_id=entity_id, status=Bid.Status.ACTIVE)
        .first()
    )


def bid_lock(pk) -> Bid:
    return Bid.objects.select_for_update().get(pk=pk)


def security_lock(*, lot_id: int, entity_id: int) -> BidSecurity | None:
    return BidSecurity.objects.select_for_update().filter(lot_id=lot_id, entity_id=entity_id).first()
