"""State transitions: suspend, resume, fail or terminate, the generic later stages, and the
system's opening at the deadline.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from archive.journal import journal_anchor, journal_append
from core.errors import Conflict, ValidationFailed
from trading import rules
from trading.access import require_role, tender_access_manage, tender_access_supervise
from trading.models import AnnouncementKind, Role, Tender, TenderState, User
from trading.services.announcements import announcement_create, announcement_publish
from trading.signals import tender_state_changed


def _set_state(
    tender: Tender, target: str, *, actor: User, reason: str = "", payload: dict | None = None
) -> None:
    """Apply a transition allowed by rules.TENDER_TRANSITIONS. Call while holding the tender lock."""
    violation = rules.check_transition(
        tender.state, target, suspended_from=tender.state_before_suspension or None
    )
    if violation:
        raise Conflict(violation.message, code=violation.code, current=tender.state, target=target)
    previous = tender.state
    if target == TenderState.SUSPENDED:
        tender.state_before_suspension = previous
    elif previous == TenderState.SUSPENDED:
        tender.state_before_suspension = ""
    tender.state = target
    tender.state_changed_at = timezone.now()
    tender.save(update_fields=["state", "state_before_suspension", "state_changed_at"])
    journal_append(
        stream=tender.stream,
        action="tender.state_changed",
        actor=actor,
        obj=tender,
        payload={"from": previous, "to": target, "reason": reason, **(payload or {})},
    )
    tender_state_changed.send(sender=Tender, tender=tender, previous=previous, target=target)


def tender_suspend(*, tender: Tender, actor: User, reason: str) -> Tender:
    """Suspension (objection pending, complaint, regulator's order): nothing moves on until resumed."""
    require_role(actor, Role.CENTRE, Role.REGULATOR, Role.ADMIN, Role.AGENCY)
    if actor.role == Role.AGENCY:
        tender_access_manage(user=actor, tender=tender)
    if actor.role == Role.REGULATOR:
        tender_access_supervise(user=actor, tender=tender)  # its department's tender, or a shared one
    if not reason.strip():
        raise ValidationFailed(_("Give the reason."), code="reason_required")
    with transaction.atomic():
        tender = Tender.objects.select_for_update().get(pk=tender.pk)
        _set_state(tender, TenderState.SUSPENDED, actor=actor, reason=reason)
        journal_anchor(streams=[tender.stream], actor=actor)
    return tender


def tender_suspend_on_objection(
    *, tender: Tender, actor: User, reason: str, payload: dict | None = None
) -> None:
    """The law suspends the process on receipt of an objection (条例22, 54): the objector — a bidder
    or other interested party, checked by the caller — is the actor. Call while holding the tender's
    row lock, inside the transaction that records the objection."""
    if not reason.strip():
        raise ValidationFailed(_("Give the reason."), code="reason_required")
    _set_state(tender, TenderState.SUSPENDED, actor=actor, reason=reason, payload=payload)


def tender_resume(*, tender: Tender, actor: User, reason: str) -> Tender:
    require_role(actor, Role.CENTRE, Role.REGULATOR, Role.ADMIN, Role.AGENCY)
    if actor.role == Role.AGENCY:
        tender_access_manage(user=actor, tender=tender)
    if actor.role == Role.REGULATOR:
        tender_access_supervise(user=actor, tender=tender)
    with transaction.atomic():
        tender = Tender.objects.select_for_update().get(pk=tender.pk)
        if tender.state != TenderState.SUSPENDED:
            raise Conflict(_("The tender is not suspended."), code="tender_not_suspended")
        _set_state(tender, tender.state_before_suspension, actor=actor, reason=reason)
    return tender


def tender_close(
    *, tender: Tender, actor: User, target: str, reason: str, body_html: str | None = None
) -> Tender:
    """Fail (流标) or terminate a tender, with the termination/failure announcement."""
    tender_access_manage(user=actor, tender=tender)
    if target not in {TenderState.FAILED, TenderState.TERMINATED}:
        raise ValidationFailed(_("Close as failed or terminated."), code="invalid_target")
    if not reason.strip():
        raise ValidationFailed(_("Give the reason."), code="reason_required")
    with transaction.atomic():
        tender = Tender.objects.select_for_update().get(pk=tender.pk)
        _set_state(tender, target, actor=actor, reason=reason)
        if tender.published_at:
            ann = announcement_create(
                tender=tender,
                kind=AnnouncementKind.TERMINATION,
                check_access=False,
                title=str(_("%(t)s: failure / termination notice") % {"t": tender.title}),
                body_html=body_html or f"<p>{escape(reason)}</p>",
                actor=actor,
            )
            announcement_publish(announcement=ann, actor=actor, check_access=False)
        journal_anchor(streams=[tender.stream], actor=actor)
    return tender


def tender_set_state(*, tender: Tender, actor: User, target: str, reason: str = "") -> Tender:
    """Generic transition for the later stages (opening, evaluation, publicity, awarded, archived)."""
    tender_access_manage(user=actor, tender=tender)
    with transaction.atomic():
        tender = Tender.objects.select_for_update().get(pk=tender.pk)
        _set_state(tender, target, actor=actor, reason=reason)
    return tender


def tender_open_at_deadline(*, tender: Tender) -> Tender:
    """The system opens a published tender when its deadline passes (法34: the opening is at the
    deadline). Idempotent and safe when several processes notice the deadline at once: under the
    tender's row lock, a tender that is no longer `published` is left as it is."""
    now = timezone.now()
    with transaction.atomic():
        tender = Tender.objects.select_for_update().get(pk=tender.pk)
        if tender.state != TenderState.PUBLISHED or now < tender.deadline:
            return tender
        violation = rules.check_transition(tender.state, TenderState.OPENING)
        if violation:
            raise Conflict(violation.message, code=violation.code, current=tender.state)
        tender.state = TenderState.OPENING
        tender.state_changed_at = now
        tender.save(update_fields=["state", "state_changed_at"])
        journal_append(
            stream=tender.stream,
            action="tender.state_changed",
            actor="system",
            obj=tender,
            payload={"from": TenderState.PUBLISHED, "to": TenderState.OPENING, "reason": "deadline"},
        )
    return tender


def tender_evaluation_begin(*, tender: Tender, reason: str = "openings closed") -> Tender:
    """The system moves an opening tender to evaluation once the caller (the opening hall) has seen
    every lot's opening closed or failed. Idempotent under the tender's row lock."""
    now = timezone.now()
    with transaction.atomic():
        tender = Tender.objects.select_for_update().get(pk=tender.pk)
        if tender.state != TenderState.OPENING:
            return tender
        tender.state = TenderState.EVALUATION
        tender.state_changed_at = now
        tender.save(update_fields=["state", "state_changed_at"])
        journal_append(
            stream=tender.stream,
            action="tender.state_changed",
            actor="system",
            obj=tender,
            payload={"from": TenderState.OPENING, "to": TenderState.EVALUATION, "reason": reason},
        )
    return tender


def tender_mark_archived(*, tender: Tender, actor, package: dict) -> Tender:
    """A finished tender (awarded, failed, terminated) whose package has just been sealed becomes
    archived, the final state. Called by the closing pipeline inside its transaction; `package` names
    the sealed package (id, version, digest) in the journal entry."""
    with transaction.atomic():
        tender = Tender.objects.select_for_update().get(pk=tender.pk)
        _set_state(
            tender, TenderState.ARCHIVED, actor=actor, reason="archive.sealed", payload={"package": package}
        )
    return tender
