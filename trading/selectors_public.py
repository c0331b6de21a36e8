"""Read-side queries of the public portal: only what the public may see (published
announcements, tenders past draft), with their joins done here so pages do not run N+1.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import NotFound
from trading.models import (
    Announcement,
    AnnouncementAttachment,
    Lot,
    Tender,
    TenderState,
)
from trading.regions import region_prefix  # a province or city code selects everything inside it

# The public never sees a tender that was not published (a draft has no public existence).
PUBLIC_TENDER_STATES = tuple(s for s in TenderState.values if s != TenderState.DRAFT)


def _day_start(day: dt.date) -> dt.datetime:
    # Dates the public types are local (Asia/Shanghai) calendar days, not UTC ones.
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_current_timezone())


def _published() -> QuerySet[Announcement]:
    # The announcement's own state decides: a tender announcement becomes public in the same
    # step that publishes its tender, and a withdrawn one leaves the portal.
    return Announcement.objects.filter(state=Announcement.State.PUBLISHED, published_at__isnull=False)


def announcement_list_public(
    *,
    q: str | None = None,
    kind: str | None = None,
    category: str | None = None,
    region: str | None = None,
    regime: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    state: str | None = None,
) -> QuerySet[Announcement]:
    """Published announcements, newest first; every argument narrows the list.

    `q` matches every whitespace-separated term against the title, the text, the
    tender's title or its unified transaction code; `region` includes sub-regions.
    """
    qs = _published().select_related("tender", "tender__tenderee", "tender__agency", "lot")
    for term in (q or "").split():
        qs = qs.filter(
            Q(title__icontains=term)
            | Q(body_text__icontains=term)
            | Q(tender__title__icontains=term)
            | Q(tender__code=term.upper())
        )
    if kind:
        qs = qs.filter(kind=kind)
    if category:
        qs = qs.filter(tender__category=category)
    if regime:
        qs = qs.filter(tender__regime=regime)
    if region:
        qs = qs.filter(tender__region_code__startswith=region_prefix(region))
    if state:
        qs = qs.filter(tender__state=state)
    if date_from:
        qs = qs.filter(published_at__gte=_day_start(date_from))
    if date_to:
        qs = qs.filter(published_at__lt=_day_start(date_to + dt.timedelta(days=1)))
    return qs.order_by("-published_at", "-id")


def announcement_get_public(pk: int) -> Announcement:
    """One published announcement with its tender, attachments and blobs; NotFound otherwise."""
    announcement = (
        _published()
        .select_related("tender", "tender__tenderee", "tender__agency", "lot")
        .prefetch_related(
            Prefetch(
                "attachments", queryset=AnnouncementAttachment.objects.select_related("blob").order_by("id")
            )
        )
        .filter(pk=pk)
        .first()
    )
    if announcement is None:
        raise NotFound(_("This announcement does not exist or is not public."), code="not_found")
    return announcement


def tender_get_public(pk: int) -> Tender:
    """A tender the public may see (anything but a draft), with its lots; NotFound otherwise."""
    tender = (
        Tender.objects.filter(pk=pk, state__in=PUBLIC_TENDER_STATES)
        .select_related("tenderee", "agency")
        .prefetch_related(
            Prefetch("lots", queryset=Lot.objects.select_related("awarded_to").order_by("number"))
        )
        .first()
    )
    if tender is None:
        raise NotFound(_("This project does not exist or is not public."), code="not_found")
    return tender


def tender_announcements_public(*, tender: Tender) -> list[Announcement]:
    """The tender's published announcements in the order they appeared (its public history)."""
    return list(
        _published()
        .filter(tender=tender)
        .select_related("lot")
        .annotate(attachment_count=Count("attachments"))
        .order_by("published_at", "id")
    )


def attachment_get_public(*, sha256: str, filename: str | None = None) -> AnnouncementAttachment:
    """An attachment of a published announcement holding this blob; NotFound otherwise.

    The same bytes may be attached more than once under different names: the one
    whose name matches `filename` wins, else the first published one.
    """
    candidates = list(
        AnnouncementAttachment.objects.filter(
            blob_id=sha256,
            announcement__state=Announcement.State.PUBLISHED,
            announcement__published_at__isnull=False,
        )
        .select_related("blob", "announcement")
        .order_by("id")
    )
    if not candidates:
        raise NotFound(_("No published announcement has this file."), code="not_found")
    for attachment in candidates:
        if attachment.filename == filename:
            return attachment
    return candidates[0]


def tender_list_upcoming_public(*, limit: int = 8) -> QuerySet[Tender]:
    """Tenders open for bids whose deadline (= opening time) is still ahead, soonest first."""
    return (
        Tender.objects.filter(state=TenderState.PUBLISHED, deadline__gt=timezone.now())
        .select_related("tenderee")
        .order_by("deadline", "id")[:limit]
    )


def public_region_codes() -> list[str]:
    """The region codes that occur among public tenders (the choices of the region filter)."""
    return list(
        Tender.objects.filter(state__in=PUBLIC_TENDER_STATES)
        .order_by("region_code")
        .values_list("region_code", flat=True)
        .distinct()
    )


def announcement_counts_public(*, groups: Iterable[tuple[str, dict]]) -> dict[str, int]:
    """Counts of published announcements for named filter sets (the home page's sector tiles)."""
    return {name: announcement_list_public(**filters).count() for name, filters in groups}
