"""Opening the room, the members' declarations and recusals, seats added for reserves, and the
election of the chair (DOMAIN C1, C5–C7).

Phases move on by themselves where no one has to decide: declarations → chair once every active
member has signed and no called reserve is still to answer; chair → qualification once a chair is
elected. From qualification on, the chair closes each stage (`stage_complete`).

Chair election: every active member who has signed the declaration votes (tenderee representatives
included) and may change the vote until the election; a member with votes from strictly more than
half of the active members is elected. If everyone has voted and nobody has a majority, the member
with the most votes is elected, and among those tied the lower seat number. In government
procurement a tenderee's representative cannot be elected (87号令45). If the chair recuses or is
replaced later, every vote is cleared and the committee elects again without leaving its phase;
until then no stage can be closed.
"""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from bidding.models import OpeningSession
from core.errors import AccessDenied, Conflict, NotFound, RuleViolation, ValidationFailed
from experts.models import Assignment, Draw, EvaluationRoom, Member
from experts.services.evaluation.common import (
    REASON_MAX,
    WORKING_PHASES,
    Phase,
    clean_text,
    journal,
    member_lock,
    require_declared,
    room_bump,
    room_lock,
)
from experts.services.evaluation.declaration import declaration_record
from experts.services.evaluation.events import Event
from experts.services.evaluation.timing import scheduled_end
from trading.access import require_role
from trading.models import Lot, Notification, Regime, Role, Tender, TenderState, User
from trading.services.tenders.states import tender_set_state

DECLARING_PHASES = frozenset({Phase.DECLARATIONS, Phase.CHAIR, *WORKING_PHASES})
SRC_CHAIR = "政府采购货物和服务招标投标管理办法（财政部令第87号）第四十五条"


def room_url(lot_id: int) -> str:
    return reverse("experts:evaluation-room", args=[lot_id])


def _notify_members(members: list[Member], *, kind: str, subject: str, lot_id: int, now) -> None:
    Notification.objects.bulk_create(
        [
            Notification(
                user_id=m.user_id, kind=kind, subject=subject[:200], link=room_url(lot_id), created_at=now
            )
            for m in members
        ]
    )


def _tenderee_reps(tender: Tender, users, expert_users: set[int]) -> list[User]:
    reps, seen = [], set()
    for user in users:
        ok = (
            isinstance(user, User)
            and user.role == Role.AGENCY
            and user.entity_id == tender.tenderee_id
            and user.pk not in expert_users
        )
        if not ok:
            raise ValidationFailed(
                _("A tenderee's representative is a staff member of the tenderee."),
                code="tenderee_rep_invalid",
                user=getattr(user, "pk", None),
            )
        if user.pk not in seen:
            seen.add(user.pk)
            reps.append(user)
    return reps


def room_open(*, lot: Lot, actor: User, tenderee_reps=()) -> EvaluationRoom:
    """Centre staff open the room of a lot whose opening is closed and whose drawn committee has
    confirmed. Seats are numbered in the draw's order (group, position), then the representatives.
    The room ends when the draw request says (`evaluation_ends_at` → `ends_at`; see timing.py for
    extensions)."""
    require_role(actor, Role.CENTRE, Role.ADMIN)
    from experts.services.draw import committee_assignments

    now = timezone.now()
    with transaction.atomic():
        tender = Tender.objects.select_for_update().get(pk=lot.tender_id)
        lot = Lot.objects.select_related("tender").get(pk=lot.pk)
        if EvaluationRoom.objects.filter(lot=lot).exists():
            raise Conflict(_("The evaluation room of this lot is already open."), code="room_exists")
        if lot.status != Lot.Status.ACTIVE:
            raise Conflict(_("This lot is not active."), code="lot_not_active", lot_status=lot.status)
        session = OpeningSession.objects.filter(lot=lot).first()
        if session is None or session.phase != OpeningSession.Phase.CLOSED:
            raise Conflict(_("The opening of this lot is not closed yet."), code="opening_not_closed")
        if tender.state not in (TenderState.OPENING, TenderState.EVALUATION):
            raise Conflict(
                _("The tender is not at the evaluation."), code="tender_not_evaluating", state=tender.state
            )
        draw = Draw.objects.filter(lot=lot, state=Draw.State.DRAWN).first()
        if draw is None:
            raise Conflict(_("The committee of this lot has not been drawn."), code="draw_not_ready")
        seats = committee_assignments(draw)
        pending = [a for a in seats if a.status != Assignment.Status.CONFIRMED]
        if not seats or pending:
            raise Conflict(
                _("Every drawn expert must have confirmed before the room opens."),
                code="committee_not_confirmed",
                pending=len(pending),
            )
        reps = _tenderee_reps(tender, tenderee_reps, {a.expert.user_id for a in seats})
        if tender.state == TenderState.OPENING:
            # The tender moves on by itself once every hall is closed (bidding.opening); while another
            # lot's hall still runs, the tender must stay at the opening.
            running = (
                Lot.objects.filter(tender=tender, status=Lot.Status.ACTIVE)
                .exclude(pk=lot.pk)
                .exclude(opening__phase=OpeningSession.Phase.CLOSED)
            )
            if running.exists():
                raise Conflict(
                    _("Another lot's opening is still running; the tender is not at the evaluation yet."),
                    code="openings_running",
                )
            tender_set_state(
                tender=tender, actor=actor, target=TenderState.EVALUATION, reason="evaluation room"
            )
        room = EvaluationRoom.objects.create(
            lot=lot,
            draw=draw,
            phase=Phase.DECLARATIONS,
            phase_changed_at=now,
            opens_at=now,
            ends_at=scheduled_end(draw.request),
        )
        room.lot = lot
        members = [
            Member(room=room, user=a.expert.user, kind=Member.Kind.EXPERT, assignment=a, seat=i)
            for i, a in enumerate(seats, start=1)
        ]
        members += [
            Member(room=room, user=u, kind=Member.Kind.TENDEREE_REP, seat=len(seats) + i)
            for i, u in enumerate(reps, start=1)
        ]
        Member.objects.bulk_create(members)
        journal(
            room,
            action="room_opened",
            actor=actor,
            payload={
                "draw": draw.pk,
                "ends_at": room.ends_at,
                "seats": [
                    {
                        "seat": m.seat,
                        "kind": m.kind,
                        "who": m.assignment.expert.public_id if m.assignment else f"U{m.user_id}",
                    }
                    for m in members
                ],
            },
        )
        subject = gettext("The evaluation room of %(lot)s is open.") % {
            "lot": f"{tender.code} / {lot.number}"
        }
        _notify_members(members, kind="evaluation.room_opened", subject=subject, lot_id=lot.pk, now=now)
        room_bump(room, event=Event.OPENED)
    return room


# --- declarations and recusals -------------------------------------------------------------------------


def _pending_reserves(room: EvaluationRoom) -> bool:
    return Assignment.objects.filter(draw_id=room.draw_id, status=Assignment.Status.NOTIFIED).exists()


def _advance(room: EvaluationRoom, *, actor) -> None:
    """declarations → chair once every active member has declared and no reserve is pending."""
    if room.phase != Phase.DECLARATIONS:
        return
    active = [m for m in room.members.all() if m.active]
    if not active or any(m.declared_at is None for m in active) or _pending_reserves(room):
        return
    room_bump(room, event=Event.PHASE, phase=Phase.CHAIR)
    journal(room, action="phase_changed", actor=actor, payload={"phase": Phase.CHAIR})


def _lose_chair(room: EvaluationRoom, member: Member) -> None:
    """A member leaves: votes for them lapse; if they were the chair the committee votes again."""
    if room.chair_id == member.pk:
        room.chair = None
        room.save(update_fields=["chair"])
        Member.objects.filter(room=room).update(chair_vote=None)
    else:
        Member.objects.filter(room=room, chair_vote=member).update(chair_vote=None)


def _check_declare(room: EvaluationRoom, member: Member, *, recuse: bool) -> None:
    if room.phase not in DECLARING_PHASES:
        raise Conflict(
            _("The evaluation is past the point of declarations."), code="phase_invalid", phase=room.phase
        )
    if not recuse and member.declared_at is not None:
        raise Conflict(_("You have already signed the declaration."), code="already_declared")


def member_declare(*, member: Member, actor: User, recuse: bool = False, reason: str = "") -> Member:
    """Sign the declaration, or recuse with a reason (C5). A recusal locks the member out, lets the
    draw call the next reserve (experts.services.draw.assignment_recuse) and is allowed until the
    report is drawn up — a conflict may only show once the bids are read."""
    reason = clean_text(reason, code="reason_required", limit=REASON_MAX, required=recuse)
    now = timezone.now()
    with transaction.atomic():
        reserve = None
        if recuse and member.assignment_id:
            # Checked before the draw is touched (lock order: assignment → room), then again below.
            unlocked = EvaluationRoom.objects.get(pk=member.room_id)
            current = Member.objects.get(pk=member.pk)
            if current.user_id != getattr(actor, "pk", None):
                raise AccessDenied(_("Only the member of this seat may act for it."), code="not_member")
            if current.voided:
                raise AccessDenied(_("You have been replaced in this committee."), code="member_replaced")
            if current.recused_at is not None:
                raise AccessDenied(
                    _("You have recused yourself from this evaluation."), code="member_recused"
                )
            _check_declare(unlocked, current, recuse=True)
            from experts.services.draw import assignment_recuse

            reserve = assignment_recuse(assignment=current.assignment, actor=actor, reason=reason)
        room = room_lock(member.room_id)
        member = member_lock(room, member, actor)
        _check_declare(room, member, recuse=recuse)
        if recuse:
            member.recused_at, member.recusal_reason = now, reason
            member.save(update_fields=["recused_at", "recusal_reason"])
            _lose_chair(room, member)
            room_bump(room, event=Event.RECUSED)
            journal(
                room,
                action="member_recused",
                actor=actor,
                obj=member,
                payload={
                    "seat": member.seat,
                    "reason": reason,
                    "phase": room.phase,
                    "reserve": reserve.expert.public_id if reserve else None,
                },
            )
        else:
            member.declaration = declaration_record(room.lot.tender.regime, now)
            member.declared_at = now
            member.joined_at = member.joined_at or now
            member.save(update_fields=["declaration", "declared_at", "joined_at"])
            room_bump(room, event=Event.DECLARED)
            journal(
                room,
                action="member_declared",
                actor=actor,
                obj=member,
                payload={"seat": member.seat, "sha256": member.declaration["sha256"]},
            )
        _advance(room, actor=actor)
    return member


def room_seat_add(*, assignment: Assignment) -> Member:
    """A reserve confirmed for a lot whose room is open (called by the draw service): a new seat.
    The member it replaces has their opinions voided (条例48); the new member signs the declaration
    and gives every verdict and score of the stages reached so far — the stages cannot close
    without them."""
    now = timezone.now()
    with transaction.atomic():
        a = Assignment.objects.select_related("draw", "expert__user").get(pk=assignment.pk)
        if a.status != Assignment.Status.CONFIRMED:
            raise Conflict(_("Only a confirmed expert takes a seat."), code="assignment_not_confirmed")
        found = EvaluationRoom.objects.filter(lot_id=a.draw.lot_id).first()
        if found is None:
            raise NotFound(_("No such evaluation room."), code="room_not_found")
        room = room_lock(found.pk, live=False)
        if room.draw_id != a.draw_id:
            raise Conflict(_("This expert was drawn for another committee."), code="draw_mismatch")
        if room.phase not in DECLARING_PHASES:
            raise Conflict(_("The report is being signed; no seat can be added."), code="phase_invalid")
        if Member.objects.filter(room=room, user=a.expert.user).exists():
            raise Conflict(_("This expert already has a seat."), code="already_member")
        seat = (room.members.order_by("-seat").values_list("seat", flat=True).first() or 0) + 1
        member = Member.objects.create(
            room=room, user=a.expert.user, kind=Member.Kind.EXPERT, assignment=a, seat=seat
        )
        replaced = (
            Member.objects.filter(room=room, assignment_id=a.replaces_id).first() if a.replaces_id else None
        )
        if replaced is not None and not replaced.voided:
            replaced.voided = True
            replaced.save(update_fields=["voided"])
            _lose_chair(room, replaced)
        room_bump(room, event=Event.SEAT_ADDED)
        journal(
            room,
            action="seat_added",
            actor=None,
            obj=member,
            payload={
                "seat": seat,
                "expert": a.expert.public_id,
                "replaces_seat": replaced.seat if replaced else None,
                "phase": room.phase,
            },
        )
        subject = gettext("You have joined the evaluation committee of %(lot)s.") % {
            "lot": f"{room.lot.tender.code} / {room.lot.number}"
        }
        _notify_members([member], kind="evaluation.seat_added", subject=subject, lot_id=room.lot_id, now=now)
    return member


# --- the chair -----------------------------------------------------------------------------------------


def _tally(room: EvaluationRoom) -> tuple[Member | None, dict[int, int]]:
    members = list(room.members.order_by("seat"))
    active = [m for m in members if m.active]
    by_pk = {m.pk: m for m in active}
    counts: dict[int, int] = {}
    for m in active:
        if m.chair_vote_id in by_pk:
            counts[m.chair_vote_id] = counts.get(m.chair_vote_id, 0) + 1
    votes = {by_pk[pk].seat: n for pk, n in counts.items()}
    if not counts:
        return None, votes
    best = max(counts.values())
    if 2 * best > len(active) or sum(counts.values()) == len(active):
        leader = min((by_pk[pk] for pk, n in counts.items() if n == best), key=lambda m: m.seat)
        return leader, votes
    return None, votes


def chair_vote(*, member: Member, actor: User, candidate: Member) -> EvaluationRoom:
    with transaction.atomic():
        room = room_lock(member.room_id)
        member = member_lock(room, member, actor)
        require_declared(member)
        electing = room.phase == Phase.CHAIR or (room.chair_id is None and room.phase in WORKING_PHASES)
        if not electing:
            raise Conflict(_("The chair is not being elected now."), code="phase_invalid", phase=room.phase)
        chosen = Member.objects.filter(pk=getattr(candidate, "pk", None), room=room).first()
        if chosen is None or not chosen.active or chosen.declared_at is None:
            raise ValidationFailed(
                _("Vote for an active member of this committee."), code="candidate_invalid"
            )
        if room.lot.tender.regime == Regime.GP and chosen.kind == Member.Kind.TENDEREE_REP:
            raise RuleViolation(
                _("The purchaser's representative may not chair the committee."),
                code="chair_tenderee_rep",
                source=SRC_CHAIR,
            )
        member.chair_vote = chosen
        member.save(update_fields=["chair_vote"])
        journal(
            room,
            action="chair_vote",
            actor=actor,
            obj=member,
            payload={"seat": member.seat, "for": chosen.seat},
        )
        elected, votes = _tally(room)
        if elected is None:
            room_bump(room, event=Event.VOTE)
            return room
        fields = {"chair": elected}
        if room.phase == Phase.CHAIR:
            fields["phase"] = Phase.QUALIFICATION
        room_bump(room, event=Event.CHAIR_ELECTED, **fields)
        journal(
            room,
            action="chair_elected",
            actor=actor,
            obj=elected,
            payload={
                "seat": elected.seat,
                "votes": {str(k): v for k, v in votes.items()},
                "phase": room.phase,
            },
        )
    return room
