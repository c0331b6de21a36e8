"""Registry views of the trading centre: the verification queue, verifying a registration, and
reading and deciding a change proposal (shown as a diff against what it would replace).
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from core.errors import DomainError, ValidationFailed
from trading.access import entity_access_private, require_role
from trading.models import EntityVersion, MarketEntity, Role
from trading.selectors_workbench import entity_changes_pending, entity_registrations_pending
from trading.services.entities import entity_change_decide, entity_snapshot, entity_verify
from trading.views.accounts import signed_in
from trading.views.registry.forms import form_error, snapshot_diff


def _pending_page(request, *, error=None, status=200):
    return render(
        request,
        "trading/registry/pending.html",
        {
            "entities": entity_registrations_pending(),
            "changes": entity_changes_pending(),
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
        return _pending_page(request, error=form_error(exc), status=exc.status)
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
        return _change_page(request, change, error=form_error(exc), status=exc.status)
    messages.success(request, _("The change was approved.") if approve else _("The change was rejected."))
    return redirect("trading:entity_pending")
