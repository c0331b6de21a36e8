"""Receivers of the signals the layers below send to monitoring (connected in MonitoringConfig.ready)."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def on_readout(sender, *, lot_id: int, **kwargs) -> None:
    """bidding's readout_done: the live check of the lot. It never breaks the hall: failures are logged."""
    from monitoring.services.analysis import lot_check

    try:
        lot_check(lot_id=lot_id)
    except Exception:
        logger.exception("live monitoring check of lot %s failed", lot_id)


def on_bid_decrypted(sender, *, bid_id, **kwargs) -> None:
    """bidding's bid_decrypted: keep the document's text for the read-out's check (failures logged)."""
    from monitoring.services.analysis import bid_text_cache

    try:
        bid_text_cache(bid_id=bid_id)
    except Exception:
        logger.exception("text of bid %s not kept for monitoring", bid_id)
