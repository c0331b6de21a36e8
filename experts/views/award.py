"""Award pages: the agency starts the candidate publicity, answers objections, decides the award and records
the contract; a bidder raises an objection (linked from the public candidates announcement) and downloads
its notice; the deadlines list for the workbench. Thin: parse, check access, call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from archive.blobs import blob_open
from core.errors import AccessDenied, DomainError, NotFound
from experts import selectors_award as sel
from experts.models import Publicity, PublicityObjection
from experts.services import award as svc
from trading import pki
from trading.access import READ_ALL_ROLES, require_role, tender_access_read
from trading.models import Regime, Role
from trading.views.accounts import error_context, signed_in


def _refusal(exc: DomainError) -> dict:
    """A refused form shows its code on the page; access refusals go to the 403 page instead."""
    if isinstance(exc, AccessDenied):
        raise exc
    return error_context(exc)


def _lot_context(lot, access: str) -> dict:
    tender = lot.tender
    report = sel.report_for_lot(lot)
    publicity = sel.publicity_for_lot(lot)
    award = sel.award_for_lot(lot)
    final = report is not None and report.finalized_at is not None
    voided = publicity is not None and svc.publicity_voided(publicity)
    if publicity is not None and not voided:
        candidates = publicity.candidates
    elif final:
        candidates = svc.candidate_rows(lot=lot, report=report)
    else:
        candidates = []
    manage = access == sel.MANAGE
    now = timezone.now()
    tb = tender.regime == Regime.TB
    objections = list(sel.objections_of(publicity))
    return {
        "lot": lot,
        "tender": tender,
        "manage": manage,
        "report": report,
        "report_final": final,
        "publicity": publicity,
        "publicity_voided": voided,
        "objections": objections,
        "candidates": candidates,
        "award": award,
        "result_notices": list(sel.result_notices_of(award)),
        "tb": tb,
        "now": now,
        "grounds": list(svc.PASS_OVER_GROUNDS.items()),
        "binding": svc.first_candidate_binding(tender),
        "can_start_publicity": manage and tb and final and award is None and (publicity is None or voided),
        "can_answer": manage,
        "can_decide": manage
        and final
        and award is None
        and (not tb or (publicity is not None and not voided and publicity.state == Publicity.State.OPEN)),
        "publicity_running": publicity is not None
        and publicity.state == Publicity.State.OPEN
        and now < publicity.ends_at,
        "can_record_contract": manage and award is not None and award.contract_signed_on is None,
        "pass_over_label": sel.pass_over_label(award.pass_over_ground) if award else "",
        "report_filed_late": award is not None
        and award.report_filed_on is not None
        and award.report_filed_on > award.report_due_on,
        "gp_decision_due": svc.gp_decision_due(report) if final and not tb and award is None else None,
    }


def _committee(lot, user) -> list[dict]:
    """The committee for rating (C11): seat labels, names once the roster may be shown, own rating."""
    from experts.access import roster_names_visible
    from experts.models import Rating
    from experts.services.draw import draw_for_lot

    draw = draw_for_lot(lot)
    room = getattr(lot, "evaluation_room", None)  # the reverse accessor's DoesNotExist is an AttributeError
    if draw is None or room is None or room.closed_at is None:
        return []
    show = roster_names_visible(user=user, draw=draw)
    rated = dict(Rating.objects.filter(lot=lot, rated_by=user).values_list("expert_id", "score"))
    return [
        {
            "expert_id": m.assignment.expert_id,
            "seat": m.seat,
            "name": m.assignment.expert.person.name if show else "",
            "rated": rated.get(m.assignment.expert_id),
        }
        for m in room.members.filter(assignment__isnull=False, recused_at__isnull=True, voided=False)
        .select_related("assignment__expert__person")
        .order_by("seat")
    ]


def _lot_page(request, lot, access: str, *, error=None, status: int = 200):
    context = _lot_context(lot, access)
    context["error"] = error
    award = context["award"]
    # 法47: the tenderee's duty, filed by its own or its agency's staff (not centre staff)
    context["can_file_report"] = (
        context["manage"]
        and award is not None
        and award.report_filed_on is None
        and request.user.role == Role.AGENCY
        and request.user.entity_id in (lot.tender.agency_id, lot.tender.tenderee_id)
    )
    context["committee"] = _committee(lot, request.user) if access == sel.MANAGE else []
    return render(request, "experts/award/lot.html", context, status=status)


@never_cache
@require_safe
@signed_in
def lot_page(request, lot_id: int):
    lot = sel.lot_for_award(lot_id)
    return _lot_page(request, lot, sel.lot_access_award(user=request.user, lot=lot))


def _act(request, lot_id: int, action, done: str):
    """Run `action(lot)` for a tender manager; a refusal re-renders the lot page with its code."""
    lot = sel.lot_for_award(lot_id)
    access = sel.lot_access_award(user=request.user, lot=lot)
    if access != sel.MANAGE:
        raise AccessDenied(
            _("Only the tender's agency, its tenderee or centre staff may do this."), code="tender_not_yours"
        )
    try:
        action(lot)
    except DomainError as exc:
        return _lot_page(request, lot, access, error=_refusal(exc), status=exc.status)
    messages.success(request, done)
    return redirect("experts:award-lot", lot_id=lot.pk)


@require_POST
@signed_in
def publicity_start_view(request, lot_id: int):
    return _act(
        request,
        lot_id,
        lambda lot: svc.publicity_start(lot=lot, actor=request.user),
        _("The candidates are published."),
    )


@require_POST
@signed_in
def objection_answer_view(request, lot_id: int, objection_id: int):
    def answer(lot):
        objection = PublicityObjection.objects.filter(pk=objection_id, publicity__lot=lot).first()
        if objection is None:
            raise NotFound(_("No such objection."), code="objection_not_found")
        svc.objection_answer(
            objection=objection,
            actor=request.user,
            answer=request.POST.get("answer", ""),
            upheld=request.POST.get("upheld") == "1",
            reevaluate=request.POST.get("reevaluate") == "1",
        )

    return _act(request, lot_id, answer, _("The objection is answered."))


@require_POST
@signed_in
def award_decide_view(request, lot_id: int):
    return _act(
        request,
        lot_id,
        lambda lot: svc.award_decide(
            lot=lot,
            actor=request.user,
            rank=request.POST.get("rank", "1"),
            reason=request.POST.get("reason", ""),
            ground=request.POST.get("ground", ""),
        ),
        _("The award is decided; the notices are sent and the result is announced."),
    )


@require_POST
@signed_in
def contract_record_view(request, lot_id: int):
    def record(lot):
        award = sel.award_for_lot(lot)
        if award is None:
            raise NotFound(_("This lot has not been awarded."), code="award_not_found")
        svc.contract_record(
            award=award,
            actor=request.user,
            signed_on=request.POST.get("signed_on", ""),
            amount=request.POST.get("amount", ""),
        )

    return _act(request, lot_id, record, _("The contract is recorded."))


@require_POST
@signed_in
def supervisor_report_view(request, lot_id: int):
    def record(lot):
        award = sel.award_for_lot(lot)
        if award is None:
            raise NotFound(_("This lot has not been awarded."), code="award_not_found")
        svc.supervisor_report_record(
            award=award, actor=request.user, filed_on=request.POST.get("filed_on", "")
        )

    return _act(request, lot_id, record, _("The report to the supervisor is recorded."))


# --- the bidder's side ------------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
@signed_in
def objection_page(request, lot_id: int):
    """The objection channel the candidates announcement links to."""
    lot = sel.lot_for_award(lot_id)
    tender_access_read(user=request.user, tender=lot.tender)
    publicity = sel.publicity_for_lot(lot)
    if publicity is None:
        raise NotFound(_("The candidates of this lot have not been published."), code="publicity_not_found")
    error, status, text = None, 200, ""
    if request.method == "POST":
        text = request.POST.get("text", "")
        try:
            svc.objection_raise(publicity=publicity, actor=request.user, text=text)
        except DomainError as exc:
            error, status = _refusal(exc), exc.status
        else:
            messages.success(request, _("Your objection is received; the tenderee answers it in writing."))
            return redirect("experts:award-objection", lot_id=lot.pk)
        publicity.refresh_from_db()
    may_object, reason = True, None
    try:
        svc.objector_entity(user=request.user, lot=lot)
    except AccessDenied as exc:
        may_object, reason = False, error_context(exc)
    own = []
    if request.user.entity_id:
        own = [o for o in sel.objections_of(publicity) if o.entity_id == request.user.entity_id]
    return render(
        request,
        "experts/award/objection.html",
        {
            "lot": lot,
            "tender": lot.tender,
            "publicity": publicity,
            "voided": svc.publicity_voided(publicity),
            "window_open": svc.objection_window_open(publicity, timezone.now()),
            "may_object": may_object,
            "not_allowed": reason,
            "own": own,
            "text": text,
            "error": error,
        },
        status=status,
    )


@never_cache
@require_safe
@signed_in
def notice_page(request, lot_id: int):
    """A bidder's notice of the lot: the 中标通知书 for the winner, its result notice for the others."""
    lot = sel.lot_for_award(lot_id)
    if request.user.role != Role.BIDDER:
        return redirect("experts:award-lot", lot_id=lot.pk)
    award, notice = sel.notices_for_bidder(user=request.user, lot=lot)
    return render(
        request,
        "experts/award/notice.html",
        {"lot": lot, "tender": lot.tender, "award": award, "notice": notice},
    )


def _pdf(blob, filename: str):
    if blob is None:
        raise NotFound(_("The PDF is not available."), code="notice_pdf_missing")
    return FileResponse(
        blob_open(blob), content_type="application/pdf", as_attachment=True, filename=filename
    )


def _signed_json(*, data: dict, sha256: str, signature: str):
    return JsonResponse(
        {
            "data": data,
            "data_sha256": sha256,
            "platform_signature": signature,
            "platform_certificate": pki.pem(pki.platform_signer()[1]),
        },
        json_dumps_params={"ensure_ascii": False},
    )


@require_safe
@signed_in
def award_notice_pdf(request, award_id: int):
    award = sel.award_notice_access(user=request.user, award_id=award_id)
    return _pdf(award.notice_pdf, f"award-notice-{award.lot.tender.code}-{award.lot.number}.pdf")


@require_safe
@signed_in
def award_notice_json(request, award_id: int):
    award = sel.award_notice_access(user=request.user, award_id=award_id)
    return _signed_json(data=award.notice, sha256=award.notice_sha256, signature=award.notice_signature)


@require_safe
@signed_in
def result_notice_pdf(request, notice_id: int):
    notice = sel.result_notice_access(user=request.user, notice_id=notice_id)
    lot = notice.award.lot
    return _pdf(notice.pdf, f"result-notice-{lot.tender.code}-{lot.number}-{notice.pk}.pdf")


@require_safe
@signed_in
def result_notice_json(request, notice_id: int):
    notice = sel.result_notice_access(user=request.user, notice_id=notice_id)
    return _signed_json(data=notice.data, sha256=notice.data_sha256, signature=notice.signature)


# --- deadlines ---------------------------------------------------------------------------------------------


@require_POST
@signed_in
def rating_view(request, lot_id: int):
    """The agency, the tenderee or the centre rates a member's performance after the evaluation (C11)."""
    from experts.models import Expert
    from experts.services.pool import rating_record

    def rate(lot):
        raw = request.POST.get("expert", "")
        expert = Expert.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
        if expert is None:
            raise NotFound(_("No such expert."), code="expert_not_found")
        try:
            score = int(request.POST.get("score", ""))
        except ValueError:
            score = -1
        rating_record(
            expert=expert, lot=lot, actor=request.user, score=score, comment=request.POST.get("comment", "")
        )

    return _act(request, lot_id, rate, _("The rating is recorded."))


@never_cache
@require_safe
@signed_in
def deadlines_page(request):
    require_role(request.user, Role.AGENCY, *READ_ALL_ROLES)
    now = timezone.now()
    return render(
        request,
        "experts/award/deadlines.html",
        {
            "rows": sel.award_deadlines(user=request.user, now=now),
            "window": sel.DEADLINE_WINDOW_DAYS,
        },
    )


urlpatterns = [
    path("award/lots/<int:lot_id>/", lot_page, name="award-lot"),
    path("award/lots/<int:lot_id>/publicity", publicity_start_view, name="award-publicity-start"),
    path(
        "award/lots/<int:lot_id>/objections/<int:objection_id>/answer",
        objection_answer_view,
        name="award-objection-answer",
    ),
    path("award/lots/<int:lot_id>/decide", award_decide_view, name="award-decide"),
    path("award/lots/<int:lot_id>/contract", contract_record_view, name="award-contract"),
    path("award/lots/<int:lot_id>/supervisor-report", supervisor_report_view, name="award-supervisor-report"),
    path("award/lots/<int:lot_id>/objection/", objection_page, name="award-objection"),
    path("award/lots/<int:lot_id>/notice/", notice_page, name="award-notice-page"),
    path("award/notices/<int:award_id>/award.pdf", award_notice_pdf, name="award-notice-pdf"),
    path("award/notices/<int:award_id>/award.json", award_notice_json, name="award-notice-json"),
    path("award/result-notices/<int:notice_id>/result.pdf", result_notice_pdf, name="result-notice-pdf"),
    path("award/result-notices/<int:notice_id>/result.json", result_notice_json, name="result-notice-json"),
    path("award/lots/<int:lot_id>/ratings", rating_view, name="award-rating"),
    path("award/deadlines/", deadlines_page, name="award-deadlines"),
]
