"""Tip-off pages (举报, issue 7 item 3): the public form (anonymous allowed) that shows the receipt code
once, the follow-up by code, and the regulators' list, detail, triage and evidence download. Thin: parse,
check access, call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from archive.blobs import blob_open
from core.errors import AccessDenied, DomainError, NotFound, ValidationFailed
from core.throttle import client_key, throttle_hit
from supervision.models import TipOff
from supervision.selectors.tipoffs import (
    READERS,
    entities_match,
    tender_by_code,
    tipoff_evidence_list,
    tipoff_get_for_reader,
    tipoff_list,
    triage_actions,
)
from supervision.services import tipoffs as svc
from supervision.views.common import choice, paged
from trading.access import require_role
from trading.models import Lot
from trading.views.accounts import error_context, signed_in

SUBMIT_SCOPE, FOLLOW_SCOPE = "tipoff", "tipoff_follow"
# Which form field a service refusal concerns (the service names no fields).
FIELD_OF = {
    "text_invalid": "text",
    "contact_invalid": "contact",
    "tender_not_found": "tender",
    "entity_not_found": "entities",
    "evidence_too_large": "evidence",
    "tipoff_not_found": "code",
    "triage_action_invalid": "action",
    "lot_not_found": "lot",
}


def _throttle(request, scope: str) -> None:
    """Count one request of this address in `scope` (core.throttle; refused with rate_limited, 429)."""
    throttle_hit(scope=scope, key=client_key(request))


def _error(exc: DomainError) -> dict:
    """error_context, with the field a service refusal concerns when it names none."""
    error = error_context(exc)
    if not error["field_map"] and exc.code in FIELD_OF:
        error["field_map"] = {FIELD_OF[exc.code]: error["message"]}
    return error


def _merged(problems: list[ValidationFailed]) -> ValidationFailed:
    """One refusal for the whole form: the first problem's code, every field's message."""
    fields: dict = {}
    for exc in problems:
        fields.update(exc.params.get("fields") or {FIELD_OF.get(exc.code, "form"): exc.message})
    first = problems[0]
    return ValidationFailed(first.message, code=first.code, fields=fields)


# --- the public form --------------------------------------------------------------------------------------


def _posted(request) -> dict:
    post = request.POST
    return {
        "tender": post.get("tender", "").strip()[:40],
        "entities": post.get("entities", "")[:4000],
        "text": post.get("text", "")[: svc.TEXT_MAX + 1],
        "contact": post.get("contact", "")[:201],
        "anonymous": not request.user.is_authenticated or post.get("anonymous") == "1",
    }


def _evidence(files) -> list[tuple[str, bytes]]:
    """The uploaded evidence, refused before any byte is read when over the service's limits."""
    files = [f for f in files if f.size]
    if len(files) > svc.EVIDENCE_MAX_FILES or any(f.size > svc.EVIDENCE_MAX_BYTES for f in files):
        message = _("At most %(n)s evidence files of %(mib)s MiB each.") % {
            "n": svc.EVIDENCE_MAX_FILES,
            "mib": svc.EVIDENCE_MAX_BYTES // (1024 * 1024),
        }
        raise ValidationFailed(message, code="evidence_too_large", fields={"evidence": message})
    return [(f.name[:200], f.read()) for f in files]


def _parse_report(request, posted: dict) -> dict:
    """The tender, entities and evidence, every problem reported at once (nothing is written yet)."""
    out, problems = {}, []
    parsers = {
        "tender": lambda: tender_by_code(posted["tender"]),
        "entities": lambda: entities_match(posted["entities"]),
        "evidence": lambda: _evidence(request.FILES.getlist("evidence")),
    }
    for name, parse in parsers.items():
        try:
            out[name] = parse()
        except ValidationFailed as exc:
            problems.append(exc)
    if problems:
        raise _merged(problems)
    return out


def _new_page(request, *, posted: dict, error=None, status: int = 200):
    return render(
        request,
        "supervision/tipoffs/new.html",
        {
            "posted": posted,
            "error": error,
            "max_files": svc.EVIDENCE_MAX_FILES,
            "max_mib": svc.EVIDENCE_MAX_BYTES // (1024 * 1024),
        },
        status=status,
    )


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def tipoff_new(request):
    """Anyone reports; the receipt code is on this response only (no-store), never in a URL."""
    if request.method != "POST":
        posted = {"tender": request.GET.get("tender", "").strip()[:40], "anonymous": True}
        return _new_page(request, posted=posted)
    posted = _posted(request)
    try:
        _throttle(request, SUBMIT_SCOPE)
        parsed = _parse_report(request, posted)
        tip, code = svc.tipoff_submit(
            actor=request.user,
            text=posted["text"],
            tender_id=parsed["tender"].pk if parsed["tender"] else None,
            entity_ids=[e.pk for e in parsed["entities"]],
            contact=posted["contact"],
            anonymous=posted["anonymous"],
            evidence=parsed["evidence"],
        )
    except DomainError as exc:
        return _new_page(request, posted=posted, error=_error(exc), status=exc.status)
    return render(request, "supervision/tipoffs/receipt.html", {"tip": tip, "code": code})


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def tipoff_follow(request):
    """The reporter enters the code (POSTed, never in a URL) and sees the status and the public reply."""
    if request.method != "POST":
        return render(request, "supervision/tipoffs/follow.html", {})
    try:
        _throttle(request, FOLLOW_SCOPE)
        tip = svc.tipoff_lookup(request.POST.get("code", "")[:64])
    except DomainError as exc:
        # The same answer for any wrong code: nothing tells whether a tip-off is near it.
        return render(request, "supervision/tipoffs/follow.html", {"error": _error(exc)}, status=exc.status)
    return render(request, "supervision/tipoffs/follow.html", {"found": tip})


# --- the regulators' pages --------------------------------------------------------------------------------


@never_cache
@require_safe
@signed_in
def tipoff_list_page(request):
    require_role(request.user, *READERS)
    status = choice(request.GET, "status", {"", *TipOff.Status.values})
    page, _query = paged(request.GET, tipoff_list(user=request.user, status=status or None))
    return render(
        request,
        "supervision/tipoffs/list.html",
        {"page": page, "status": status, "statuses": TipOff.Status.choices},
    )


def _detail_page(request, tip: TipOff, *, error=None, posted=None, status: int = 200):
    actions = triage_actions(tip)
    return render(
        request,
        "supervision/tipoffs/detail.html",
        {
            "tip": tip,
            "entities": list(tip.entities.order_by("pk")),
            "evidence": tipoff_evidence_list(tip),
            "actions": actions,
            "sanctions": list(tip.sanctions.order_by("-decided_at", "-pk")),
            "lots": list(Lot.objects.filter(tender=tip.tender).order_by("number")) if tip.tender_id else [],
            "posted": posted or {},
            "error": error,
        },
        status=status,
    )


@never_cache
@require_safe
@signed_in
def tipoff_detail(request, pk: int):
    return _detail_page(request, tipoff_get_for_reader(user=request.user, pk=pk))


@never_cache
@require_POST
@signed_in
def tipoff_triage(request, pk: int):
    tip = tipoff_get_for_reader(user=request.user, pk=pk)
    posted = {
        "action": request.POST.get("action", ""),
        "note": request.POST.get("note", "")[: svc.TEXT_MAX],
        "reply": request.POST.get("reply", "")[: svc.TEXT_MAX],
        "lot": request.POST.get("lot", "")[:12],
    }
    try:
        svc.tipoff_triage(
            actor=request.user,
            tip=tip,
            action=posted["action"],
            note=posted["note"],
            reply=posted["reply"],
            lot_id=posted["lot"] or None,
        )
    except DomainError as exc:
        if isinstance(exc, AccessDenied):
            raise
        tip = tipoff_get_for_reader(user=request.user, pk=pk)
        return _detail_page(request, tip, error=_error(exc), posted=posted, status=exc.status)
    messages.success(request, _("The tip-off is triaged."))
    return redirect("supervision:tipoff_detail", pk=pk)


@require_safe
@signed_in
def tipoff_evidence(request, pk: int, n: int):
    tip = tipoff_get_for_reader(user=request.user, pk=pk)
    blobs = tipoff_evidence_list(tip)
    if not 1 <= n <= len(blobs):
        raise NotFound(_("No such evidence file."), code="evidence_not_found")
    blob = blobs[n - 1]
    response = FileResponse(
        blob_open(blob),
        as_attachment=True,
        filename=f"tipoff-{tip.pk}-evidence-{n:02d}.bin",
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    path("tipoffs/new", tipoff_new, name="tipoff_new"),
    path("tipoffs/follow", tipoff_follow, name="tipoff_follow"),
    path("tipoffs/", tipoff_list_page, name="tipoff_list"),
    path("tipoffs/<int:pk>/", tipoff_detail, name="tipoff_detail"),
    path("tipoffs/<int:pk>/triage", tipoff_triage, name="tipoff_triage"),
    path("tipoffs/<int:pk>/evidence/<int:n>", tipoff_evidence, name="tipoff_evidence"),
]
