"""Centre pages of the pool: the list with its filters, an expert's file and status, admission,
import with its row report, and the review queue of profile changes (regulators read the pool)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.errors import DomainError, ValidationFailed
from experts import selectors_pool as sel
from experts.models import Expert, ProfileChange
from experts.services import importer, pool
from experts.views.pool.forms import (
    MANAGE,
    PERSON_FIELDS,
    READ,
    SANCTION,
    field_map,
    form_error,
    form_sections,
    parse_date,
    profile_from_post,
    raise_if_invalid,
)
from trading.access import require_role
from trading.regions import region_name
from trading.views.accounts import signed_in

PAGE_SIZE = 50


@require_safe
@signed_in
def pool_list(request):
    require_role(request.user, *READ)
    filters = {
        "q": request.GET.get("q", "").strip()[:100],
        "specialty": request.GET.get("specialty", "").strip()[:12],
        "region": request.GET.get("region", "").strip()[:6],
        "status": request.GET.get("status", ""),
    }
    if filters["status"] and filters["status"] not in Expert.Status.values:
        raise ValidationFailed(
            _("The value of “%(name)s” is not valid.") % {"name": "status"},
            code="invalid_filter",
            filter="status",
        )
    page = Paginator(sel.expert_search(**filters), PAGE_SIZE).get_page(request.GET.get("page"))
    mains = sel.main_specialties(page.object_list)
    rows = [
        {"expert": e, "main": mains.get(e.pk), "region": region_name(e.region_code)} for e in page.object_list
    ]
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(
        request,
        "experts/pool/list.html",
        {
            "page": page,
            "rows": rows,
            "filters": filters,
            "query": query,
            "statuses": Expert.Status.choices,
            "manages": request.user.role in MANAGE,
            "pending_changes": sel.profile_changes_pending().count() if request.user.role in MANAGE else 0,
        },
    )


def _detail_page(request, expert: Expert, *, error=None, status=200):
    manages = request.user.role in MANAGE
    return render(
        request,
        "experts/pool/detail.html",
        {
            "expert": expert,
            "region": region_name(expert.region_code),
            "specialties": sel.expert_specialties(expert),
            "employments": expert.employments.order_by("-start_date"),
            "history": sel.expert_status_history(expert),
            "ratings": sel.expert_ratings(expert, viewer=request.user),
            "sanctions": sel.expert_sanctions(expert),
            "relationships": expert.relationships.filter(withdrawn_at__isnull=True).order_by("-declared_at"),
            "unavailable": sel.upcoming_unavailability(expert),
            "pending": expert.changes.filter(state=ProfileChange.State.PROPOSED).first(),
            "manages": manages,
            "sanctions_allowed": request.user.role in SANCTION,
            "statuses": Expert.Status.choices,
            "error": error,
        },
        status=status,
    )


@require_safe
@signed_in
def pool_detail(request, pk: int):
    require_role(request.user, *READ)
    return _detail_page(request, sel.expert_get(pk))


@require_POST
@signed_in
def pool_status(request, pk: int):
    require_role(request.user, *MANAGE)
    expert = sel.expert_get(pk)
    errors: dict = {}
    since = parse_date(request.POST.get("suspended_from", ""), "suspended_from", errors)
    until = parse_date(request.POST.get("suspended_until", ""), "suspended_until", errors)
    try:
        raise_if_invalid(errors)
        pool.expert_set_status(
            expert=expert,
            actor=request.user,
            status=request.POST.get("status", ""),
            suspended_from=since,
            suspended_until=until,
            reason=request.POST.get("reason", ""),
        )
    except DomainError as exc:
        return _detail_page(request, expert, error=form_error(exc), status=exc.status)
    messages.success(request, _("The expert's status was changed."))
    return redirect("experts:pool_detail", pk=expert.pk)


@csrf_protect
@require_http_methods(["GET", "POST"])
@signed_in
def pool_create(request):
    require_role(request.user, *MANAGE)
    data: dict = {"title_level": Expert.TitleLevel.SENIOR, "group": Expert.Group.TECHNICAL, "remote_ok": True}
    data["region_code"] = request.user.region_code
    error, status = None, 200
    if request.method == "POST":
        data = profile_from_post(request.POST)
        data.update({name: request.POST.get(name, "").strip() for name, *_r in PERSON_FIELDS})
        username = request.POST.get("username", "").strip()
        try:
            expert = pool.expert_create(
                actor=request.user, data=data, username=username, password=request.POST.get("password", "")
            )
        except DomainError as exc:
            error, status = form_error(exc), exc.status
            data["username"] = username
        else:
            messages.success(request, _("%(name)s was admitted to the pool.") % {"name": expert.person.name})
            return redirect("experts:pool_detail", pk=expert.pk)
    return render(
        request,
        "experts/pool/create.html",
        {"sections": form_sections(data, field_map(error), person=True), "error": error},
        status=status,
    )


@csrf_protect
@require_http_methods(["GET", "POST"])
@signed_in
def pool_import(request):
    require_role(request.user, *MANAGE)
    report, error, status = None, None, 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise ValidationFailed(
                    _("Choose a file."), code="file_required", fields={"file": _("Choose a file.")}
                )
            if upload.size > importer.MAX_BYTES:
                raise ValidationFailed(
                    _("The file is larger than %(n)s MB.") % {"n": importer.MAX_BYTES // 2**20},
                    code="file_too_large",
                )
            report = importer.import_experts(
                data=upload.read(),
                filename=upload.name,
                actor=request.user,
                dry_run="dry_run" in request.POST,
            )
        except DomainError as exc:
            error, status = form_error(exc), exc.status
        else:
            status = 200 if not report.file_errors else 400
    return render(
        request,
        "experts/pool/import.html",
        {
            "report": report,
            "counts": report.counts() if report else None,
            "error": error,
            "columns": importer.COLUMNS,
            "required": importer.REQUIRED_COLUMNS,
        },
        status=status,
    )


@require_safe
@signed_in
def pool_changes(request):
    require_role(request.user, *MANAGE)
    return render(request, "experts/pool/changes.html", {"changes": sel.profile_changes_pending()})


@csrf_protect
@require_http_methods(["GET", "POST"])
@signed_in
def pool_change(request, pk: int):
    require_role(request.user, *MANAGE)
    change = sel.profile_change_get(pk)
    error, status = None, 200
    if request.method == "POST":
        decision = request.POST.get("decision")
        try:
            if decision not in {"approve", "reject"}:
                raise ValidationFailed(_("Choose approve or reject."), code="decision_invalid")
            pool.profile_change_decide(
                change=change,
                actor=request.user,
                approve=decision == "approve",
                note=request.POST.get("note", ""),
            )
        except DomainError as exc:
            error, status = form_error(exc), exc.status
        else:
            messages.success(request, _("The decision was recorded."))
            return redirect("experts:pool_changes")
    return render(
        request,
        "experts/pool/change.html",
        {"change": change, "diff": sel.profile_change_diff(change), "error": error},
        status=status,
    )
