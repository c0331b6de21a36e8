"""The monitoring report of a tender (监测报告), produced before the project is sealed into the archive.

It re-runs the check of every read-out lot (the `award` node: what is known at the end, including the
winners), then records every lot's indicators and score and every alert of the tender with its review
decision. The data is canonical JSON signed by the platform; the PDF shows the same. Each production is a
new revision: an earlier one is never changed. The archive (issue 6) attaches the latest revision.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from archive.blobs import blob_put
from archive.journal import journal_append
from bidding.models import Bid
from experts.documents.common import MARGIN, _Pdf, _when, sign
from monitoring.models import Alert, LotAnalysis, MonitoringReport
from monitoring.services.analysis import lot_check
from trading.models import Tender

logger = logging.getLogger(__name__)

SCREENS_SHOWN = ("n", "cv", "spd", "diffp", "rdalt", "kurt", "skew", "min_to_ceiling", "step_cv")


def _lot_data(lot, analysis: LotAnalysis | None) -> dict:
    data = {"lot": lot.pk, "number": lot.number, "title": lot.title}
    if analysis is None:
        data["analysed"] = False
        return data
    data.update(
        {
            "analysed": True,
            "analysed_at": analysis.analysed_at.isoformat(),
            "source": analysis.source,
            "bids": analysis.bids,
            "score": analysis.score,
            "screens": {k: analysis.features.get(k) for k in SCREENS_SHOWN if k in analysis.features},
            "findings": [
                {
                    "code": f.get("code"),
                    "label": f.get("label"),
                    "statutory": f.get("statutory"),
                    "legal_source": f.get("legal_source"),
                    "value": f.get("value"),
                    "threshold": f.get("threshold"),
                    "parties": f.get("parties"),
                }
                for f in analysis.findings
            ],
            "model_version": str(analysis.model_version) if analysis.model_version_id else None,
        }
    )
    return data


def _alert_data(alert: Alert) -> dict:
    return {
        "id": alert.pk,
        "lot": alert.lot_id,
        "node": alert.node,
        "level": alert.level,
        "score": alert.score,
        "status": alert.status,
        "message": alert.message,
        "created_at": alert.created_at.isoformat(),
        "entities": sorted(alert.entities.values_list("pk", flat=True)),
        "decided_at": alert.decided_at.isoformat() if alert.decided_at else None,
        "decided_by": alert.decided_by.get_full_name() or alert.decided_by.username
        if alert.decided_by
        else None,
        "decision_reason": alert.decision_reason,
        "legal_basis": alert.legal_basis,
        "credit_entered": alert.credit_entered,
        "credit_records": alert.credit_records,
        "decision_digest": alert.decision_digest,
        "decision_signature": alert.decision_signature,
    }


def report_data(tender: Tender) -> dict:
    lots = list(tender.lots.order_by("number"))
    analyses = {a.lot_id: a for a in LotAnalysis.objects.filter(lot__in=lots).select_related("model_version")}
    alerts = list(
        Alert.objects.filter(tender=tender).select_related("decided_by").order_by("created_at", "pk")
    )
    counts = {s: sum(a.status == s for a in alerts) for s in Alert.Status.values}
    return {
        "kind": "monitoring_report",
        "tender": {
            "id": tender.pk,
            "code": tender.code,
            "title": tender.title,
            "regime": tender.regime,
            "category": tender.category,
            "state": tender.state,
        },
        "lots": [_lot_data(lot, analyses.get(lot.pk)) for lot in lots],
        "alerts": [_alert_data(a) for a in alerts],
        "summary": {
            "alerts": len(alerts),
            **counts,
            "highest_level": min((a.level for a in alerts), default=None),
        },
    }


def report_pdf(data: dict, *, signature: str) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    with translation.override("zh-hans"):
        pdf = _Pdf(data, signature, frame_width=A4[0] - 2 * MARGIN)
        p = pdf.p
        tender = data["tender"]
        title = _("Collusion monitoring report")
        story: list = [
            p(title, pdf.h1),
            p(f"{tender['title']}（{tender['code']}）", pdf.sub),
            Spacer(1, 4 * mm),
            pdf.pairs(
                [
                    (_("Produced at"), _when(data["produced_at"])),
                    (_("Revision"), data["revision"]),
                    (_("Alerts"), data["summary"]["alerts"]),
                    (pgettext("alert status", "Open"), data["summary"].get("open", 0)),
                    (_("Confirmed"), data["summary"].get("confirmed", 0)),
                    (_("Dismissed"), data["summary"].get("dismissed", 0)),
                ],
                [45 * mm, 137 * mm],
            ),
        ]
        for lot in data["lots"]:
            story.append(p(_("Lot %(n)s %(t)s") % {"n": lot["number"], "t": lot["title"]}, pdf.h2))
            if not lot.get("analysed"):
                story.append(p(_("No bids were read out: nothing to analyse.")))
                continue
            screens = "；".join(
                f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in lot["screens"].items()
            )
            story.append(
                p(
                    _("%(bids)s bids; score %(score)s; price screens: %(screens)s")
                    % {"bids": lot["bids"], "score": f"{lot['score']:.3f}", "screens": screens}
                )
            )
            if lot["findings"]:
                rows = [
                    [
                        f["label"],
                        _("yes") if f["statutory"] else _("no"),
                        f.get("legal_source") or "",
                        "" if f.get("value") is None else str(f["value"]),
                        "" if f.get("threshold") is None else str(f["threshold"]),
                    ]
                    for f in lot["findings"]
                ]
                story.append(
                    pdf.table(
                        [_("Indicator"), _("Statutory"), _("Legal source"), _("Value"), _("Threshold")],
                        rows,
                        [50 * mm, 16 * mm, 64 * mm, 26 * mm, 26 * mm],
                    )
                )
        story.append(p(_("Alerts and decisions"), pdf.h2))
        if not data["alerts"]:
            story.append(p(_("No alert was raised.")))
        for a in data["alerts"]:
            rows = [
                (_("Alert"), f"#{a['id']} · {a['node']} · L{a['level']} · {a['score']:.3f}"),
                (_("Message"), a["message"]),
                (_("Status"), a["status"]),
            ]
            if a["decided_at"]:
                rows += [
                    (_("Decided at"), _when(a["decided_at"])),
                    (_("Decided by"), a["decided_by"]),
                    (_("Decision"), a["decision_reason"]),
                    (_("Legal basis"), a["legal_basis"]),
                    (_("Entered in the credit platform"), _("yes") if a["credit_entered"] else _("no")),
                ]
            story += [pdf.pairs(rows, [45 * mm, 137 * mm]), Spacer(1, 2 * mm)]
        story += pdf.verification()
        return pdf.build(story, title=f"{title} {tender['code']}", pagesize=A4)


def report_produce(*, tender: Tender, actor=None, recheck: bool = True) -> MonitoringReport:
    """Re-check the read-out lots (award node), then produce and sign the next revision of the report."""
    if recheck:
        read_out = Bid.objects.filter(lot__tender=tender, status=Bid.Status.ACTIVE).exclude(content_key="")
        for lot_id in sorted(set(read_out.values_list("lot_id", flat=True))):
            lot_check(lot_id=lot_id, source=LotAnalysis.Source.REPORT, node=Alert.Node.AWARD)
    with transaction.atomic():
        Tender.objects.select_for_update().filter(pk=tender.pk).first()
        revision = (MonitoringReport.objects.filter(tender=tender).aggregate(m=Max("revision"))["m"] or 0) + 1
        now = timezone.now()
        data = report_data(tender)
        data["revision"] = revision
        data["produced_at"] = now.isoformat()
        data_sha256, signature = sign(data)
        pdf = blob_put(data=report_pdf(data, signature=signature), content_type="application/pdf")
        report = MonitoringReport.objects.create(
            tender=tender,
            revision=revision,
            data=data,
            data_sha256=data_sha256,
            pdf=pdf,
            platform_signature=signature,
            created_at=now,
        )
        journal_append(
            stream=f"tender:{tender.pk}",
            action="monitoring.report_produced",
            actor=actor,
            obj=report,
            payload={
                "revision": revision,
                "sha256": data_sha256,
                "pdf": pdf.sha256,
                "alerts": data["summary"],
            },
        )
    return report
