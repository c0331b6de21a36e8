"""The OCDS release of one tender as it stands now, and which tenders (and announcements) are public."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Prefetch
from django.urls import NoReverseMatch, reverse
from django.utils.html import strip_tags

from trading.models import (
    Announcement,
    AnnouncementAttachment,
    AnnouncementKind,
    Category,
    EvaluationMethod,
    Lot,
    MarketEntity,
    ProcurementMethod,
    Tender,
    TenderState,
)
from trading.regions import region_name

from .mapping import (
    AWARD_CRITERIA,
    DISPOSAL_DETAILS,
    DOCUMENT_TYPE,
    LOT_STATUS,
    MAIN_CATEGORY,
    PROCUREMENT_METHOD,
    PROCUREMENT_METHOD_DETAILS,
    REGIME_DETAILS,
    TB_ENQUIRY_CLOSES_BEFORE_DEADLINE,
    TENDER_STATUS,
    identifier_scheme,
    iso,
    number,
    party_id,
    tender_ocid,
)


def _money(amount: Decimal, currency: str) -> dict:
    return {"amount": number(amount), "currency": currency}


def _plain(html: str) -> str:
    return re.sub(r"\s+\n", "\n", strip_tags(html or "")).strip()


def default_base_url() -> str:
    return getattr(settings, "PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")


def _absolute(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


def tender_package_path(tender_id: int) -> str:
    return reverse("portal:opendata_tender", kwargs={"pk": tender_id})


def bulk_package_path(day: dt.date) -> str:
    return reverse("portal:opendata_releases", kwargs={"day": day.isoformat()})


def document_path(sha256: str, filename: str) -> str:
    """The portal's content-addressed download: the address carries the SHA-256."""
    return reverse("portal:attachment", kwargs={"sha256": sha256, "filename": filename})


def _announcement_path(announcement: Announcement) -> str | None:
    """The portal page of an announcement when the portal has one, else its API resource."""
    for name in ("portal:announcement", "api:announcement-detail"):
        try:
            return reverse(name, kwargs={"pk": announcement.pk})
        except NoReverseMatch:
            continue
    return None


# --- which tenders are public --------------------------------------------------------------------


def public_tenders():
    """Tenders the public may see: everything that has left draft."""
    return Tender.objects.exclude(state=TenderState.DRAFT).filter(published_at__isnull=False)


def _published_announcements():
    attachments = AnnouncementAttachment.objects.select_related("blob").order_by("id")
    return (
        Announcement.objects.filter(state=Announcement.State.PUBLISHED)
        .prefetch_related(Prefetch("attachments", queryset=attachments))
        .order_by("published_at", "id")
    )


def with_release_data(queryset):
    """Everything tender_release reads, fetched in a fixed number of queries for any count of tenders."""
    return queryset.select_related("tenderee", "agency").prefetch_related(
        Prefetch("lots", queryset=Lot.objects.select_related("awarded_to").order_by("number")),
        Prefetch("announcements", queryset=_published_announcements(), to_attr="public_announcements"),
    )


def _public_announcements(tender: Tender) -> list[Announcement]:
    cached = getattr(tender, "public_announcements", None)
    if cached is not None:
        return cached
    return list(_published_announcements().filter(tender=tender))


def last_change(tender: Tender, announcements: list[Announcement], lots: list[Lot]) -> dt.datetime:
    """When the tender last changed in a way the release shows."""
    moments = [tender.published_at, tender.state_changed_at]
    moments += [a.published_at for a in announcements]
    moments += [lot.awarded_at for lot in lots]
    present = [m for m in moments if m is not None]
    return max(present) if present else tender.created_at


# --- the release -----------------------------------------------------------------------------------


def _party(entity: MarketEntity, roles: list[str], *, contact: bool) -> dict:
    party: dict[str, Any] = {
        "id": party_id(entity),
        "name": entity.name,
        "identifier": {"scheme": identifier_scheme(entity.uscc), "id": entity.uscc, "legalName": entity.name},
        "address": {"countryName": "中国"},
        "roles": roles,
    }
    if entity.address:
        party["address"]["streetAddress"] = entity.address
    if entity.region_code:
        party["address"]["region"] = region_name(entity.region_code, language="zh-hans")
    # The tenderee's and agency's contacts are printed on every announcement (they receive
    # enquiries); a supplier's contact is not public.
    if contact and (entity.contact_name or entity.contact_phone):
        point = {"name": entity.contact_name, "telephone": entity.contact_phone}
        if entity.contact_email:
            point["email"] = entity.contact_email
        party["contactPoint"] = {k: v for k, v in point.items() if v}
    return party


def _reference(entity: MarketEntity) -> dict:
    return {"id": party_id(entity), "name": entity.name}


def _tender_status(tender: Tender, lots: list[Lot]) -> str:
    if tender.state == TenderState.ARCHIVED and not any(lot.status == Lot.Status.AWARDED for lot in lots):
        return "unsuccessful"
    return TENDER_STATUS[TenderState(tender.state)]


def _tags(tender: Tender, has_amendments: bool, has_awards: bool) -> list[str]:
    state = tender.state
    if state == TenderState.DRAFT:
        tags = ["planning"]
    elif state == TenderState.TERMINATED:
        tags = ["tenderCancellation"]
    elif state in (TenderState.FAILED, TenderState.SUSPENDED, TenderState.AWARDED, TenderState.ARCHIVED):
        tags = ["tenderUpdate"]
    else:
        tags = ["tenderAmendment" if has_amendments else "tender"]
    if has_awards:
        tags.append("award")
    return tags


def _enquiry_period(tender: Tender) -> dict:
    """TB: objections to the documents close 10 days before the deadline (条例22).

    GP: a supplier may question the documents within 7 working days of obtaining them, which
    differs per supplier; the period published is the documents period, the earliest end.
    """
    start = tender.docs_from
    end = tender.deadline - TB_ENQUIRY_CLOSES_BEFORE_DEADLINE if tender.regime == "TB" else tender.docs_until
    return {"startDate": iso(start), "endDate": iso(max(start, end))}


def _documents(announcements: list[Announcement], base_url: str) -> list[dict]:
    documents = []
    for a in announcements:
        doc_type = DOCUMENT_TYPE.get(a.kind, "tenderNotice")
        doc: dict[str, Any] = {
            "id": f"announcement-{a.pk}",
            "documentType": doc_type,
            "title": a.title,
            "format": "text/html",
            "language": "zh",
        }
        if a.published_at:
            doc["datePublished"] = iso(a.published_at)
        path = _announcement_path(a)
        if path:
            doc["url"] = _absolute(base_url, path)
        if a.content_digest:
            doc["description"] = f"SHA-256: {a.content_digest}"
        documents.append(doc)
        for att in a.attachments.all():
            # OCDS 1.1 documents have no hash field: the SHA-256 is the document's address
            # (content-addressed URL) and is repeated in the description.
            sha = att.blob.sha256
            attachment: dict[str, Any] = {
                "id": f"attachment-{att.pk}",
                "documentType": "biddingDocuments" if att.is_tender_document else doc_type,
                "title": att.filename,
                "description": f"SHA-256: {sha}",
                "url": _absolute(base_url, document_path(sha, att.filename)),
                "format": att.blob.content_type,
            }
            if a.published_at:
                attachment["datePublished"] = iso(a.published_at)
            documents.append(attachment)
    return documents


def tender_release(tender: Tender, *, base_url: str | None = None) -> dict:
    """The OCDS 1.1 release describing one tender as it stands now.

    Call with a tender fetched through `with_release_data` to avoid per-tender queries.
    """
    base_url = (base_url or default_base_url()).rstrip("/")
    lots = list(tender.lots.all())
    announcements = _public_announcements(tender)
    currency = tender.currency or "CNY"
    ocid = tender_ocid(tender)

    tenderee, agency = tender.tenderee, tender.agency
    # The tenderee buys; when an agency runs the process it is the procuring entity
    # (招标代理), otherwise the tenderee is both (自行招标).
    parties: dict[str, dict] = {}
    parties[party_id(tenderee)] = _party(
        tenderee, ["buyer"] if agency else ["buyer", "procuringEntity"], contact=True
    )
    procuring = agency or tenderee
    if agency:
        parties.setdefault(party_id(agency), _party(agency, [], contact=True))
        parties[party_id(agency)]["roles"].append("procuringEntity")

    awards = []
    for lot in lots:
        if lot.status != Lot.Status.AWARDED or lot.awarded_to is None or lot.award_amount is None:
            continue
        supplier = lot.awarded_to
        pid = party_id(supplier)
        parties.setdefault(pid, _party(supplier, [], contact=False))
        if "supplier" not in parties[pid]["roles"]:
            parties[pid]["roles"].append("supplier")
        award: dict[str, Any] = {
            "id": f"{tender.code}-{lot.number}",
            "title": f"{lot.title} 中标（成交）结果",
            "status": "active",
            "value": _money(lot.award_amount, currency),
            "suppliers": [_reference(supplier)],
            "relatedLots": [str(lot.number)],
        }
        if lot.awarded_at:
            award["date"] = iso(lot.awarded_at)
        awards.append(award)

    amendments = [a for a in announcements if a.kind == AnnouncementKind.AMENDMENT]
    method = ProcurementMethod(tender.method)
    details = [PROCUREMENT_METHOD_DETAILS[method], REGIME_DETAILS.get(tender.regime, "")]
    if tender.category in DISPOSAL_DETAILS:
        details.append(DISPOSAL_DETAILS[Category(tender.category)])

    tender_block: dict[str, Any] = {
        "id": tender.code,
        "title": tender.title,
        "status": _tender_status(tender, lots),
        "procuringEntity": _reference(procuring),
        "value": _money(sum((lot.budget for lot in lots), Decimal("0")), currency),
        "procurementMethod": PROCUREMENT_METHOD[method],
        "procurementMethodDetails": "；".join(d for d in details if d),
        "submissionMethod": ["electronicSubmission"],
        "submissionMethodDetails": "投标文件在投标人一侧加密后通过平台在线递交，开标时由投标人远程解密。",
        "tenderPeriod": {"startDate": iso(tender.docs_from), "endDate": iso(tender.deadline)},
        "enquiryPeriod": _enquiry_period(tender),
        "hasEnquiries": bool(amendments),
        "lots": [
            {
                "id": str(lot.number),
                "title": lot.title,
                "status": LOT_STATUS.get(lot.status) or _tender_status(tender, lots),
                "value": _money(lot.budget, currency),
            }
            for lot in lots
        ],
    }
    description = _plain(tender.description)
    if description:
        tender_block["description"] = description
    if tender.category in MAIN_CATEGORY:
        tender_block["mainProcurementCategory"] = MAIN_CATEGORY[Category(tender.category)]
    methods = {lot.evaluation_method for lot in lots}
    if len(methods) == 1:
        tender_block["awardCriteria"] = AWARD_CRITERIA[EvaluationMethod(methods.pop())]
    documents = _documents(announcements, base_url)
    if documents:
        tender_block["documents"] = documents
    if amendments:
        tender_block["amendments"] = [
            {
                "id": f"announcement-{a.pk}",
                "date": iso(a.published_at),
                "rationale": a.title,
                **({"description": f"投标截止时间变更为 {iso(a.new_deadline)}"} if a.new_deadline else {}),
            }
            for a in amendments
            if a.published_at
        ]

    changed = last_change(tender, announcements, lots)
    release: dict[str, Any] = {
        "ocid": ocid,
        "id": f"{ocid}-{changed.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}",
        "date": iso(changed),
        "tag": _tags(tender, bool(amendments), bool(awards)),
        "initiationType": "tender",
        "language": "zh",
        "parties": list(parties.values()),
        "buyer": _reference(tenderee),
        "tender": tender_block,
    }
    if awards:
        release["awards"] = awards
    return release
