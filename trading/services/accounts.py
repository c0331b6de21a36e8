"""Password login with lock-out after repeated failures, and account creation."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive.journal import journal_append
from core.errors import DomainError, ValidationFailed
from trading.models import ActivityEvidence, Role, User
from trading.services.evidence import evidence_record


class LoginFailed(DomainError):
    code = "login_failed"
    status = 401
    default_message = _("Wrong user name or password.")


class AccountLocked(DomainError):
    code = "account_locked"
    status = 423
    default_message = _("Too many failed attempts: this account is locked for a while.")


def user_stream(user: User) -> str:
    return f"entity:{user.entity_id}" if user.entity_id else f"user:{user.pk}"


def user_authenticate(*, username: str, password: str, request=None) -> User:
    """Check a password login. Unknown users and wrong passwords fail alike (no enumeration)."""
    now = timezone.now()
    with transaction.atomic():
        user = User.objects.select_for_update().filter(username=username).first()
        if user is None or not user.is_active:
            # Same cost as a real check, so timing does not tell whether the name exists.
            User().set_password(password)
            raise LoginFailed()
        if user.is_locked(now):
            raise AccountLocked(until=user.locked_until.isoformat())
        if not user.check_password(password):
            user.failed_logins += 1
            fields = ["failed_logins"]
            if user.failed_logins >= settings.LOGIN_MAX_FAILURES:
                user.locked_until = now + dt.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
                user.failed_logins = 0
                fields.append("locked_until")
                journal_append(
                    stream=user_stream(user),
                    action="account.locked",
                    actor=user,
                    obj=user,
                    payload={"until": user.locked_until},
                )
            user.save(update_fields=fields)
        else:
            if user.failed_logins or user.locked_until:
                user.failed_logins = 0
                user.locked_until = None
                user.save(update_fields=["failed_logins", "locked_until"])
            user.last_login = now
            user.save(update_fields=["last_login"])
            evidence_record(
                action=ActivityEvidence.Action.LOGIN, request=request, user=user, entity=user.entity
            )
            return user
    # Outside the atomic block so the failure counter is committed before we refuse.
    if user.locked_until and user.locked_until > now:
        raise AccountLocked(until=user.locked_until.isoformat())
    raise LoginFailed()


def user_create(
    *,
    username: str,
    password: str,
    role: str,
    actor=None,
    entity=None,
    person=None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    region_code: str = "",
    department: str = "",
    is_staff: bool = False,
    require_key_login: bool = False,
) -> User:
    if role not in Role.values:
        raise ValidationFailed(_("Unknown role."), code="unknown_role", role=role)
    if role in {Role.BIDDER, Role.AGENCY} and entity is None:
        raise ValidationFailed(
            _("Bidder and agency staff belong to a market entity."), code="entity_required"
        )
    if User.objects.filter(username=username).exists():
        raise ValidationFailed(_("This user name is taken."), code="username_taken")
    with transaction.atomic():
        user = User(
            username=username,
            role=role,
            entity=entity,
            person=person,
            first_name=first_name,
            last_name=last_name,
            email=email,
            region_code=region_code,
            department=department,
            is_staff=is_staff or role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
            require_key_login=require_key_login,
        )
        user.set_password(password)
        user.save()
        journal_append(
            stream=user_stream(user),
            action="user.created",
            actor=actor,
            obj=user,
            payload={"username": username, "role": role, "entity": entity.pk if entity else None},
        )
    return user
