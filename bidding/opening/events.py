"""Realtime events of the opening hall: the group names, the payloads, and sending them once the
change has committed (never before: a client must never see a state the database then rolls back).

One snapshot of the hall's public state is built per change and broadcast to the lot's group; a
client replaces its view with it when the version is newer than the one it holds. The read-out also
goes to `monitoring.readout`, the live monitoring hook (issue 3, item 7; docs/opening-hall.md).
"""

from __future__ import annotations

import json
import logging

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from core.realtime import group_send

logger = logging.getLogger(__name__)

MONITORING_READOUT_GROUP = "monitoring.readout"
# The consumer method a group message is delivered to ("hall.event" → hall_event).
HALL_MESSAGE_TYPE = "hall.event"
MONITORING_MESSAGE_TYPE = "monitoring.readout"
# Sent in the process that read the bids out, once the read-out has committed, with `lot_id`:
# monitoring connects its live check here (bidding never imports monitoring, DESIGN §2). Sent
# robustly: a receiver's failure is logged by the receiver and never reaches the hall.
readout_done = Signal()
# Sent once a bid's decryption has committed, with `bid_id`: monitoring extracts the document's text
# then, during the decryption window, so that the check at the read-out need not (its goal is < 1 s).
bid_decrypted = Signal()


def bid_opened(*, bid_id) -> None:
    for receiver, result in bid_decrypted.send_robust(sender=Event, bid_id=bid_id):
        if isinstance(result, Exception):
            logger.error("bid_decrypted receiver %r failed for bid %s: %r", receiver, bid_id, result)


class Event:
    """The kinds of change a hall announces (the `event` field clients may use for a notice)."""

    SESSION_OPENED = "session_opened"
    TENDER_OPENED = "tender_opened"
    SIGNIN = "signin"
    BIDDERS_PUBLISHED = "bidders_published"
    DECRYPTION_STARTED = "decryption_started"
    DECRYPTED = "decrypted"
    DECRYPTION_SETTLED = "decryption_settled"
    READOUT = "readout"
    OBJECTION = "objection"
    CONFIRMATION_STARTED = "confirmation_started"
    CONFIRMED = "confirmed"
    CLOSED = "closed"
    FAILED = "failed"
    SUSPENDED = "suspended"  # the tender is suspended (objection, complaint, regulator's order)
    RESUMED = "resumed"


def opening_group(lot_id: int) -> str:
    """The channel-layer group of one lot's hall (one room per bid section, DOMAIN B11)."""
    return f"opening.{int(lot_id)}"


def hall_message(*, event: str, hall: dict) -> dict:
    return {
        "type": "event",
        "event": event,
        "version": hall["version"],
        "server_time": timezone.now().isoformat(),
        "hall": hall,
    }


def monitoring_readout_message(*, lot_id: int) -> dict:
    """What monitoring (a later issue) consumes when bids are read out: the lot and, per bid, the
    evidence already captured at download, upload and decryption (DOMAIN D2)."""
    from bidding.models import Bid
    from trading.models import ActivityEvidence

    bids = list(
        Bid.objects.filter(lot_id=lot_id, status=Bid.Status.ACTIVE)
        .select_related("lot")
        .order_by("submitted_at", "pk")
    )
    tender_id = bids[0].lot.tender_id if bids else None
    evidence: dict[int, list[int]] = {}
    rows = ActivityEvidence.objects.filter(
        tender_id=tender_id,
        entity_id__in=[b.entity_id for b in bids],
        action__in=["download", "upload", "decrypt"],
    ).order_by("pk")
    for entity_id, pk in rows.values_list("entity_id", "pk"):
        evidence.setdefault(entity_id, []).append(pk)
    return {
        "type": MONITORING_MESSAGE_TYPE,
        "lot": lot_id,
        "tender": tender_id,
        "at": timezone.now().isoformat(),
        "bids": [
            {
                "bid": str(b.pk),
                "entity": b.entity_id,
                "decryption": b.decryption,
                "evidence": evidence.get(b.entity_id, []),
            }
            for b in bids
        ],
    }


_group_send = group_send  # tests replace it to watch what is sent


def send_now(*, lot_id: int, event: str) -> None:
    """Build the hall's snapshot and broadcast it. A failed send must not undo a committed change:
    clients hold the version and resynchronise on reconnect, so it is logged, not raised."""
    from bidding.opening.selectors import hall_lot, hall_public

    try:
        hall = hall_public(lot=hall_lot(lot_id))
        # Serialised once here, not once per socket: with thousands of clients in a hall the
        # per-client JSON work would dominate the broadcast (bench/bench_hall.py).
        text = json.dumps(hall_message(event=event, hall=hall), ensure_ascii=False)
        _group_send(
            opening_group(lot_id), {"type": HALL_MESSAGE_TYPE, "text": text, "due_at": hall["due_at"]}
        )
        if event == Event.READOUT:
            _group_send(MONITORING_READOUT_GROUP, monitoring_readout_message(lot_id=lot_id))
    except Exception:  # the change is committed; the event is a notification of it
        logger.exception("opening hall event %s for lot %s was not sent", event, lot_id)
    if event == Event.READOUT:
        for receiver, result in readout_done.send_robust(sender=Event, lot_id=lot_id):
            if isinstance(result, Exception):
                logger.error("readout receiver %r failed for lot %s: %r", receiver, lot_id, result)


def hall_changed(*, lot_id: int, event: str) -> None:
    """Schedule the event for when the surrounding transaction commits."""
    transaction.on_commit(lambda: send_now(lot_id=lot_id, event=event))
