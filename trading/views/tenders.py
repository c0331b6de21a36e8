"""Views: tender management — drafts with lots, publication under the legal rules, amendments,
suspension and closing — the bidders' "obtain documents", and the list of all tenders.

Signed-in tender pages live under workbench/tenders/ so that they never shadow the
public portal's tenders/<pk>/.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from archive.blobs import blob_open
from core.errors import AccessDenied, Conflict, DomainError, ValidationFailed
from trading import rules
from trading.access import (
    READ_ALL_ROLES,
    manages_tender,
    require_role,
    tender_access_manage,
    tender_access_read,
)
from trading.models import (
    Announcement,
    AnnouncementAttachment,
    Category,
    DecryptionPolicy,
    DocumentDownload,
    EntityStatus,
    EvaluationMethod,
    MarketEntity,
    ProcurementMethod,
    Regime,
    Role,
    Tender,
    TenderState,
)
from trading.rules.timeline import AMENDMENT_DAYS, AMENDMENT_PREQUAL_DAYS, SRC_GP_AMENDMENT, SRC_TB_AMENDMENT
from trading.selectors import check_entity_may_participate
from trading.services.tenders import (
    tender_amend,
    tender_close,
    tender_create,
    tender_document_download,
    tender_publish,
    tender_resume,
    tender_suspend,
    tender_update_draft,
)
from trading.views.accounts import error_context, form_field, signed_in

PAGE_SIZE = 50
LOT_ROWS = 5  # rows offered on a new tender; an edited one gets one more than it has
DATETIME_INPUT = "%Y-%m-%dT%H:%M"  # <input type="datetime-local">, Beijing time
# The criteria offered in every new lot: valid for both regimes (price weight 40 %, GP formula).
DEFAULT_EVALUATION = {
    "criteria": [
        {"code": "technical", "name": "技术方案", "group": "technical", "max": 40},
        {"code": "commercial", "name": "商务", "group": "commercial", "max": 20},
        {"code": "price", "name": "价格", "group": "price", "max": 40},
    ],
    "price_formula": {"kind": "gp_base_over_price"},
}
DEFAULT_LOT = {
    "evaluation_method": EvaluationMethod.SCORING,
    "committee": {"size": 5, "experts": 4, "tenderee_reps": 1},
    "evaluation": json.dumps(DEFAULT_EVALUATION, ensure_ascii=False, indent=2),
}
# Suspension and resumption are also the centre's and the regulator's to order (objections,
# complaints); closing, publishing and amending are the tender's managers' only.
SUPERVISING_ROLES = {Role.CENTRE, Role.REGULATOR, Role.ADMIN}


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def _local(value) -> str:
    return timezone.localtime(value).strftime(DATETIME_INPUT) if value else ""


def _refusal(exc: DomainError) -> dict:
    # Access refusals are not form errors: they go to core.middleware as a 403 page.
    if isinstance(exc, AccessDenied) or exc.code == "tender_not_yours":
        raise exc
    return error_context(exc)


# --- the tender form -------------------------------------------------------------------------------

SCALARS = (
    ("title", gettext_lazy("Title"), "text", {"maxlength": 300, "required": True}),
    ("regime", gettext_lazy("Regime"), "select", {"choices": Regime.choices, "required": True}),
    ("category", gettext_lazy("Category"), "select", {"choices": Category.choices, "required": True}),
    (
        "method",
        gettext_lazy("Procurement method"),
        "select",
        {"choices": ProcurementMethod.choices, "required": True},
    ),
    ("tenderee_id", gettext_lazy("Tenderee / purchaser"), "select", {"required": True}),
    ("agency_id", gettext_lazy("Agency"), "select", {}),
    (
        "region_code",
        gettext_lazy("Region (6-digit division code; empty: the tenderee's)"),
        "text",
        {"maxlength": 6},
    ),
    ("funding_source", gettext_lazy("Funding source"), "text", {"maxlength": 120}),
    ("description", gettext_lazy("Description (HTML allowed, no scripts)"), "textarea", {}),
    ("state_funded", gettext_lazy("State-funded (国有资金占控股或主导)"), "checkbox", {}),
    ("prequalification", gettext_lazy("Prequalification (资格预审)"), "checkbox", {}),
    (
        "large_or_complex",
        gettext_lazy("Budget ≥ 10M, technically complex or of large social impact"),
        "checkbox",
        {},
    ),
    ("docs_from", gettext_lazy("Documents available from"), "datetime-local", {"required": True}),
    ("docs_until", gettext_lazy("Documents available until"), "datetime-local", {"required": True}),
    ("deadline", gettext_lazy("Bid deadline and opening time"), "datetime-local", {"required": True}),
    ("decryption_minutes", gettext_lazy("Decryption window (minutes)"), "number", {}),
    (
        "decryption_policy",
        gettext_lazy("Decryption policy"),
        "select",
        {"choices": DecryptionPolicy.choices, "required": True},
    ),
    ("custodian_k", gettext_lazy("Custodians needed (k)"), "number", {}),
    ("custodian_n", gettext_lazy("Custodians (n)"), "number", {}),
    ("bid_validity_days", gettext_lazy("Bid validity (days)"), "number", {}),
)
LOT_COLUMNS = (
    ("title", gettext_lazy("Lot title"), "text", {"maxlength": 300}),
    (
        "classification_code",
        gettext_lazy("Section classification code (e.g. A010000)"),
        "text",
        {"maxlength": 7},
    ),
    ("budget", gettext_lazy("Budget / estimated price (yuan)"), "number", {"step": "0.01"}),
    ("ceiling_price", gettext_lazy("Ceiling price (yuan)"), "number", {"step": "0.01"}),
    ("bid_security", gettext_lazy("Bid security (yuan)"), "number", {"step": "0.01"}),
    ("duration_days", gettext_lazy("Duration (days)"), "number", {}),
    (
        "evaluation_method",
        gettext_lazy("Evaluation method"),
        "select",
        {"choices": EvaluationMethod.choices, "required": True},
    ),
    ("committee.size", gettext_lazy("Committee size"), "number", {}),
    ("committee.experts", gettext_lazy("Experts on the committee"), "number", {}),
    ("committee.tenderee_reps", gettext_lazy("Tenderee representatives"), "number", {}),
    ("evaluation", gettext_lazy("Evaluation criteria (JSON)"), "textarea", {"rows": 10}),
)
LOT_FILLED_BY = ("title", "classification_code", "budget")  # a row with none of these is empty


def _id(raw: str) -> str:
    return raw if raw.isdigit() else ""  # never hand a non-number to a primary-key lookup


def tender_data_from_post(post) -> tuple[dict, dict, dict]:
    """(what the form shows again, what tender_create takes, errors of parsing the JSON)."""
    data: dict[str, Any] = {}
    for name, _label, kind, _extra in SCALARS:
        data[name] = (name in post) if kind == "checkbox" else post.get(name, "").strip()
    data["tenderee_id"], data["agency_id"] = _id(data["tenderee_id"]), _id(data["agency_id"])
    indexes = sorted(
        {
            int(m.group(1))
            for key in post
            for m in [re.match(r"^lots\[(\d+)\]\.", key)]
            if m and int(m.group(1)) < 100
        }
    )
    lots, errors = [], {}
    for i in indexes:
        row: dict[str, Any] = {"committee": {}}
        for key, _label, _kind, _extra in LOT_COLUMNS:
            value = post.get(f"lots[{i}].{key}", "").strip()
            if key.startswith("committee."):
                row["committee"][key.split(".", 1)[1]] = value
            else:
                row[key] = value
        if any(row[k] for k in LOT_FILLED_BY):
            lots.append(row)
    data["lots"] = lots
    payload = {**data, "lots": []}
    for n, row in enumerate(lots):
        lot = dict(row)
        if row["evaluation"]:
            try:
                lot["evaluation"] = json.loads(row["evaluation"])
            except ValueError as exc:
                errors[f"lots[{n}].evaluation"] = _(
                    "evaluation_json_invalid: not valid JSON (%(detail)s)."
                ) % {"detail": exc}
        else:
            lot["evaluation"] = None
        payload["lots"].append(lot)
    return data, payload, errors


def tender_data_from_instance(tender: Tender) -> dict:
    data: dict[str, Any] = {
        name: getattr(tender, name)
        for name, _label, _kind, _extra in SCALARS
        if name not in {"tenderee_id", "agency_id", "docs_from", "docs_until", "deadline"}
    }
    data.update(
        {
            "tenderee_id": tender.tenderee_id,
            "agency_id": tender.agency_id or "",
            "docs_from": _local(tender.docs_from),
            "docs_until": _local(tender.docs_until),
            "deadline": _local(tender.deadline),
            "custodian_k": tender.custodian_k or "",
            "custodian_n": tender.custodian_n or "",
        }
    )
    data["lots"] = [
        {
            "title": lot.title,
            "classification_code": lot.classification_code,
            "budget": lot.budget,
            "ceiling_price": lot.ceiling_price or "",
            "bid_security": lot.bid_security,
            "duration_days": lot.duration_days or "",
            "evaluation_method": lot.evaluation_method,
            "committee": lot.committee or {},
            "evaluation": _json(lot.evaluation) if lot.evaluation else "",
        }
        for lot in tender.lots.order_by("number")
    ]
    return data


def _initial(user) -> dict:
    entity = user.entity
    return {
        "regime": Regime.TB,
        "method": ProcurementMethod.OPEN,
        "decryption_policy": DecryptionPolicy.BIDDER,
        "decryption_minutes": 30,
        "bid_validity_days": 90,
        "state_funded": True,
        "tenderee_id": entity.pk if entity and entity.is_tenderee else "",
        "agency_id": entity.pk if entity and entity.is_agency else "",
        "lots": [],
    }


def _entity_choices(**flags) -> list[tuple[int, str]]:
    qs = MarketEntity.objects.filter(status=EntityStatus.VERIFIED, **flags).order_by("name")
    return [(e.pk, f"{e.name} ({e.uscc})") for e in qs.only("pk", "name", "uscc")]


def tender_form(data: dict, errors: dict) -> dict:
    def field(name, label, kind="text", **extra):
        return form_field(name, label, data, errors, kind=kind, **extra)

    choices = {"tenderee_id": _entity_choices(is_tenderee=True), "agency_id": _entity_choices(is_agency=True)}
    scalars = [
        field(n, label, kind, **{**extra, **({"choices": choices[n]} if n in choices else {})})
        for n, label, kind, extra in SCALARS
    ]
    existing = data.get("lots") or []
    rows_data = {"lots": [*existing, *[DEFAULT_LOT] * max(LOT_ROWS - len(existing), 1)]}
    lot_rows = []
    for i in range(len(rows_data["lots"])):
        lot_rows.append(
            [
                form_field(f"lots[{i}].{key}", label, rows_data, errors, kind=kind, **extra)
                for key, label, kind, extra in LOT_COLUMNS
            ]
        )
    return {"fields": scalars, "lots": lot_rows, "lots_error": errors.get("lots", "")}


def _form_page(request, *, data: dict, error=None, status=200, tender: Tender | None = None):
    form = tender_form(data, error["field_map"] if error else {})
    return render(
        request, "trading/tenders/form.html", {"form": form, "error": error, "tender": tender}, status=status
    )


# --- list, create, edit ------------------------------------------------------------------------------


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
    qs = Tender.objects.select_related("tenderee", "agency")
    if user.role == Role.AGENCY:
        qs = qs.filter(Q(agency_id=user.entity_id) | Q(tenderee_id=user.entity_id))
    elif user.role == Role.BIDDER:
        # Bidders see what is open for bids and what they took part in; never drafts.
        qs = qs.filter(Q(state=TenderState.PUBLISHED) | Q(downloads__entity_id=user.entity_id)).distinct()
    if state:
        qs = qs.filter(state=state)
    page = Paginator(qs.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
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
        return _form_page(request, data=_initial(request.user))
    data, payload, parse_errors = tender_data_from_post(request.POST)
    try:
        if parse_errors:
            raise ValidationFailed(
                _("The tender form has errors."), code="tender_invalid", fields=parse_errors
            )
        tender = tender_create(actor=request.user, data=payload)
    except DomainError as exc:
        return _form_page(request, data=data, error=_refusal(exc), status=exc.status)
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
        return _form_page(request, data=data, error=_refusal(exc), status=exc.status, tender=tender)
    messages.success(request, _("The draft was saved."))
    return redirect("trading:tender_detail", pk=tender.pk)


# --- the tender page and its actions -----------------------------------------------------------


def _detail_page(request, tender: Tender, *, error=None, status=200):
    user = request.user
    manages = manages_tender(user, tender)
    supervises = user.role in SUPERVISING_ROLES
    announcements = tender.announcements.order_by("-published_at", "-id")
    if not (manages or supervises):
        announcements = announcements.filter(state=Announcement.State.PUBLISHED)
    context = {
        "tender": tender,
        "lots": tender.lots.order_by("number"),
        "announcements": announcements,
        "error": error,
        "manages": manages,
        "extended": bool(tender.original_deadline and tender.original_deadline != tender.deadline),
        "can_edit": manages and tender.state == TenderState.DRAFT,
        "can_publish": manages and tender.state == TenderState.DRAFT,
        "can_amend": manages and tender.state == TenderState.PUBLISHED,
        "can_suspend": (manages or supervises) and tender.state in rules.RESUMABLE_STATES,
        "can_resume": (manages or supervises) and tender.state == TenderState.SUSPENDED,
        "can_close": manages and TenderState.TERMINATED in rules.TENDER_TRANSITIONS[tender.state],
        "close_targets": [
            (s, TenderState(s).label)
            for s in (TenderState.FAILED, TenderState.TERMINATED)
            if s in rules.TENDER_TRANSITIONS[tender.state]
        ],
        # Who obtained the documents is not shown to anybody here: the tenderer may not learn the
        # names or number of potential bidders (招标投标法第二十二条); amendments reach them anyway.
        "may_list_documents": manages or user.role in READ_ALL_ROLES,
    }
    if user.role == Role.BIDDER:
        download = DocumentDownload.objects.filter(tender=tender, entity_id=user.entity_id).first()
        now = timezone.now()
        blocked = None
        try:
            check_entity_may_participate(user.entity)
        except DomainError as exc:
            blocked = error_context(exc)
        context.update(
            {
                "download": download,
                "participation_blocked": blocked,
                "may_list_documents": download is not None,
                "can_obtain": tender.state == TenderState.PUBLISHED
                and tender.docs_from <= now <= tender.docs_until
                and blocked is None,
            }
        )
    return render(request, "trading/tenders/detail.html", context, status=status)


def _tender_for(request, pk: int) -> Tender:
    tender = get_object_or_404(Tender.objects.select_related("tenderee", "agency"), pk=pk)
    return tender_access_read(user=request.user, tender=tender)


@require_safe
@signed_in
def tender_detail(request, pk: int):
    return _detail_page(request, _tender_for(request, pk))


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
    tender = tender_access_manage(user=request.user, tender=_tender_for(request, pk))
    try:
        tender_publish(
            tender=tender,
            actor=request.user,
            body_html=request.POST.get("body_html", "").strip() or None,
            documents=_uploads(request, "documents"),
        )
    except DomainError as exc:
        return _detail_page(request, tender, error=_refusal(exc), status=exc.status)
    messages.success(request, _("The tender is published and open for bids."))
    return redirect("trading:tender_detail", pk=tender.pk)


@require_http_methods(["GET", "POST"])
@signed_in
def tender_amend_view(request, pk: int):
    tender = tender_access_manage(user=request.user, tender=_tender_for(request, pk))
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
            error, status = _refusal(exc), exc.status
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


@require_POST
@signed_in
def tender_suspend_view(request, pk: int):
    tender = _tender_for(request, pk)
    try:
        tender_suspend(tender=tender, actor=request.user, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        return _detail_page(request, tender, error=_refusal(exc), status=exc.status)
    messages.success(request, _("The tender is suspended."))
    return redirect("trading:tender_detail", pk=tender.pk)


@require_POST
@signed_in
def tender_resume_view(request, pk: int):
    tender = _tender_for(request, pk)
    try:
        tender_resume(tender=tender, actor=request.user, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        return _detail_page(request, tender, error=_refusal(exc), status=exc.status)
    messages.success(request, _("The tender has resumed."))
    return redirect("trading:tender_detail", pk=tender.pk)


@require_POST
@signed_in
def tender_close_view(request, pk: int):
    tender = tender_access_manage(user=request.user, tender=_tender_for(request, pk))
    try:
        tender_close(
            tender=tender,
            actor=request.user,
            target=request.POST.get("target", ""),
            reason=request.POST.get("reason", ""),
        )
    except DomainError as exc:
        return _detail_page(request, tender, error=_refusal(exc), status=exc.status)
    messages.success(request, _("The tender is closed."))
    return redirect("trading:tender_detail", pk=tender.pk)


# --- tender documents ------------------------------------------------------------------------------


@require_POST
@signed_in
def tender_obtain(request, pk: int):
    """A bidder obtains the documents (获取招标文件): registered, evidenced, refused when barred."""
    tender = _tender_for(request, pk)
    require_role(request.user, Role.BIDDER)
    try:
        tender_document_download(tender=tender, user=request.user, request=request)
    except DomainError as exc:
        return _detail_page(request, tender, error=_refusal(exc), status=exc.status)
    return redirect("trading:tender_documents", pk=tender.pk)


def _documents_access(request, pk: int) -> Tender:
    tender = _tender_for(request, pk)
    user = request.user
    if user.role == Role.BIDDER:
        if not DocumentDownload.objects.filter(tender=tender, entity_id=user.entity_id).exists():
            raise AccessDenied(_("Obtain the tender documents first."), code="documents_not_obtained")
    elif not (manages_tender(user, tender) or user.role in READ_ALL_ROLES):
        raise AccessDenied(
            _("Only the tender's agency, its tenderee or centre staff may do this."), code="tender_not_yours"
        )
    return tender


def _documents(tender: Tender):
    return (
        AnnouncementAttachment.objects.filter(
            announcement__tender=tender,
            announcement__state=Announcement.State.PUBLISHED,
            is_tender_document=True,
        )
        .select_related("blob", "announcement")
        .order_by("announcement__published_at", "id")
    )


@require_safe
@signed_in
def tender_documents(request, pk: int):
    tender = _documents_access(request, pk)
    return render(
        request, "trading/tenders/documents.html", {"tender": tender, "documents": _documents(tender)}
    )


@require_safe
@signed_in
def tender_document_file(request, pk: int, attachment_pk: int):
    tender = _documents_access(request, pk)
    attachment = get_object_or_404(_documents(tender), pk=attachment_pk)
    response = FileResponse(
        blob_open(attachment.blob),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.blob.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    path("workbench/tenders/", tender_list, name="tender_list"),
    path("workbench/tenders/new/", tender_create_view, name="tender_create"),
    path("workbench/tenders/<int:pk>/", tender_detail, name="tender_detail"),
    path("workbench/tenders/<int:pk>/edit/", tender_edit, name="tender_edit"),
    path("workbench/tenders/<int:pk>/publish/", tender_publish_view, name="tender_publish"),
    path("workbench/tenders/<int:pk>/amend/", tender_amend_view, name="tender_amend"),
    path("workbench/tenders/<int:pk>/suspend/", tender_suspend_view, name="tender_suspend"),
    path("workbench/tenders/<int:pk>/resume/", tender_resume_view, name="tender_resume"),
    path("workbench/tenders/<int:pk>/close/", tender_close_view, name="tender_close"),
    path("workbench/tenders/<int:pk>/obtain/", tender_obtain, name="tender_obtain"),
    path("workbench/tenders/<int:pk>/documents/", tender_documents, name="tender_documents"),
    path(
        "workbench/tenders/<int:pk>/documents/<int:attachment_pk>/",
        tender_document_file,
        name="tender_document_file",
    ),
]
