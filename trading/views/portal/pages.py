"""Views of the public portal (no login): home, announcement list and details, a tender's
public page, attachment downloads and the open-data page.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from archive.blobs import blob_open
from trading.access import READ_ALL_ROLES, manages_tender
from trading.models import AnnouncementKind, Category, Regime
from trading.regions import region_name
from trading.selectors_public import (
    PUBLIC_TENDER_STATES,
    announcement_counts_public,
    announcement_get_public,
    announcement_list_public,
    attachment_get_public,
    tender_announcements_public,
    tender_get_public,
    tender_list_upcoming_public,
)
from trading.stats import trading_statistics
from trading.views.portal.filters import (
    FILTER_LABELS,
    LIST_FILTERS,
    filter_choices,
    filter_value_label,
    filters_parse,
    filters_querystring,
)
from trading.views.portal.formatting import money, money_headline, percent

PAGE_SIZE = 20


def _with_regions(items, attr: str = "tender"):
    for item in items:
        owner = getattr(item, attr) if attr else item
        item.region_label = region_name(owner.region_code)
    return items


def _may_read_documents_freely(user, attachment) -> bool:
    """Staff who run or supervise the tender read its documents without obtaining them."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.role in READ_ALL_ROLES or manages_tender(user, attachment.announcement.tender)


def attachment_url(attachment) -> str:
    return reverse(
        "portal:attachment", kwargs={"sha256": attachment.blob_id, "filename": attachment.filename}
    )


def _sectors() -> list[dict]:
    """The four trading sectors of a 公共资源交易 portal, as preset filters of the list."""
    return [
        {"key": "works", "label": _("Construction works"), "filters": {"category": Category.WORKS}},
        {"key": "gp", "label": _("Government procurement"), "filters": {"regime": Regime.GP}},
        {"key": "land", "label": _("Land and mining rights"), "filters": {"category": Category.LAND}},
        {
            "key": "property",
            "label": _("State-owned property rights"),
            "filters": {"category": Category.PROPERTY},
        },
    ]


@require_safe
def home(request):
    sectors = _sectors()
    counts = announcement_counts_public(groups=[(s["key"], s["filters"]) for s in sectors])
    for sector in sectors:
        sector["count"] = counts[sector["key"]]
        sector["query"] = filters_querystring(sector["filters"])
    latest = _with_regions(list(announcement_list_public()[:12]))
    upcoming = _with_regions(list(tender_list_upcoming_public(limit=6)), attr="")
    year_start = timezone.localdate().replace(month=1, day=1)
    totals = trading_statistics(group_by="category", date_from=year_start)["totals"]
    headline = {
        "year": year_start.year,
        "projects": totals.get("projects", 0),
        "budget": money_headline(totals.get("budget")),
        "award_amount": money_headline(totals.get("award_amount")),
        "savings_rate": percent(totals.get("savings_rate")),
    }
    return render(
        request,
        "portal/home.html",
        {
            "sectors": sectors,
            "latest": latest,
            "upcoming": upcoming,
            "headline": headline,
            "kinds": AnnouncementKind.choices,
        },
    )


@require_safe
def announcement_list(request):
    filters = filters_parse(request.GET, allowed=LIST_FILTERS, extra=("page",))
    paginator = Paginator(announcement_list_public(**filters), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    _with_regions(page.object_list)
    query = filters_querystring(filters)
    choices = filter_choices()
    chips = [
        {
            "label": FILTER_LABELS[name],
            "value": filter_value_label(name, value, choices),
            "query": filters_querystring({k: v for k, v in filters.items() if k != name}),
        }
        for name, value in filters.items()
    ]
    sectors = _sectors()
    for sector in sectors:
        sector["query"] = filters_querystring(sector["filters"])
        sector["active"] = sector["filters"] == filters
    return render(
        request,
        "portal/announcement_list.html",
        {
            "page": page,
            "paginator": paginator,
            "filters": filters,
            "query": query,
            "form": {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in filters.items()},
            "sectors": sectors,
            "any_filter": bool(filters),
            "chips": chips,
            **choices,
        },
    )


@require_safe
def announcement_detail(request, pk: int):
    announcement = announcement_get_public(pk)
    tender = announcement.tender
    attachments = [
        {
            "filename": a.filename,
            "size": a.blob.size,
            "sha256": a.blob_id,
            "url": attachment_url(a),
            "is_tender_document": a.is_tender_document,
        }
        for a in announcement.attachments.all()
    ]
    return render(
        request,
        "portal/announcement_detail.html",
        {
            "announcement": announcement,
            "tender": tender,
            "attachments": attachments,
            "region_label": region_name(tender.region_code),
            "tender_public": tender.state in PUBLIC_TENDER_STATES,
            "history": tender_announcements_public(tender=tender),
        },
    )


@require_safe
def tender_detail(request, pk: int):
    tender = tender_get_public(pk)
    lots = [
        {
            "lot": lot,
            "budget": money(lot.budget),
            "ceiling_price": money(lot.ceiling_price),
            "bid_security": money(lot.bid_security),
            "award_amount": money(lot.award_amount),
        }
        for lot in tender.lots.all()
    ]
    return render(
        request,
        "portal/tender_detail.html",
        {
            "tender": tender,
            "lots": lots,
            "region_label": region_name(tender.region_code),
            "total_budget": money(sum((lot.budget for lot in tender.lots.all()), Decimal(0))),
            "decryption_until": tender.deadline + dt.timedelta(minutes=tender.decryption_minutes),
            "extended": bool(tender.original_deadline and tender.original_deadline != tender.deadline),
            "history": tender_announcements_public(tender=tender),
        },
    )


@require_safe
def attachment_download(request, sha256: str, filename: str):
    """Stream a published attachment by its SHA-256: the address is the integrity check."""
    attachment = attachment_get_public(sha256=sha256, filename=filename)
    if attachment.is_tender_document and not _may_read_documents_freely(request.user, attachment):
        # Tender documents are obtained, not just downloaded (获取招标文件): the bidder is
        # registered as a holder (notified of every amendment) and the evidence is captured.
        return redirect("trading:tender_detail", pk=attachment.announcement.tender_id)
    blob = attachment.blob
    etag = f'"{blob.sha256}"'
    # Content-addressed bytes never change, but the announcement may be withdrawn: "no-cache"
    # makes caches ask again every time, which costs a 304 and keeps withdrawals effective.
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponseNotModified()
    else:
        response = FileResponse(
            blob_open(blob),
            as_attachment=True,
            filename=attachment.filename,
            content_type=blob.content_type or "application/octet-stream",
        )
    response["ETag"] = etag
    response["Cache-Control"] = "public, no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    # Should a browser ever render it inline, an uploaded HTML or SVG file runs nothing.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_safe
def open_data(request):
    return render(request, "portal/open_data.html", {"today": timezone.localdate().isoformat()})
