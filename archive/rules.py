"""Pure archive rules: retention per regime (DOMAIN E2) and the package format's constants."""

from __future__ import annotations

import datetime as dt

from core.errors import ValidationFailed

FORMAT = "gongjiao-archive/1"
RETENTION_FLOOR_YEARS = 15  # GP: 政府采购法42 (at least 15 years); TB: the same floor (DOMAIN E2 [G])
DEFAULT_RETENTION = {"TB": 30, "GP": 15}
PERMANENT = "permanent"


def retention_years(regime: str, config: dict | None = None) -> int | None:
    """Years a package of `regime` is kept; None means permanently. Refuses a value under the floor."""
    merged = {**DEFAULT_RETENTION, **(config or {})}
    if regime not in merged:
        raise ValidationFailed(f"no retention period for regime {regime!r}", code="archive_retention_invalid")
    value = merged[regime]
    if value == PERMANENT:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(
            f"retention for {regime} must be whole years or {PERMANENT!r}", code="archive_retention_invalid"
        )
    if value < RETENTION_FLOOR_YEARS:
        raise ValidationFailed(
            f"retention for {regime} is {value} years, under the {RETENTION_FLOOR_YEARS}-year floor",
            code="archive_retention_invalid",
        )
    return value


def retain_until(ended: dt.date, years: int | None) -> dt.date | None:
    """The last day of retention: `years` after the project ended (29 February → 28 February)."""
    if years is None:
        return None
    try:
        return ended.replace(year=ended.year + years)
    except ValueError:
        return ended.replace(year=ended.year + years, day=28)


def may_dispose(retain: dt.date | None, today: dt.date) -> bool:
    return retain is not None and today > retain
