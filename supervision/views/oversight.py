"""The oversight page of one tender (全过程监督: its whole process from the journal in three phases, with
anomalies flagged and filters) and the online instructions (在线下达指令): issued from that page by a
supervising department, listed for the centre, the agency and the regulators, acknowledged (签收) and
reported on by the addressee, withdrawn by the issuer. Thin: parse, check access, call a service, render."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from core.errors import AccessDenied, DomainError, NotFound, ValidationFailed
from supervision.models import Instruction
from supervision.selectors import oversight as sel
from supervision.selectors import tender_departments
from supervision.services import instructions as svc
from supervision.views.common import choice, paged
from trading.models import Role, Tender
from trading.views.accounts import error_context, signed_in

TEXT_MAX = 5_000


# --- parsing --------------------------------------------------------------------------------------------------


def _timeline_filters(get) -> dict:
    return {
        "phase": choice(get, "phase", {"", sel.BEFORE, sel.DURING, sel.AFTER}),
        "anomalies": choice(get, "anomalies", {"", "1"}),
    }


def _due_at(value: str) -> dt.datetime | None:
    """A local date and time from the form ("2026-03-10T17:00"), or None when left empty."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            _("Give the date and time to carry it out by."),
            code="due_at_invalid",
            fields={"due_at": _("Not a date and time.")},
        ) from None
    return timezone.make_aware(when) if timezone.is_naive(when) else when


def _tender(tender_id: int) -> Tender:
    tender = Tender.objects.select_related("tenderee", "agency").filter(pk=tender_id).first()
    if tender is None:
        raise NotFound(_("No such tender."), code="tender_not_found")
    return tender


# --- the oversight page ------------------------------------------------------------------------------------------


def _oversight_page(request, tender: Tender, *, filters: dict, error=None, posted=None, status: int = 200):
    user = request.user
    view = sel.tender_oversight(tender)
    departments = sel.issuing_departments(user, tender)
    now = view.now
    return render(
        request,
        "supervision/oversight/tender.html",
        {
            "tender": tender,
            "view": view,
            "phases": view.phases(phase=filters["phase"] or None, anomalies_only=filters["anomalies"] == "1"),
            "phase_choices": sel.PHASES,
            "filters": filters,
            "findings": view.findings,
            "instructions": [
                {"ins": i, "overdue": sel.instruction_overdue(due_at=i.due_at, status=i.status, now=now)}
                for i in view.instructions
            ],
            "supervisors": list(tender_departments(tender)),
            "may_issue": bool(departments),
            "departments": departments,
            "addressees": Instruction.Addressee.choices,
            "posted": posted or {},
            "error": error,
        },
        status=status,
    )


@never_cache
@require_safe
@signed_in
def tender_oversight(request, tender_id: int):
    tender = _tender(tender_id)
    sel.oversight_access_read(user=request.user, tender=tender)
    return _oversight_page(request, tender, filters=_timeline_filters(request.GET))


@require_POST
@signed_in
def instruction_new(request, tender_id: int):
    tender = _tender(tender_id)
    sel.oversight_access_read(user=request.user, tender=tender)
    posted = {
        "addressee": request.POST.get("addressee", ""),
        "text": request.POST.get("text", "")[:TEXT_MAX],
        "due_at": request.POST.get("due_at", "")[:20],
        "department": request.POST.get("department", ""),
    }
    try:
        ins = svc.instruction_issue(
            actor=request.user,
            tender=tender,
            addressee=posted["addressee"],
            text=request.POST.get("text", ""),
            due_at=_due_at(posted["due_at"]),
            department=posted["department"] or None,
        )
    except DomainError as exc:
        if isinstance(exc, AccessDenied):
            raise
        return _oversight_page(
            request,
            tender,
            filters={"phase": "", "anomalies": ""},
            error=error_context(exc),
            posted=posted,
            status=exc.status,
        )
    messages.success(request, _("The instruction is issued."))
    return redirect(reverse("supervision:instruction_detail", args=[ins.pk]))


# --- instructions ---------------------------------------------------------------------------------------------


@never_cache
@require_safe
@signed_in
def instruction_list(request):
    filters = {
        "status": choice(request.GET, "status", {"", *Instruction.Status.values}),
        "overdue": choice(request.GET, "overdue", {"", "1"}),
    }
    qs = sel.instructions_for(
        request.user, status=filters["status"] or None, overdue=filters["overdue"] == "1"
    )
    page, query = paged(request.GET, qs)
    now = timezone.now()
    return render(
        request,
        "supervision/oversight/instruction_list.html",
        {
            "page": page,
            "rows": [
                {"ins": i, "overdue": sel.instruction_overdue(due_at=i.due_at, status=i.status, now=now)}
                for i in page.object_list
            ],
            "filters": filters,
            "statuses": Instruction.Status.choices,
            "query": query,
        },
    )


def _detail_page(request, ins: Instruction, *, error=None, posted=None, status: int = 200):
    user = request.user
    open_ = ins.status in {Instruction.Status.ISSUED, Instruction.Status.ACKNOWLEDGED}
    addressee = sel.is_addressee(user, ins)
    return render(
        request,
        "supervision/oversight/instruction_detail.html",
        {
            "ins": ins,
            "overdue": sel.instruction_overdue(due_at=ins.due_at, status=ins.status, now=timezone.now()),
            "history": sel.instruction_history(ins),
            "may_ack": addressee and ins.status == Instruction.Status.ISSUED,
            "may_report": addressee and open_,
            "may_withdraw": open_ and user.role in {Role.REGULATOR, Role.ADMIN} and sel.is_issuer(user, ins),
            "may_oversee": user.role in {Role.CENTRE, Role.REGULATOR, Role.ADMIN},
            "posted": posted or {},
            "error": error,
        },
        status=status,
    )


@never_cache
@require_safe
@signed_in
def instruction_detail(request, pk: int):
    return _detail_page(request, sel.instruction_get_for(request.user, pk))


def _act(request, pk: int, action, done: str, posted: dict):
    """Run `action(instruction)`; a refusal other than access re-renders the page with its code."""
    ins = sel.instruction_get_for(request.user, pk)
    try:
        action(ins)
    except DomainError as exc:
        if isinstance(exc, AccessDenied):
            raise
        ins = sel.instruction_get_for(request.user, pk)
        return _detail_page(request, ins, error=error_context(exc), posted=posted, status=exc.status)
    messages.success(request, done)
    return redirect(reverse("supervision:instruction_detail", args=[pk]))


@require_POST
@signed_in
def instruction_ack(request, pk: int):
    return _act(
        request,
        pk,
        lambda ins: svc.instruction_acknowledge(actor=request.user, instruction=ins),
        _("The instruction is acknowledged."),
        {},
    )


@require_POST
@signed_in
def instruction_done(request, pk: int):
    response = request.POST.get("response", "")
    return _act(
        request,
        pk,
        lambda ins: svc.instruction_report(actor=request.user, instruction=ins, response=response),
        _("The instruction is reported as carried out."),
        {"response": response[:TEXT_MAX]},
    )


@require_POST
@signed_in
def instruction_withdraw(request, pk: int):
    reason = request.POST.get("reason", "")
    return _act(
        request,
        pk,
        lambda ins: svc.instruction_withdraw(actor=request.user, instruction=ins, reason=reason),
        _("The instruction is withdrawn."),
        {"reason": reason[:TEXT_MAX]},
    )


urlpatterns = [
    path("tenders/<int:tender_id>/oversight/", tender_oversight, name="tender_oversight"),
    path("tenders/<int:tender_id>/instructions/new", instruction_new, name="instruction_new"),
    path("instructions/", instruction_list, name="instruction_list"),
    path("instructions/<int:pk>/", instruction_detail, name="instruction_detail"),
    path("instructions/<int:pk>/ack", instruction_ack, name="instruction_ack"),
    path("instructions/<int:pk>/done", instruction_done, name="instruction_done"),
    path("instructions/<int:pk>/withdraw", instruction_withdraw, name="instruction_withdraw"),
]
