"""Sanction pages (issue 7 item 5): the form a supervising department decides a sanction with (started
from a tender, complaint or tip-off), the list of its sanctions and one sanction with its credit record.
Thin: parse, check access, call a service, render."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_safe

from core.errors import AccessDenied, DomainError, ValidationFailed
from supervision.models import Sanction
from supervision.selectors.sanctions import (
    READERS,
    expert_by_reference,
    sanction_context,
    sanction_get_for_reader,
    sanction_list,
    suggested_entities,
)
from supervision.selectors.tipoffs import entities_match
from supervision.services.sanctions import DISQUALIFICATION_YEARS, sanction_decide
from supervision.views.common import choice, paged
from trading.access import require_role
from trading.views.accounts import error_context, signed_in

FIELDS = ("kind", "entity", "expert", "years", "fine_amount", "starts_on", "suspended_until", "legal_basis",
          "reason")  # fmt: skip


def _posted(post) -> dict:
    limits = {"legal_basis": 301, "reason": 20_001, "entity": 250}
    return {name: post.get(name, "").strip()[: limits.get(name, 40)] for name in FIELDS}


def _date(raw: str, field: str) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        message = _("A date (YYYY-MM-DD).")
        raise ValidationFailed(message, code="date_invalid", fields={field: message}) from None


def _entity(raw: str):
    if not raw:
        return None
    found = entities_match(raw, field="entity")
    if len(found) != 1:
        message = _("Name one entity.")
        raise ValidationFailed(message, code="entity_one", fields={"entity": message})
    return found[0]


def _years(raw: str) -> int | None:
    if not raw:
        return None
    if raw not in {str(y) for y in DISQUALIFICATION_YEARS}:
        message = _("A disqualification lasts 1 to 3 years.")
        raise ValidationFailed(message, code="years_invalid", fields={"years": message})
    return int(raw)


def _parse(posted: dict) -> dict:
    """Typed arguments for sanction_decide; every field's problem reported at once."""
    parsers = {
        "entity": lambda: _entity(posted["entity"]),
        "expert": lambda: expert_by_reference(posted["expert"]),
        "years": lambda: _years(posted["years"]),
        "starts_on": lambda: _date(posted["starts_on"], "starts_on"),
        "suspended_until": lambda: _date(posted["suspended_until"], "suspended_until"),
    }
    out, problems = {}, []
    for name, parse in parsers.items():
        try:
            out[name] = parse()
        except ValidationFailed as exc:
            problems.append(exc)
    if problems:
        fields: dict = {}
        for exc in problems:
            fields.update(exc.params.get("fields") or {})
        raise ValidationFailed(problems[0].message, code=problems[0].code, fields=fields)
    return {
        **out,
        "kind": posted["kind"],
        "legal_basis": posted["legal_basis"],
        "reason": posted["reason"],
        "fine_amount": posted["fine_amount"] or None,
    }


def _new_page(request, context: dict, *, posted: dict, error=None, status: int = 200):
    return render(
        request,
        "supervision/sanctions/new.html",
        {
            "context": context,
            "suggested": suggested_entities(context),
            "posted": posted,
            "kinds": Sanction.Kind.choices,
            "years": [str(y) for y in DISQUALIFICATION_YEARS],
            "today": timezone.localdate().isoformat(),
            "error": error,
        },
        status=status,
    )


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
@signed_in
def sanction_new(request):
    require_role(request.user, *READERS)
    source = request.GET if request.method != "POST" else request.POST
    context = sanction_context(
        user=request.user,
        tender_id=source.get("tender", ""),
        complaint_id=source.get("complaint", ""),
        tipoff_id=source.get("tipoff", ""),
    )
    if request.method != "POST":
        return _new_page(request, context, posted={})
    posted = _posted(request.POST)
    try:
        values = _parse(posted)
        sanction = sanction_decide(actor=request.user, **context, **values)
    except DomainError as exc:
        if isinstance(exc, AccessDenied):
            raise
        return _new_page(request, context, posted=posted, error=error_context(exc), status=exc.status)
    messages.success(request, _("The sanction is decided and recorded."))
    return redirect("supervision:sanction_detail", pk=sanction.pk)


@never_cache
@require_safe
@signed_in
def sanction_list_page(request):
    require_role(request.user, *READERS)
    kind = choice(request.GET, "kind", {"", *Sanction.Kind.values})
    page, _query = paged(request.GET, sanction_list(user=request.user, kind=kind or None))
    return render(
        request,
        "supervision/sanctions/list.html",
        {"page": page, "kind": kind, "kinds": Sanction.Kind.choices},
    )


@never_cache
@require_safe
@signed_in
def sanction_detail(request, pk: int):
    sanction = sanction_get_for_reader(user=request.user, pk=pk)
    return render(request, "supervision/sanctions/detail.html", {"s": sanction})


urlpatterns = [
    path("sanctions/", sanction_list_page, name="sanction_list"),
    path("sanctions/new", sanction_new, name="sanction_new"),
    path("sanctions/<int:pk>/", sanction_detail, name="sanction_detail"),
]
