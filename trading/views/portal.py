"""Views: the public portal (no login): home, announcement list and details, tenders,
attachment downloads, open-data and trading-statistics pages. No JavaScript: charts are SVG.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from archive.blobs import blob_open
from core.errors import ValidationFailed
from trading.models import AnnouncementKind, Category, Regime, TenderState
from trading.regions import region_name
from trading.selectors_public import (
    PUBLIC_TENDER_STATES,
    announcement_counts_public,
    announcement_get_public,
    announcement_list_public,
    attachment_get_public,
    public_region_codes,
    tender_announcements_public,
    tender_get_public,
    tender_list_upcoming_public,
)
from trading.stats import trading_statistics

PAGE_SIZE = 20
Q_MAX_LENGTH = 100

# --- filters: one parser per query parameter ---------------------------------------------


def _choice(values) -> Callable[[str], str]:
    allowed = set(values)

    def parse(raw: str) -> str:
        if raw not in allowed:
            raise ValueError
        return raw

    return parse


def _date(raw: str) -> dt.date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        raise ValueError
    return dt.date.fromisoformat(raw)


def _region(raw: str) -> str:
    if not re.fullmatch(r"\d{6}", raw):
        raise ValueError
    return raw


def _text(raw: str) -> str:
    if len(raw) > Q_MAX_LENGTH:
        raise ValueError
    return raw


FILTER_PARSERS: dict[str, Callable[[str], object]] = {
    "q": _text,
    "kind": _choice(AnnouncementKind.values),
    "category": _choice(Category.values),
    "region": _region,
    "regime": _choice(Regime.values),
    "date_from": _date,
    "date_to": _date,
    "state": _choice(PUBLIC_TENDER_STATES),
}
FILTER_LABELS = {
    "q": gettext_lazy("Search"),
    "kind": gettext_lazy("Announcement type"),
    "category": gettext_lazy("Category"),
    "region": gettext_lazy("Region"),
    "regime": gettext_lazy("Regime"),
    "date_from": gettext_lazy("Published from"),
    "date_to": gettext_lazy("Published until"),
    "state": gettext_lazy("Tender state"),
}
LIST_FILTERS = tuple(FILTER_PARSERS)
STATISTICS_FILTERS = ("category", "region", "regime", "date_from", "date_to")


def filters_parse(params: Mapping, *, allowed: tuple[str, ...], extra: tuple[str, ...] = ()) -> dict:
    """Typed filters from a query string, or ValidationFailed (`unknown_filter`, `invalid_filter`).

    An empty value means "no filter" (a submitted form sends every field). Anything not
    declared is refused rather than ignored, so that a typo never silently shows everything.
    """
    unknown = sorted(set(params) - set(allowed) - set(extra))
    if unknown:
        raise ValidationFailed(
            _("Unknown filter “%(name)s”. Allowed filters: %(allowed)s.")
            % {"name": unknown[0], "allowed": ", ".join(allowed)},
            code="unknown_filter",
            filter=unknown[0],
        )
    filters: dict = {}
    for name in allowed:
        values = (
            [v.strip() for v in params.getlist(name)] if hasattr(params, "getlist") else [params.get(name)]
        )
        values = [v for v in values if v]
        if not values:
            continue
        try:
            if len(values) > 1:
                raise ValueError
            filters[name] = FILTER_PARSERS[name](values[0])
        except ValueError:
            raise ValidationFailed(
                _("The value of “%(label)s” (%(name)s) is not valid.")
                % {"label": FILTER_LABELS[name], "name": name},
                code="invalid_filter",
                filter=name,
            ) from None
    if filters.get("date_from") and filters.get("date_to") and filters["date_from"] > filters["date_to"]:
        raise ValidationFailed(
            _("“Published from” must not be later than “Published until”."),
            code="invalid_filter",
            filter="date_to",
        )
    return filters


def filters_querystring(filters: Mapping) -> str:
    """The query string that reproduces `filters` (links to feeds and back to the list)."""
    return urlencode({k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in filters.items()})


# --- money and numbers -----------------------------------------------------------------


def _zh() -> bool:
    return (get_language() or settings.LANGUAGE_CODE).startswith("zh")


def money_unit() -> str:
    """The unit money is shown in: 万元 for Chinese readers, yuan for English ones."""
    return "万元" if _zh() else "yuan"


def money(amount, *, unit: bool = True) -> str:
    if amount is None:
        return "—"
    amount = Decimal(amount)
    if _zh():
        text = f"{(amount / 10000).quantize(Decimal('0.01')):,}"
        return f"{text} 万元" if unit else text
    text = f"{amount.quantize(Decimal('0.01')):,}"
    return f"{text} yuan" if unit else text


def money_headline(amount) -> str:
    """A headline figure: 万元 (亿元 from a hundred million) for Chinese readers; whole yuan with
    separators for English ones (cents mean nothing at this scale, and the figure must fit its tile)."""
    if amount is None:
        return "—"
    amount = Decimal(amount)
    if _zh():
        if abs(amount) >= 100_000_000:  # 亿元 is how large totals are read in Chinese
            return f"{(amount / 100_000_000).quantize(Decimal('0.01')):,} 亿元"
        return money(amount)
    return f"¥{amount.quantize(Decimal('1')):,}"


def percent(rate) -> str:
    """A savings rate given as a fraction (0.0523) shown as 5.23 %."""
    if rate is None:
        return "—"
    return f"{(Decimal(rate) * 100).quantize(Decimal('0.01'))}%"


def _display_amount(amount) -> float:
    # Chart geometry only: pixels need floats, the figures in the tables stay Decimal.
    amount = Decimal(amount or 0)
    return float(amount / 10000) if _zh() else float(amount)


def _axis_label(value: float) -> str:
    if _zh():
        return f"{value:,.0f}" if value >= 10 or value == 0 else f"{value:,.2g}"
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= div:
            return f"{value / div:,.1f}".rstrip("0").rstrip(".") + suffix
    return f"{value:,.0f}"


# --- charts: geometry for the SVG templates --------------------------------------------


def _nice_axis(maximum: float, ticks: int = 4) -> tuple[float, float]:
    """(axis maximum, step): a round step (1, 2, 2.5, 5 × 10ⁿ) so that grid lines read well."""
    if maximum <= 0:
        return 1.0, 0.25
    raw = maximum / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if raw <= m * magnitude)
    return math.ceil(maximum / step) * step, step


def hbar_chart(*, rows: list[dict], series: list[tuple[str, str, str]]) -> dict:
    """Horizontal grouped bars, one group per row; series are (field, label, css class)."""
    width, right_pad, top, bar_h, gap = 760, 100, 8, 14, 16
    label_w = 130 if _zh() else 210  # room for "State-owned property rights"; Chinese labels are short
    band = bar_h * len(series) + gap
    values = [[_display_amount(r[field]) for field, _l, _c in series] for r in rows]
    axis_max, step = _nice_axis(max([v for vs in values for v in vs] or [0]))
    plot_w = width - label_w - right_pad
    height = top + band * max(len(rows), 1) + 28
    groups = []
    for i, (row, vals) in enumerate(zip(rows, values, strict=True)):
        y0 = top + i * band
        bars = []
        for j, ((field, label, css), v) in enumerate(zip(series, vals, strict=True)):
            w = plot_w * v / axis_max
            y = y0 + j * bar_h
            text = money(row[field], unit=False)
            bars.append(
                {
                    "x": label_w,
                    "y": y,
                    "w": round(w, 1),
                    "h": bar_h - 2,
                    "css": css,
                    "tx": round(label_w + w + 4, 1),
                    "ty": y + bar_h - 4,
                    "text": text if v else "",  # a zero needs no label beside an empty bar
                    "title": f"{row['label']} · {label}: {money(row[field])}",
                }
            )
        groups.append({"label": row["label"], "ly": y0 + (bar_h * len(series)) / 2 + 4, "bars": bars})
    ticks = []
    n = round(axis_max / step)
    for k in range(n + 1):
        v = step * k
        ticks.append({"x": round(label_w + plot_w * v / axis_max, 1), "label": _axis_label(v)})
    return {
        "width": width,
        "height": height,
        "groups": groups,
        "ticks": ticks,
        "plot_top": top,
        "plot_bottom": height - 24,
        "label_x": label_w - 8,
        "tick_y": height - 8,
        "legend": [{"label": label, "css": css} for _f, label, css in series],
    }


def line_chart(*, rows: list[dict], series: list[tuple[str, str, str]]) -> dict:
    """A line per series over the rows (months), with a marker and a tooltip per point."""
    width, height, left, right, top, bottom = 720, 300, 72, 48, 12, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [[_display_amount(r[field]) for field, _l, _c in series] for r in rows]
    axis_max, step = _nice_axis(max([v for vs in values for v in vs] or [0]))
    n = len(rows)

    def x_at(i: int) -> float:
        return round(left + (plot_w / 2 if n == 1 else plot_w * i / (n - 1)), 1)

    def y_at(v: float) -> float:
        return round(top + plot_h - plot_h * v / axis_max, 1)

    lines = []
    for j, (field, label, css) in enumerate(series):
        points = [
            {"x": x_at(i), "y": y_at(vals[j]), "title": f"{row['label']} · {label}: {money(row[field])}"}
            for i, (row, vals) in enumerate(zip(rows, values, strict=True))
        ]
        lines.append({"css": css, "points": points, "path": " ".join(f"{p['x']},{p['y']}" for p in points)})
    every = max(1, math.ceil(n / 12))  # at most about a dozen month labels fit under the axis
    xlabels = [{"x": x_at(i), "label": row["label"]} for i, row in enumerate(rows) if i % every == 0]
    yticks = [
        {"y": y_at(step * k), "label": _axis_label(step * k)} for k in range(round(axis_max / step) + 1)
    ]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "top": top,
        "bottom": top + plot_h,
        "lines": lines,
        "xlabels": xlabels,
        "yticks": yticks,
        "xlabel_y": height - 14,
        "ylabel_x": left - 8,
        "legend": [{"label": label, "css": css} for _f, label, css in series],
    }


# --- view helpers ----------------------------------------------------------------------


def _with_regions(items, attr: str = "tender"):
    for item in items:
        owner = getattr(item, attr) if attr else item
        item.region_label = region_name(owner.region_code)
    return items


def _region_choices() -> list[tuple[str, str]]:
    return [(code, region_name(code)) for code in public_region_codes()]


def _filter_choices() -> dict:
    return {
        "kinds": AnnouncementKind.choices,
        "categories": Category.choices,
        "regimes": Regime.choices,
        "states": [(v, label) for v, label in TenderState.choices if v in PUBLIC_TENDER_STATES],
        "regions": _region_choices(),
    }


def _filter_value_label(name: str, value, choices: dict) -> str:
    """How an applied filter reads in its chip: the choice's label, the region's name, the date."""
    options = {"kind": "kinds", "category": "categories", "regime": "regimes", "state": "states"}
    if name == "region":
        return region_name(value)
    if name in options:
        return str(dict(choices[options[name]]).get(value, value))
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _may_read_documents_freely(user, attachment) -> bool:
    """Staff who run or supervise the tender read its documents without obtaining them."""
    from trading.access import READ_ALL_ROLES, manages_tender

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


# --- views -----------------------------------------------------------------------------


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
    choices = _filter_choices()
    chips = [
        {
            "label": FILTER_LABELS[name],
            "value": _filter_value_label(name, value, choices),
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
def statistics(request):
    filters = filters_parse(request.GET, allowed=STATISTICS_FILTERS)
    amounts = [("budget", _("Budget"), "s-budget"), ("award_amount", _("Transaction amount"), "s-award")]
    sections = []
    for group_by, title in (
        ("category", _("By category")),
        ("region", _("By region")),
        ("month", _("By month")),
    ):
        result = trading_statistics(group_by=group_by, **filters)
        rows = result["rows"]
        if group_by == "region":
            for row in rows:
                row["label"] = (
                    region_name(row["key"]) if row.get("label") in (None, "", row["key"]) else row["label"]
                )
        chart = (
            line_chart(rows=rows, series=amounts)
            if group_by == "month"
            else hbar_chart(rows=rows, series=amounts)
        )
        table = [
            {
                **row,
                "budget_text": money(row["budget"], unit=False),
                "awarded_budget_text": money(row.get("awarded_budget"), unit=False),
                "award_text": money(row["award_amount"], unit=False),
                "savings_text": money(row["savings"], unit=False),
                "rate_text": percent(row["savings_rate"]),
            }
            for row in rows
        ]
        totals = result["totals"]
        totals_text = {
            "projects": totals.get("projects", 0),
            "lots": totals.get("lots", 0),
            "budget": money(totals.get("budget"), unit=False),
            "awarded_budget": money(totals.get("awarded_budget"), unit=False),
            "award_amount": money(totals.get("award_amount"), unit=False),
            "savings": money(totals.get("savings"), unit=False),
            "savings_rate": percent(totals.get("savings_rate")),
        }
        sections.append(
            {
                "key": group_by,
                "title": title,
                "chart": chart,
                "rows": table,
                "totals": totals,
                "totals_text": totals_text,
                "kind": "line" if group_by == "month" else "bars",
            }
        )
    totals = sections[0]["totals"]
    headline = {
        "projects": totals.get("projects", 0),
        "lots": totals.get("lots", 0),
        "budget": money_headline(totals.get("budget")),
        "award_amount": money_headline(totals.get("award_amount")),
        "savings": money_headline(totals.get("savings")),
        "savings_rate": percent(totals.get("savings_rate")),
    }
    return render(
        request,
        "portal/statistics.html",
        {
            "sections": sections,
            "headline": headline,
            "filters": filters,
            "money_unit": money_unit(),
            "form": {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in filters.items()},
            "categories": Category.choices,
            "regimes": Regime.choices,
            "regions": _region_choices(),
        },
    )


@require_safe
def open_data(request):
    return render(request, "portal/open_data.html", {"today": timezone.localdate().isoformat()})
