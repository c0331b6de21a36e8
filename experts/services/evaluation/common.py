"""Pieces every evaluation-room service shares: the room's lock, the version bump that schedules the
room's event, journaling, the member checks and the criteria of each stage.

Lock order: Assignment (the draw's rows, when a recusal or a reserve is involved) → EvaluationRoom →
Member → the room's other rows → journal. Every write locks the room first, so two members acting at
once are serialised on the room's row and its version counts every change.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive.journal import journal_append
from core.errors import AccessDenied, Conflict, NotFound, ValidationFailed
from experts.models import EvaluationRoom, Member
from experts.services.evaluation import events
from trading.models import EvaluationMethod, Lot, TenderState

Phase = EvaluationRoom.Phase
# The phases in order (C7): a stage's verdicts may be filled in later by a replacement member.
PHASES = [p.value for p in Phase]
REVIEW_STAGES = (Phase.QUALIFICATION.value, Phase.PRELIMINARY.value)
WORKING_PHASES = frozenset({Phase.QUALIFICATION, Phase.PRELIMINARY, Phase.DETAILED, Phase.SUMMARY})
TEXT_MAX = 2000
REASON_MAX = 1000

# Default review criteria when the tender does not list its own (lot.evaluation["qualification"] /
# ["preliminary"] = [{"code", "name"}]). 条例51 lists the reasons a bid is rejected; these are the
# usual headings of 资格审查 and 初步评审 in the model documents (标准施工招标文件 第三章).
DEFAULT_QUALIFICATION = (
    ("licence", _("Business licence and qualification certificates")),
    ("finance", _("Financial standing")),
    ("record", _("Track record (similar projects)")),
    ("credit", _("Credit record (not blacklisted)")),
    ("manager", _("Project manager's qualification")),
)
DEFAULT_PRELIMINARY = (
    ("signed", _("Bid letter signed and sealed")),
    ("price", _("One price only, not above the ceiling price")),
    ("duration", _("Duration meets the requirement")),
    ("quality", _("Quality meets the requirement")),
    ("validity", _("Bid validity period")),
    ("security", _("Bid security provided")),
)


def review_criteria(lot: Lot, stage: str) -> list[dict]:
    """[{"code", "name"}] of a review stage: the tender's own list, else the defaults."""
    listed = (lot.evaluation or {}).get(stage)
    if isinstance(listed, list) and listed:
        return [
            {"code": str(c["code"])[:40], "name": str(c.get("name") or c["code"])}
            for c in listed
            if isinstance(c, dict) and c.get("code")
        ]
    defaults = DEFAULT_QUALIFICATION if stage == Phase.QUALIFICATION else DEFAULT_PRELIMINARY
    return [{"code": code, "name": str(name)} for code, name in defaults]


def _criteria(lot: Lot) -> list[dict]:
    return [c for c in (lot.evaluation or {}).get("criteria", []) if isinstance(c, dict) and c.get("code")]


def scored_criteria(lot: Lot) -> list[dict]:
    """The criteria members score (technical and commercial); none for the lowest-price method,
    which reviews pass/fail only and ranks by evaluated price (C8)."""
    if lot.evaluation_method == EvaluationMethod.LOWEST_PRICE:
        return []
    return [c for c in _criteria(lot) if c.get("group") in ("technical", "commercial")]


def price_criterion(lot: Lot) -> dict | None:
    if lot.evaluation_method == EvaluationMethod.LOWEST_PRICE:
        return None
    return next((c for c in _criteria(lot) if c.get("group") == "price"), None)


def is_lowest_price(lot: Lot) -> bool:
    return lot.evaluation_method == EvaluationMethod.LOWEST_PRICE


def phase_index(phase: str) -> int:
    return PHASES.index(phase)


# --- locks, versions, journal ------------------------------------------------------------------------


def room_lock(room_id: int, *, live: bool = True) -> EvaluationRoom:
    """Lock the room (call inside a transaction) and read its lot and tender under the lock. A suspended
    tender (objection, complaint, regulator's order) stops every act in the room (`live`); only the
    system's own bookkeeping (the clock's tick, seating a confirmed expert) passes `live=False`."""
    try:
        room = EvaluationRoom.objects.select_for_update().get(pk=room_id)
    except EvaluationRoom.DoesNotExist:
        raise NotFound(_("No such evaluation room."), code="room_not_found") from None
    room.lot = Lot.objects.select_related("tender").get(pk=room.lot_id)
    if live and room.lot.tender.state == TenderState.SUSPENDED:
        raise Conflict(
            _("The tender is suspended; the evaluation waits until it resumes."), code="tender_suspended"
        )
    return room


def room_bump(room: EvaluationRoom, *, event: str, now=None, **fields: Any) -> EvaluationRoom:
    """Save the changed fields with the next version and announce the change once committed."""
    for name, value in fields.items():
        setattr(room, name, value)
    if "phase" in fields:
        room.phase_changed_at = now or timezone.now()
        fields["phase_changed_at"] = room.phase_changed_at
    room.version += 1
    room.save(update_fields=[*fields, "version"])
    events.room_changed(lot_id=room.lot_id, event=event, version=room.version)
    return room


def journal(room: EvaluationRoom, *, action: str, actor: Any, payload: dict | None = None, obj=None):
    """Every room change goes to the tender's chain, in the transaction that makes it."""
    return journal_append(
        stream=room.lot.tender.stream,
        action=f"experts.{action}",
        actor=actor if actor is not None else "system",
        obj=obj if obj is not None else room,
        payload={"lot": room.lot_id, "version": room.version, **(payload or {})},
    )


# --- who acts ----------------------------------------------------------------------------------------


def member_lock(room: EvaluationRoom, member: Member, actor) -> Member:
    """The acting member, re-read under the room's lock: in this room, the actor's own seat, active."""
    if not getattr(actor, "is_authenticated", False):
        raise AccessDenied(_("Please log in first."), code="not_authenticated", status=401)
    locked = Member.objects.select_for_update().filter(pk=member.pk, room=room).first()
    if locked is None or locked.user_id != actor.pk:
        raise AccessDenied(_("Only the member of this seat may act for it."), code="not_member")
    if locked.recused_at is not None:
        raise AccessDenied(_("You have recused yourself from this evaluation."), code="member_recused")
    if locked.voided:
        raise AccessDenied(_("You have been replaced in this committee."), code="member_replaced")
    return locked


def require_declared(member: Member) -> None:
    if member.declared_at is None:
        raise Conflict(_("Sign the integrity and recusal declaration first."), code="declaration_required")


def require_phase(room: EvaluationRoom, *phases: str) -> None:
    if room.phase not in phases:
        raise Conflict(
            _("The evaluation is not at that step."),
            code="phase_invalid",
            phase=room.phase,
            allowed=list(phases),
        )


def require_chair(room: EvaluationRoom, member: Member) -> None:
    if room.chair_id is None or room.chair_id != member.pk:
        raise AccessDenied(_("Only the chair of the committee may do this."), code="chair_only")


def active_members(room: EvaluationRoom) -> list[Member]:
    return [m for m in room.members.select_related("user").order_by("seat") if m.active]


def clean_text(value: Any, *, code: str, limit: int = TEXT_MAX, required: bool = True) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise ValidationFailed(_("This text is required."), code=code)
    if len(text) > limit:
        raise ValidationFailed(_("The text is too long."), code="text_too_long", limit=limit)
    return text


def seat_label(seat: int) -> str:
    """How a member appears to the others while the names are sealed (C4)."""
    return str(_("Expert no. %(seat)s") % {"seat": seat})
