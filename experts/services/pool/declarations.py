"""What the expert keeps up themself: the availability calendar, declared relationships (C5) and
profile changes proposed for the centre's review."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive.journal import journal_append
from core.canonical import digest
from core.errors import Conflict, ValidationFailed
from experts.models import Expert, ProfileChange, Relationship, Unavailability
from experts.services.pool.common import (
    MANAGE_ROLES,
    FieldErrors,
    add_required,
    entity_by_uscc,
    expert_stream,
    notify_expert,
    require_not_removed,
    require_self,
    require_self_or_manager,
    resident_id_ok,
    text_field,
    uscc_field,
)
from experts.services.pool.profile import PROPOSABLE, apply_profile, profile_changes, profile_clean
from trading.access import require_role
from trading.models import Person, User
from trading.services.entities import person_id_digest


def unavailability_add(
    *, expert: Expert, actor: User, starts_at: dt.datetime, ends_at: dt.datetime, reason: str = ""
) -> Unavailability:
    """A period the expert cannot evaluate; periods of one expert never overlap."""
    require_self_or_manager(actor, expert)
    require_not_removed(expert)
    if starts_at is None or ends_at is None or timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise ValidationFailed(
            _("Give the start and the end of the period."), code="unavailability_period_required"
        )
    if ends_at <= starts_at:
        raise ValidationFailed(_("The period ends before it starts."), code="unavailability_period_invalid")
    if ends_at <= timezone.now():
        raise ValidationFailed(_("This period is already over."), code="unavailability_past")
    with transaction.atomic():
        Expert.objects.select_for_update().filter(pk=expert.pk).first()  # serialise one expert's calendar
        overlap = expert.unavailable.filter(starts_at__lt=ends_at, ends_at__gt=starts_at).first()
        if overlap is not None:
            raise Conflict(
                _("This overlaps a period already in your calendar."),
                code="unavailability_overlap",
                starts_at=overlap.starts_at,
                ends_at=overlap.ends_at,
            )
        period = Unavailability.objects.create(
            expert=expert, starts_at=starts_at, ends_at=ends_at, reason=(reason or "").strip()[:200]
        )
        journal_append(
            stream=expert_stream(expert),
            action="experts.unavailability_added",
            actor=actor,
            obj=period,
            payload={"starts_at": starts_at, "ends_at": ends_at, "reason": period.reason},
        )
    return period


def unavailability_remove(*, unavailability: Unavailability, actor: User) -> None:
    """Take a period out of the calendar; a period already over is history and stays."""
    expert = unavailability.expert
    require_self_or_manager(actor, expert)
    if unavailability.ends_at <= timezone.now():
        raise Conflict(_("This period is already over."), code="unavailability_past")
    with transaction.atomic():
        journal_append(
            stream=expert_stream(expert),
            action="experts.unavailability_removed",
            actor=actor,
            obj=unavailability,
            payload={"starts_at": unavailability.starts_at, "ends_at": unavailability.ends_at},
        )
        unavailability.delete()


def relationship_declare(
    *,
    expert: Expert,
    actor: User,
    kind: str,
    relation: str = "",
    person_name: str = "",
    person_id_number: str = "",
    person_id_type: str = "resident_id",
    entity_uscc: str = "",
    note: str = "",
) -> Relationship:
    """The expert declares a relationship (C5). A relative is named by name and ID number: the
    registry's person when known, else the ID's digest (the number itself is not stored)."""
    require_self(actor, expert)
    require_not_removed(expert)
    e = FieldErrors()
    if kind not in Relationship.Kind.values:
        e.add("kind", "choice_invalid", _("Not one of the choices."))
    data = {
        "relation": relation,
        "person_name": person_name,
        "person_id_number": person_id_number,
        "note": note,
    }
    relation = text_field(data, "relation", e, max_len=40)
    person_name = text_field(data, "person_name", e, max_len=100)
    id_number = text_field(data, "person_id_number", e, max_len=40).upper()
    note = text_field(data, "note", e, max_len=300)
    uscc = uscc_field(entity_uscc.strip(), "entity_uscc", e)
    if kind == Relationship.Kind.KIN:
        if not person_name:
            add_required(e, "person_name")
        if not id_number:
            add_required(e, "person_id_number")
        if not relation:
            add_required(e, "relation")
    elif not (uscc or person_name or note or entity_uscc.strip()):
        e.add(
            "entity_uscc", "relationship_subject_required", _("Name the company, the person or describe it.")
        )
    if id_number and person_id_type == "resident_id" and not resident_id_ok(id_number):
        e.add("person_id_number", "id_number_invalid", _("Not a valid resident ID number (GB 11643)."))
    e.raise_if_any(code="relationship_invalid")
    id_digest = person_id_digest(person_id_type, id_number) if id_number else ""
    if id_digest and id_digest == expert.person.id_digest:
        raise ValidationFailed(_("This is your own ID number."), code="relationship_self")
    person = Person.objects.filter(id_digest=id_digest).first() if id_digest else None
    entity = entity_by_uscc(uscc)
    with transaction.atomic():
        Expert.objects.select_for_update().filter(pk=expert.pk).first()
        same = expert.relationships.filter(kind=kind, withdrawn_at__isnull=True)
        if (
            id_digest
            and (
                same.filter(person_id_digest=id_digest).exists()
                or (person and same.filter(person=person).exists())
            )
        ) or (uscc and same.filter(entity_uscc=uscc).exists()):
            raise Conflict(_("You have already declared this relationship."), code="relationship_duplicate")
        rel = Relationship.objects.create(
            expert=expert,
            kind=kind,
            relation=relation,
            entity=entity,
            entity_uscc=uscc,
            person=person,
            # Kept even when the person is known: declarations are matched by digest either way.
            person_id_digest=id_digest,
            person_name=person_name,
            note=note,
            declared_at=timezone.now(),
        )
        journal_append(
            stream=expert_stream(expert),
            action="experts.relationship_declared",
            actor=actor,
            obj=rel,
            payload={
                "kind": kind,
                "relation": relation,
                "entity_uscc": uscc,
                "person": person.pk if person else None,
                "person_id_digest": id_digest,
            },
        )
    return rel


def relationship_withdraw(*, relationship: Relationship, actor: User, reason: str = "") -> None:
    """The expert withdraws a declaration (made by mistake, or the relation ended); the journal keeps it."""
    expert = relationship.expert
    require_self(actor, expert)
    with transaction.atomic():
        journal_append(
            stream=expert_stream(expert),
            action="experts.relationship_withdrawn",
            actor=actor,
            obj=relationship,
            payload={
                "kind": relationship.kind,
                "entity_uscc": relationship.entity_uscc,
                "person_id_digest": relationship.person_id_digest,
                "declared_at": relationship.declared_at,
                "reason": (reason or "").strip()[:300],
            },
        )
        relationship.withdrawn_at = timezone.now()
        relationship.save(update_fields=["withdrawn_at"])


# --- proposals reviewed by the centre ------------------------------------------------------------


def profile_change_propose(*, expert: Expert, actor: User, data: dict) -> ProfileChange:
    """The expert proposes new values for some profile fields; nothing changes until approved.
    One open proposal at a time."""
    require_self(actor, expert)
    require_not_removed(expert)
    clean = profile_clean(data, partial=True, allowed=PROPOSABLE)
    changes = profile_changes(expert, clean)
    if not changes:
        raise ValidationFailed(_("Nothing would change."), code="change_empty")
    if expert.changes.filter(state=ProfileChange.State.PROPOSED).exists():
        raise Conflict(_("A proposal of yours is already awaiting review."), code="change_pending")
    try:
        with transaction.atomic():
            change = ProfileChange.objects.create(
                expert=expert, data=changes, digest=digest(changes), submitted_at=timezone.now()
            )
            journal_append(
                stream=expert_stream(expert),
                action="experts.profile_change_proposed",
                actor=actor,
                obj=change,
                payload={"digest": change.digest, "fields": sorted(changes)},
            )
    except IntegrityError:  # a concurrent proposal won the one-open-proposal constraint
        raise Conflict(_("A proposal of yours is already awaiting review."), code="change_pending") from None
    return change


def profile_change_decide(
    *, change: ProfileChange, actor: User, approve: bool, note: str = ""
) -> ProfileChange:
    """Centre staff approve (applied at once, version + 1) or reject (with a reason) a proposal."""
    require_role(actor, *MANAGE_ROLES)
    with transaction.atomic():
        change = ProfileChange.objects.select_for_update().get(pk=change.pk)
        if change.state != ProfileChange.State.PROPOSED:
            raise Conflict(_("This change is not awaiting a decision."), code="change_not_pending")
        if not approve and not (note or "").strip():
            raise ValidationFailed(_("Give the reason for rejecting."), code="reason_required")
        expert = Expert.objects.select_for_update().get(pk=change.expert_id)
        if approve:
            require_not_removed(expert)
            clean = profile_clean(change.data, partial=True, allowed=PROPOSABLE)  # the world may have moved
            apply_profile(expert, clean, since=timezone.localdate(change.submitted_at))
            expert.version += 1
            expert.save(update_fields=["version"])
        change.state = ProfileChange.State.APPROVED if approve else ProfileChange.State.REJECTED
        change.decided_by, change.decided_at, change.decision_note = (
            actor,
            timezone.now(),
            (note or "").strip(),
        )
        change.save()
        journal_append(
            stream=expert_stream(expert),
            action="experts.profile_change_approved" if approve else "experts.profile_change_rejected",
            actor=actor,
            obj=change,
            payload={"digest": change.digest, "version": expert.version, "note": change.decision_note},
        )
        notify_expert(
            expert,
            kind="experts.profile_change",
            subject=_("Your profile change was approved.")
            if approve
            else _("Your profile change was rejected."),
            body=change.decision_note,
        )
    return change
