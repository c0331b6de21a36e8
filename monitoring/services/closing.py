"""The closing pipeline (issue 6 item 6; DESIGN §3 step 8): award → monitoring report → seal → archived.

Monitoring gates the final write to the archive (DESIGN §2): a tender whose alerts are not all decided
is not sealed, unless a regulator records an explicit override with its reason, which goes into the
package's manifest and the journal. Awarded, failed and terminated tenders are sealed and become
archived in one transaction; a suspended tender gets an interim package (一项一档 covers paused
projects too) and keeps its state, and its final package follows when it ends.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from archive.models import ArchivePackage
from archive.services import ProjectInfo, package_seal
from core.canonical import canonical_json
from core.errors import AccessDenied, Conflict, ValidationFailed
from experts.models import Award
from monitoring.models import Alert, MonitoringReport
from monitoring.services.report import report_data, report_produce
from trading.access import tender_access_supervise
from trading.models import Role, Tender, TenderState
from trading.services.tenders import tender_mark_archived

logger = logging.getLogger(__name__)

FINAL = (TenderState.AWARDED, TenderState.FAILED, TenderState.TERMINATED)
CLOSERS = (Role.CENTRE, Role.REGULATOR, Role.ADMIN)
OVERRIDERS = (Role.REGULATOR, Role.ADMIN)
OVERRIDE_MAX = 2000


def open_alerts(tender: Tender) -> list[int]:
    return sorted(Alert.objects.filter(tender=tender, status=Alert.Status.OPEN).values_list("pk", flat=True))


def current_report(tender: Tender) -> MonitoringReport | None:
    """The latest report, if it still says what a new one would (same tender state, same alerts and
    decisions); otherwise None and a new revision is due."""
    report = MonitoringReport.objects.filter(tender=tender).order_by("-revision").first()
    if report is None:
        return None
    old = {k: v for k, v in report.data.items() if k not in ("revision", "produced_at")}
    return report if canonical_json(old) == canonical_json(report_data(tender)) else None


def _ended_on(tender: Tender) -> dt.date:
    return timezone.localdate(tender.state_changed_at or timezone.now())


def project_info(tender: Tender, *, override: dict | None = None) -> ProjectInfo:
    return ProjectInfo(
        project=tender.stream,
        title=tender.title,
        code=tender.code,
        regime=tender.regime,
        category=tender.category,
        state=tender.state,
        ended_on=_ended_on(tender) if tender.state in FINAL else timezone.localdate(),
        interim=tender.state not in FINAL,
        override=override or {},
        extra={"tender": tender.pk, "lots": tender.lots.count()},
    )


def project_close(*, tender: Tender, actor=None, override_reason: str = "") -> ArchivePackage:
    """Seal `tender` into the archive. `actor` None is the system (the worker): it never overrides."""
    if actor is not None and getattr(actor, "role", None) not in CLOSERS:
        raise AccessDenied(
            _("Only the trading centre or a regulator may archive a project."), code="forbidden"
        )
    tender = Tender.objects.get(pk=tender.pk)
    if getattr(actor, "role", None) == Role.REGULATOR:
        tender_access_supervise(user=actor, tender=tender)  # its departments' tenders (issue 7)
    if tender.state not in (*FINAL, TenderState.SUSPENDED):
        raise Conflict(
            _("Only an awarded, failed, terminated or suspended project can be archived."),
            code="archive_not_closable",
            current=tender.state,
        )
    override_reason = (override_reason or "").strip()[:OVERRIDE_MAX]
    if override_reason and getattr(actor, "role", None) not in OVERRIDERS:
        raise AccessDenied(
            _("Only a regulator may override an open alert."), code="archive_override_forbidden"
        )

    # Refuse before writing anything when an alert is already waiting; the report's re-check may raise
    # new ones, so the alerts are read again after it.
    _override(tender, actor, override_reason)
    report = current_report(tender) or report_produce(tender=tender, actor=actor)
    override = _override(tender, actor, override_reason)
    with transaction.atomic():
        tender = Tender.objects.select_for_update().get(pk=tender.pk)
        if tender.state not in (*FINAL, TenderState.SUSPENDED):
            raise Conflict(
                _("The project has moved on meanwhile."), code="archive_not_closable", current=tender.state
            )
        info = project_info(tender, override=override)
        info.extra["monitoring_report"] = {"revision": report.revision, "sha256": report.data_sha256}
        package = package_seal(info=info, actor=actor or "system")
        if tender.state in FINAL:
            tender_mark_archived(
                tender=tender,
                actor=actor or "system",
                package={"id": package.pk, "version": package.version, "digest": package.digest},
            )
    return package


def _override(tender: Tender, actor, reason: str) -> dict:
    """The recorded override when alerts are open and a regulator gave a reason; refused without one."""
    pending = open_alerts(tender)
    if not pending:
        return {}
    if not reason:
        raise Conflict(
            _("An alert of this project has not been decided; the regulator must decide it first."),
            code="archive_alert_open",
            alerts=pending,
        )
    return {
        "alerts": pending,
        "reason": reason,
        "by": actor.get_username(),
        "by_id": actor.pk,
        "role": actor.role,
        "at": timezone.now().isoformat(),
    }


def closing_due(now: dt.datetime | None = None) -> list[Tender]:
    """Tenders the worker should seal now: failed and terminated ones, and awarded ones whose every
    award has its contract recorded or whose award is ARCHIVE_DUE_DAYS old (DOMAIN E3) — and that have
    no open alert (those wait for the regulator)."""
    now = now or timezone.now()
    due_before = now - dt.timedelta(days=settings.ARCHIVE_DUE_DAYS)
    out = []
    for tender in Tender.objects.filter(state__in=FINAL).order_by("pk"):
        if Alert.objects.filter(tender=tender, status=Alert.Status.OPEN).exists():
            continue
        if tender.state == TenderState.AWARDED:
            awards = Award.objects.filter(lot__tender=tender)
            contracted = not awards.filter(contract_signed_on__isnull=True).exists()
            if not contracted and (tender.state_changed_at or now) > due_before:
                continue
        out.append(tender)
    return out


def close_due(*, now: dt.datetime | None = None) -> list[ArchivePackage]:
    """Seal every due project (the worker's step); one failure is logged and does not stop the rest."""
    sealed = []
    for tender in closing_due(now):
        try:
            sealed.append(project_close(tender=tender))
        except (Conflict, ValidationFailed) as exc:
            logger.warning("archiving %s refused: %s", tender.stream, exc)
    return sealed
