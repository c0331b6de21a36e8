"""Release packages: one tender's, and the dated bulk export of every tender that changed on a day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from trading.models import Announcement, Lot, Tender

from .mapping import LOTS_EXTENSION, OCDS_VERSION, SHANGHAI, identifier_scheme, iso
from .release import (
    _absolute,
    bulk_package_path,
    default_base_url,
    public_tenders,
    tender_package_path,
    tender_release,
    with_release_data,
)


def publisher() -> dict:
    """The platform operator, identified by its USCC."""
    data: dict[str, Any] = {"name": getattr(settings, "PLATFORM_NAME", "公共资源交易平台")}
    operator = getattr(settings, "PLATFORM_OPERATOR_USCC", "")
    if operator:
        data.update(scheme=identifier_scheme(operator), uid=operator)
    return data


def release_package(releases: Iterable[dict], *, uri: str, published_date: dt.datetime) -> dict:
    """A release package: the releases with who published them, when, and under which version."""
    package: dict[str, Any] = {
        "uri": uri,
        "version": OCDS_VERSION,
        "extensions": [LOTS_EXTENSION],
        "publishedDate": iso(published_date),
        "publisher": publisher(),
        "releases": list(releases),
    }
    license_url = getattr(settings, "OCDS_LICENSE", "")
    if license_url:
        package["license"] = license_url
    return package


def tender_package(tender: Tender, *, base_url: str | None = None) -> dict:
    base_url = (base_url or default_base_url()).rstrip("/")
    return release_package(
        [tender_release(tender, base_url=base_url)],
        uri=_absolute(base_url, tender_package_path(tender.pk)),
        published_date=timezone.now(),
    )


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The Beijing-time day as a half-open [start, end) pair of aware datetimes."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI)
    return start, start + dt.timedelta(days=1)


def tenders_changed_on(day: dt.date):
    """Public tenders published, moved to another state, announced or awarded on that day."""
    start, end = day_bounds(day)
    announced = Announcement.objects.filter(
        state=Announcement.State.PUBLISHED, published_at__gte=start, published_at__lt=end
    ).values("tender_id")
    awarded = Lot.objects.filter(awarded_at__gte=start, awarded_at__lt=end).values("tender_id")
    return public_tenders().filter(
        Q(published_at__gte=start, published_at__lt=end)
        | Q(state_changed_at__gte=start, state_changed_at__lt=end)
        | Q(pk__in=announced)
        | Q(pk__in=awarded)
    )


def bulk_releases(day: dt.date, *, base_url: str | None = None) -> list[dict]:
    """The current release of every tender that changed on `day` (Beijing time)."""
    tenders = with_release_data(tenders_changed_on(day)).order_by("published_at", "pk")
    return [tender_release(t, base_url=base_url) for t in tenders]


def bulk_package(day: dt.date, *, base_url: str | None = None) -> dict:
    base_url = (base_url or default_base_url()).rstrip("/")
    return release_package(
        bulk_releases(day, base_url=base_url),
        uri=_absolute(base_url, bulk_package_path(day)),
        published_date=timezone.now(),
    )
