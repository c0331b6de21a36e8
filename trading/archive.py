"""Trading's contribution to a project's archival package (一项一档, DOMAIN E1/E2; issue 6 item 1): the
tender's registration data, every announcement (its data and a readable PDF; the tender documents,
amendments and clarifications as stored files), the register of who obtained the documents and the
evidence captured for the tender (downloads, uploads, decryptions).

Read-only and deterministic: the same database gives the same items and bytes. Paths use sequence
numbers, never names: `tender.json`, `announcements/0001-tender.json`, `announcements/0001-tender.pdf`,
`announcements/0001-tender/01.pdf`, `downloads.json`, `evidence.json`.

The helpers below (references, JSON and PDF items) are shared with bidding's and experts' providers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from archive.pdf import render_document
from archive.providers import Item
from core.canonical import canonical_json
from trading.models import (
    ActivityEvidence,
    Announcement,
    AnnouncementKind,
    DocumentDownload,
    Lot,
    MarketEntity,
    Tender,
    User,
)

JSON = "application/json"
PDF = "application/pdf"

# --- shared helpers -----------------------------------------------------------------------------------


def tender_id(project: str) -> int | None:
    """The tender's id of a project key "tender:<id>", None for any other project."""
    kind, _sep, key = project.partition(":")
    return int(key) if kind == "tender" and key.isdigit() else None


def entity_ref(entity: MarketEntity | None) -> dict | None:
    if entity is None:
        return None
    return {"id": entity.pk, "uscc": entity.uscc, "name": entity.name, "version": entity.version}


def user_ref(user: User | None) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.display_name, "role": user.role}


def json_item(path: str, value: Any, title: str, *, public: bool = False) -> Item:
    return Item(path=path, media_type=JSON, data=canonical_json(value), title=str(title), public=public)


def pdf_item(path: str, title: str, sections: Sequence, *, public: bool = False) -> Item:
    """A PDF rendered now (archive.pdf) for a record that has none of its own."""
    data = render_document(str(title), sections)
    return Item(path=path, media_type=PDF, data=data, title=str(title), public=public)


def local(value: Any) -> str:
    """A time as people read it in the platform's time zone; '' for none."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value, timezone.get_default_timezone())
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def number(n: int, width: int = 4) -> str:
    return f"{n:0{width}d}"


_EXTENSIONS = {
    "application/pdf": "pdf",
    "application/json": "json",
    "application/zip": "zip",
    "application/xml": "xml",
    "text/plain": "txt",
    "text/xml": "xml",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
}


def extension(*, filename: str = "", content_type: str = "") -> str:
    """A safe lower-case extension for a stored file: the file name's, else the media type's, else bin."""
    _stem, dot, ext = (filename or "").rpartition(".")
    ext = ext.lower()
    if dot and re.fullmatch(r"[a-z0-9]{1,8}", ext):
        return ext
    return _EXTENSIONS.get((content_type or "").split(";")[0].strip().lower(), "bin")


def published_language():
    """Archived documents are printed in the platform's language, whatever the caller's request."""
    return translation.override(settings.LANGUAGE_CODE)


# --- the tender's registration ------------------------------------------------------------------------


def lot_record(lot: Lot) -> dict:
    return {
        "id": lot.pk,
        "number": lot.number,
        "title": lot.title,
        "classification_code": lot.classification_code,
        "budget": lot.budget,
        "ceiling_price": lot.ceiling_price,
        "bid_security": lot.bid_security,
        "duration_days": lot.duration_days,
        "evaluation_method": lot.evaluation_method,
        "evaluation": lot.evaluation,
        "committee": lot.committee,
        "read_out_items": lot.read_out_items,
        "min_bidders": lot.min_bidders,
        "status": lot.status,
        "awarded_to": entity_ref(lot.awarded_to),
        "award_amount": lot.award_amount,
        "awarded_at": lot.awarded_at,
    }


def tender_record(tender: Tender, lots: Iterable[Lot]) -> dict:
    lots = list(lots)
    return {
        "v": 1,
        "id": tender.pk,
        "code": tender.code,
        "title": tender.title,
        "regime": tender.regime,
        "category": tender.category,
        "method": tender.method,
        "tenderee": entity_ref(tender.tenderee),
        "agency": entity_ref(tender.agency),
        "region_code": tender.region_code,
        "description": tender.description,
        "funding_source": tender.funding_source,
        "state_funded": tender.state_funded,
        "prequalification": tender.prequalification,
        "large_or_complex": tender.large_or_complex,
        "currency": tender.currency,
        "state": tender.state,
        "state_before_suspension": tender.state_before_suspension,
        "state_changed_at": tender.state_changed_at,
        "published_at": tender.published_at,
        "docs_from": tender.docs_from,
        "docs_until": tender.docs_until,
        "deadline": tender.deadline,
        "original_deadline": tender.original_deadline,
        "decryption_minutes": tender.decryption_minutes,
        "confirmation_minutes": tender.confirmation_minutes,
        "decryption_policy": tender.decryption_policy,
        "custodian_k": tender.custodian_k,
        "custodian_n": tender.custodian_n,
        "bid_validity_days": tender.bid_validity_days,
        "created_by": user_ref(tender.created_by),
        "created_at": tender.created_at,
        "total_budget": sum((lot.budget for lot in lots), start=0),
        "lots": [lot_record(lot) for lot in lots],
    }


# --- announcements ------------------------------------------------------------------------------------


def announcement_stem(seq: int, ann: Announcement) -> str:
    return f"announcements/{number(seq)}-{ann.kind}"


def _announcement_items(seq: int, ann: Announcement) -> list[Item]:
    stem = announcement_stem(seq, ann)
    public = ann.state == Announcement.State.PUBLISHED
    kind_label = str(AnnouncementKind(ann.kind).label) if ann.kind in AnnouncementKind.values else ann.kind
    attachments = sorted(ann.attachments.all(), key=lambda a: a.pk)
    files, items = [], []
    for i, att in enumerate(attachments, start=1):
        path = f"{stem}/{number(i, 2)}.{extension(filename=att.filename, content_type=att.blob.content_type)}"
        files.append(
            {
                "n": i,
                "path": path,
                "filename": att.filename,
                "sha256": att.blob_id,
                "size": att.blob.size,
                "content_type": att.blob.content_type,
                "tender_document": att.is_tender_document,
            }
        )
        items.append(
            Item(
                path=path,
                media_type=att.blob.content_type.split(";")[0].strip() or "application/octet-stream",
                blob=att.blob_id,
                title=_("%(title)s: attachment %(n)s (%(name)s)")
                % {"title": ann.title, "n": i, "name": att.filename},
                public=public,
            )
        )
    record = {
        "v": 1,
        "id": ann.pk,
        "seq": seq,
        "tender": ann.tender_id,
        "lot": ann.lot.number if ann.lot_id else None,
        "kind": ann.kind,
        "title": ann.title,
        "state": ann.state,
        "published_at": ann.published_at,
        "open_until": ann.open_until,
        "body_html": ann.body_html,
        "body_text": ann.body_text,
        "content_digest": ann.content_digest,
        "affects_preparation": ann.affects_preparation,
        "new_deadline": ann.new_deadline,
        "author": ann.author_id,
        "created_at": ann.created_at,
        "attachments": files,
    }
    overview = [
        (_("Type"), kind_label),
        (_("Transaction code"), ann.tender.code),
        (_("Tender"), ann.tender.title),
        (_("Lot"), ann.lot.number if ann.lot_id else "—"),
        (_("State"), ann.get_state_display()),
        (_("Published at"), local(ann.published_at)),
        (_("Open until"), local(ann.open_until)),
        (_("Content digest (SHA-256)"), ann.content_digest),
    ]
    if ann.kind == AnnouncementKind.AMENDMENT:
        overview.append((_("New deadline"), local(ann.new_deadline)))
    sections: list = [(_("Announcement"), overview), (_("Text"), ann.body_text or "—")]
    if files:
        sections.append((_("Attachments"), [(f["filename"], f["sha256"]) for f in files]))
    return [
        json_item(f"{stem}.json", record, _("%(title)s (data)") % {"title": ann.title}, public=public),
        pdf_item(f"{stem}.pdf", ann.title, sections, public=public),
        *items,
    ]


# --- the provider ---------------------------------------------------------------------------------------


def items(project: str) -> list[Item]:
    pk = tender_id(project)
    if pk is None:
        return []
    tender = Tender.objects.select_related("tenderee", "agency", "created_by").filter(pk=pk).first()
    if tender is None:
        return []
    with published_language():
        return _items(tender)


def _items(tender: Tender) -> list[Item]:
    lots = Lot.objects.filter(tender=tender).select_related("awarded_to").order_by("number")
    out = [json_item("tender.json", tender_record(tender, lots), _("Tender registration data"))]
    announcements = (
        Announcement.objects.filter(tender=tender)
        .select_related("tender", "lot")
        .prefetch_related("attachments__blob")
        .order_by("created_at", "pk")
    )
    for seq, ann in enumerate(announcements, start=1):
        out += _announcement_items(seq, ann)
    downloads = [
        {"entity": entity_ref(d.entity), "user": user_ref(d.user), "first_at": d.first_at, "count": d.count}
        for d in DocumentDownload.objects.filter(tender=tender)
        .select_related("entity", "user")
        .order_by("first_at", "pk")
    ]
    if downloads:
        out.append(
            json_item(
                "downloads.json",
                {"tender": tender.pk, "downloads": downloads},
                _("Register of those who obtained the tender documents"),
            )
        )
    evidence = [
        {
            "id": e.pk,
            "at": e.at,
            "action": e.action,
            "user": user_ref(e.user),
            "entity": entity_ref(e.entity),
            "ip": e.ip,
            "user_agent": e.user_agent,
            "hardware": e.hardware,
            "hardware_digest": e.hardware_digest,
            "certificate_serial": e.certificate_serial,
            "file_sha256": e.file_sha256,
            "file_meta": e.file_meta,
        }
        for e in ActivityEvidence.objects.filter(tender=tender)
        .select_related("user", "entity")
        .order_by("at", "pk")
    ]
    if evidence:
        out.append(
            json_item(
                "evidence.json",
                {"tender": tender.pk, "evidence": evidence},
                _("Evidence captured at downloads, uploads and decryptions"),
            )
        )
    return out
