"""The market view (the latest batch run: communities, the co-bidding graph, cover bidding, rotation)
and a tender's monitoring tab (its lots' analyses and screens, its alerts, its monitoring reports)."""

from __future__ import annotations

from django.http import FileResponse, JsonResponse
from django.shortcuts import render
from django.urls import path
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from archive.blobs import blob_open
from archive.models import ArchivePackage
from core.errors import NotFound
from monitoring import picture
from monitoring.models import Alert, LotAnalysis, MonitoringReport
from monitoring.screens import SCREENS
from monitoring.selectors import market_view
from monitoring.services import closing
from monitoring.views import common
from trading import pki
from trading.models import MarketEntity, Tender, TenderState
from trading.views.accounts import error_context, signed_in

GRAPH_EDGES = 60  # the picture draws the strongest co-bidding ties only: a hairball explains nothing
TABLE_ROWS = 50


def _names(keys: set[str], given: dict) -> dict[str, str]:
    names = {str(k): str(v) for k, v in (given or {}).items()} if isinstance(given, dict) else {}
    wanted = [int(k) for k in keys - names.keys() if k.isdigit() and len(k) < 12]
    for pk, name in MarketEntity.objects.filter(pk__in=wanted).values_list("pk", "name"):
        names[str(pk)] = name
    return names


def _edge(raw) -> tuple[str, str, float] | None:
    """A co-bidding tie from the shapes market.py may give: a dict or an [a, b, weight] triple."""
    if isinstance(raw, dict):
        a = raw.get("a", raw.get("source"))
        b = raw.get("b", raw.get("target"))
        w = raw.get("weight", raw.get("meetings", 1))
    elif isinstance(raw, list | tuple) and len(raw) >= 2:
        a, b, w = raw[0], raw[1], raw[2] if len(raw) > 2 else 1
    else:
        return None
    try:
        return (str(a), str(b), float(w))
    except (TypeError, ValueError):
        return None


def market_context(run) -> dict:
    market = run.market if run is not None and isinstance(run.market, dict) else {}
    edges = [e for e in (_edge(r) for r in market.get("cobidding") or []) if e is not None]
    edges.sort(key=lambda e: (-e[2], e[0], e[1]))
    edges = edges[:GRAPH_EDGES]
    communities = [c for c in market.get("communities") or [] if isinstance(c, list | tuple)]
    cover = [r for r in market.get("cover_bidding") or [] if isinstance(r, dict)][:TABLE_ROWS]
    rotation = [r for r in market.get("rotation") or [] if isinstance(r, dict)][:TABLE_ROWS]
    keys = {k for a, b, _w in edges for k in (a, b)}
    keys |= {str(p) for c in communities for p in c}
    keys |= {str(r.get(k)) for r in cover for k in ("loser", "winner")}
    keys |= {str(p) for r in rotation for p in r.get("members") or []}
    names = _names(keys, market.get("names"))
    graph = {
        "nodes": [
            {"id": f"entity:{k}", "kind": "entity", "label": names.get(k, k), "role": "bidder"}
            for k in sorted({k for a, b, _w in edges for k in (a, b)})
        ],
        "edges": [
            {"source": f"entity:{a}", "target": f"entity:{b}", "relation": "cobid", "label": f"{w:g}"}
            for a, b, w in edges
        ],
    }
    svg = picture.svg(
        graph,
        title=_("Co-bidding graph: the strongest ties"),
        empty_text=_("No co-bidding ties in the latest run."),
        ident="market-graph",
        emphasise_direct=False,
    )
    by_year = [r for r in market.get("cobidding_by_year") or [] if isinstance(r, dict)][-TABLE_ROWS:]
    return {
        "run": run,
        "by_year": by_year,
        "picture": mark_safe(svg),  # noqa: S308 — built by monitoring.picture, every text escaped
        "communities": [
            [names.get(str(p), str(p)) for p in c] for c in sorted(communities, key=len, reverse=True)
        ][:TABLE_ROWS],
        "cover": [
            {
                **r,
                "loser_name": names.get(str(r.get("loser")), str(r.get("loser"))),
                "winner_name": names.get(str(r.get("winner")), str(r.get("winner"))),
                "share": common.number(r.get("share")),
            }
            for r in cover
        ],
        "rotation": [
            {
                "members": [names.get(str(p), str(p)) for p in r.get("members") or []],
                "tenders": r.get("tenders", ""),
                "evenness": common.number(r.get("evenness")),
            }
            for r in rotation
        ],
        "figures": sorted((run.figures or {}).items())
        if run is not None and isinstance(run.figures, dict)
        else [],
    }


@never_cache
@require_safe
@signed_in
def market_page(request):
    common.monitoring_access_read(request.user)
    return render(request, "monitoring/market.html", market_context(market_view()))


def _tender(tender_id: int) -> Tender:
    tender = Tender.objects.select_related("tenderee", "agency").filter(pk=tender_id).first()
    if tender is None:
        raise NotFound(_("No such tender."), code="tender_not_found")
    return tender


def _screens(analysis: LotAnalysis | None) -> list[tuple[str, str]]:
    if analysis is None or not isinstance(analysis.features, dict):
        return []
    found = analysis.features.get("screens")
    source = found if isinstance(found, dict) else analysis.features
    return [(name, common.number(source.get(name))) for name in SCREENS if name in source]


@never_cache
@require_safe
@signed_in
def tender_page(request, tender_id: int):
    return render_tender(request, tender_id)


def render_tender(request, tender_id: int, *, error=None):
    """The tender's monitoring tab; `error` is a refused archiving, shown with its code."""
    common.monitoring_access_read(request.user)
    tender = _tender(tender_id)
    common.monitoring_access_tender(request.user, tender)
    analyses = {
        a.lot_id: a for a in LotAnalysis.objects.filter(tender=tender).select_related("model_version")
    }
    lots = [
        {
            "lot": lot,
            "analysis": analyses.get(lot.pk),
            "screens": _screens(analyses.get(lot.pk)),
            "findings": [
                {"code": str(f.get("code")), "label": common.indicator_label(str(f.get("code")))}
                for f in (analyses[lot.pk].findings if lot.pk in analyses else []) or []
                if isinstance(f, dict) and f.get("code")
            ],
        }
        for lot in tender.lots.order_by("number")
    ]
    return render(
        request,
        "monitoring/tender.html",
        {
            "tender": tender,
            "lots": lots,
            "alerts": Alert.objects.filter(tender=tender).select_related("lot").order_by("level", "-score"),
            "reports": MonitoringReport.objects.filter(tender=tender).order_by("-revision"),
            "packages": ArchivePackage.objects.filter(project=tender.stream).order_by("-version"),
            "closable": tender.state in (*closing.FINAL, TenderState.SUSPENDED),
            "open_alerts": closing.open_alerts(tender),
            "may_override": common.may_act(request.user),
            "error": error_context(error) if error is not None else None,
        },
        status=error.status if error is not None else 200,
    )


def _report(tender_id: int, revision: int) -> MonitoringReport:
    report = (
        MonitoringReport.objects.filter(tender_id=tender_id, revision=revision)
        .select_related("tender")
        .first()
    )
    if report is None:
        raise NotFound(_("No such monitoring report."), code="report_not_found")
    return report


@require_safe
@signed_in
def report_pdf(request, tender_id: int, revision: int):
    common.monitoring_access_read(request.user)
    report = _report(tender_id, revision)
    common.monitoring_access_tender(request.user, report.tender)
    if report.pdf is None:
        raise NotFound(_("The PDF is not available."), code="report_pdf_missing")
    return FileResponse(
        blob_open(report.pdf),
        content_type="application/pdf",
        as_attachment=True,
        filename=f"monitoring-report-{report.tender.code}-r{report.revision}.pdf",
    )


@require_safe
@signed_in
def report_json(request, tender_id: int, revision: int):
    common.monitoring_access_read(request.user)
    report = _report(tender_id, revision)
    common.monitoring_access_tender(request.user, report.tender)
    return JsonResponse(
        {
            "data": report.data,
            "data_sha256": report.data_sha256,
            "platform_signature": report.platform_signature,
            "platform_certificate": pki.pem(pki.platform_signer()[1]),
        },
        json_dumps_params={"ensure_ascii": False},
    )


urlpatterns = [
    path("market/", market_page, name="market"),
    path("tenders/<int:tender_id>/", tender_page, name="tender"),
    path("tenders/<int:tender_id>/reports/<int:revision>.pdf", report_pdf, name="report-pdf"),
    path("tenders/<int:tender_id>/reports/<int:revision>.json", report_json, name="report-json"),
]
