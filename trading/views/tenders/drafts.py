"""Tender management views: the list of tenders each role may see, creating a draft with its
lots and editing it until publication.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from core.errors import Conflict, DomainError, ValidationFailed
from trading.access import require_role, tender_access_manage
from trading.models import Role, Tender, TenderState
from trading.selectors_workbench import tender_list_for_user
from trading.services.tenders import tender_create, tender_update_draft
from trading.views.accounts import signed_in
from trading.views.tenders.detail import refusal
from trading.views.tenders.forms import (
    tender_data_from_instance,
    tender_data_from_post,
    tender_form,
    tender_initial,
)

PAGE_SIZE = 50


def _form_page(request, *, data: dict, error=None, status=200, tender: Tender | None = None):
    form = tender_form(data, error["field_map"] if error else {})
    return render(
        request, "trading/tenders/form.html", {"form": form, "error": error, "tender": tender}, status=status
    )


@require_safe
@signed_in
def tender_list(request):
    user = request.user
    require_role(user, Role.BIDDER, Role.AGENCY, Role.CENTRE, Role.REGULATOR, Role.ADMIN)
    state = request.GET.get("state", "")
    if state and state not in TenderState.values:
        raise ValidationFailed(
            _("The value of “%(name)s” is not valid.") % {"name": "state"},
            code="invalid_filter",
            filter="state",
        )
    qs = tender_list_for_user(user=user, state=state)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "trading/tenders/list.html",
        {
            "page": page,
            "state": state,
            "states": TenderState.choices,
            "may_create": user.role in {Role.AGENCY, Role.CENTRE, Role.ADMIN},
        },
    )


@require_http_methods(["GET", "POST"])
@signed_in
def tender_create_view(request):
    require_role(request.user, Role.AGENCY, Role.CENTRE, Role.ADMIN)
    if request.method != "POST":
        return _form_page(request, data=tender_initial(request.user))
    data, payload, parse_errors = tender_data_from_post(request.POST)
    try:
        if parse_errors:
            raise ValidationFailed(
                _("The tender form has errors."), code="tender_invalid", fields=parse_errors
            )
        tender = tender_create(actor=request.user, data=payload)
    except DomainError as exc:
        return _form_page(request, data=data, error=refusal(exc), status=exc.status)
    messages.success(request, _("The draft tender %(code)s was saved.") % {"code": tender.code})
    return redirect("trading:tender_detail", pk=tender.pk)


@require_http_methods(["GET", "POST"])
@signed_in
def tender_edit(request, pk: int):
    tender = tender_access_manage(user=request.user, tender=get_object_or_404(Tender, pk=pk))
    if tender.state != TenderState.DRAFT:
        raise Conflict(
            _("Only a draft can be edited; publish an amendment instead."), code="tender_not_draft"
        )
    if request.method != "POST":
        return _form_page(request, data=tender_data_from_instance(tender), tender=tender)
    data, payload, parse_errors = tender_data_from_post(request.POST)
    try:
        if parse_errors:
            raise ValidationFailed(
                _("The tender form has errors."), code="tender_invalid", fields=parse_errors
            )
        tender_update_draft(tender=tender, actor=request.user, data=payload)
    except DomainError as exc:
        return _form_page(request, data=data, error=refusal(exc), status=exc.status, tender=tender)
    messages.success(request, _("The draft was saved."))
    return redirect("trading:tender_detail", pk=tender.pk)
