"""What the committee asks of a bidder, in writing and through the platform only (C6: no contact
with bidders): clarifications (条例52) and justifications of an abnormally low price (87号令60,
条例51). The bidder answers on its own page; the bidder never learns which member asked.
"""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from bidding.models import Bid
from core.errors import AccessDenied, Conflict, NotFound, ValidationFailed
from experts import rules
from experts.models import Clarification, LowPriceJustification, Member
from experts.services.evaluation.common import (
    TEXT_MAX,
    Phase,
    clean_text,
    journal,
    member_lock,
    require_declared,
    require_phase,
    room_bump,
    room_lock,
)
from experts.services.evaluation.events import Event
from experts.services.evaluation.outcome import evaluated_bids
from trading.models import Notification, Role, User

ASKING_PHASES = (Phase.QUALIFICATION, Phase.PRELIMINARY, Phase.DETAILED)


def _bidder_of(bid: Bid, actor: User) -> None:
    if getattr(actor, "role", None) != Role.BIDDER or actor.entity_id != bid.entity_id:
        raise AccessDenied(_("Only the bidder's own staff may answer."), code="not_your_bid")


def clarification_ask(*, member: Member, actor: User, bid: Bid, question: str) -> Clarification:
    question = clean_text(question, code="question_required", limit=TEXT_MAX)
    now = timezone.now()
    with transaction.atomic():
        room = room_lock(member.room_id)
        member = member_lock(room, member, actor)
        require_declared(member)
        require_phase(room, *ASKING_PHASES)
        bid = next((b for b in evaluated_bids(room.lot) if b.pk == getattr(bid, "pk", None)), None)
        if bid is None:
            raise NotFound(_("No such bid."), code="bid_not_found")
        c = Clarification.objects.create(
            room=room,
            bid=bid,
            asked_by=member,
            question=question,
            asked_at=now,
            due_at=rules.clarification_due(asked_at=now),
        )
        Notification.objects.create(
            entity_id=bid.entity_id,
            kind="evaluation.clarification",
            subject=gettext("The evaluation committee asks for a written clarification by %(due)s.")
            % {"due": timezone.localtime(c.due_at).strftime("%Y-%m-%d %H:%M")},
            link=reverse("experts:evaluation-clarification", args=[c.pk]),
            created_at=now,
        )
        room_bump(room, event=Event.CLARIFICATION)
        journal(
            room,
            action="clarification_asked",
            actor=actor,
            obj=c,
            payload={"seat": member.seat, "bid": str(bid.pk), "question": question, "due_at": c.due_at},
        )
    return c


def clarification_answer(*, clarification: Clarification, actor: User, answer: str) -> Clarification:
    answer = clean_text(answer, code="answer_required", limit=TEXT_MAX * 5)
    now = timezone.now()
    with transaction.atomic():
        c = Clarification.objects.select_related("bid").get(pk=clarification.pk)
        _bidder_of(c.bid, actor)
        room = room_lock(c.room_id)
        c = Clarification.objects.select_for_update().select_related("bid").get(pk=c.pk)
        if c.answered_at is not None:
            raise Conflict(_("This clarification has been answered."), code="clarification_answered")
        if now > c.due_at:
            raise Conflict(_("The time to answer has passed."), code="clarification_overdue")
        if room.phase not in ASKING_PHASES:
            raise Conflict(
                _("The committee no longer takes answers."), code="phase_invalid", phase=room.phase
            )
        c.answer, c.answered_by, c.answered_at = answer, actor, now
        c.save(update_fields=["answer", "answered_by", "answered_at"])
        room_bump(room, event=Event.CLARIFICATION)
        journal(
            room,
            action="clarification_answered",
            actor=actor,
            obj=c,
            payload={"bid": str(c.bid_id), "answer": answer},
        )
    return c


def justification_submit(
    *, justification: LowPriceJustification, actor: User, text: str
) -> LowPriceJustification:
    text = clean_text(text, code="text_required", limit=TEXT_MAX * 5)
    now = timezone.now()
    with transaction.atomic():
        j = LowPriceJustification.objects.select_related("bid").get(pk=justification.pk)
        _bidder_of(j.bid, actor)
        room = room_lock(j.room_id)
        j = LowPriceJustification.objects.select_for_update().select_related("bid").get(pk=j.pk)
        if j.answered_at is not None:
            raise Conflict(_("This justification has been submitted."), code="justification_answered")
        if now > j.due_at:
            raise Conflict(_("The time to answer has passed."), code="justification_overdue")
        require_phase(room, Phase.DETAILED)
        j.text, j.answered_at = text, now
        j.save(update_fields=["text", "answered_at"])
        room_bump(room, event=Event.JUSTIFICATION)
        journal(
            room,
            action="justification_submitted",
            actor=actor,
            obj=j,
            payload={"bid": str(j.bid_id), "text": text},
        )
    return j


def justification_decide(
    *, justification: LowPriceJustification, actor: User, accepted: bool
) -> LowPriceJustification:
    """The chair records the committee's finding: accepted, or rejected — the bid then fails
    (条例51(五): a price below cost). Without an answer by the due time only a rejection is possible.
    Who decided and when are kept (`decided_by`, `decided_at`); while detailed scoring is open the
    chair may decide again, and the last decision is the one kept."""
    if not isinstance(accepted, bool):
        raise ValidationFailed(_("Accept or reject."), code="decision_invalid")
    now = timezone.now()
    with transaction.atomic():
        room = room_lock(justification.room_id)
        if room.chair is None or room.chair.user_id != getattr(actor, "pk", None):
            raise AccessDenied(_("Only the chair of the committee may do this."), code="chair_only")
        member_lock(room, room.chair, actor)
        require_phase(room, Phase.DETAILED)
        j = LowPriceJustification.objects.select_for_update().get(pk=justification.pk, room=room)
        if j.answered_at is None and now <= j.due_at:
            raise Conflict(_("The bidder may still answer."), code="justification_awaited")
        if j.answered_at is None and accepted:
            raise Conflict(_("An unanswered request cannot be accepted."), code="justification_unanswered")
        j.accepted, j.decided_by, j.decided_at = accepted, actor, now
        j.save(update_fields=["accepted", "decided_by", "decided_at"])
        room_bump(room, event=Event.JUSTIFICATION)
        journal(
            room,
            action="justification_decided",
            actor=actor,
            obj=j,
            payload={"bid": str(j.bid_id), "accepted": accepted, "decided_at": now},
        )
    return j
