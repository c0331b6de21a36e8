"""Monitoring's contribution to a project's archival package (issue 6 item 1): the latest monitoring
report (its signed data and its PDF) and every alert of the tender with its review decision, signed.

Read-only: producing the report is the closing pipeline's step (services/report.report_produce), done
before the package is sealed.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from archive.providers import Item
from core.canonical import canonical_json
from monitoring.models import Alert, MonitoringReport


def _tender_id(project: str) -> int | None:
    kind, _sep, key = project.partition(":")
    return int(key) if kind == "tender" and key.isdigit() else None


def alert_record(alert: Alert) -> dict:
    """An alert as archived: data spec 402's fields, the indicators and the decision with its signature."""
    return {
        "id": alert.pk,
        "lot": alert.lot_id,
        "node": alert.node,
        "level": alert.level,
        "score": alert.score,
        "message": alert.message,
        "indicators": alert.indicators,
        "entities": sorted(alert.entities.values_list("pk", flat=True)),
        "created_at": alert.created_at,
        "revision": alert.revision,
        "status": alert.status,
        "decided_by": alert.decided_by_id,
        "decided_at": alert.decided_at,
        "decision_reason": alert.decision_reason,
        "legal_basis": alert.legal_basis,
        "credit_entered": alert.credit_entered,
        "credit_records": alert.credit_records,
        "decision_digest": alert.decision_digest,
        "decision_signature": alert.decision_signature,
    }


def items(project: str) -> list[Item]:
    with translation.override(settings.LANGUAGE_CODE):  # archived titles read the same for everyone
        return _items(project)


def _items(project: str) -> list[Item]:
    tender_id = _tender_id(project)
    if tender_id is None:
        return []
    out: list[Item] = []
    report = MonitoringReport.objects.filter(tender_id=tender_id).order_by("-revision").first()
    if report is not None:
        signed = {"data": report.data, "sha256": report.data_sha256, "signature": report.platform_signature}
        out.append(
            Item(
                path="report.json",
                media_type="application/json",
                data=canonical_json(signed),
                title=_("Monitoring report, revision %(n)s") % {"n": report.revision},
            )
        )
        if report.pdf_id:
            out.append(
                Item(
                    path="report.pdf",
                    media_type="application/pdf",
                    blob=report.pdf_id,
                    title=_("Monitoring report, revision %(n)s (PDF)") % {"n": report.revision},
                )
            )
    alerts = Alert.objects.filter(tender_id=tender_id).order_by("created_at", "pk")
    records = [alert_record(a) for a in alerts.prefetch_related("entities")]
    if records:
        out.append(
            Item(
                path="alerts.json",
                media_type="application/json",
                data=canonical_json({"tender": tender_id, "alerts": records}),
                title=_("Alerts and their decisions"),
            )
        )
    return out
