"""Query-string filters of the public portal: one parser per parameter, refusing what is not
declared, and the query string that reproduces a set of filters (links, feeds, chips).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from urllib.parse import urlencode

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import ValidationFailed
from trading.models import AnnouncementKind, Category, Regime, TenderState
from trading.regions import region_name
from trading.selectors_public import PUBLIC_TENDER_STATES, public_region_codes

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


def region_choices() -> list[tuple[str, str]]:
    """(code, name) of the regions that occur among public tenders, for the region filter."""
    return [(code, region_name(code)) for code in public_region_codes()]


def filter_choices() -> dict:
    return {
        "kinds": AnnouncementKind.choices,
        "categories": Category.choices,
        "regimes": Regime.choices,
        "states": [(v, label) for v, label in TenderState.choices if v in PUBLIC_TENDER_STATES],
        "regions": region_choices(),
    }


def filter_value_label(name: str, value, choices: dict) -> str:
    """How an applied filter reads in its chip: the choice's label, the region's name, the date."""
    options = {"kind": "kinds", "category": "categories", "regime": "regimes", "state": "states"}
    if name == "region":
        return region_name(value)
    if name in options:
        return str(dict(choices[options[name]]).get(value, value))
    return value.isoformat() if isinstance(value, dt.date) else str(value)
