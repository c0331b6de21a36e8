"""Admission of experts by centre staff, direct profile updates and the expert's status
(active, suspended for a period, removed — removal is final)."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive.journal import journal_append
from core.errors import Conflict, ValidationFailed
from experts.models import Expert
from experts.services.pool.common import (
    MANAGE_ROLES,
    FieldErrors,
    expert_stream,
    notify_expert,
    require_not_removed,
)
from experts.services.pool.profile import apply_profile, person_clean, profile_changes, profile_clean
from trading.access import require_role
from trading.models import Person, Role, User
from trading.services.accounts import user_create
from trading.services.entities import digest_ready, person_id_digest, person_upsert


def _username_for(person: dict, username: str) -> str:
    return (
        username or person["phone"] or "e" + person_id_digest(person["id_type"], person["id_number"])[:10]
    ).strip()


def expert_prepare(
    *, data: dict, username: str = "", password: str | None = "", user: User | None = None
) -> dict:
    """Check a whole admission without writing: person, account and profile. Returns what
    `expert_create` writes; raises ValidationFailed/Conflict with every bad field at once."""
    e = FieldErrors()
    person = None
    if user is None or user.person_id is None:
        person = person_clean(data, e)
    try:
        profile = profile_clean(data)
    except ValidationFailed as exc:
        profile = {}
        for field, code in exc.params.get("codes", {}).items():
            e.add(field, code, exc.params["fields"][field])
    if user is not None:
        if user.role != Role.EXPERT:
            e.add("user", "user_not_expert", _("The account does not have the expert role."))
        elif Expert.objects.filter(user=user).exists():
            raise Conflict(_("This account already has an expert profile."), code="expert_exists")
    elif person is not None:
        username = _username_for(person, username)
        if User.objects.filter(username=username).exists():
            e.add("username", "username_taken", _("This user name is taken."))
        if password:
            try:
                validate_password(password, User(username=username, first_name=person["name"]))
            except DjangoValidationError as exc:
                e.add("password", "password_weak", " ".join(exc.messages))
    if person is not None and person["id_number"]:
        existing = Person.objects.filter(
            id_digest=person_id_digest(person["id_type"], person["id_number"])
        ).first()
        if existing is not None:
            if existing.name != person["name"]:
                e.add("name", "name_mismatch", _("This ID number is registered under another name."))
            elif Expert.objects.filter(person=existing).exists():
                raise Conflict(_("This person is already in the expert pool."), code="expert_exists")
    e.raise_if_any()
    return {"person": person, "profile": profile, "username": username, "password": password}


def expert_create_prepared(
    *, actor: Any, prepared: dict, user: User | None, managed_by_region: str
) -> Expert:
    """Write an admission `expert_prepare` checked (the caller checked the actor's role)."""
    person_data, profile = prepared["person"], prepared["profile"]
    with transaction.atomic():
        if user is None:
            person = person_upsert(**person_data)
            user = user_create(
                username=prepared["username"],
                # Imported accounts get a password nobody knows; the centre sets one (changepassword).
                password=prepared["password"] or secrets.token_urlsafe(24),
                role=Role.EXPERT,
                actor=actor,
                person=person,
                first_name=person.name,
                email=person.email,
                region_code=profile["region_code"],
            )
            user.phone = person.phone
            user.save(update_fields=["phone"])
        elif user.person_id is None:
            user.person = person_upsert(**person_data)
            user.save(update_fields=["person"])
        now = timezone.now()
        expert = Expert.objects.create(
            user=user,
            person=user.person,
            region_code=profile["region_code"],
            managed_by_region=managed_by_region,
            created_at=now,
            updated_at=now,
        )
        apply_profile(expert, profile, since=timezone.localdate())
        journal_append(
            stream=expert_stream(expert),
            action="experts.expert_created",
            actor=actor,
            obj=expert,
            payload={
                "expert": expert.public_id,
                "person": expert.person_id,
                "user": user.pk,
                "profile": digest_ready(profile),
                "managed_by_region": managed_by_region,
            },
        )
    return expert


def expert_create(
    *, actor: User, data: dict, username: str = "", password: str = "", user: User | None = None
) -> Expert:
    """Centre staff admit an expert: person (registry row shared with trading), an account with the
    expert role (or an existing expert-role `user`), the profile with exactly one main specialty."""
    require_role(actor, *MANAGE_ROLES)
    prepared = expert_prepare(data=data, username=username, password=password, user=user)
    return expert_create_prepared(
        actor=actor, prepared=prepared, user=user, managed_by_region=actor.region_code
    )


def expert_update(
    *, expert: Expert, actor: Any, data: dict, check_access: bool = True
) -> tuple[Expert, dict]:
    """Centre staff change profile fields directly (the import does too). Returns the expert and
    the fields that changed; nothing changed means no new version and no journal entry."""
    if check_access:
        require_role(actor, *MANAGE_ROLES)
    require_not_removed(expert)
    clean = profile_clean(data, partial=True)
    with transaction.atomic():
        expert = Expert.objects.select_for_update().get(pk=expert.pk)
        changes = profile_changes(expert, clean)
        if changes:
            apply_profile(expert, {k: clean[k] for k in changes}, since=timezone.localdate())
            expert.version += 1
            expert.save(update_fields=["version"])
            journal_append(
                stream=expert_stream(expert),
                action="experts.expert_updated",
                actor=actor,
                obj=expert,
                payload={"version": expert.version, "changes": changes},
            )
    return expert, changes


# --- status --------------------------------------------------------------------------------------


def status_write(
    *, expert: Expert, actor: Any, status: str, since, until, reason: str, cause: str = ""
) -> Expert:
    """Call inside a transaction holding the expert's row lock."""
    old = (expert.status, expert.suspended_from, expert.suspended_until)
    expert.status, expert.status_reason = status, reason.strip()[:300]
    expert.suspended_from, expert.suspended_until = (
        (since, until) if status == Expert.Status.SUSPENDED else (None, None)
    )
    expert.version += 1
    expert.updated_at = timezone.now()
    expert.save()
    journal_append(
        stream=expert_stream(expert),
        action="experts.status_changed",
        actor=actor,
        obj=expert,
        payload={
            "from": old[0],
            "to": status,
            "suspended_from": expert.suspended_from,
            "suspended_until": expert.suspended_until,
            "reason": expert.status_reason,
            "cause": cause,
        },
    )
    notify_expert(
        expert,
        kind="experts.status",
        subject=_("Your status in the expert pool: %(status)s") % {"status": expert.get_status_display()},
        body=expert.status_reason,
    )
    return expert


def _status_check(*, expert: Expert, status: str, since, until, reason: str) -> None:
    if status not in Expert.Status.values:
        raise ValidationFailed(_("Unknown status."), code="status_unknown")
    if not (reason or "").strip():
        raise ValidationFailed(_("Give the reason."), code="reason_required")
    require_not_removed(expert)
    if status == Expert.Status.SUSPENDED:
        if since is None or until is None:
            raise ValidationFailed(
                _("A suspension needs its period (from and until)."), code="suspension_period_required"
            )
        if until < since:
            raise ValidationFailed(_("The period ends before it starts."), code="suspension_period_invalid")
    elif status == expert.status:
        raise Conflict(_("The expert already has this status."), code="status_unchanged")


def expert_set_status(
    *,
    expert: Expert,
    actor: User,
    status: str,
    suspended_from: dt.date | None = None,
    suspended_until: dt.date | None = None,
    reason: str,
) -> Expert:
    """Centre staff activate, suspend (for a period) or remove an expert; removal is final."""
    require_role(actor, *MANAGE_ROLES)
    with transaction.atomic():
        expert = Expert.objects.select_for_update().get(pk=expert.pk)
        _status_check(
            expert=expert, status=status, since=suspended_from, until=suspended_until, reason=reason
        )
        return status_write(
            expert=expert,
            actor=actor,
            status=status,
            since=suspended_from,
            until=suspended_until,
            reason=reason,
        )


def suspensions_expire(*, today: dt.date | None = None) -> int:
    """Suspensions whose period has ended return to active (the clock's work; idempotent under the
    expert's row lock). The draw already treats an ended suspension as eligible; this keeps the
    status the pages show true."""
    today = today or timezone.localdate()
    done = 0
    due = Expert.objects.filter(status=Expert.Status.SUSPENDED, suspended_until__lt=today)
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            expert = Expert.objects.select_for_update().get(pk=pk)
            if (
                expert.status != Expert.Status.SUSPENDED
                or not expert.suspended_until
                or expert.suspended_until >= today
            ):
                continue
            status_write(
                expert=expert,
                actor="system",
                status=Expert.Status.ACTIVE,
                since=None,
                until=None,
                reason=str(_("The suspension period has ended.")),
                cause="suspension_expired",
            )
            done += 1
    return done
