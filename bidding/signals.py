"""Receivers of trading's signals: what bidding adds when something happens in trading."""

from __future__ import annotations

from bidding.custodian import custodian_key_create
from trading.models import DecryptionPolicy, TenderState


def on_tender_published(sender, *, tender, actor, **kwargs) -> None:
    """A tender that asks for a k-of-n custodian key gets it in the same transaction as its publication."""
    if tender.decryption_policy == DecryptionPolicy.BIDDER_CUSTODIAN:
        custodian_key_create(tender=tender, actor=actor)


def on_tender_state_changed(sender, *, tender, previous, target, **kwargs) -> None:
    """A suspension or resumption reaches everyone in the tender's opening halls once committed."""
    from bidding.opening.events import Event, hall_changed

    if TenderState.SUSPENDED not in (previous, target):
        return
    event = Event.SUSPENDED if target == TenderState.SUSPENDED else Event.RESUMED
    for lot_id in tender.lots.values_list("pk", flat=True):
        hall_changed(lot_id=lot_id, event=event)
