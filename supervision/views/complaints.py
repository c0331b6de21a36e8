"""Complaint (投诉) and challenge (异议/质疑) pages: a bidder files them with the rule that applies shown first;
parties, supervising departments, centre staff and admins follow them with their clocks; the department
accepts, refuses, suspends the tender and decides; the tenderee or agency answers a challenge. Thin: parse,
check access, call supervision.services.complaints, render."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from archive.blobs import blob_open
from core.errors import AccessDenied, DomainError, ValidationFailed
from supervision.models import Challenge, Complaint
from supervision.selectors import complaints as sel
from supervision.services import complaints as svc
from supervision.views.common import choice, paged
from trading.access import require_role, tender_access_read
from trading.models import Role, Tender
from trading.views.accounts import error_context, signed_in

EVIDENCE_FIELD = "evidence"


# --- parsing --------------------------------------------------------------------------------------------------


def _known_at(value: str) -> dt.datetime:
    """The day of knowledge (a date) as the start of that day, local time."""
    try:
        day = dt.date.fromisoformat((value or "").strip())
    except ValueError:
        raise ValidationFailed(
            _("Give the day you knew of the matter."),
            code="known_at_invalid",
            fields={"known_at": _("Not a date.")},
        ) from None
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _lot_id(value: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 12:
        raise ValidationFailed(_("No such lot in this tender."), code="lot_not_found")
    return int(value)


class EvidenceLimit(FileUploadHandler):
    """Stops the multipart parser as soon as the evidence passes the service's limits (count, size of a
    file), so an oversized upload is neither kept in memory nor written to disk; the view then refuses it."""

    def __init__(self, request=None):
        super().__init__(request)
        self.files = 0
        self.size = 0
        self.exceeded = False

    def new_file(self, field_name, *args, **kwargs):
        super().new_file(field_name, *args, **kwargs)
        self.size = 0
        if field_name == EVIDENCE_FIELD:
            self.files += 1
            if self.files > svc.EVIDENCE_MAX_FILES:
                self.exceeded = True
                raise StopUpload(connection_reset=False)

    def receive_data_chunk(self, raw_data, start):
        if self.field_name == EVIDENCE_FIELD:
            self.size += len(raw_data)
            if self.size > svc.EVIDENCE_MAX_BYTES:
                self.exceeded = True
                raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler stores the file


def _too_large() -> ValidationFailed:
    return ValidationFailed(
        _("At most %(n)s evidence files of %(mib)s MiB each.")
        % {"n": svc.EVIDENCE_MAX_FILES, "mib": svc.EVIDENCE_MAX_BYTES // (1024 * 1024)},
        code="evidence_too_large",
        fields={EVIDENCE_FIELD: _("Too many or too large files.")},
    )


def _evidence(request, limit: EvidenceLimit | None) -> list[tuple[str, bytes]]:
    """The uploaded evidence as (name, bytes); the limits are checked before any file is read, and no
    file is read past its limit."""
    if limit is not None and limit.exceeded:
        raise _too_large()
    files = request.FILES.getlist(EVIDENCE_FIELD)
    if len(files) > svc.EVIDENCE_MAX_FILES or any(f.size > svc.EVIDENCE_MAX_BYTES for f in files):
        raise _too_large()
    out = []
    for f in files:
        data = f.read(svc.EVIDENCE_MAX_BYTES + 1)
        if len(data) > svc.EVIDENCE_MAX_BYTES:
            raise _too_large()
        out.append((f.name or "", data))
    return out


def _tender(request, tender_id: int) -> Tender:
    tender = get_object_or_404(Tender.objects.select_related("agency", "tenderee"), pk=tender_id)
    return tender_access_read(user=request.user, tender=tender)


def _form_error(exc: DomainError) -> dict:
    """A refusal shown on the form: access refusals go to the error page instead."""
    if isinstance(exc, AccessDenied):
        raise exc
    context = error_context(exc)
    context["latest"] = exc.params.get("latest") or exc.params.get("due")
    return context


# --- complaints: filing -------------------------------------------------------------------------------------


def _complaint_form(request, tender: Tender, *, posted: dict, error=None, status: int = 200):
    return render(
        request,
        "supervision/complaints/new.html",
        {
            "tender": tender,
            "lots": sel.tender_lots(tender),
            "matters": Complaint.Matter.choices,
            "rules": sel.filing_rules(tender=tender, entity_id=request.user.entity_id),
            "max_files": svc.EVIDENCE_MAX_FILES,
            "max_mib": svc.EVIDENCE_MAX_BYTES // (1024 * 1024),
            "posted": posted,
            "error": error,
        },
        status=status,
    )


@csrf_exempt  # the upload limit must be in place before the CSRF check reads the body; checked below
@require_http_methods(["GET", "POST"])
@signed_in
def complaint_new(request, tender_id: int):
    limit = None
    if request.method == "POST":
        limit = EvidenceLimit(request)
        request.upload_handlers.insert(0, limit)
    return _complaint_new(request, tender_id, limit)


@csrf_protect
def _complaint_new(request, tender_id: int, limit: EvidenceLimit | None):
    tender = _tender(request, tender_id)
    require_role(request.user, Role.BIDDER)
    if request.method == "GET":
        return _complaint_form(
            request,
            tender,
            posted=sel.complaint_initial(
                user=request.user, tender=tender, challenge_id=request.GET.get("challenge", "")
            ),
        )
    post = request.POST
    posted = {
        "matter": post.get("matter", "")[:20],
        "text": post.get("text", "")[: svc.TEXT_MAX + 1],
        "request": post.get("request", "")[: svc.TEXT_MAX],
        "known_at": post.get("known_at", "")[:10],
        "lot": post.get("lot", "")[:12],
    }
    try:
        complaint = svc.complaint_file(
            actor=request.user,
            tender=tender,
            matter=posted["matter"],
            text=posted["text"],
            request=posted["request"],
            known_at=_known_at(posted["known_at"]),
            lot_id=_lot_id(posted["lot"]),
            evidence=_evidence(request, limit),
        )
    except DomainError as exc:
        return _complaint_form(request, tender, posted=posted, error=_form_error(exc), status=exc.status)
    messages.success(request, _("The complaint is filed with the supervising department."))
    return redirect("supervision:complaint_detail", pk=complaint.pk)


# --- complaints: list, detail, handling ----------------------------------------------------------------------


@never_cache
@require_safe
@signed_in
def complaint_list(request):
    require_role(request.user, *sel.LIST_ROLES)
    filters = {
        "status": choice(request.GET, "status", {"", *Complaint.Status.values}),
        "overdue": choice(request.GET, "overdue", {"", "1"}),
    }
    qs = sel.complaint_list(
        user=request.user, status=filters["status"] or None, overdue=bool(filters["overdue"])
    )
    page, query = paged(request.GET, qs)
    now = timezone.now()
    return render(
        request,
        "supervision/complaints/list.html",
        {
            "page": page,
            "rows": [sel.complaint_row(c, now) for c in page.object_list],
            "filters": filters,
            "statuses": Complaint.Status.choices,
            "query": query,
        },
    )


def _detail(request, complaint: Complaint, *, error=None, posted=None, status: int = 200):
    handler = sel.may_handle(request.user, complaint)
    suspended = sel.tender_suspended(complaint.tender)
    posted = posted or {}
    return render(
        request,
        "supervision/complaints/detail.html",
        {
            "complaint": complaint,
            "tender": complaint.tender,
            "suspended": suspended,
            "clocks": sel.complaint_clocks(complaint),
            "prior": sel.complaint_prior(complaint),
            "evidence": sel.complaint_evidence(complaint),
            "may_handle": handler,
            "may_accept": handler and complaint.status == Complaint.Status.FILED,
            "may_suspend": handler and complaint.status == Complaint.Status.ACCEPTED and not suspended,
            "may_decide": handler and complaint.status == Complaint.Status.ACCEPTED,
            "outcomes": Complaint.Outcome.choices,
            "posted": {"resume": True, **posted},
            "error": error,
        },
        status=status,
    )


@never_cache
@require_safe
@signed_in
def complaint_detail(request, pk: int):
    return _detail(request, sel.complaint_access_read(user=request.user, pk=pk))


def _act(request, pk: int, action, done: str, posted: dict):
    """Run `action(complaint)`; a refusal re-renders the complaint with its code and what was typed."""
    complaint = sel.complaint_access_read(user=request.user, pk=pk)
    try:
        action(complaint)
    except DomainError as exc:
        error = _form_error(exc)
        complaint = sel.complaint_access_read(user=request.user, pk=pk)
        return _detail(request, complaint, error=error, posted=posted, status=exc.status)
    messages.success(request, done)
    return redirect("supervision:complaint_detail", pk=pk)


@require_POST
@signed_in
def complaint_accept(request, pk: int):
    return _act(
        request,
        pk,
        lambda c: svc.complaint_accept(actor=request.user, complaint=c),
        _("The complaint is accepted; the decision clock runs."),
        {},
    )


@require_POST
@signed_in
def complaint_refuse(request, pk: int):
    reason = request.POST.get("reason", "")[: svc.TEXT_MAX + 1]
    return _act(
        request,
        pk,
        lambda c: svc.complaint_refuse(actor=request.user, complaint=c, reason=reason),
        _("The complaint is not accepted; the complainant is told why."),
        {"refuse_reason": reason},
    )


@require_POST
@signed_in
def complaint_suspend(request, pk: int):
    reason = request.POST.get("reason", "")[: svc.TEXT_MAX + 1]
    return _act(
        request,
        pk,
        lambda c: svc.complaint_suspend_tender(actor=request.user, complaint=c, reason=reason),
        _("The tender is suspended while the complaint is handled."),
        {"suspend_reason": reason},
    )


@require_POST
@signed_in
def complaint_decide(request, pk: int):
    post = request.POST
    posted = {
        "outcome": post.get("outcome", "")[:20],
        "legal_basis": post.get("legal_basis", "")[:301],
        "decision": post.get("decision", "")[: svc.TEXT_MAX + 1],
        "resume": "resume" in post,
    }
    return _act(
        request,
        pk,
        lambda c: svc.complaint_decide(
            actor=request.user,
            complaint=c,
            outcome=posted["outcome"],
            legal_basis=posted["legal_basis"],
            decision=posted["decision"],
            resume=posted["resume"],
        ),
        _("The decision is recorded and the parties are notified."),
        posted,
    )


@never_cache
@require_safe
@signed_in
def complaint_evidence(request, pk: int, evidence_id: int):
    complaint = sel.complaint_access_read(user=request.user, pk=pk)
    item = sel.complaint_evidence_get(complaint, evidence_id)
    response = FileResponse(
        blob_open(item.blob),
        as_attachment=True,
        filename=item.name,
        content_type="application/octet-stream",  # what a complainant uploads is never rendered here
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


# --- challenges -----------------------------------------------------------------------------------------------


def _challenge_form(request, tender: Tender, *, posted: dict, error=None, status: int = 200):
    return render(
        request,
        "supervision/complaints/challenge_new.html",
        {
            "tender": tender,
            "lots": sel.tender_lots(tender),
            "rules": sel.challenge_rules(tender=tender),
            "posted": posted,
            "error": error,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@signed_in
def challenge_new(request, tender_id: int):
    tender = _tender(request, tender_id)
    require_role(request.user, Role.BIDDER)
    if request.method == "GET":
        return _challenge_form(request, tender, posted={})
    post = request.POST
    posted = {
        "text": post.get("text", "")[: svc.TEXT_MAX + 1],
        "known_at": post.get("known_at", "")[:10],
        "lot": post.get("lot", "")[:12],
    }
    try:
        challenge = svc.challenge_file(
            actor=request.user,
            tender=tender,
            text=posted["text"],
            known_at=_known_at(posted["known_at"]),
            lot_id=_lot_id(posted["lot"]),
        )
    except DomainError as exc:
        return _challenge_form(request, tender, posted=posted, error=_form_error(exc), status=exc.status)
    messages.success(request, _("The challenge is filed; the tenderee must answer by its deadline."))
    return redirect("supervision:challenge_detail", pk=challenge.pk)


@never_cache
@require_safe
@signed_in
def challenge_list(request):
    require_role(request.user, *sel.LIST_ROLES)
    filters = {
        "state": choice(request.GET, "state", {"", "open", "answered"}),
        "overdue": choice(request.GET, "overdue", {"", "1"}),
    }
    qs = sel.challenge_list(
        user=request.user, state=filters["state"] or None, overdue=bool(filters["overdue"])
    )
    page, query = paged(request.GET, qs)
    now = timezone.now()
    return render(
        request,
        "supervision/complaints/challenge_list.html",
        {
            "page": page,
            "rows": [sel.challenge_row(c, now) for c in page.object_list],
            "filters": filters,
            "query": query,
        },
    )


def _challenge_page(request, challenge: Challenge, *, error=None, posted=None, status: int = 200):
    return render(
        request,
        "supervision/complaints/challenge_detail.html",
        {
            "challenge": challenge,
            "tender": challenge.tender,
            "clock": sel.challenge_clock(challenge),
            "may_reply": sel.may_reply(request.user, challenge),
            "may_complain": sel.may_complain_after(request.user, challenge),
            "complaints": sel.challenge_complaints(challenge),
            "posted": posted or {},
            "error": error,
        },
        status=status,
    )


@never_cache
@require_safe
@signed_in
def challenge_detail(request, pk: int):
    return _challenge_page(request, sel.challenge_access_read(user=request.user, pk=pk))


@require_POST
@signed_in
def challenge_reply(request, pk: int):
    challenge = sel.challenge_access_read(user=request.user, pk=pk)
    reply = request.POST.get("reply", "")[: svc.TEXT_MAX + 1]
    try:
        svc.challenge_reply(actor=request.user, challenge=challenge, reply=reply)
    except DomainError as exc:
        error = _form_error(exc)
        challenge = sel.challenge_access_read(user=request.user, pk=pk)
        return _challenge_page(request, challenge, error=error, posted={"reply": reply}, status=exc.status)
    messages.success(request, _("The answer is recorded and the challenger is notified."))
    return redirect("supervision:challenge_detail", pk=pk)


urlpatterns = [
    path("complaints/", complaint_list, name="complaint_list"),
    path("tenders/<int:tender_id>/complaints/new", complaint_new, name="complaint_new"),
    path("complaints/<int:pk>/", complaint_detail, name="complaint_detail"),
    path("complaints/<int:pk>/accept", complaint_accept, name="complaint_accept"),
    path("complaints/<int:pk>/refuse", complaint_refuse, name="complaint_refuse"),
    path("complaints/<int:pk>/suspend", complaint_suspend, name="complaint_suspend"),
    path("complaints/<int:pk>/decide", complaint_decide, name="complaint_decide"),
    path("complaints/<int:pk>/evidence/<int:evidence_id>", complaint_evidence, name="complaint_evidence"),
    path("tenders/<int:tender_id>/challenges/new", challenge_new, name="challenge_new"),
    path("challenges/", challenge_list, name="challenge_list"),
    path("challenges/<int:pk>/", challenge_detail, name="challenge_detail"),
    path("challenges/<int:pk>/reply", challenge_reply, name="challenge_reply"),
]
