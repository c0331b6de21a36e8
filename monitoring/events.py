"""Live monitoring events: alerts reach regulators and centre staff (`monitoring.alerts`) and the
evaluation committee of the lot (the room's group), once the change has committed."""

from __future__ import annotations

import logging

from django.db import transaction

from core.realtime import group_send

logger = logging.getLogger(__name__)

ALERTS_GROUP = "monitoring.alerts"
ALERT_MESSAGE_TYPE = "monitoring.alert"  # delivered to the consumer's monitoring_alert method
ROOM_EVENT = "monitoring_alert"  # the evaluation room re-reads its state and its lot's alerts


def alert_payload(alert) -> dict:
    return {
        "id": alert.pk,
        "tender": alert.tender_id,
        "lot": alert.lot_id,
        "node": alert.node,
        "level": alert.level,
        "score": round(alert.score, 4),
        "status": alert.status,
        "message": alert.message,
        "revision": alert.revision,
        "url": f"/monitoring/alerts/{alert.pk}/",
    }


def send_now(payload: dict, *, event: str) -> None:
    """A failed send must not undo a committed alert: pages re-read the queue on reconnect."""
    try:
        group_send(ALERTS_GROUP, {"type": ALERT_MESSAGE_TYPE, "event": event, "alert": payload})
        if payload.get("lot"):
            from experts.services.evaluation.events import ROOM_MESSAGE_TYPE, room_group

            group_send(
                room_group(payload["lot"]), {"type": ROOM_MESSAGE_TYPE, "event": ROOM_EVENT, "version": 0}
            )
    except Exception:
        logger.exception("monitoring event %s for alert %s was not sent", event, payload.get("id"))


def alert_changed(alert, *, event: str) -> None:
    payload = alert_payload(alert)
    transaction.on_commit(lambda: send_now(payload, event=event))
