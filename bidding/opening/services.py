"""The opening hall's state changes (不见面开标, DESIGN §5): the clock's tick and the host's steps.

Bidders' actions are in `participation` (sign-in, objections, confirmation) and `decryption`; they
are re-exported here so callers have one place to look. Every function locks the lot's hall, checks
the rules, bumps the hall's version, journals, and lets the event go out on commit.
"""

from __future__ import annotations

import contextlib

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bidding.models import OpeningSession
from bidding.opening import record as records
from bidding.opening import rules
from bidding.opening.common import (
    journal,
    refuse,
    require_host,
    require_tender_opening,
    session_bump,
    session_lock,
)
from bidding.opening.decryption import (  # noqa: F401  (re-exported)
    bid_decrypt,
    bid_decrypt_custodian,
    bid_decryption_fault,
    decryption_window_close,
)
from bidding.opening.events import Event, hall_changed
from bidding.opening.participation import (  # noqa: F401  (re-exported)
    bid_confirm_record,
    objection_answer,
    objection_raise,
    objection_withdraw,
    opening_signin,
)
from bidding.opening.selectors import active_bids
from core.errors import Conflict, ValidationFailed
from trading.models import Lot, Tender, TenderState, User
from trading.services.tenders import tender_close, tender_evaluation_begin, tender_open_at_deadline

# --- the clock ---------------------------------------------------------------------------------------


def session_ensure(*, lot: Lot, now) -> OpeningSession | None:
    """The lot's hall, created when sign-in opens; None before that or for a tender not being bid."""
    existing = OpeningSession.objects.filter(lot=lot).first()
    if existing is not None:
        return existing
    tender = lot.tender
    if tender.state not in {TenderState.PUBLISHED, TenderState.OPENING} or now < rules.signin_opens_at(
        tender.deadline
    ):
        return None
    with transaction.atomic():
        # get_or_create inserts in a savepoint: a process that loses the race reads the winner's row.
        session, created = OpeningSession.objects.get_or_create(
            lot=lot, defaults={"phase": rules.SIGNIN, "phase_changed_at": now}
        )
        if created:
            session.lot = lot
            journal(session, action="session_opened", actor=None, payload={"deadline": tender.deadline})
            hall_changed(lot_id=lot.pk, event=Event.SESSION_OPENED)
    return session


def _open_tender(*, lot: Lot, now) -> bool:
    """At the deadline: the tender goes to `opening` and every hall of it announces the moment."""
    with transaction.atomic():
        tender = Tender.objects.select_for_update().get(pk=lot.tender_id)
        if tender.state != TenderState.PUBLISHED or now < tender.deadline:
            return False
        tender_open_at_deadline(tender=tender)
        for session in OpeningSession.objects.select_for_update().filter(lot__tender=tender).order_by("pk"):
            session.lot = Lot.objects.select_related("tender").get(pk=session.lot_id)
            session_bump(session, event=Event.TENDER_OPENED)
            journal(session, action="deadline_passed", actor=None, payload={"deadline": tender.deadline})
    return True


def opening_tick(*, lot: Lot) -> OpeningSession | None:
    """Apply whatever the clock has made due for this lot's hall. Idempotent: every step re-checks
    under its lock, so processes that tick at once do the work once and the rest find nothing."""
    now = timezone.now()
    lot = Lot.objects.select_related("tender").get(pk=lot.pk)
    session = session_ensure(lot=lot, now=now)
    if session is None or lot.tender.state not in {TenderState.PUBLISHED, TenderState.OPENING}:
        return session  # a suspended tender's hall waits: its clock does not run the hall on
    if lot.tender.state == TenderState.PUBLISHED and now >= lot.tender.deadline:
        _open_tender(lot=lot, now=now)
    ends = session.decryption_ends_at
    if session.phase == rules.DECRYPTION and ends is not None and now >= ends:
        decryption_window_close(lot=lot)
    ends = session.confirmation_ends_at
    if session.phase == rules.CONFIRMATION and ends is not None and now >= ends:
        with contextlib.suppress(Conflict):  # closed by the host or another process meanwhile
            opening_close(lot=lot, actor=None)
    return OpeningSession.objects.get(pk=session.pk)


# --- the host's steps ------------------------------------------------------------------------------


def _decision(decision: str, reason: str) -> tuple[str, str]:
    decision = (decision or "").strip()
    if decision not in {"", rules.FAIL, rules.CONTINUE}:
        raise ValidationFailed(_("Decide: fail (流标) or continue."), code="shortfall_decision_invalid")
    reason = (reason or "").strip()
    if len(reason) > rules.REASON_MAX_CHARS:
        raise ValidationFailed(_("The reason is too long."), code="reason_too_long")
    return decision, reason


def _host_step(*, lot: Lot, actor: User, target: str, fail: bool = False) -> OpeningSession:
    """Start a host step: lock, check the host, the tender's state and the transition.
    Call inside a transaction. Failing locks the tender first (it may be closed as failed)."""
    session = session_lock(lot_id=lot.pk, with_lot=True, with_tender_id=lot.tender_id if fail else None)
    require_tender_opening(session)
    refuse(rules.check_transition(session.phase, rules.FAILED if fail else target))
    if session.host_id is None:
        session.host = actor
        session.save(update_fields=["host"])
    return session


def _shortfall(session, *, stage: str, count: int, decision: str, reason: str, actor) -> bool:
    """Ask B4's question; True when the host's answer fails the lot."""
    minimum = session.lot.min_bidders
    if rules.shortfall(count=count, minimum=minimum) is None and not decision:
        return False
    refuse(rules.check_shortfall_decision(count=count, minimum=minimum, decision=decision, reason=reason))
    if rules.shortfall(count=count, minimum=minimum) is None:
        return False
    journal(
        session,
        action="shortfall_decided",
        actor=actor,
        payload={"stage": stage, "count": count, "minimum": minimum, "decision": decision, "reason": reason},
    )
    return decision == rules.FAIL


def _fail(session: OpeningSession, *, actor, reason: str, stage: str) -> OpeningSession:
    """流标: the lot fails with the host's reason; the tender fails with its last lot."""
    reason = reason or str(_("Fewer valid bids than the minimum (流标)."))
    lot = session.lot
    session_bump(session, event=Event.FAILED, phase=rules.FAILED, failure_reason=reason)
    Lot.objects.filter(pk=lot.pk).update(status=Lot.Status.FAILED)
    journal(session, action="failed", actor=actor, payload={"stage": stage, "reason": reason})
    records.record_prepare(session=session)
    records.record_finalize(session=session, closed_at=session.phase_changed_at)
    if not Lot.objects.filter(tender_id=lot.tender_id).exclude(status=Lot.Status.FAILED).exists():
        tender_close(tender=lot.tender, actor=actor, target=TenderState.FAILED, reason=reason)
    else:
        _evaluation_when_all_closed(lot)
    return session


def opening_publish_bidders(*, lot: Lot, actor: User, decision: str = "", reason: str = "") -> OpeningSession:
    """Close sign-in and publish the bidder list (公布投标人名单); too few bids → the host decides."""
    require_host(actor)
    decision, reason = _decision(decision, reason)
    opening_tick(lot=lot)
    with transaction.atomic():
        session = _host_step(lot=lot, actor=actor, target=rules.BIDDERS, fail=decision == rules.FAIL)
        refuse(rules.check_deadline_passed(now=timezone.now(), deadline=session.lot.tender.deadline))
        bids = list(active_bids(session.lot))
        if _shortfall(
            session, stage="signin", count=len(bids), decision=decision, reason=reason, actor=actor
        ):
            return _fail(session, actor=actor, reason=reason, stage="signin")
        session_bump(session, event=Event.BIDDERS_PUBLISHED, phase=rules.BIDDERS)
        signed = set(session.attendance.values_list("entity_id", flat=True))
        journal(
            session,
            action="bidders_published",
            actor=actor,
            payload={
                "bidders": [
                    {
                        "bid": b.pk,
                        "entity": b.entity_id,
                        "submitted_at": b.submitted_at,
                        "signed_in": b.entity_id in signed,
                    }
                    for b in bids
                ]
            },
        )
    return session


def opening_start_decryption(*, lot: Lot, actor: User) -> OpeningSession:
    """Open the decryption window (tender.decryption_minutes, default 30; DOMAIN B7)."""
    require_host(actor)
    now = timezone.now()
    with transaction.atomic():
        session = _host_step(lot=lot, actor=actor, target=rules.DECRYPTION)
        ends = rules.decryption_ends_at(now, session.lot.tender.decryption_minutes)
        session_bump(
            session, event=Event.DECRYPTION_STARTED, now=now, phase=rules.DECRYPTION, decryption_ends_at=ends
        )
        journal(session, action="decryption_started", actor=actor, payload={"ends_at": ends})
    return session


def opening_start_readout(*, lot: Lot, actor: User, decision: str = "", reason: str = "") -> OpeningSession:
    """唱标: every decrypted bid form goes to everyone at once, in the order the bids arrived."""
    require_host(actor)
    decision, reason = _decision(decision, reason)
    opening_tick(lot=lot)  # settles the bids left when the window closed, if nobody has yet
    now = timezone.now()
    with transaction.atomic():
        session = _host_step(lot=lot, actor=actor, target=rules.READOUT, fail=decision == rules.FAIL)
        bids = list(active_bids(session.lot))
        pending = sum(1 for b in bids if b.decryption == rules.PENDING)
        refuse(
            rules.check_start_readout(
                now=now, ends_at=session.decryption_ends_at, pending=pending, unresolved=0
            )
        )
        valid = [b for b in bids if b.decryption in rules.VALID_DECRYPTIONS]
        if _shortfall(
            session, stage="decryption", count=len(valid), decision=decision, reason=reason, actor=actor
        ):
            return _fail(session, actor=actor, reason=reason, stage="decryption")
        session_bump(session, event=Event.READOUT, now=now, phase=rules.READOUT)
        journal(
            session,
            action="readout",
            actor=actor,
            payload={
                "bids": [{"bid": b.pk, "entity": b.entity_id, "decryption": b.decryption} for b in bids]
            },
        )
    return session


def opening_start_confirmation(*, lot: Lot, actor: User) -> OpeningSession:
    """Put the opening record (开标记录) to the bidders who decrypted, for their signature."""
    require_host(actor)
    now = timezone.now()
    with transaction.atomic():
        session = _host_step(lot=lot, actor=actor, target=rules.CONFIRMATION)
        open_objections = session.objections.filter(answered_at=None, withdrawn_at=None).count()
        refuse(rules.check_start_confirmation(open_objections=open_objections))
        ends = rules.confirmation_ends_at(now, lot.tender.confirmation_minutes)
        session_bump(
            session,
            event=Event.CONFIRMATION_STARTED,
            now=now,
            phase=rules.CONFIRMATION,
            confirmation_ends_at=ends,
        )
        record = records.record_prepare(session=session)
        journal(
            session,
            action="confirmation_started",
            actor=actor,
            obj=record,
            payload={"ends_at": ends, "body_sha256": record.data["body_sha256"]},
        )
    return session


def opening_close(*, lot: Lot, actor: User | None) -> OpeningSession:
    """Close the hall with the final record. The host closes once every bidder confirmed or the window
    is over; the clock (actor None) closes at the end of the window (87号令42: silence accepts)."""
    if actor is not None:
        require_host(actor)
    now = timezone.now()
    with transaction.atomic():
        session = session_lock(lot_id=lot.pk)
        require_tender_opening(session)
        refuse(rules.check_transition(session.phase, rules.CLOSED))
        unconfirmed = sum(
            1
            for b in active_bids(session.lot)
            if b.decryption in rules.VALID_DECRYPTIONS and not b.confirmed_at
        )
        refuse(rules.check_close(now=now, ends_at=session.confirmation_ends_at, unconfirmed=unconfirmed))
        session_bump(session, event=Event.CLOSED, now=now, phase=rules.CLOSED)
        record = records.record_finalize(session=session, closed_at=now)
        journal(
            session,
            action="closed",
            actor=actor,
            obj=record,
            payload={"data_sha256": record.data_sha256, "unconfirmed": unconfirmed},
        )
        _evaluation_when_all_closed(session.lot)
    return session


def _evaluation_when_all_closed(lot: Lot) -> None:
    """The tender goes on to evaluation (DESIGN §3) once every live lot's hall is closed."""
    live = Lot.objects.filter(tender_id=lot.tender_id).exclude(status=Lot.Status.FAILED)
    if not live.exclude(opening__phase=rules.CLOSED).exists():
        tender_evaluation_begin(tender=lot.tender)
