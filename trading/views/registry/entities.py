"""Registry views: registration (anyone may apply), the entity list, an entity's page with its
public and private parts, its version history, and change proposals by its own staff.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_safe

from core.errors import DomainError, NotFound, ValidationFailed
from core.throttle import rate_limit
from trading.access import READ_ALL_ROLES, can_read_private, entity_access_edit, entity_access_private
from trading.models import EntityKind, EntityStatus, MarketEntity, Role
from trading.selectors import credit_active, entity_blacklist_entry
from trading.selectors_workbench import entity_changes_proposed, entity_search, entity_versions
from trading.services.entities import entity_change_propose, entity_register, entity_snapshot
from trading.views.accounts import form_field, signed_in
from trading.views.registry.forms import entity_data_from_post, entity_form, flatten, form_error

PAGE_SIZE = 50

# --- registration ------------------------------------------------------------------------------------


@csrf_protect
@require_http_methods(["GET", "POST"])
@rate_limit("register")
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
            error, status = form_error(exc), exc.status
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
    if status and (not reads_all or status not in EntityStatus.values):
        raise ValidationFailed(
            _("The value of “%(name)s” is not valid.") % {"name": "status"},
            code="invalid_filter",
            filter="status",
        )
    qs = entity_search(reads_all=reads_all, status=status, q=q)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
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
                "pending_changes": entity_changes_proposed(entity=entity),
            }
        )
    return render(request, "trading/registry/entity_detail.html", context)


@require_safe
@signed_in
def entity_history(request, pk: int):
    entity = entity_access_private(user=request.user, entity=get_object_or_404(MarketEntity, pk=pk))
    versions = [{"version": v, "rows": list(flatten(v.data).items())} for v in entity_versions(entity=entity)]
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
            error, status = form_error(exc), exc.status
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
