"""Replies to a call: confirm, decline, no reply in time, recusal; each leaving seat calls the next reserve."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from archive.journal import journal_append
from core.errors import AccessDenied, Conflict, NotFound, RuleViolation, ValidationFailed
from experts.models import Assignment, Draw
from experts.services.draw.common import (
    ASSIGNMENT_LIVE,
    _call,
    _notify,
)
from trading.models import Role, User

# --- replies, reserves, recusal ------------------------------------------------------------------


def _locked(assignment: Assignment) -> Assignment:
    return (
        Assignment.objects.select_for_update()
        .select_related("draw__lot__tender", "expert")
        .get(pk=assignment.pk)
    )


def _call_next(assignment: Assignment, *, at: dt.datetime, actor) -> Assignment | None:
    """Call the first waiting reserve of the same group that keeps the employer limit; journal it."""
    draw = assignment.draw
    group = draw.groups[assignment.group]
    tags = dict(zip(group["order"], group["employers"], strict=True))
    limit = int(draw.request["same_employer_limit"])
    seated: dict[str, int] = {}
    live = Assignment.objects.filter(draw=draw, status__in=ASSIGNMENT_LIVE).select_related("expert")
    for a in live:
        grp = draw.groups[a.group]
        tag = dict(zip(grp["order"], grp["employers"], strict=True))[a.expert.public_id]
        seated[tag] = seated.get(tag, 0) + 1
    waiting = (
        Assignment.objects.select_for_update()
        .filter(draw=draw, group=assignment.group, status=Assignment.Status.RESERVE)
        .select_related("expert")
        .order_by("position")
    )
    stream = draw.lot.tender.stream
    for reserve in waiting:
        if limit and seated.get(tags[reserve.expert.public_id], 0) >= limit:
            continue
        reserve.draw = draw
        _call(reserve, at=at, replaces=assignment)
        journal_append(
            stream=stream,
            action="experts.reserve_called",
            actor=actor,
            obj=reserve,
            payload={
                "draw": draw.pk,
                "group": assignment.group,
                "position": reserve.position,
                "expert": reserve.expert.public_id,
                "replaces": assignment.expert.public_id,
            },
        )
        return reserve
    journal_append(
        stream=stream,
        action="experts.reserves_exhausted",
        actor=actor,
        obj=draw,
        payload={"draw": draw.pk, "group": assignment.group, "replaces": assignment.expert.public_id},
    )
    centre = list(User.objects.filter(role=Role.CENTRE, is_active=True).values_list("pk", flat=True)[:20])
    subject = _("A draw has run out of reserves; a supplementary draw is needed.")
    transaction.on_commit(
        lambda: _notify([(u, "experts.reserves_exhausted", subject, "/experts/draws/") for u in centre])
    )
    return None


def _leave(
    assignment: Assignment, *, actor, status: str, reason: str, action: str, allowed
) -> Assignment | None:
    with transaction.atomic():
        a = _locked(assignment)
        if a.status not in allowed:
            raise Conflict(_("This seat is not waiting for that reply."), code="assignment_state")
        now = timezone.now()
        a.status, a.responded_at, a.reason = status, now, reason[:300]
        a.save(update_fields=["status", "responded_at", "reason"])
        journal_append(
            stream=a.draw.lot.tender.stream,
            action=action,
            actor=actor,
            obj=a,
            payload={
                "draw": a.draw_id,
                "group": a.group,
                "position": a.position,
                "expert": a.expert.public_id,
                "reason": reason[:300],
            },
        )
        return _call_next(a, at=now, actor=actor)


def _own(assignment: Assignment, actor: User) -> None:
    if assignment.expert.user_id != actor.pk:
        raise NotFound(_("No such assignment."), code="assignment_not_found")


def assignment_confirm(*, assignment: Assignment, actor: User) -> Assignment:
    _own(assignment, actor)
    with transaction.atomic():
        a = _locked(assignment)
        if a.status != Assignment.Status.NOTIFIED:
            raise Conflict(_("This seat is not waiting for that reply."), code="assignment_state")
        now = timezone.now()
        if a.reply_due_at and now > a.reply_due_at:
            raise RuleViolation(_("The time to reply has passed."), code="assignment_reply_late")
        a.status, a.responded_at = Assignment.Status.CONFIRMED, now
        a.save(update_fields=["status", "responded_at"])
        journal_append(
            stream=a.draw.lot.tender.stream,
            action="experts.assignment_confirmed",
            actor=actor,
            obj=a,
            payload={
                "draw": a.draw_id,
                "group": a.group,
                "position": a.position,
                "expert": a.expert.public_id,
            },
        )
        from experts.models import EvaluationRoom

        if a.replaces_id and EvaluationRoom.objects.filter(lot_id=a.draw.lot_id).exists():
            from experts.services.evaluation import room_seat_add

            room_seat_add(assignment=a)
    return a


def assignment_decline(*, assignment: Assignment, actor: User, reason: str) -> Assignment | None:
    _own(assignment, actor)
    if not (reason or "").strip():
        raise ValidationFailed(_("Please give a reason."), code="reason_required")
    return _leave(
        assignment,
        actor=actor,
        status=Assignment.Status.DECLINED,
        reason=reason.strip(),
        action="experts.assignment_declined",
        allowed=(Assignment.Status.NOTIFIED,),
    )


def assignment_recuse(*, assignment: Assignment, actor: User, reason: str) -> Assignment | None:
    """A recusal (回避, C5) by the expert — from the room's declaration or before it."""
    _own(assignment, actor)
    if not (reason or "").strip():
        raise ValidationFailed(_("Please give a reason."), code="reason_required")
    return _leave(
        assignment,
        actor=actor,
        status=Assignment.Status.RECUSED,
        reason=reason.strip(),
        action="experts.assignment_recused",
        allowed=ASSIGNMENT_LIVE,
    )


def draw_tick(*, now: dt.datetime | None = None) -> int:
    """Seats not answered in time become no-reply and call the next reserve. Idempotent."""
    now = now or timezone.now()
    done = 0
    for pk in Assignment.objects.filter(status=Assignment.Status.NOTIFIED, reply_due_at__lt=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            a = _locked(Assignment(pk=pk))
            if a.status != Assignment.Status.NOTIFIED or not a.reply_due_at or a.reply_due_at >= now:
                continue
            a.status, a.responded_at, a.reason = Assignment.Status.NO_REPLY, now, ""
            a.save(update_fields=["status", "responded_at", "reason"])
            journal_append(
                stream=a.draw.lot.tender.stream,
                action="experts.assignment_no_reply",
                obj=a,
                payload={
                    "draw": a.draw_id,
                    "group": a.group,
                    "position": a.position,
                    "expert": a.expert.public_id,
                },
            )
            _call_next(a, at=now, actor=None)
            done += 1
    return done


def committee_assignments(draw: Draw) -> list[Assignment]:
    return list(
        Assignment.objects.filter(draw=draw, status__in=ASSIGNMENT_LIVE)
        .select_related("expert__person", "expert__user")
        .order_by("group", "position")
    )


def draw_cancel(*, draw: Draw, actor: User, reason: str) -> Draw:
    if actor.role not in (Role.CENTRE, Role.ADMIN):
        raise AccessDenied(_("Only trading-centre staff cancel draws."), code="role_forbidden")
    if not (reason or "").strip():
        raise ValidationFailed(_("Please give a reason."), code="reason_required")
    with transaction.atomic():
        draw = Draw.objects.select_for_update().select_related("lot__tender").get(pk=draw.pk)
        if draw.state not in (Draw.State.COMMITTED, Draw.State.DRAWN):
            raise Conflict(_("This draw can no longer be cancelled."), code="draw_state")
        from experts.models import EvaluationRoom

        if EvaluationRoom.objects.filter(draw=draw).exists():
            raise Conflict(_("The evaluation has started with this committee."), code="draw_in_use")
        Assignment.objects.filter(draw=draw, status__in=ASSIGNMENT_LIVE).update(
            status=Assignment.Status.REPLACED, reason="draw cancelled"
        )
        draw.state, draw.cancelled_reason = Draw.State.CANCELLED, reason.strip()
        draw.save(update_fields=["state", "cancelled_reason"])
        journal_append(
            stream=draw.lot.tender.stream,
            action="experts.draw_cancelled",
            actor=actor,
            obj=draw,
            payload={"draw": draw.pk, "reason": draw.cancelled_reason},
        )
    return draw
