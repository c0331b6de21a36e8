"""Shared pieces of the pool services: the expert's journal stream, [S]/[G] settings, field-level
validation errors and field parsers, access checks and the expert's notifications."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from core.errors import AccessDenied, Conflict, ValidationFailed
from experts.models import Expert
from trading.access import require_login
from trading.codes import InvalidCode, uscc_validate
from trading.models import MarketEntity, Notification, Role, User
from trading.regions import PROVINCES, REGIONS

MANAGE_ROLES = (Role.CENTRE, Role.ADMIN)
SANCTION_ROLES = (Role.REGULATOR, Role.ADMIN)
# Credit records are data in the platform's official language, like the regulator's own entries.
RESTRICTED_EVALUATION = "担任评标专家"
PHONE_RE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")
SPLIT_RE = re.compile(r"[;；、,，\s]+")


def expert_stream(expert: Expert) -> str:
    """The expert's journal stream (named like trading's `entity:<pk>` / `person:<pk>`)."""
    return f"expert:{expert.pk}"


# --- validation --------------------------------------------------------------------------------


class FieldErrors:
    """Errors of a whole form, one per field: a stable code and a message."""

    def __init__(self) -> None:
        self.messages: dict[str, str] = {}
        self.codes: dict[str, str] = {}

    def add(self, field: str, code: str, message: Any) -> None:
        if field not in self.codes:
            self.codes[field] = code
            self.messages[field] = str(message)

    def __bool__(self) -> bool:
        return bool(self.codes)

    def raise_if_any(self, code: str = "expert_invalid") -> None:
        if self.codes:
            first = next(iter(self.codes))
            raise ValidationFailed(
                _("The expert's data has errors: %(field)s: %(msg)s")
                % {"field": first, "msg": self.messages[first]},
                code=code,
                fields=dict(self.messages),
                codes=dict(self.codes),
            )


def add_required(e: FieldErrors, field: str) -> None:
    e.add(field, "required", _("This field is required."))


def text_field(
    data: dict, key: str, e: FieldErrors, *, max_len: int, required: bool = False, field: str = ""
) -> str:
    field = field or key
    raw = data.get(key)
    value = "" if raw is None else str(raw).strip()
    if required and not value:
        add_required(e, field)
    elif len(value) > max_len:
        e.add(field, "too_long", _("Too long (at most %(n)s characters).") % {"n": max_len})
    return value[:max_len]


def date_field(value: Any, field: str, e: FieldErrors, *, required: bool = False) -> dt.date | None:
    if value in (None, ""):
        if required:
            add_required(e, field)
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        e.add(field, "date_invalid", _("Not a date (YYYY-MM-DD)."))
        return None


def int_field(value: Any, field: str, e: FieldErrors, *, low: int, high: int) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        e.add(field, "number_invalid", _("Not a whole number."))
        return None
    if not low <= number <= high:
        e.add(field, "out_of_range", _("Must be between %(low)s and %(high)s.") % {"low": low, "high": high})
    return number


def as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "y", "on", "是"}


def uscc_field(value: str, field: str, e: FieldErrors) -> str:
    if not value:
        return ""
    try:
        return uscc_validate(value)
    except InvalidCode as exc:
        e.add(field, exc.code, exc.message)
        return ""


def region_check(value: str) -> tuple[str, Any] | None:
    """(code, message) when `value` is not a GB/T 2260 code we know, else None."""
    if not (value.isdigit() and len(value) == 6):
        return "region_invalid", _("A region is a 6-digit administrative division code.")
    province_known = value[:2] + "0000" in PROVINCES
    # Guangxi's cities are listed: a city code there must be one of them (counties fall back to it).
    city_known = value[:2] != "45" or value[2:4] == "00" or value[:4] + "00" in REGIONS
    if not (province_known and city_known):
        return "region_unknown", _("No such administrative division.")
    return None


def resident_id_ok(value: str) -> bool:
    """18 characters, the GB 11643 check character and a real birth date. stdnum's full check
    also demands that the place code existed in the birth year, which refuses real IDs issued
    under codes created later (a county renamed, a person registered after moving)."""
    value = (value or "").strip().upper()
    if len(value) != 18 or not value[:17].isdigit() or ric.calc_check_digit(value) != value[-1]:
        return False
    try:
        ric.get_birth_date(value)
    except ValidationError:
        return False
    return True


def split_codes(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v).strip().upper() for v in value if str(v).strip()]
    return [c.upper() for c in SPLIT_RE.split(str(value or "").strip()) if c]


def entity_by_uscc(uscc: str) -> MarketEntity | None:
    return MarketEntity.objects.filter(uscc=uscc).first() if uscc else None


def notify_expert(
    expert: Expert, *, kind: str, subject: Any, body: Any = "", link: str = "/experts/me/"
) -> None:
    Notification.objects.create(
        user_id=expert.user_id,
        kind=kind,
        subject=str(subject)[:200],
        body=str(body),
        link=link,
        created_at=timezone.now(),
    )


def require_self(actor: User, expert: Expert) -> None:
    require_login(actor)
    if actor.pk != expert.user_id:
        raise AccessDenied(_("Only the expert may do this for their own profile."), code="expert_not_yours")


def require_self_or_manager(actor: User, expert: Expert) -> None:
    require_login(actor)
    if actor.pk != expert.user_id and actor.role not in MANAGE_ROLES:
        raise AccessDenied(_("Only the expert or centre staff may do this."), code="expert_not_yours")


def require_not_removed(expert: Expert) -> None:
    if expert.status == Expert.Status.REMOVED:
        raise Conflict(_("This expert was removed from the pool."), code="expert_removed")
