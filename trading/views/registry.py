"""Views: the market-entity registry — the one-form registration (一表申请), entity pages with
their public and private parts, change proposals and their verification, credit and the blacklist.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.errors import DomainError, NotFound, ValidationFailed
from trading.access import (
    READ_ALL_ROLES,
    can_read_private,
    entity_access_edit,
    entity_access_private,
    require_role,
)
from trading.models import (
    CreditRecord,
    EntityKind,
    EntityStatus,
    EntityVersion,
    MarketEntity,
    PositionRole,
    Role,
)
from trading.selectors import credit_active, entities_public, entity_blacklist_entry
from trading.services.credit import credit_record_create, credit_record_revoke
from trading.services.entities import (
    entity_change_decide,
    entity_change_propose,
    entity_register,
    entity_snapshot,
    entity_verify,
)
from trading.views.accounts import error_context, form_field, signed_in

PAGE_SIZE = 50
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


def _error(exc: DomainError) -> dict:
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


# --- registration ------------------------------------------------------------------------------------


@csrf_protect
@require_http_methods(["GET", "POST"])
def register(request):
    """Anyone may apply; the entity stays pending until the centre verifies it."""
    data: dict = {"kind": EntityKind.COMPANY, "is_bidder": True}
    error, status = None, 200
    if request.method == "POST":
        data = entity_data_from_post(request.POST)
        actor = request.user if request.user.is_authenticated else None
        try:
            entity = entity_register(data=data, actor=actor)
        except DomainError as exc:
            error, status = _error(exc), exc.status
        else:
            request.session["registered_entity"] = {"name": entity.name, "uscc": entity.uscc}
            return redirect("trading:entity_register_done")
    sections = entity_form(data, error["field_map"] if error else {})
    return render(
        request, "trading/registry/register.html", {"sections": sections, "error": error}, status=status
    )


@require_safe
def register_done(request):
    registered = request.session.get("registered_entity")
    if not registered:
        return redirect("trading:entity_register")
    return render(request, "trading/registry/register_done.html", {"registered": registered})


# --- entity pages ------------------------------------------------------------------------------------


@require_safe
@signed_in
def entity_list(request):
    reads_all = request.user.role in READ_ALL_ROLES
    q = request.GET.get("q", "").strip()[:100]
    status = request.GET.get("status", "")
    qs = MarketEntity.objects.all() if reads_all else entities_public()
    if status:
        if not reads_all or status not in EntityStatus.values:
            raise ValidationFailed(
                _("The value of “%(name)s” is not valid.") % {"name": "status"},
                code="invalid_filter",
                filter="status",
            )
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(uscc=q.upper()))
    page = Paginator(qs.order_by("name", "id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "trading/registry/entity_list.html",
        {"page": page, "q": q, "status": status, "reads_all": reads_all, "statuses": EntityStatus.choices},
    )


def _entity_visible(user, pk: int) -> MarketEntity:
    """Verified entities are known to every signed-in user; others only to those who read private data."""
    entity = get_object_or_404(MarketEntity.objects.select_related("legal_rep"), pk=pk)
    if entity.status != EntityStatus.VERIFIED and not can_read_private(user, entity):
        raise NotFound(code="not_found")
    return entity


@require_safe
@signed_in
def entity_detail(request, pk: int):
    entity = _entity_visible(request.user, pk)
    private = can_read_private(request.user, entity)
    context = {
        "entity": entity,
        "private": private,
        "can_edit": request.user.entity_id == entity.pk,
        "can_verify": request.user.role in {Role.CENTRE, Role.ADMIN}
        and entity.status == EntityStatus.PENDING,
        "qualifications": entity.qualifications.order_by("valid_from", "id"),
        "shareholders": entity.shareholders.select_related("person", "holder_entity").order_by(
            "-share_pct", "id"
        ),
        "blacklist_entry": entity_blacklist_entry(entity),
    }
    if private:
        context.update(
            {
                "positions": entity.positions.select_related("person").order_by("role", "id"),
                "bank_accounts": entity.bank_accounts.order_by("-is_basic", "id"),
                "credit_records": credit_active(entity=entity),
                "pending_changes": entity.versions.filter(state=EntityVersion.State.PROPOSED).order_by(
                    "submitted_at"
                ),
            }
        )
    return render(request, "trading/registry/entity_detail.html", context)


@require_safe
@signed_in
def entity_history(request, pk: int):
    entity = entity_access_private(user=request.user, entity=get_object_or_404(MarketEntity, pk=pk))
    versions = [
        {"version": v, "rows": list(flatten(v.data).items())}
        for v in entity.versions.select_related("submitted_by", "decided_by").order_by("submitted_at", "id")
    ]
    return render(request, "trading/registry/entity_history.html", {"entity": entity, "versions": versions})


@csrf_protect
@require_http_methods(["GET", "POST"])
@signed_in
def entity_change(request, pk: int):
    """The entity's own staff propose a new state of the whole form; the centre decides."""
    entity = entity_access_edit(user=request.user, entity=get_object_or_404(MarketEntity, pk=pk))
    data, reason = entity_snapshot(entity), ""
    error, status = None, 200
    if request.method == "POST":
        data = entity_data_from_post(request.POST)
        data["uscc"] = entity.uscc  # the code of a registered entity never changes
        reason = request.POST.get("reason", "").strip()
        try:
            entity_change_propose(entity=entity, data=data, actor=request.user, reason=reason)
        except DomainError as exc:
            error, status = _error(exc), exc.status
        else:
            messages.success(
                request, _("Your change was submitted. It takes effect once the trading centre approves it.")
            )
            return redirect("trading:entity_detail", pk=entity.pk)
    field_map = error["field_map"] if error else {}
    return render(
        request,
        "trading/registry/entity_change.html",
        {
            "entity": entity,
            "sections": entity_form(data, field_map, with_uscc=False),
            "error": error,
            "reason": form_field(
                "reason",
                _("What changed and why"),
                {"reason": reason},
                field_map,
                kind="textarea",
                required=True,
            ),
        },
        status=status,
    )


# --- verification by the trading centre -------------------------------------------------------------


def _pending_page(request, *, error=None, status=200):
    return render(
        request,
        "trading/registry/pending.html",
        {
            "entities": MarketEntity.objects.filter(status=EntityStatus.PENDING)
            .select_related("legal_rep")
            .order_by("created_at", "id"),
            "changes": EntityVersion.objects.filter(state=EntityVersion.State.PROPOSED)
            .exclude(reason="registration")
            .select_related("entity", "submitted_by")
            .order_by("submitted_at", "id"),
            "error": error,
        },
        status=status,
    )


def _decision(request) -> bool:
    decision = request.POST.get("decision")
    if decision not in {"approve", "reject"}:
        raise ValidationFailed(_("Choose approve or reject."), code="decision_invalid")
    return decision == "approve"


@require_safe
@signed_in
def pending(request):
    require_role(request.user, Role.CENTRE, Role.ADMIN)
    return _pending_page(request)


@require_POST
@signed_in
def entity_verify_view(request, pk: int):
    require_role(request.user, Role.CENTRE, Role.ADMIN)
    entity = get_object_or_404(MarketEntity, pk=pk)
    try:
        approve = _decision(request)
        entity_verify(
            entity=entity, actor=request.user, approve=approve, reason=request.POST.get("reason", "")
        )
    except DomainError as exc:
        return _pending_page(request, error=_error(exc), status=exc.status)
    if approve:
        messages.success(request, _("%(name)s is verified.") % {"name": entity.name})
    else:
        messages.success(request, _("The registration of %(name)s was rejected.") % {"name": entity.name})
    return redirect("trading:entity_pending")


def _change_page(request, change: EntityVersion, *, error=None, status=200):
    entity = change.entity
    if change.reason == "registration":
        base, base_label = {}, _("nothing (first registration)")
    elif change.state == EntityVersion.State.APPROVED and change.version:
        previous = entity.versions.filter(version=change.version - 1).first()
        base, base_label = (previous.data if previous else {}), _("the version before it")
    else:
        base, base_label = entity_snapshot(entity), _("the registration as it stands")
    return render(
        request,
        "trading/registry/change_detail.html",
        {
            "change": change,
            "entity": entity,
            "diff": snapshot_diff(base, change.data),
            "base_label": base_label,
            "can_decide": request.user.role in {Role.CENTRE, Role.ADMIN}
            and change.state == EntityVersion.State.PROPOSED
            and change.reason != "registration",
            "error": error,
        },
        status=status,
    )


@require_safe
@signed_in
def change_detail(request, pk: int):
    change = get_object_or_404(
        EntityVersion.objects.select_related("entity", "submitted_by", "decided_by"), pk=pk
    )
    entity_access_private(user=request.user, entity=change.entity)
    return _change_page(request, change)


@require_POST
@signed_in
def change_decide(request, pk: int):
    require_role(request.user, Role.CENTRE, Role.ADMIN)
    change = get_object_or_404(EntityVersion.objects.select_related("entity"), pk=pk)
    try:
        approve = _decision(request)
        entity_change_decide(
            change=change, actor=request.user, approve=approve, note=request.POST.get("note", "")
        )
    except DomainError as exc:
        change.refresh_from_db()
        return _change_page(request, change, error=_error(exc), status=exc.status)
    messages.success(request, _("The change was approved.") if approve else _("The change was rejected."))
    return redirect("trading:entity_pending")


# --- credit records and the blacklist (regulators decide) ----------------------------------------


def _credit_form(data: dict, errors: dict) -> list[dict]:
    def field(name, label, kind="text", **extra):
        return form_field(name, label, data, errors, kind=kind, **extra)

    return [
        field("kind", _("Kind"), "select", choices=CreditRecord.Kind.choices, required=True),
        field("legal_basis", _("Legal basis (处罚依据)"), required=True, maxlength=300),
        field("restricted_action", _("Restricted action"), maxlength=200),
        field("blocks_participation", _("Bars participation (blacklist) for the period"), "checkbox"),
        field("fine_amount", _("Fine (yuan)"), "number", step="0.01"),
        field("starts_on", _("From"), "date", required=True),
        field("ends_on", _("Until (empty: permanent)"), "date"),
        field("description", _("Facts"), "textarea"),
        field("source", _("Source of the decision (e.g. alert:17)"), maxlength=120),
    ]


def _credit_values(post) -> dict:
    """Typed arguments for credit_record_create, or ValidationFailed listing the bad fields."""
    errors: dict[str, str] = {}

    def day(name: str, required: bool) -> dt.date | None:
        raw = post.get(name, "").strip()
        if not raw:
            if required:
                errors[name] = _("This field is required.")
            return None
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            errors[name] = _("Not a date (YYYY-MM-DD).")
            return None

    fine = None
    if post.get("fine_amount", "").strip():
        try:
            fine = Decimal(post["fine_amount"].strip())
            if not fine.is_finite() or fine != fine.quantize(Decimal("0.01")):
                raise InvalidOperation
        except InvalidOperation:
            errors["fine_amount"] = _("An amount in yuan with at most two decimals.")
    values = {
        "kind": post.get("kind", ""),
        "legal_basis": post.get("legal_basis", "")[:300],
        "restricted_action": post.get("restricted_action", "").strip()[:200],
        "blocks_participation": "blocks_participation" in post,
        "fine_amount": fine,
        "starts_on": day("starts_on", True),
        "ends_on": day("ends_on", False),
        "description": post.get("description", "").strip(),
        "source": post.get("source", "").strip()[:120],
    }
    if errors:
        raise ValidationFailed(_("The credit record has errors."), code="credit_form_invalid", fields=errors)
    return values


def _credit_page(request, entity: MarketEntity, *, data=None, error=None, status=200):
    may_decide = request.user.role in {Role.REGULATOR, Role.ADMIN}
    return render(
        request,
        "trading/registry/credit.html",
        {
            "entity": entity,
            "records": entity.credit_records.select_related("decided_by").order_by("-starts_on", "-id"),
            "blacklist_entry": entity_blacklist_entry(entity),
            "may_decide": may_decide,
            "fields": _credit_form(data or {}, error["field_map"] if error else {}) if may_decide else [],
            "error": error,
        },
        status=status,
    )


@csrf_protect
@require_http_methods(["GET", "POST"])
@signed_in
def entity_credit(request, pk: int):
    entity = entity_access_private(user=request.user, entity=get_object_or_404(MarketEntity, pk=pk))
    if request.method == "GET":
        return _credit_page(request, entity)
    require_role(request.user, Role.REGULATOR, Role.ADMIN)
    try:
        record = credit_record_create(actor=request.user, entity=entity, **_credit_values(request.POST))
    except DomainError as exc:
        return _credit_page(request, entity, data=request.POST, error=_error(exc), status=exc.status)
    messages.success(
        request, _("The credit record was added (%(kind)s).") % {"kind": record.get_kind_display()}
    )
    return redirect("trading:entity_credit", pk=entity.pk)


@require_POST
@signed_in
def credit_revoke(request, pk: int):
    require_role(request.user, Role.REGULATOR, Role.ADMIN)
    record = get_object_or_404(CreditRecord.objects.select_related("entity"), pk=pk)
    try:
        credit_record_revoke(record=record, actor=request.user, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        if record.entity is None:
            return _blacklist_page(request, error=_error(exc), status=exc.status)
        return _credit_page(request, record.entity, error=_error(exc), status=exc.status)
    messages.success(request, _("The credit record was revoked."))
    if record.entity is None:
        return redirect("trading:blacklist")
    return redirect("trading:entity_credit", pk=record.entity_id)


def _blacklist_page(request, *, error=None, status=200):
    records = credit_active().filter(blocks_participation=True).select_related("entity", "person")
    return render(
        request,
        "trading/registry/blacklist.html",
        {
            "records": records.order_by("ends_on", "id"),
            "error": error,
            "may_decide": request.user.role in {Role.REGULATOR, Role.ADMIN},
        },
        status=status,
    )


@require_safe
@signed_in
def blacklist(request):
    """Active bars: who may not take part, until when, and on what legal basis (DOMAIN C11, D4)."""
    return _blacklist_page(request)


urlpatterns = [
    path("registry/register/", register, name="entity_register"),
    path("registry/register/done/", register_done, name="entity_register_done"),
    path("registry/entities/", entity_list, name="entity_list"),
    path("registry/entities/<int:pk>/", entity_detail, name="entity_detail"),
    path("registry/entities/<int:pk>/history/", entity_history, name="entity_history"),
    path("registry/entities/<int:pk>/change/", entity_change, name="entity_change"),
    path("registry/entities/<int:pk>/verify/", entity_verify_view, name="entity_verify"),
    path("registry/entities/<int:pk>/credit/", entity_credit, name="entity_credit"),
    path("registry/pending/", pending, name="entity_pending"),
    path("registry/changes/<int:pk>/", change_detail, name="entity_change_detail"),
    path("registry/changes/<int:pk>/decide/", change_decide, name="entity_change_decide"),
    path("registry/credit/<int:pk>/revoke/", credit_revoke, name="credit_revoke"),
    path("registry/blacklist/", blacklist, name="blacklist"),
]
