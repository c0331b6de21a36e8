"""Trading statistics (a centre's headline figures): projects, amounts and savings by category,
region or month, aggregated in the database in one query.

Definitions (also in docs/open-data.md):
- scope: tenders past draft with a publication time, narrowed by the filters; the date range
  applies to the publication day in Beijing time, both ends included;
- projects: tenders in scope (with at least one lot); lots: their lots;
- budget: Σ budget of every lot in scope (the amount put out to tender);
- awarded lots: lots with status "awarded" and an award amount;
- awarded_budget: Σ budget of awarded lots; award_amount: Σ award amount of awarded lots
  (the transaction amount, 成交金额);
- savings = awarded_budget − award_amount (negative when awards exceed budgets);
- savings_rate = savings / awarded_budget, a fraction rounded to 4 places; None when no lot
  was awarded. Failed and unawarded lots take part in budget but never in savings.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.db.models import CharField, Count, F, Q, Sum, Value
from django.db.models.functions import Concat, Substr, TruncMonth
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from core.errors import ValidationFailed
from trading.models import Category, Lot, TenderState
from trading.regions import region_name, region_prefix

GROUP_BY = ("category", "region", "month")
SHANGHAI = ZoneInfo("Asia/Shanghai")
ZERO = Decimal("0.00")
RATE_PLACES = Decimal("0.0001")
AMOUNTS = ("budget", "awarded_budget", "award_amount", "savings")
COUNTS = ("projects", "lots", "awarded_lots")


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI)


def savings_rate(savings: Decimal, awarded_budget: Decimal) -> Decimal | None:
    if not awarded_budget:
        return None
    return (savings / awarded_budget).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def _group_key(group_by: str):
    if group_by == "category":
        return F("tender__category")
    if group_by == "region":
        # Group by city (or province-level code): every district of Nanning counts for 450100.
        return Concat(Substr("tender__region_code", 1, 4), Value("00"), output_field=CharField())
    return TruncMonth("tender__published_at", tzinfo=SHANGHAI)


def _key_and_label(group_by: str, raw) -> tuple[str, str]:
    if group_by == "category":
        return raw, str(Category(raw).label) if raw in Category.values else raw
    if group_by == "region":
        return raw, region_name(raw)
    month = raw.date() if isinstance(raw, dt.datetime) else raw
    return f"{month:%Y-%m}", date_format(month, "YEAR_MONTH_FORMAT")


def _sort_key(group_by: str):
    if group_by == "category":
        order = {value: i for i, value in enumerate(Category.values)}
        return lambda row: (order.get(row["key"], len(order)), row["key"])
    return lambda row: row["key"]


def _finish(figures: dict) -> dict:
    figures["savings"] = figures["awarded_budget"] - figures["award_amount"]
    figures["savings_rate"] = savings_rate(figures["savings"], figures["awarded_budget"])
    return figures


def trading_statistics(
    *,
    group_by: str,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    regime: str | None = None,
    category: str | None = None,
    region: str | None = None,
) -> dict:
    """{"group_by", "rows": [{"key", "label", <figures>}], "totals": {<figures>}} — see the module doc.

    Amounts are Decimal yuan with two places; counts are int. Rows come in category order,
    by region code, or chronologically. Raises ValidationFailed `invalid_group_by`.
    """
    if group_by not in GROUP_BY:
        raise ValidationFailed(
            _("Statistics can be grouped by %(allowed)s only.") % {"allowed": ", ".join(GROUP_BY)},
            code="invalid_group_by",
            group_by=str(group_by),
            allowed=list(GROUP_BY),
        )
    lots = Lot.objects.exclude(tender__state=TenderState.DRAFT).filter(tender__published_at__isnull=False)
    if date_from:
        lots = lots.filter(tender__published_at__gte=_day_start(date_from))
    if date_to:
        lots = lots.filter(tender__published_at__lt=_day_start(date_to + dt.timedelta(days=1)))
    if regime:
        lots = lots.filter(tender__regime=regime)
    if category:
        lots = lots.filter(tender__category=category)
    if region:
        lots = lots.filter(tender__region_code__startswith=region_prefix(region))

    awarded = Q(status=Lot.Status.AWARDED, award_amount__isnull=False)
    aggregated = (
        lots.annotate(group=_group_key(group_by))
        .values("group")
        # Aggregate aliases carry a prefix: an alias may not shadow a model field it sums.
        .annotate(
            n_projects=Count("tender", distinct=True),
            n_lots=Count("pk"),
            n_awarded_lots=Count("pk", filter=awarded),
            sum_budget=Sum("budget"),
            sum_awarded_budget=Sum("budget", filter=awarded),
            sum_award_amount=Sum("award_amount", filter=awarded),
        )
        .order_by("group")
    )

    rows = []
    for item in aggregated:  # one row per group, never per tender
        key, label = _key_and_label(group_by, item["group"])
        figures = {name: item[f"n_{name}"] for name in COUNTS}
        figures.update(
            {
                name: (item[f"sum_{name}"] or ZERO).quantize(ZERO)
                for name in ("budget", "awarded_budget", "award_amount")
            }
        )
        rows.append({"key": key, "label": label, **_finish(figures)})
    rows.sort(key=_sort_key(group_by))

    # Every tender falls in exactly one group, so the totals are the sums of the rows.
    totals = {name: sum(row[name] for row in rows) for name in COUNTS}
    totals.update(
        {
            name: sum((row[name] for row in rows), ZERO)
            for name in ("budget", "awarded_budget", "award_amount")
        }
    )
    return {"group_by": group_by, "rows": rows, "totals": _finish(totals)}
