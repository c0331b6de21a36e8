"""Public open-data endpoints: an OCDS release package per tender, the dated bulk package
and a JSON index. No login; drafts never appear. Attachments are linked to the portal's
content-addressed downloads (portal:attachment).

The lead includes `urlpatterns` in the portal URLconf (namespace `portal`); the OCDS
builder reverses these names to write absolute URLs into the packages.
"""

from __future__ import annotations

import datetime as dt

from django.http import JsonResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from trading import ocds

INDEX_LATEST = 50


def _json(data: dict, *, status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})
    # Open data: any site may fetch it from a browser.
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _error(code: str, message, *, status: int) -> JsonResponse:
    return _json({"error": {"code": code, "message": str(message)}}, status=status)


def _base_url(request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


@require_GET
def opendata_index(request):
    """What is published, where, and the most recent tender packages."""
    base = _base_url(request)
    latest = (
        ocds.public_tenders()
        .order_by("-published_at", "-pk")
        .values("pk", "code", "title", "published_at")[:INDEX_LATEST]
    )
    return _json(
        {
            "publisher": ocds.publisher(),
            "standard": "Open Contracting Data Standard",
            "version": ocds.OCDS_VERSION,
            "extensions": [ocds.LOTS_EXTENSION],
            "ocidPrefix": ocds.ocds_prefix(),
            "tenderPackage": base + ocds.tender_package_path(0).replace("/0.json", "/{id}.json"),
            "bulkPackage": base
            + ocds.bulk_package_path(dt.date(2000, 1, 1)).replace("2000-01-01", "{YYYY-MM-DD}"),
            "api": base + "/api/",
            "latest": [
                {
                    "ocid": f"{ocds.ocds_prefix()}-{t['code']}",
                    "title": t["title"],
                    "published": ocds.iso(t["published_at"]),
                    "url": base + ocds.tender_package_path(t["pk"]),
                }
                for t in latest
            ],
        }
    )


@require_GET
def opendata_tender(request, pk: int):
    """A release package holding the one release of a public tender."""
    tender = ocds.with_release_data(ocds.public_tenders().filter(pk=pk)).first()
    if tender is None:
        return _error("not_found", _("No public tender has this number."), status=404)
    return _json(ocds.tender_package(tender, base_url=_base_url(request)))


@require_GET
def opendata_releases(request, day: str):
    """Every tender that changed on the given Beijing-time day, as one release package."""
    try:
        date = dt.date.fromisoformat(day)
        if len(day) != 10:  # fromisoformat also takes 20260302; the URL form is YYYY-MM-DD only
            raise ValueError(day)
    except ValueError:
        return _error("invalid_date", _("The date must be a real day written YYYY-MM-DD."), status=400)
    package = ocds.bulk_package(date, base_url=_base_url(request))
    if not package["releases"]:
        # A release package must hold at least one release (schema: minItems 1), so a day on
        # which nothing changed has no file, as on a static open-data site.
        return _error("no_releases", _("No public tender changed on this day."), status=404)
    return _json(package)


urlpatterns = [
    path("opendata/", opendata_index, name="opendata_index"),
    path("opendata/tenders/<int:pk>.json", opendata_tender, name="opendata_tender"),
    path("opendata/releases/<str:day>.json", opendata_releases, name="opendata_releases"),
]
