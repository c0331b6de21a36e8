"""The expert's own pages: profile, availability calendar, declared relationships, and a change
proposal with its state. An expert reaches only their own rows (others are 404)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.errors import DomainError
from experts import selectors_pool as sel
from experts.models import Expert, ProfileChange, Relationship, Unavailability
from experts.services import pool
from experts.views.pool.forms import (
    PROPOSAL_FIELDS,
    field_map,
    form_data_of,
    form_error,
    form_sections,
    parse_aware,
    profile_from_post,
    raise_if_invalid,
)
from trading.regions import region_name
from trading.views.accounts import form_field, signed_in


def _month(value: str) -> tuple[int, int]:
    try:
        day = dt.date.fromisoformat(f"{value}-01")
    except ValueError:
        day = timezone.localdate()
    return day.year, day.month


def _me_page(request, expert: Expert, *, error=None, status=200, form: str = "", data=None):
    year, month = _month(request.GET.get("month", ""))
    errors = field_map(error)
    data = data or {}
    return render(
        request,
        "experts/pool/me.html",
        {
            "expert": expert,
            "region": region_name(expert.region_code),
            "specialties": sel.expert_specialties(expert),
            "employments": expert.employments.order_by("-start_date"),
            "calendar": sel.availability_month(expert, year=year, month=month),
            "unavailable": sel.upcoming_unavailability(expert),
            "relationships": expert.relationships.filter(withdrawn_at__isnull=True).order_by("-declared_at"),
            "changes": expert.changes.order_by("-submitted_at")[:5],
            "sanctions": sel.expert_sanctions(expert),
            "error": error,
            "form": form,
            "period_fields": [
                form_field(
                    "starts_at", _("From"), data, errors if form == "period" else {}, kind="datetime-local"
                ),
                form_field(
                    "ends_at", _("Until"), data, errors if form == "period" else {}, kind="datetime-local"
                ),
                form_field("reason", _("Reason"), data, errors if form == "period" else {}, maxlength=200),
            ],
            "relationship_fields": [
                form_field(
                    name,
                    label,
                    data,
                    errors if form == "relationship" else {},
                    kind=kind,
                    **extra,
                )
                for name, label, kind, extra in (
                    ("kind", _("Kind"), "select", {"choices": Relationship.Kind.choices, "required": True}),
                    ("relation", _("Relation (e.g. spouse, brother)"), "text", {"maxlength": 40}),
                    ("person_name", _("Person's name"), "text", {"maxlength": 100}),
                    ("person_id_number", _("Person's ID number"), "text", {"maxlength": 40}),
                    ("entity_uscc", _("Company's credit code"), "text", {"maxlength": 18}),
                    ("note", _("Note"), "textarea", {"rows": 2}),
                )
            ],
        },
        status=status,
    )


@require_safe
@signed_in
def me(request):
    return _me_page(request, sel.expert_of_user(request.user))


@require_POST
@signed_in
def me_unavailable_add(request):
    expert = sel.expert_of_user(request.user)
    errors: dict = {}
    starts = parse_aware(request.POST.get("starts_at", ""), "starts_at", errors)
    ends = parse_aware(request.POST.get("ends_at", ""), "ends_at", errors)
    try:
        raise_if_invalid(errors)
        pool.unavailability_add(
            expert=expert,
            actor=request.user,
            starts_at=starts,
            ends_at=ends,
            reason=request.POST.get("reason", ""),
        )
    except DomainError as exc:
        return _me_page(
            request, expert, error=form_error(exc), status=exc.status, form="period", data=request.POST
        )
    messages.success(request, _("The period was added to your calendar."))
    return redirect("experts:me")


@require_POST
@signed_in
def me_unavailable_remove(request, pk: int):
    expert = sel.expert_of_user(request.user)
    period = get_object_or_404(Unavailability, pk=pk, expert=expert)
    try:
        pool.unavailability_remove(unavailability=period, actor=request.user)
    except DomainError as exc:
        return _me_page(request, expert, error=form_error(exc), status=exc.status)
    messages.success(request, _("The period was removed from your calendar."))
    return redirect("experts:me")


@require_POST
@signed_in
def me_relationship_declare(request):
    expert = sel.expert_of_user(request.user)
    try:
        pool.relationship_declare(
            expert=expert,
            actor=request.user,
            kind=request.POST.get("kind", ""),
            relation=request.POST.get("relation", ""),
            person_name=request.POST.get("person_name", ""),
            person_id_number=request.POST.get("person_id_number", ""),
            entity_uscc=request.POST.get("entity_uscc", ""),
            note=request.POST.get("note", ""),
        )
    except DomainError as exc:
        data = {k: v for k, v in request.POST.items() if k != "person_id_number"}
        return _me_page(
            request, expert, error=form_error(exc), status=exc.status, form="relationship", data=data
        )
    messages.success(request, _("The relationship was declared."))
    return redirect("experts:me")


@require_POST
@signed_in
def me_relationship_withdraw(request, pk: int):
    expert = sel.expert_of_user(request.user)
    rel = get_object_or_404(Relationship, pk=pk, expert=expert, withdrawn_at__isnull=True)
    pool.relationship_withdraw(relationship=rel, actor=request.user, reason=request.POST.get("reason", ""))
    messages.success(request, _("The declaration was withdrawn."))
    return redirect("experts:me")


@csrf_protect
@require_http_methods(["GET", "POST"])
@signed_in
def me_change(request):
    expert = sel.expert_of_user(request.user)
    pending = expert.changes.filter(state=ProfileChange.State.PROPOSED).first()
    data = form_data_of(pool.profile_snapshot(expert))
    error, status = None, 200
    if request.method == "POST":
        data = profile_from_post(request.POST, fields=PROPOSAL_FIELDS)
        proposal = {k: v for k, v in data.items() if k in pool.PROPOSABLE or k in pool.SPECIALTY_ALIASES}
        try:
            pool.profile_change_propose(expert=expert, actor=request.user, data=proposal)
        except DomainError as exc:
            error, status = form_error(exc), exc.status
        else:
            messages.success(request, _("Your proposal was sent to the trading centre for review."))
            return redirect("experts:me")
    return render(
        request,
        "experts/pool/propose.html",
        {
            "expert": expert,
            "pending": pending,
            "pending_diff": sel.profile_change_diff(pending) if pending else [],
            "sections": form_sections(data, field_map(error), person=False, fields=PROPOSAL_FIELDS),
            "error": error,
        },
        status=status,
    )
