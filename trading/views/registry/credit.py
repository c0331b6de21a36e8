"""Registry views of credit (DOMAIN C11, D4): an entity's credit records, which regulators add
and revoke, and the blacklist of every active bar on participation.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.errors import DomainError, ValidationFailed
from trading.access import entity_access_private, require_role
from trading.models import CreditRecord, MarketEntity, Role
from trading.selectors import entity_blacklist_entry
from trading.selectors_workbench import blacklist_active, credit_records_of_entity
from trading.services.credit import credit_record_create, credit_record_revoke
from trading.views.accounts import form_field, signed_in
from trading.views.registry.forms import form_error


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
            "records": credit_records_of_entity(entity=entity),
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
        return _credit_page(request, entity, data=request.POST, error=form_error(exc), status=exc.status)
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
            return _blacklist_page(request, error=form_error(exc), status=exc.status)
        return _credit_page(request, record.entity, error=form_error(exc), status=exc.status)
    messages.success(request, _("The credit record was revoked."))
    if record.entity is None:
        return redirect("trading:blacklist")
    return redirect("trading:entity_credit", pk=record.entity_id)


def _blacklist_page(request, *, error=None, status=200):
    return render(
        request,
        "trading/registry/blacklist.html",
        {
            "records": blacklist_active(),
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
