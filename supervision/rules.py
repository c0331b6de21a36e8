"""Pure jurisdiction rules (issue 7 item 1): which supervising department covers a tender.

A department supervises a region (a GB/T 2260 code: a province covers its cities and counties, a city
its counties) and, within it, some regimes and categories (an industry department: works; finance:
government procurement; the government-service supervision office, audit and discipline bodies: all).
Several departments may cover one tender; all of them see it.
"""

from __future__ import annotations

import re

_CODE = re.compile(r"^\d{6}$")


def region_prefix(code: str) -> str:
    """The significant digits of a division code: 450000 → 45, 450100 → 4501, 450126 → 450126."""
    if not _CODE.match(code or ""):
        raise ValueError(f"not a 6-digit division code: {code!r}")
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def region_covers(department_region: str, tender_region: str) -> bool:
    return region_prefix(tender_region).startswith(region_prefix(department_region))


def covers(
    *, region: str, regimes: list[str], categories: list[str], tender_region: str, regime: str, category: str
) -> bool:
    """True when a department with this jurisdiction supervises a tender (empty lists mean all)."""
    return (
        region_covers(region, tender_region)
        and (not regimes or regime in regimes)
        and (not categories or category in categories)
    )


# The triage of a tip-off: the actions each status allows, in the order a page offers them.
TRIAGE_STEPS = {
    "received": ("investigate", "alert", "dismiss"),
    "investigating": ("alert", "close"),
}
