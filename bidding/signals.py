"""Receivers of trading's signals: what bidding adds when something happens in trading."""

from __future__ import annotations

from bidding.custodian import custodian_key_create
from trading.models import DecryptionPolicy


def on_tender_published(sender, *, tender, actor, **kwargs) -> None:
    """A tender that asks for a k-of-n custodian key gets it in the same transaction as its publication."""
    if tender.decryption_policy == DecryptionPolicy.BIDDER_CUSTODIAN:
        custodian_key_create(tender=tender, actor=actor)
