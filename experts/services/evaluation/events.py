"""Realtime events of the evaluation room: the group of a lot's room and sending a change once the
transaction has committed (a client must never see a state the database then rolls back).

The event carries only its kind and the room's new version: what each viewer may see differs (a
member sees the others as seat numbers, a regulator sees names, centre staff see progress only), so
every socket re-reads its own view of the room when told that the room changed.
"""

from __future__ import annotations

import logging

from django.db import transaction

from core.realtime import group_send

logger = logging.getLogger(__name__)

# The consumer method a group message is delivered to ("room.event" → room_event).
ROOM_MESSAGE_TYPE = "room.event"


class Event:
    """The kinds of change a room announces (the `event` field a client may show as a notice)."""

    OPENED = "opened"
    DECLARED = "declared"
    RECUSED = "recused"
    SEAT_ADDED = "seat_added"
    VOTE = "vote"
    CHAIR_ELECTED = "chair_elected"
    PHASE = "phase"
    REVIEW = "review"
    SCORE = "score"
    OUTLIER = "outlier"
    CLARIFICATION = "clarification"
    JUSTIFICATION = "justification"
    REPORT = "report"
    SIGNED = "signed"
    CLOSED = "closed"
    TIME_FLAG = "time_flag"
    EXTENDED = "extended"
    CORRECTED = "corrected"
    REEVALUATION = "reevaluation"


def room_group(lot_id: int) -> str:
    """The channel-layer group of one lot's room (EvaluationRoom.group)."""
    return f"evaluation.{int(lot_id)}"


_group_send = group_send  # tests replace it to watch what is sent


def send_now(*, lot_id: int, event: str, version: int) -> None:
    """A failed send must not undo a committed change: clients resynchronise on reconnect."""
    try:
        _group_send(room_group(lot_id), {"type": ROOM_MESSAGE_TYPE, "event": event, "version": version})
    except Exception:
        logger.exception("evaluation room event %s for lot %s was not sent", event, lot_id)


def room_changed(*, lot_id: int, event: str, version: int) -> None:
    """Schedule the event for when the surrounding transaction commits."""
    transaction.on_commit(lambda: send_now(lot_id=lot_id, event=event, version=version))
