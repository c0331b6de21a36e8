"""Announcements: agency HTML sanitised (nh3), attachments content-addressed, publication journalled."""

from __future__ import annotations

import html as htmllib
import re
import unicodedata

import nh3
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _

from archive.blobs import blob_put
from archive.journal import journal_append
from core.canonical import digest
from core.errors import Conflict, ValidationFailed
from trading.access import tender_access_manage
from trading.models import (
    Announcement,
    AnnouncementAttachment,
    AnnouncementKind,
    Lot,
    Tender,
    TenderState,
    User,
)

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h2",
    "h3",
    "h4",
    "h5",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "s",
    "sub",
    "sup",
    "blockquote",
    "ul",
    "ol",
    "li",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "th",
    "td",
    "caption",
    "colgroup",
    "col",
    "a",
    "span",
    "div",
    "pre",
    "code",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "col": {"span"},
    "ol": {"start"},
}
# Agencies paste from word processors; we refuse active content outright rather than silently
# dropping it, so that the agency knows its notice is not what it wrote.
_ACTIVE = re.compile(
    r"<\s*(script|iframe|object|embed|applet|form|input|button|meta|link|base|frame|frameset|svg|math)\b"
    r"|[\s/\"']on[a-z]+\s*=|javascript\s*:|vbscript\s*:|data\s*:\s*text/html|expression\s*\(",
    re.IGNORECASE,
)
# Browsers decode entities in attribute values and drop tabs and newlines inside a URL
# scheme, so "&#106;avascript:" and "java\tscript:" are scanned the way a browser reads them.
_ACTIVE_SCHEME = re.compile(r"(javascript|vbscript)\s*:|data\s*:\s*text/html", re.IGNORECASE)
_URL_INVISIBLE = re.compile(r"[\t\n\r\x00]")
_FILENAME_BAD = re.compile(r'[\x00-\x1f\\/:*?"<>|]+')


def html_sanitize(html: str) -> str:
    """Return safe HTML or refuse: `html_too_large`, `html_unsafe`, `html_empty`."""
    html = html or ""
    size = len(html.encode())
    if size > settings.ANNOUNCEMENT_MAX_HTML_BYTES:
        raise ValidationFailed(
            _("The text is too large (%(size)s bytes; at most %(max)s).")
            % {"size": size, "max": settings.ANNOUNCEMENT_MAX_HTML_BYTES},
            code="html_too_large",
            size=size,
            max=settings.ANNOUNCEMENT_MAX_HTML_BYTES,
        )
    match = _ACTIVE.search(html) or _ACTIVE_SCHEME.search(_URL_INVISIBLE.sub("", htmllib.unescape(html)))
    if match:
        raise ValidationFailed(
            _("The text contains active content (%(what)s), which is not allowed in a notice.")
            % {"what": match.group(0).strip()[:40]},
            code="html_unsafe",
        )
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    if not re.sub(r"<[^>]+>|\s|&nbsp;", "", clean):
        raise ValidationFailed(_("The text is empty."), code="html_empty")
    return clean


def html_to_text(html: str) -> str:
    """Plain text of sanitised HTML, for search: words, not markup, are what people look for."""
    return re.sub(r"\s+", " ", htmllib.unescape(strip_tags(html.replace("<", " <")))).strip()


def filename_clean(name: str) -> str:
    name = unicodedata.normalize("NFC", str(name or "")).strip()
    name = _FILENAME_BAD.sub("_", name).lstrip(".")[:200]
    if not name:
        raise ValidationFailed(_("An attachment needs a file name."), code="filename_invalid")
    return name


def _check_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise ValidationFailed(_("An announcement needs a title."), code="title_required")
    if len(title) > 300:
        raise ValidationFailed(_("The title is too long (at most 300 characters)."), code="title_too_long")
    return title


def announcement_create(
    *,
    tender: Tender,
    kind: str,
    title: str,
    body_html: str,
    actor: User,
    lot: Lot | None = None,
    attachments: list[tuple[str, bytes, str]] | None = None,
    open_until=None,
    tender_documents: bool = False,
    check_access: bool = True,
) -> Announcement:
    """Create a draft announcement; validation happens before anything is written."""
    if check_access:
        tender_access_manage(user=actor, tender=tender)
    if kind not in AnnouncementKind.values:
        raise ValidationFailed(_("Unknown announcement type."), code="announcement_kind_unknown")
    if lot is not None and lot.tender_id != tender.pk:
        raise ValidationFailed(_("The lot belongs to another tender."), code="lot_mismatch")
    title = _check_title(title)
    body = html_sanitize(body_html)
    files = []
    for filename, data, content_type in attachments or []:
        if len(data) > settings.ATTACHMENT_MAX_BYTES:
            raise ValidationFailed(
                _("An attachment is too large."), code="attachment_too_large", filename=filename
            )
        files.append((filename_clean(filename), data, content_type or "application/octet-stream"))
    with transaction.atomic():
        ann = Announcement.objects.create(
            tender=tender,
            lot=lot,
            kind=kind,
            title=title,
            body_html=body,
            body_text=html_to_text(body),
            open_until=open_until,
            author=actor,
        )
        for filename, data, content_type in files:
            # The blob file may outlive a rolled-back transaction; it is content-addressed and
            # invisible without its row, and a later upload of the same bytes reuses it.
            blob = blob_put(data=data, content_type=content_type)
            AnnouncementAttachment.objects.create(
                announcement=ann, filename=filename, blob=blob, is_tender_document=tender_documents
            )
        journal_append(
            stream=tender.stream,
            action="announcement.drafted",
            actor=actor,
            obj=ann,
            payload={
                "kind": kind,
                "title": title,
                "body_digest": digest(body),
                "attachments": [a.blob_id for a in ann.attachments.all()],
            },
        )
    return ann


def announcement_publish(
    *, announcement: Announcement, actor: User, check_access: bool = True
) -> Announcement:
    """Publish: fixes the text's digest (the same notice reads identically everywhere, 条例63)."""
    if check_access:
        tender_access_manage(user=actor, tender=announcement.tender)
    with transaction.atomic():
        ann = Announcement.objects.select_for_update().get(pk=announcement.pk)
        if ann.state != Announcement.State.DRAFT:
            raise Conflict(_("Only a draft can be published."), code="announcement_not_draft")
        if ann.kind != AnnouncementKind.TENDER and ann.tender.state == TenderState.DRAFT:
            raise Conflict(_("Publish the tender first."), code="tender_not_published")
        ann.state = Announcement.State.PUBLISHED
        ann.published_at = timezone.now()
        ann.content_digest = digest(
            {
                "title": ann.title,
                "body": ann.body_html,
                "attachments": sorted(a.blob_id for a in ann.attachments.all()),
            }
        )
        ann.save(update_fields=["state", "published_at", "content_digest"])
        journal_append(
            stream=ann.tender.stream,
            action="announcement.published",
            actor=actor,
            obj=ann,
            payload={"kind": ann.kind, "content_digest": ann.content_digest},
        )
    return ann


def announcement_withdraw(*, announcement: Announcement, actor: User, reason: str) -> Announcement:
    tender_access_manage(user=actor, tender=announcement.tender)
    if not reason.strip():
        raise ValidationFailed(_("Give the reason."), code="reason_required")
    with transaction.atomic():
        ann = Announcement.objects.select_for_update().get(pk=announcement.pk)
        if ann.state != Announcement.State.PUBLISHED:
            raise Conflict(
                _("Only a published announcement can be withdrawn."), code="announcement_not_published"
            )
        ann.state = Announcement.State.WITHDRAWN
        ann.save(update_fields=["state"])
        journal_append(
            stream=ann.tender.stream,
            action="announcement.withdrawn",
            actor=actor,
            obj=ann,
            payload={"reason": reason},
        )
    return ann
