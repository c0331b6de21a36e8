"""Tender page actions: publication under the legal rules, amendments (which may move the
deadline), and the state changes suspend, resume and close.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import Conflict, DomainError, ValidationFailed
from trading.access import tender_access_manage
from trading.models import Regime, Tender, TenderState
from trading.rules.timeline import AMENDMENT_DAYS, AMENDMENT_PREQUAL_DAYS, SRC_GP_AMENDMENT, SRC_TB_AMENDMENT
from trading.services.tenders import tender_amend, tender_close, tender_publish, tender_resume, tender_suspend
from trading.views.accounts import form_field, signed_in
from trading.views.tenders.detail import detail_page, refusal, tender_for


def _uploads(request, field: str) -> list[tuple[str, bytes, str]]:
    files = request.FILES.getlist(field)
    for f in files:  # refuse before reading a large file into memory
        if f.size > settings.ATTACHMENT_MAX_BYTES:
            raise ValidationFailed(
                _("An attachment is too large."), code="attachment_too_large", filename=f.name
            )
    return [(f.name, f.read(), f.content_type or "application/octet-stream") for f in files]


@require_POST
@signed_in
def tender_publish_view(request, pk: int):
    """Publication checks every legal rule now; a refusal names the rule's code and source."""
    tender = tender_access_manage(user=request.user, tender=tender_for(request, pk))
    try:
        tender_publish(
            tender=tender,
            actor=request.user,
            body_html=request.POST.get("body_html", "").strip() or None,
            documents=_uploads(request, "documents"),
        )
    except DomainError as exc:
        return detail_page(request, tender, error=refusal(exc), status=exc.status)
    messages.success(request, _("The tender is published and open for bids."))
    return redirect("trading:tender_detail", pk=tender.pk)


@require_http_methods(["GET", "POST"])
@signed_in
def tender_amend_view(request, pk: int):
    tender = tender_access_manage(user=request.user, tender=tender_for(request, pk))
    if tender.state != TenderState.PUBLISHED:
        raise Conflict(_("Amendments are issued while the tender is open for bids."), code="tender_not_open")
    data: dict[str, Any] = {"affects_preparation": True}
    error, status = None, 200
    if request.method == "POST":
        post = request.POST
        data = {key: post.get(key, "").strip() for key in ("title", "body_html", "new_deadline")}
        data.update(
            {key: key in post for key in ("affects_preparation", "changes_object", "changes_qualification")}
        )
        old_deadline = tender.deadline
        try:
            new_deadline = None
            if data["new_deadline"]:
                new_deadline = parse_datetime(data["new_deadline"])
                if new_deadline is None:
                    raise ValidationFailed(
                        _("Not a date and time."),
                        code="amendment_invalid",
                        fields={"new_deadline": _("Not a date and time.")},
                    )
                if timezone.is_naive(new_deadline):
                    new_deadline = timezone.make_aware(new_deadline)
            ann = tender_amend(
                tender=tender,
                actor=request.user,
                title=data["title"],
                body_html=data["body_html"],
                affects_preparation=data["affects_preparation"],
                new_deadline=new_deadline,
                attachments=_uploads(request, "attachments"),
                changes_object=data["changes_object"],
                changes_qualification=data["changes_qualification"],
            )
        except DomainError as exc:
            error, status = refusal(exc), exc.status
            if not error["field_map"] and exc.code in {"title_required", "title_too_long"}:
                error["field_map"] = {"title": error["message"]}
            elif not error["field_map"] and exc.code.startswith("html_"):
                error["field_map"] = {"body_html": error["message"]}
        else:
            messages.success(
                request, _amendment_message(tender, ann.new_deadline, new_deadline or old_deadline)
            )
            return redirect("trading:tender_detail", pk=tender.pk)
    field_map = error["field_map"] if error else {}

    def field(name, label, kind="text", **extra):
        return form_field(name, label, data, field_map, kind=kind, **extra)

    fields = [
        field("title", _("Title"), required=True, maxlength=300),
        field("body_html", _("Text (HTML allowed, no scripts)"), "textarea", required=True, rows=8),
        field("affects_preparation", _("Affects the preparation of bids"), "checkbox"),
        field("new_deadline", _("New bid deadline (optional)"), "datetime-local"),
    ]
    if tender.regime == Regime.GP:
        fields += [
            field("changes_object", _("Changes the object of the procurement"), "checkbox"),
            field("changes_qualification", _("Changes the qualification conditions"), "checkbox"),
        ]
    days = AMENDMENT_PREQUAL_DAYS if tender.prequalification else AMENDMENT_DAYS
    return render(
        request,
        "trading/tenders/amend.html",
        {
            "tender": tender,
            "fields": fields,
            "error": error,
            "days": days,
            "source": SRC_GP_AMENDMENT if tender.regime == Regime.GP else SRC_TB_AMENDMENT,
        },
        status=status,
    )


def _amendment_message(tender: Tender, deadline, requested) -> str:
    when = date_format(timezone.localtime(deadline), "Y-m-d H:i")
    text = _("The amendment is published. Bid deadline and opening time: %(when)s.") % {"when": when}
    if deadline > requested:
        source = SRC_GP_AMENDMENT if tender.regime == Regime.GP else SRC_TB_AMENDMENT
        text += " " + _(
            "Less time remained than the law requires, so the deadline was moved later "
            "automatically (%(source)s)."
        ) % {"source": source}
    return text


# --- suspend, resume, close: one reasoned state change each ----------------------------------------


def _state_change(request, tender: Tender, service: Callable[..., Any], done: str, **arguments):
    """Call `service` with the POSTed reason; a refusal shows the tender page with it, else back to it."""
    try:
        service(tender=tender, actor=request.user, reason=request.POST.get("reason", ""), **arguments)
    except DomainError as exc:
        return detail_page(request, tender, error=refusal(exc), status=exc.status)
    messages.success(request, done)
    return redirect("trading:tender_detail", pk=tender.pk)


@require_POST
@signed_in
def tender_suspend_view(request, pk: int):
    # The service decides who may suspend (managers and supervisors), so only read access here.
    return _state_change(request, tender_for(request, pk), tender_suspend, _("The tender is suspended."))


@require_POST
@signed_in
def tender_resume_view(request, pk: int):
    return _state_change(request, tender_for(request, pk), tender_resume, _("The tender has resumed."))


@require_POST
@signed_in
def tender_close_view(request, pk: int):
    tender = tender_access_manage(user=request.user, tender=tender_for(request, pk))
    target = request.POST.get("target", "")
    return _state_change(request, tender, tender_close, _("The tender is closed."), target=target)
