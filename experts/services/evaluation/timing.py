"""The room's time: the scheduled end, an extension when the committee finds the time insufficient
(条例48), and the deadline for signing the report after which silence is agreement (条例53, 87号令61).

Settings [G] (the law says that the time is extended and that a member who neither signs nor writes
a dissent agrees, not by how much or by when). Both are hours, overridable like the rules in
experts/rules.py, through `settings.EXPERT_RULES`:

    EXPERT_RULES = {"extension_hours": 2,   # one extension adds this to max(now, the current end)
                    "signing_hours": 2}     # members sign the built report within this time

Extension (条例48: "超过三分之一的评标委员会成员认为评标时间不够的，招标人应当适当延长"): each active
member who has signed the declaration may say the time is insufficient, and take it back. When
strictly more than a third of the ACTIVE members say so, the room's end moves to
max(now, current end) + extension_hours — the current end is the last extension, else the scheduled
end from the draw request (`evaluation_ends_at`), else now. Every flag is then cleared: a further
extension needs a new majority. Flags are counted when a member sets or clears one; a recused or
replaced member's flag does not count.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from core.errors import ValidationFailed
from experts import rules
from experts.models import EvaluationRoom, Member
from experts.services.evaluation.common import (
    Phase,
    journal,
    member_lock,
    require_declared,
    require_phase,
    room_bump,
    room_lock,
)
from experts.services.evaluation.events import Event
from trading.models import User

SRC_EXTENSION = "招标投标法实施条例第四十八条"
# [G] defaults; a deployment overrides them in settings.EXPERT_RULES.
# A member may say the time is insufficient while the committee works (not once the report is built).
FLAG_PHASES = (Phase.CHAIR, Phase.QUALIFICATION, Phase.PRELIMINARY, Phase.DETAILED, Phase.SUMMARY)


def room_setting(name: str):
    """`extension_hours` or `signing_hours` ([G] defaults in experts.rules, EXPERT_RULES overrides)."""
    return rules.setting(name)


def hours(name: str) -> dt.timedelta:
    """A positive number of hours from the settings, as a timedelta."""
    try:
        value = Decimal(str(room_setting(name)))
    except (InvalidOperation, ValueError):
        value = Decimal(0)
    if not value.is_finite() or value <= 0:
        raise ImproperlyConfigured(f"EXPERT_RULES[{name!r}] must be a positive number of hours")
    return dt.timedelta(seconds=int(value * 3600))


def scheduled_end(request: dict | None) -> dt.datetime | None:
    """The end of the evaluation in the draw request (`evaluation_ends_at`, ISO 8601), if any."""
    raw = (request or {}).get("evaluation_ends_at")
    value = parse_datetime(raw) if isinstance(raw, str) else None
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def room_end(room: EvaluationRoom) -> dt.datetime | None:
    """When the evaluation ends now: the last extension, else the scheduled end."""
    return room.extended_until or room.ends_at


def time_votes(room: EvaluationRoom) -> tuple[list[int], int]:
    """(seats of the active members who find the time insufficient, number of active members)."""
    active = [m for m in room.members.order_by("seat") if m.active]
    return [m.seat for m in active if m.time_insufficient], len(active)


def extension_due(flagged: int, active: int) -> bool:
    """条例48: strictly more than a third of the members."""
    return active > 0 and 3 * flagged > active


def time_insufficient_set(*, member: Member, actor: User, value: bool) -> Member:
    """A member says the evaluation time is insufficient (value True) or takes it back (False).
    Setting what is already set changes nothing. The flag that makes more than a third extends the
    room's end (see the module's docstring) and clears every flag."""
    if not isinstance(value, bool):
        raise ValidationFailed(_("Say yes or no."), code="flag_invalid")
    now = timezone.now()
    with transaction.atomic():
        room = room_lock(member.room_id)
        member = member_lock(room, member, actor)
        require_declared(member)
        require_phase(room, *FLAG_PHASES)
        if member.time_insufficient == value:
            return member
        member.time_insufficient = value
        member.save(update_fields=["time_insufficient"])
        flagged, active = time_votes(room)
        extend = extension_due(len(flagged), active)
        if not extend:
            room_bump(room, event=Event.TIME_FLAG)
        journal(
            room,
            action="time_insufficient",
            actor=actor,
            obj=member,
            payload={"seat": member.seat, "value": value, "flagged": flagged, "active": active},
        )
        if extend:
            before = room_end(room)
            until = max(now, before or now) + hours("extension_hours")
            Member.objects.filter(room=room, time_insufficient=True).update(time_insufficient=False)
            member.time_insufficient = False
            room_bump(room, event=Event.EXTENDED, extended_until=until)
            journal(
                room,
                action="room_extended",
                actor=None,
                payload={
                    "ends_at": room.ends_at,
                    "previous_end": before,
                    "extended_until": until,
                    "flagged": flagged,
                    "active": active,
                    "source": SRC_EXTENSION,
                },
            )
    return member
