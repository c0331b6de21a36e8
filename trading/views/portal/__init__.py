"""Views: the public portal (no login): home, announcement list and details, tenders,
attachment downloads, open-data and trading-statistics pages. No JavaScript: charts are SVG.

One module per concern (filters, formatting, charts, pages, statistics_page); this package
keeps the names that trading/portal_urls.py, the feeds and the tests import from it.
"""

from __future__ import annotations

from trading.views.portal.charts import hbar_chart, line_chart
from trading.views.portal.filters import (
    FILTER_LABELS,
    FILTER_PARSERS,
    LIST_FILTERS,
    STATISTICS_FILTERS,
    filters_parse,
    filters_querystring,
)
from trading.views.portal.formatting import money, money_headline, money_unit, percent
from trading.views.portal.pages import (
    announcement_detail,
    announcement_list,
    attachment_download,
    attachment_url,
    home,
    open_data,
    tender_detail,
)
from trading.views.portal.statistics_page import statistics

__all__ = [
    "FILTER_LABELS",
    "FILTER_PARSERS",
    "LIST_FILTERS",
    "STATISTICS_FILTERS",
    "announcement_detail",
    "announcement_list",
    "attachment_download",
    "attachment_url",
    "filters_parse",
    "filters_querystring",
    "hbar_chart",
    "home",
    "line_chart",
    "money",
    "money_headline",
    "money_unit",
    "open_data",
    "percent",
    "statistics",
    "tender_detail",
]
