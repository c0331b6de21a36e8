"""The registry's one form (一表申请): its parts, reading it from POST, describing it for the
template, and comparing two snapshots of it (what a change proposal would change).
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError
from trading.models import EntityKind, PositionRole
from trading.views.accounts import error_context, form_field

# Rows offered for each repeated part of the form (no script: empty rows are simply ignored).
ROWS = {"qualifications": 3, "shareholders": 5, "positions": 5, "bank_accounts": 3}
# Errors that the services raise without a field, and the field they are about.
CODE_FIELDS = {
    "reason_required": "reason",
    "legal_basis_required": "legal_basis",
    "credit_period_invalid": "ends_on",
    "fine_amount_required": "fine_amount",
    "credit_kind_unknown": "kind",
    "entity_exists": "uscc",
}


def form_error(exc: DomainError) -> dict:
    """error_context(), with a field-less error placed next to the field it is about."""
    error = error_context(exc)
    if not error["field_map"] and exc.code in CODE_FIELDS:
        error["field_map"] = {CODE_FIELDS[exc.code]: error["message"]}
    return error


# --- the one form: its parts, reading it from POST, describing it for the template ------------

SCALARS = (
    ("uscc", gettext_lazy("Unified social credit code"), "text", {"maxlength": 18, "required": True}),
    ("name", gettext_lazy("Name"), "text", {"maxlength": 200, "required": True}),
    ("name_en", gettext_lazy("English name"), "text", {"maxlength": 200}),
    ("kind", gettext_lazy("Type"), "select", {"choices": EntityKind.choices, "required": True}),
    ("is_bidder", gettext_lazy("Bidder / supplier"), "checkbox", {}),
    ("is_tenderee", gettext_lazy("Tenderee / purchaser"), "checkbox", {}),
    ("is_agency", gettext_lazy("Tendering agency"), "checkbox", {}),
    (
        "registered_capital",
        gettext_lazy("Registered capital (yuan)"),
        "number",
        {"step": "0.01", "required": True},
    ),
    ("founded_on", gettext_lazy("Founded on"), "date", {}),
    (
        "region_code",
        gettext_lazy("Region (6-digit division code)"),
        "text",
        {"maxlength": 6, "required": True},
    ),
    ("address", gettext_lazy("Address"), "text", {"maxlength": 300, "required": True}),
    ("business_scope", gettext_lazy("Business scope"), "textarea", {}),
    ("contact_name", gettext_lazy("Contact person"), "text", {"maxlength": 100, "required": True}),
    ("contact_phone", gettext_lazy("Contact phone"), "text", {"maxlength": 20, "required": True}),
    ("contact_email", gettext_lazy("Contact email"), "email", {"maxlength": 254}),
)
FLAGS = ("is_bidder", "is_tenderee", "is_agency")
PERSON_PARTS = (
    ("name", gettext_lazy("Full name")),
    ("id_number", gettext_lazy("ID number")),
    ("phone", gettext_lazy("Phone")),
)
# Every repeated part: its columns as (key, label, kind, extra); "person.x" keys are nested.
PARTS = {
    "qualifications": (
        gettext_lazy("Qualifications and certificates"),
        (
            ("kind", gettext_lazy("Kind"), "text", {}),
            ("name", gettext_lazy("Name"), "text", {}),
            ("level", gettext_lazy("Grade"), "text", {}),
            ("number", gettext_lazy("Certificate number"), "text", {}),
            ("issuer", gettext_lazy("Issued by"), "text", {}),
            ("valid_from", gettext_lazy("Valid from"), "date", {}),
            ("valid_until", gettext_lazy("Valid until"), "date", {}),
        ),
    ),
    "shareholders": (
        gettext_lazy("Shareholders"),
        (
            ("person.name", gettext_lazy("Shareholder's name (natural person)"), "text", {}),
            ("person.id_number", gettext_lazy("Shareholder's ID number"), "text", {}),
            (
                "entity_uscc",
                gettext_lazy("Or: credit code of a shareholder entity"),
                "text",
                {"maxlength": 18},
            ),
            ("share_pct", gettext_lazy("Share (%)"), "number", {"step": "0.001"}),
            ("is_controlling", gettext_lazy("Controlling shareholder / actual controller"), "checkbox", {}),
        ),
    ),
    "positions": (
        gettext_lazy("Staff and officers"),
        (
            ("role", gettext_lazy("Role"), "select", {"choices": PositionRole.choices}),
            ("person.name", gettext_lazy("Full name"), "text", {}),
            ("person.id_number", gettext_lazy("ID number"), "text", {}),
            ("person.phone", gettext_lazy("Phone"), "text", {}),
            ("title", gettext_lazy("Job title"), "text", {}),
            ("professional_reg_no", gettext_lazy("Registered-professional number"), "text", {}),
            ("professional_kind", gettext_lazy("Registration kind"), "text", {}),
            ("start_date", gettext_lazy("From"), "date", {}),
            ("end_date", gettext_lazy("Until"), "date", {}),
        ),
    ),
    "bank_accounts": (
        gettext_lazy("Bank accounts"),
        (
            ("bank_name", gettext_lazy("Bank"), "text", {}),
            ("account_name", gettext_lazy("Account name"), "text", {}),
            ("account_number", gettext_lazy("Account number"), "text", {}),
            ("is_basic", gettext_lazy("Basic account (基本账户)"), "checkbox", {}),
        ),
    ),
}


def _set_path(target: dict, key: str, value: Any) -> None:
    head, _dot, rest = key.partition(".")
    if rest:
        _set_path(target.setdefault(head, {}), rest, value)
    else:
        target[head] = value


def _rows_from_post(post, part: str) -> list[dict]:
    """The filled rows of one repeated part, compacted: blank rows are dropped."""
    _title, columns = PARTS[part]
    indexes = sorted(
        {
            int(m.group(1))
            for key in post
            for m in [re.match(rf"^{part}\[(\d+)\]\.", key)]
            if m and int(m.group(1)) < 100
        }
    )
    rows = []
    for i in indexes:
        row: dict = {}
        filled = False
        for key, _label, kind, _extra in columns:
            name = f"{part}[{i}].{key}"
            if kind == "checkbox":
                value: Any = name in post
            else:
                value = post.get(name, "").strip()
                # A role chosen in an otherwise empty row is not a filled row.
                filled = filled or (bool(value) and kind != "select")
            _set_path(row, key, value)
        if filled:
            rows.append(row)
    if part == "shareholders":
        for row in rows:  # an entity shareholder has no person, and vice versa
            if row.get("entity_uscc"):
                row.pop("person", None)
            else:
                row.pop("entity_uscc", None)
    return rows


def entity_data_from_post(post) -> dict:
    """The nested dict entity_register / entity_change_propose take, from the flat form."""
    data: dict[str, Any] = {}
    for name, _label, kind, _extra in SCALARS:
        data[name] = (name in post) if kind == "checkbox" else post.get(name, "").strip()
    data["legal_rep"] = {
        key: post.get(f"legal_rep.{key}", "").strip() for key in ("name", "id_number", "phone", "email")
    }
    for part in PARTS:
        data[part] = _rows_from_post(post, part)
    return data


def entity_form(data: dict, errors: dict, *, with_uscc: bool = True) -> list[dict]:
    """The form as sections of field descriptions (see templates/trading/_field.html)."""

    def field(name, label, kind="text", **extra):
        return form_field(name, label, data, errors, kind=kind, **extra)

    scalars = [
        field(n, label, kind, **extra) for n, label, kind, extra in SCALARS if with_uscc or n != "uscc"
    ]
    contact = {"contact_name", "contact_phone", "contact_email"}
    sections = [
        {
            "key": "entity",
            "title": _("The entity"),
            "fields": [f for f in scalars if f["name"] not in contact],
        },
        {"key": "contact", "title": _("Contact"), "fields": [f for f in scalars if f["name"] in contact]},
        {
            "key": "legal_rep",
            "title": _("Legal representative"),
            "fields": [field(f"legal_rep.{k}", label, required=k != "phone") for k, label in PERSON_PARTS]
            + [field("legal_rep.email", _("Email"), "email")],
        },
    ]
    for part, (title, columns) in PARTS.items():
        existing = data.get(part) or []
        count = max(ROWS[part], len(existing) + 1)
        rows = [
            [field(f"{part}[{i}].{key}", label, kind, **extra) for key, label, kind, extra in columns]
            for i in range(count)
        ]
        sections.append({"key": part, "title": title, "rows": rows, "error": errors.get(part, "")})
    return sections


# --- snapshots: flatten and compare --------------------------------------------------------------


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    text = str(value)
    # 10000000.000 (form, 3 places) and 10000000.00 (column, 2 places) are the same amount.
    if re.fullmatch(r"-?\d+\.\d+", text):
        text = text.rstrip("0").rstrip(".")
    return text


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{i}]"))
    else:
        out[prefix] = _display(value)
    return out


def snapshot_diff(old: dict, new: dict) -> list[dict]:
    """Rows that differ between two snapshots: changed, added or removed."""
    a, b = flatten(old), flatten(new)
    rows = []
    for key in [*a, *(k for k in b if k not in a)]:
        before, after = a.get(key), b.get(key)
        if before == after:
            continue
        status = "added" if before is None else "removed" if after is None else "changed"
        rows.append({"path": key, "old": before or "", "new": after or "", "status": status})
    return rows
