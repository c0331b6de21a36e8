"""Form plumbing of the pool pages: the fields of the admission and proposal forms, reading
them from POST, describing them for the templates, and errors with each field's code."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError, ValidationFailed
from experts.models import Expert
from trading.models import Role
from trading.views.accounts import form_field
from trading.views.registry.forms import form_error as _form_error

BLANK_ROWS = 2
MANAGE = (Role.CENTRE, Role.ADMIN)
READ = (Role.CENTRE, Role.ADMIN, Role.REGULATOR)
SANCTION = (Role.REGULATOR, Role.ADMIN)
PERSON_FIELDS = (
    ("name", gettext_lazy("Full name"), "text", {"maxlength": 100, "required": True}),
    ("id_number", gettext_lazy("ID number"), "text", {"maxlength": 40, "required": True}),
    ("phone", gettext_lazy("Mobile phone"), "text", {"maxlength": 20, "required": True}),
    ("email", gettext_lazy("E-mail"), "email", {"maxlength": 254}),
)
ACCOUNT_FIELDS = (
    ("username", gettext_lazy("User name (empty: the phone number)"), "text", {"maxlength": 150}),
    (
        "password",
        gettext_lazy("Initial password"),
        "password",
        {"help": gettext_lazy("Empty: the account has no usable password until one is set.")},
    ),
)
PROFILE_FIELDS = (
    (
        "region_code",
        gettext_lazy("Region (6-digit division code)"),
        "text",
        {"maxlength": 6, "required": True},
    ),
    ("employer_name", gettext_lazy("Employer"), "text", {"maxlength": 200}),
    ("employer_uscc", gettext_lazy("Employer's credit code"), "text", {"maxlength": 18}),
    ("title", gettext_lazy("Professional title"), "text", {"maxlength": 60}),
    (
        "title_level",
        gettext_lazy("Title level"),
        "select",
        {"choices": Expert.TitleLevel.choices, "required": True},
    ),
    ("group", gettext_lazy("Expert group"), "select", {"choices": Expert.Group.choices, "required": True}),
    ("birth_year", gettext_lazy("Year of birth"), "number", {}),
    ("years_in_field", gettext_lazy("Years in the field"), "number", {}),
    ("remote_ok", gettext_lazy("Accepts remote cross-region evaluation"), "checkbox", {}),
)
SPECIALTY_FIELDS = (
    (
        "main_specialty",
        gettext_lazy("Main specialty (code)"),
        "text",
        {
            "maxlength": 12,
            "required": True,
            "help": gettext_lazy("A code of the national classification, e.g. A010101."),
        },
    ),
    (
        "other_specialties",
        gettext_lazy("Other specialties (codes)"),
        "text",
        {"maxlength": 400, "help": gettext_lazy("Separated by ; or 、")},
    ),
)
ROWS = {
    "qualifications": (
        gettext_lazy("Qualifications"),
        (
            ("name", gettext_lazy("Name"), "text"),
            ("number", gettext_lazy("Certificate number"), "text"),
            ("issuer", gettext_lazy("Issued by"), "text"),
            ("valid_until", gettext_lazy("Valid until"), "date"),
        ),
    ),
    "employments": (
        gettext_lazy("Employment history (3 years back at least)"),
        (
            ("employer_name", gettext_lazy("Employer"), "text"),
            ("employer_uscc", gettext_lazy("Employer's credit code"), "text"),
            ("position", gettext_lazy("Position"), "text"),
            ("start_date", gettext_lazy("From"), "date"),
            ("end_date", gettext_lazy("Until (empty: current)"), "date"),
        ),
    ),
}


# --- reading forms ---------------------------------------------------------------------------------


def rows_from_post(post, part: str) -> list[dict]:
    """The filled rows of a repeated part, compacted (empty rows are ignored)."""
    _title, columns = ROWS[part]
    indexes = sorted(
        {
            int(m.group(1))
            for key in post
            for m in [re.match(rf"^{part}\[(\d+)\]\.", key)]
            if m and int(m.group(1)) < 50
        }
    )
    rows = []
    for i in indexes:
        row = {key: post.get(f"{part}[{i}].{key}", "").strip() for key, _label, _kind in columns}
        if any(row.values()):
            rows.append(row)
    return rows


def profile_from_post(post, *, fields=PROFILE_FIELDS) -> dict:
    data: dict[str, Any] = {}
    for name, _label, kind, _extra in fields:
        data[name] = (name in post) if kind == "checkbox" else post.get(name, "").strip()
    for name, *_rest in SPECIALTY_FIELDS:
        data[name] = post.get(name, "").strip()
    for part in ROWS:
        data[part] = rows_from_post(post, part)
    return data


def form_sections(data: dict, errors: dict, *, person: bool, fields=PROFILE_FIELDS) -> list[dict]:
    def field(name, label, kind, extra):
        return form_field(name, label, data, errors, kind=kind, **extra)

    sections = []
    if person:
        sections.append(
            {"key": "person", "title": _("The person"), "fields": [field(*f) for f in PERSON_FIELDS]}
        )
        sections.append(
            {"key": "account", "title": _("Account"), "fields": [field(*f) for f in ACCOUNT_FIELDS]}
        )
    sections.append({"key": "profile", "title": _("Profile"), "fields": [field(*f) for f in fields]})
    sections.append(
        {"key": "specialties", "title": _("Specialties"), "fields": [field(*f) for f in SPECIALTY_FIELDS]}
    )
    for part, (title, columns) in ROWS.items():
        count = len(data.get(part) or []) + BLANK_ROWS
        rows = [
            [form_field(f"{part}[{i}].{key}", label, data, errors, kind=kind) for key, label, kind in columns]
            for i in range(count)
        ]
        sections.append({"key": part, "title": title, "rows": rows, "error": errors.get(part, "")})
    return sections


def form_error(exc: DomainError) -> dict:
    """The template's view of a refused request, with each field's own code next to its message."""
    error = _form_error(exc)
    codes = exc.params.get("codes") if isinstance(exc.params.get("codes"), dict) else {}
    error["field_rows"] = [
        {"field": name, "code": codes.get(name, ""), "message": message}
        for name, message in error["field_map"].items()
    ]
    return error


def field_map(error: dict | None) -> dict:
    return error["field_map"] if error else {}


def parse_aware(value: str, name: str, errors: dict) -> dt.datetime | None:
    value = (value or "").strip()
    if not value:
        errors[name] = _("This field is required.")
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        errors[name] = _("Not a date and time.")
        return None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def parse_date(value: str, name: str, errors: dict, *, required: bool = False) -> dt.date | None:
    value = (value or "").strip()
    if not value:
        if required:
            errors[name] = _("This field is required.")
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors[name] = _("Not a date (YYYY-MM-DD).")
        return None


def raise_if_invalid(errors: dict, code: str = "form_invalid") -> None:
    if errors:
        raise ValidationFailed(_("The form has errors."), code=code, fields=errors)


PROPOSAL_FIELDS = tuple(f for f in PROFILE_FIELDS if f[0] != "birth_year")


def form_data_of(snapshot: dict) -> dict:
    """A profile snapshot as the proposal form shows it."""
    from trading.services.entities import digest_ready

    data = digest_ready(snapshot)
    specialties = data.pop("specialties")
    data["main_specialty"] = next((s["code"] for s in specialties if s["main"]), "")
    data["other_specialties"] = "; ".join(s["code"] for s in specialties if not s["main"])
    for job in data["employments"]:
        job["end_date"] = job["end_date"] or ""
    return data
