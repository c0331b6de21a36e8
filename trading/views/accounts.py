"""Views: password login and logout, the per-role workbench and the notification list.

Also the decorators every signed-in page uses (`signed_in`, `key_proof_required`), so
that a user who must prove a certified key cannot use the platform on a password alone.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render, resolve_url
from django.urls import path
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.errors import DomainError
from core.throttle import rate_limit
from trading.models import Role, User
from trading.selectors import credit_active, entity_blacklist_entry
from trading.selectors_workbench import (
    blacklist_active,
    credit_records_latest,
    document_downloads_of_entity,
    entity_changes_pending,
    entity_changes_proposed,
    entity_registrations_pending,
    notification_list_for_user,
    tender_groups_by_state,
    tender_list_managed,
    tender_state_counts,
    user_role_counts,
)
from trading.services.accounts import AccountLocked, user_authenticate
from trading.services.notifications import notification_mark_read

# The page (built in trading/views/pki.py) where a user signs a server challenge with its key;
# it sets request.session["key_verified"] once the signature checks out.
KEY_LOGIN_URL = "/accounts/key-login/"
SESSION_KEY_REQUIRED = "key_required"
SESSION_KEY_VERIFIED = "key_verified"
PKI_URL = "/pki/certificates/"


# --- decorators shared by every signed-in page ----------------------------------------------


def _key_login_redirect(next_url: str):
    return redirect(f"{KEY_LOGIN_URL}?{urlencode({'next': next_url})}")


def key_proof_required(view):
    """Refuse a password-only session of a user who must also log in with a certified key."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.session.get(SESSION_KEY_REQUIRED) and not request.session.get(SESSION_KEY_VERIFIED):
            return _key_login_redirect(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapped


def signed_in(view):
    """Logged in (else to the login page) and, where the account demands it, key-verified."""
    return login_required(key_proof_required(view))


def safe_next(request, candidate: str) -> str:
    """`candidate` if it points into this site, else "" (no open redirects)."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


# --- form helpers shared by the signed-in pages ----------------------------------------------
# The registry and tender forms are nested (lots, shareholders, ...) and their services validate
# the whole structure at once, reporting errors by path ("lots[0].budget"). Inputs are named by
# those same paths, so an error lands next to its field without a second validation layer.

_PATH_TOKEN = re.compile(r"[^.\[\]]+")


def path_get(data: Any, name: str) -> Any:
    """The value at a path such as "qualifications[0].valid_from", or "" when absent."""
    for token in _PATH_TOKEN.findall(name):
        if isinstance(data, dict):
            data = data.get(token)
        elif isinstance(data, list) and token.isdigit() and int(token) < len(data):
            data = data[int(token)]
        else:
            return ""
        if data is None:
            return ""
    return data


def errors_for(name: str, errors: dict) -> str:
    """Messages of `name` and of anything inside it (errors of "x.criteria[1]" belong to field "x")."""
    found = [
        str(msg) for key, msg in errors.items() if key == name or key.startswith((name + ".", name + "["))
    ]
    return " ".join(found)


def form_field(name: str, label, data: Any, errors: dict, *, kind: str = "text", **extra) -> dict:
    value = path_get(data, name)
    if kind == "checkbox":
        value = value not in ("", False, None, "0", "false")
    return {
        "name": name,
        "id": re.sub(r"[^0-9A-Za-z_-]+", "-", name),
        "label": label,
        "kind": kind,
        "value": "" if value is None else value,
        "error": errors_for(name, errors),
        **extra,
    }


def error_context(exc: DomainError) -> dict:
    """What the templates show of a refused request: code, message, legal source, fields."""
    fields = exc.params.get("fields") if isinstance(exc.params.get("fields"), dict) else {}
    return {
        "code": exc.code,
        "message": str(exc.message),
        "source": getattr(exc, "source", ""),
        "violations": exc.params.get("violations") or [],
        "fields": list(fields.items()),
        "field_map": dict(fields),
    }


# --- login and logout -------------------------------------------------------------------------


def _local(value: str) -> dt.datetime | None:
    try:
        return timezone.localtime(dt.datetime.fromisoformat(value))
    except (TypeError, ValueError):
        return None


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
@rate_limit("login")
def login_view(request):
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next") or "")
    username = ""
    error = None
    status = 200
    if request.method == "POST":
        username = request.POST.get("username", "").strip()[:150]
        password = request.POST.get("password", "")
        try:
            if not username or not password:
                raise DomainError(_("Enter your user name and password."), code="credentials_required")
            user = user_authenticate(username=username, password=password, request=request)
        except DomainError as exc:
            error = exc.as_dict()
            status = exc.status
            if isinstance(exc, AccountLocked):
                error["until"] = _local(exc.params.get("until", ""))
        else:
            # login() rotates the session key (no session fixation) and records last_login.
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            target = next_url or resolve_url(settings.LOGIN_REDIRECT_URL)
            if user.require_key_login:
                # The password step is done; every signed-in page stays closed until the key
                # login page proves possession of the certified key (see key_proof_required).
                request.session[SESSION_KEY_REQUIRED] = True
                return _key_login_redirect(target)
            return redirect(target)
    return render(
        request,
        "trading/accounts/login.html",
        {"username": username, "next": next_url, "error": error},
        status=status,
    )


@require_POST
def logout_view(request):
    logout(request)  # flushes the session, including the key-login flags
    return redirect(settings.LOGOUT_REDIRECT_URL)


# --- workbench -----------------------------------------------------------------------------------


def _bidder(user: User) -> dict:
    entity = user.entity
    return {
        "entity": entity,
        "blacklist_entry": entity_blacklist_entry(entity),
        "credit_records": list(credit_active(entity=entity)),
        "pending_changes": entity_changes_proposed(entity=entity).count(),
        "downloads": document_downloads_of_entity(entity=entity)[:20],
        "pki_url": PKI_URL,
    }


def _agency(user: User) -> dict:
    tenders = tender_list_managed(entity_id=user.entity_id)
    return {"entity": user.entity, "groups": tender_groups_by_state(tenders)}


def _centre(user: User) -> dict:
    pending = entity_registrations_pending()
    return {
        "pending_entities": pending[:20],
        "pending_entity_count": pending.count(),
        "pending_changes": entity_changes_pending()[:20],
        "state_counts": tender_state_counts(),
    }


def _regulator(user: User) -> dict:
    return {
        "credit_records": credit_records_latest()[:20],
        "blacklist": blacklist_active()[:20],
        "state_counts": tender_state_counts(),
    }


def _admin(user: User) -> dict:
    return {"role_counts": user_role_counts()}


WORKBENCHES = {
    Role.BIDDER: _bidder,
    Role.AGENCY: _agency,
    Role.CENTRE: _centre,
    Role.REGULATOR: _regulator,
    Role.EXPERT: lambda user: {},  # evaluation assignments come with the expert module
    Role.ADMIN: _admin,
}


@require_safe
@signed_in
def workbench(request):
    user = request.user
    builder = WORKBENCHES.get(user.role)
    context = (
        builder(user) if builder and (user.entity_id or user.role not in {Role.BIDDER, Role.AGENCY}) else {}
    )
    notifications = notification_list_for_user(user=user)
    context.update(
        {
            "role": user.role,
            "role_label": user.get_role_display(),
            "role_template": f"trading/workbench/{user.role}.html" if builder else "",
            "notifications": notifications[:8],
            "unread": notifications.filter(read_at__isnull=True).count(),
        }
    )
    return render(request, "trading/workbench/index.html", context)


# --- notifications -------------------------------------------------------------------------------


@require_safe
@signed_in
def notification_list(request):
    page = Paginator(notification_list_for_user(user=request.user), 50).get_page(request.GET.get("page"))
    return render(request, "trading/accounts/notifications.html", {"page": page})


@require_POST
@signed_in
def notification_read(request, pk: int | None = None):
    """Mark one notification (then follow its link) or all of them as read.

    Reading is presentation state, not a decision of the platform: it is not journalled
    (see notification_mark_read).
    """
    if pk is None:
        notification_mark_read(user=request.user)
        return redirect("trading:notifications")
    note = notification_list_for_user(user=request.user).filter(pk=pk).first()
    if note is None:
        return redirect("trading:notifications")
    notification_mark_read(user=request.user, notification_ids=[pk])
    return redirect(safe_next(request, note.link) or "trading:notifications")


urlpatterns = [
    path("accounts/login/", login_view, name="login"),
    path("accounts/logout/", logout_view, name="logout"),
    path("workbench/", workbench, name="workbench"),
    path("workbench/notifications/", notification_list, name="notifications"),
    path("workbench/notifications/read/", notification_read, name="notifications_read"),
    path("workbench/notifications/<int:pk>/read/", notification_read, name="notification_read"),
]
