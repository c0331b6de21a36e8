"""Pieces every opening service shares: the hall's locks (in the platform's one lock order),
the version bump that schedules the hall's event, journaling, and turning a rule into an error.

Lock order (bidding/lock_objects.py, extended): Tender → Lot → OpeningSession → Bid → journal.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive.journal import journal_append
from bidding.lock_objects import lot_lock
from bidding.models import OpeningSession
from bidding.opening import events
from core.errors import AccessDenied, Conflict
from trading.access import require_login
from trading.models import Lot, Role, Tender, TenderState
from trading.rules import Violation


def refuse(violation: Violation | None) -> None:
    """Raise a rule's violation as a 409 with its code (the hall's refusals are conflicts of state)."""
    if violation is not None:
        raise Conflict(violation.message, code=violation.code, source=violation.source, **violation.params)


def session_lock(*, lot_id: int, with_lot: bool = False, with_tender_id: int | None = None) -> OpeningSession:
    """Lock the lot's hall (call inside a transaction). `with_lot` takes the lot row first, so that
    a submission which read the clock before the deadline has committed before bids are listed;
    `with_tender_id` takes the tender row before that, for a change of the tender's state."""
    if with_tender_id is not None:
        Tender.objects.select_for_update().get(pk=with_tender_id)
    if with_lot or with_tender_id is not None:
        lot_lock(lot_id)
    try:
        session = OpeningSession.objects.select_for_update().get(lot_id=lot_id)
    except OpeningSession.DoesNotExist:
        raise Conflict(_("The opening hall of this lot is not open yet."), code="opening_not_open") from None
    # Read lot and tender after the lock is held: they are what the decision is taken on.
    session.lot = Lot.objects.select_related("tender").get(pk=lot_id)
    return session


def session_bump(session: OpeningSession, *, event: str, now=None, **fields: Any) -> OpeningSession:
    """Save the changed fields with the next version and announce the change once committed.
    Call while holding the session lock."""
    for name, value in fields.items():
        setattr(session, name, value)
    if "phase" in fields:
        session.phase_changed_at = now or timezone.now()
        fields["phase_changed_at"] = session.phase_changed_at
    session.version += 1
    session.save(update_fields=[*fields, "version"])
    events.hall_changed(lot_id=session.lot_id, event=event)
    return session


def journal(session: OpeningSession, *, action: str, actor: Any, payload: dict | None = None, obj=None):
    """Every hall change goes to the tender's chain, in the transaction that makes it."""
    return journal_append(
        stream=session.lot.tender.stream,
        action=f"opening.{action}",
        actor=actor if actor is not None else "system",
        obj=obj if obj is not None else session,
        payload={"lot": session.lot_id, "version": session.version, **(payload or {})},
    )


def require_host(user) -> None:
    """Host actions: centre staff (and administrators); everyone else in the hall only watches."""
    require_login(user)
    if user.role not in {Role.CENTRE, Role.ADMIN}:
        raise AccessDenied(_("Only the host may do this."), code="hall_read_only")


def require_tender_opening(session: OpeningSession) -> None:
    """A suspended or terminated tender stops the hall: nothing moves until it resumes."""
    state = session.lot.tender.state
    if state != TenderState.OPENING:
        raise Conflict(_("The tender is not being opened."), code="tender_not_opening", state=state)
