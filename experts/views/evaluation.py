"""Pages of the evaluation room: the room itself (the websocket does the rest), its state as JSON,
the centre's page that opens it, reading a bid document, the report (JSON and PDF, and the PDFs
of reports superseded by a re-evaluation), and the bidder's pages answering a clarification or justifying a low price.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_http_methods, require_safe

from archive.blobs import blob_open
from bidding.models import OpeningSession
from core.errors import AccessDenied, DomainError, NotFound
from experts import selectors_evaluation as selectors
from experts.models import Draw, EvaluationRoom, Member, Report, ReportRevision
from experts.services import evaluation as services
from trading import pki
from trading.access import manages_tender, require_role
from trading.models import Role, User
from trading.views.accounts import signed_in


def _labels() -> dict:
    """Names the page's script shows, in the reader's language."""
    return {
        "phase": {value: str(label) for value, label in EvaluationRoom.Phase.choices},
        "kind": {value: str(label) for value, label in Member.Kind.choices},
        "stage": {
            "qualification": str(_("Qualification review")),
            "preliminary": str(_("Preliminary review")),
            "detailed": str(_("Detailed scoring")),
            "low_price": str(_("Abnormally low price")),
        },
        "correction": {code: str(label) for code, label in services.CORRECTION_CASES.items()},
    }


@signed_in
@ensure_csrf_cookie
@require_safe
def room_page(request, lot_id: int):
    lot = selectors.room_lot(lot_id)
    viewer = selectors.room_access(user=request.user, lot=lot)
    return render(
        request,
        "experts/evaluation/room.html",
        {
            "lot": lot,
            "tender": lot.tender,
            "viewer": viewer,
            "is_member": viewer.role == selectors.MEMBER,
            "labels": _labels(),
            "ws_path": f"/ws/evaluation/{lot.pk}/",
            "state_url": reverse("experts:evaluation-state", args=[lot.pk]),
        },
    )


@signed_in
@never_cache
@require_safe
def room_state(request, lot_id: int):
    lot = selectors.room_lot(lot_id)
    viewer = selectors.room_access(user=request.user, lot=lot)
    return JsonResponse(selectors.room_state(viewer=viewer), json_dumps_params={"ensure_ascii": False})


@signed_in
@require_http_methods(["GET", "HEAD", "POST"])
def room_open_page(request, lot_id: int):
    """Centre staff open the room once the opening is closed and the committee has confirmed."""
    require_role(request.user, Role.CENTRE, Role.ADMIN)
    lot = selectors.room_lot(lot_id)
    if EvaluationRoom.objects.filter(lot=lot).exists():
        return redirect("experts:evaluation-room", lot_id=lot.pk)
    candidates = list(
        User.objects.filter(role=Role.AGENCY, entity_id=lot.tender.tenderee_id, is_active=True).order_by("pk")
    )
    error = None
    if request.method == "POST":
        chosen = {int(v) for v in request.POST.getlist("tenderee_reps") if v.isdigit()}
        try:
            services.room_open(
                lot=lot, actor=request.user, tenderee_reps=[u for u in candidates if u.pk in chosen]
            )
        except DomainError as exc:
            error = exc.as_dict()
        else:
            messages.success(request, _("The evaluation room is open."))
            return redirect("experts:evaluation-room", lot_id=lot.pk)
    draw = Draw.objects.filter(lot=lot).exclude(state=Draw.State.CANCELLED).first()
    session = OpeningSession.objects.filter(lot=lot).first()
    return render(
        request,
        "experts/evaluation/open.html",
        {
            "lot": lot,
            "tender": lot.tender,
            "draw": draw,
            "opening_closed": session is not None and session.phase == OpeningSession.Phase.CLOSED,
            "candidates": candidates,
            "error": error,
        },
        status=400 if error else 200,
    )


@signed_in
@never_cache
@require_safe
def bid_document(request, lot_id: int, bid_id):
    """A member downloads a bid's document, decrypted now with the key kept at the opening."""
    lot = selectors.room_lot(lot_id)
    viewer = selectors.room_access(user=request.user, lot=lot)
    document = services.bid_document_open(
        room=viewer.room, bid_id=bid_id, actor=request.user, request=request
    )
    response = FileResponse(
        document.file, content_type=document.content_type, as_attachment=True, filename=document.name
    )
    response["X-Document-SHA256"] = document.sha256
    return response


def _report(request, lot_id: int) -> Report:
    """The room's report for its members, centre staff and regulators; once finalized also for the
    tender's managers (the agency and the tenderee's staff), to whom the committee submits it."""
    lot = selectors.room_lot(lot_id)
    try:
        room = selectors.room_access(user=request.user, lot=lot).room
    except AccessDenied:
        if not manages_tender(request.user, lot.tender):
            raise
        room = selectors.room_of(lot)
        report = Report.objects.filter(room=room, finalized_at__isnull=False).first()
        if report is None:
            raise NotFound(
                _("The report is printed when every member has signed."), code="report_not_final"
            ) from None
        return report
    report = Report.objects.filter(room=room).first()
    if report is None:
        raise NotFound(_("There is no report yet."), code="report_not_found")
    return report


@signed_in
@require_safe
def report_json(request, lot_id: int):
    """The report's data with the platform's signature and certificate, to verify offline."""
    report = _report(request, lot_id)
    return JsonResponse(
        {
            "data": report.data,
            "data_sha256": report.data_sha256,
            "platform_signature": report.platform_signature,
            "platform_certificate": pki.pem(pki.platform_signer()[1]),
            "final": report.finalized_at is not None,
        },
        json_dumps_params={"ensure_ascii": False},
    )


@signed_in
@require_safe
def report_pdf(request, lot_id: int):
    report = _report(request, lot_id)
    if report.pdf is None:
        raise NotFound(_("The report is printed when every member has signed."), code="report_not_final")
    return FileResponse(
        blob_open(report.pdf),
        content_type="application/pdf",
        as_attachment=True,
        filename=f"evaluation-report-{lot_id}.pdf",
    )


@signed_in
@require_safe
def revision_pdf(request, lot_id: int, revision: int):
    """The signed PDF of a report superseded by a re-evaluation."""
    lot = selectors.room_lot(lot_id)
    viewer = selectors.room_access(user=request.user, lot=lot)
    found = ReportRevision.objects.filter(room=viewer.room, revision=revision).select_related("pdf").first()
    if found is None or found.pdf is None:
        raise NotFound(_("No such report revision."), code="revision_not_found")
    return FileResponse(
        blob_open(found.pdf),
        content_type="application/pdf",
        as_attachment=True,
        filename=f"evaluation-report-{lot_id}-r{revision}.pdf",
    )


# --- the bidder's pages ---------------------------------------------------------------------------------


@signed_in
@require_safe
def bidder_requests(request):
    found = selectors.bidder_requests(user=request.user)
    return render(request, "experts/evaluation/requests.html", found)


def _answer_page(request, *, obj, template: str, answer, field: str):
    error = None
    if request.method == "POST":
        try:
            answer(request.POST.get(field, ""))
        except DomainError as exc:
            error = exc.as_dict()
        else:
            messages.success(request, _("Your answer has been sent to the committee."))
            return redirect(request.path)
    return render(
        request, template, {"item": obj, "error": error, "bid": obj.bid}, status=400 if error else 200
    )


@signed_in
@require_http_methods(["GET", "HEAD", "POST"])
def clarification_page(request, pk: int):
    c = selectors.clarification_for_bidder(user=request.user, pk=pk)
    return _answer_page(
        request,
        obj=c,
        template="experts/evaluation/clarification.html",
        field="answer",
        answer=lambda text: services.clarification_answer(clarification=c, actor=request.user, answer=text),
    )


@signed_in
@require_http_methods(["GET", "HEAD", "POST"])
def justification_page(request, pk: int):
    j = selectors.justification_for_bidder(user=request.user, pk=pk)
    return _answer_page(
        request,
        obj=j,
        template="experts/evaluation/justification.html",
        field="text",
        answer=lambda text: services.justification_submit(justification=j, actor=request.user, text=text),
    )


urlpatterns = [
    path("evaluation/lots/<int:lot_id>/", room_page, name="evaluation-room"),
    path("evaluation/lots/<int:lot_id>/state", room_state, name="evaluation-state"),
    path("evaluation/lots/<int:lot_id>/open", room_open_page, name="evaluation-open"),
    path(
        "evaluation/lots/<int:lot_id>/bids/<uuid:bid_id>/document",
        bid_document,
        name="evaluation-bid-document",
    ),
    path("evaluation/lots/<int:lot_id>/report", report_json, name="evaluation-report"),
    path("evaluation/lots/<int:lot_id>/report.pdf", report_pdf, name="evaluation-report-pdf"),
    path(
        "evaluation/lots/<int:lot_id>/report-r<int:revision>.pdf",
        revision_pdf,
        name="evaluation-revision-pdf",
    ),
    path("evaluation/answers/", bidder_requests, name="evaluation-answers"),
    path("evaluation/clarifications/<int:pk>/", clarification_page, name="evaluation-clarification"),
    path("evaluation/justifications/<int:pk>/", justification_page, name="evaluation-justification"),
]
