"""The trading-statistics page of the portal: projects, amounts and savings by category,
region and month, each as an SVG chart (charts.py) beside a table of the same figures.
"""

from __future__ import annotations

import datetime as dt

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from trading.models import Category, Regime
from trading.regions import region_name
from trading.stats import trading_statistics
from trading.views.portal.charts import hbar_chart, line_chart
from trading.views.portal.filters import STATISTICS_FILTERS, filters_parse, region_choices
from trading.views.portal.formatting import money, money_headline, money_unit, percent


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
            "regions": region_choices(),
        },
    )
