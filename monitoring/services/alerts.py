"""Alerts: raising them from an analysis, and the regulator's review (assign, confirm, dismiss).

An alert is shaped by data spec 402 (DOMAIN D4). There is at most one open alert per lot, kept at the
supervision node that raised it: a re-analysis that finds something new updates it (a new revision,
journalled), one that finds the same leaves it alone. A decided alert stays decided: a later analysis that finds the
same indicators does not raise it again; one that finds different indicators raises a new alert.

Confirming states the legal basis and may enter a sanction in the credit platform for each entity
concerned (warning, fine, or disqualification for 1–3 years, 条例67/68): the credit records are made
through trading's own service with the source `alert:<id>`. Every decision is signed by the platform
(处理人电子签名: the regulator's act, countersigned) and journalled in the tender's stream.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive.journal import journal_append
from core.canonical import digest
from core.errors import AccessDenied, Conflict, ValidationFailed
from monitoring.events import alert_changed
from monitoring.models import Alert
from trading.access import in_jurisdiction, tender_access_supervise
from trading.models import CreditRecord, Lot, MarketEntity, Role, User
from trading.services.credit import credit_record_create

REVIEWERS = (Role.REGULATOR, Role.ADMIN)
SANCTIONS = ("none", "warning", "fine", "disqualification")
SANCTION_KINDS = {
    "warning": CreditRecord.Kind.WARNING,
    "fine": CreditRecord.Kind.FINE,
    "disqualification": CreditRecord.Kind.DISQUALIFICATION,
}
DISQUALIFICATION_YEARS = (1, 2, 3)  # 条例67/68: 1–2 or 1–3 years for serious cases
REASON_MAX = 4000


def _stream(alert: Alert) -> str:
    return f"tender:{alert.tender_id}"


def _require_reviewer(actor: User, alert: Alert | None = None) -> None:
    if not getattr(actor, "is_authenticated", False) or actor.role not in REVIEWERS:
        raise AccessDenied(_("Only regulators review alerts."), code="role_forbidden")
    if alert is not None and actor.role == Role.REGULATOR:
        tender_access_supervise(user=actor, tender=alert.tender)  # its departments' tenders (issue 7)


def _locked_open(alert: Alert) -> Alert:
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if alert.status != Alert.Status.OPEN:
        raise Conflict(_("This alert has already been decided."), code="alert_decided")
    return alert


def _text(value, *, code: str, message) -> str:
    text = str(value or "").replace("\x00", "").strip()
    if not text:
        raise ValidationFailed(message, code=code)
    if len(text) > REASON_MAX:
        raise ValidationFailed(_("The text is too long."), code="text_too_long")
    return text


# The model's own finding moves with every retraining and with the market around the lot: it is not
# part of what makes a finding "the same" (else a dismissed alert would come back at the next batch).
UNSTABLE_CODES = frozenset({"model_anomaly"})


def fingerprint(*, indicators: list[dict], entity_ids: Iterable[int]) -> str:
    """What makes two analyses "the same finding": the codes fired and the parties concerned."""
    fired = sorted(
        {
            (i["code"], tuple(sorted(str(p) for p in i.get("parties", ()))))
            for i in indicators
            if i.get("fired", True) and i["code"] not in UNSTABLE_CODES
        }
    )
    return digest({"fired": [list(f) for f in fired], "entities": sorted(int(e) for e in entity_ids)})


# -- raising -------------------------------------------------------------------------------------------
def alert_raise(
    *,
    lot: Lot,
    node: str,
    score: float,
    level: int,
    message: str,
    indicators: list[dict],
    graph: dict,
    features: dict,
    entity_ids: Iterable[int],
    model_version=None,
) -> tuple[Alert | None, str]:
    """Raise the lot's alert at `node`, or update the lot's open alert. Returns (alert, what happened):
    "raised", "updated", "unchanged" or "decided" (the same finding was already decided: nothing raised)."""
    if node not in Alert.Node.values:
        raise ValidationFailed(_("Unknown supervision node."), code="alert_node_unknown")
    if level not in Alert.Level.values:
        raise ValidationFailed(_("Unknown alert level."), code="alert_level_unknown")
    entity_ids = sorted({int(e) for e in entity_ids})
    fp = fingerprint(indicators=indicators, entity_ids=entity_ids)
    now = timezone.now()
    with transaction.atomic():
        Lot.objects.select_for_update().filter(pk=lot.pk).first()  # serialises raisers of one lot
        if Alert.objects.filter(lot=lot, fingerprint=fp).exclude(status=Alert.Status.OPEN).exists():
            return None, "decided"
        # A lot has one open alert, whichever node raised it first: a later analysis (the batch after the
        # live check, the report's re-check) updates it rather than opening a second one.
        alert = (
            Alert.objects.select_for_update()
            .filter(lot=lot, status=Alert.Status.OPEN)
            .order_by("created_at", "pk")
            .first()
        )
        if alert is not None and alert.fingerprint == fp:
            return alert, "unchanged"
        fields = {
            "score": float(score),
            "level": level,
            "message": message,
            "indicators": indicators,
            "graph": graph,
            "features": features,
            "model_version": model_version,
            "fingerprint": fp,
            "updated_at": now,
        }
        if alert is None:
            alert = Alert.objects.create(
                tender_id=lot.tender_id, lot=lot, node=node, created_at=now, **fields
            )
            outcome = "raised"
        else:
            for key, value in fields.items():
                setattr(alert, key, value)
            alert.revision += 1
            alert.save()
            outcome = "updated"
        alert.entities.set(MarketEntity.objects.filter(pk__in=entity_ids))
        journal_append(
            stream=_stream(alert),
            action=f"monitoring.alert_{outcome}",
            obj=alert,
            payload={
                "lot": lot.pk,
                "node": node,
                "level": level,
                "score": round(float(score), 6),
                "revision": alert.revision,
                "codes": sorted({i["code"] for i in indicators if i.get("fired", True)}),
                "entities": entity_ids,
                "fingerprint": fp,
            },
        )
        alert_changed(alert, event=outcome)
    return alert, outcome


# -- review --------------------------------------------------------------------------------------------
def alert_assign(*, alert: Alert, actor: User, assignee: User) -> Alert:
    _require_reviewer(actor, alert)
    if assignee is None or not assignee.is_active or assignee.role not in REVIEWERS:
        raise ValidationFailed(_("Alerts are assigned to a regulator."), code="assignee_invalid")
    if assignee.role == Role.REGULATOR and not in_jurisdiction(assignee, alert.tender):
        raise ValidationFailed(
            _("Assign the alert to a regulator of a department supervising the tender."),
            code="assignee_outside_jurisdiction",
        )
    with transaction.atomic():
        alert = _locked_open(alert)
        alert.assigned_to = assignee
        alert.assigned_at = timezone.now()
        alert.save(update_fields=["assigned_to", "assigned_at"])
        journal_append(
            stream=_stream(alert),
            action="monitoring.alert_assigned",
            actor=actor,
            obj=alert,
            payload={"assignee": assignee.pk},
        )
        alert_changed(alert, event="assigned")
    return alert


def _decide(alert: Alert, *, actor: User, now, status: str, reason: str, **details) -> None:
    """Record the decision on the locked alert: the platform signs its canonical data (处理人电子签名),
    the tender's journal keeps the data with its digest, and the pages are told."""
    from experts.documents.common import sign

    alert.status = status
    alert.decided_by = actor
    alert.decided_at = now
    alert.decision_reason = reason
    decision = {
        "alert": alert.pk,
        "tender": alert.tender_id,
        "decision": status,
        "reason": reason,
        **details,
        "decided_by": actor.pk,
        "decided_at": now.isoformat(),
    }
    alert.decision_digest, alert.decision_signature = sign(decision)
    alert.save()
    journal_append(
        stream=_stream(alert),
        action=f"monitoring.alert_{status}",
        actor=actor,
        obj=alert,
        payload={**decision, "digest": alert.decision_digest},
    )
    alert_changed(alert, event=status)


def _fine(value) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        amount = None
    if amount is None or not amount.is_finite() or amount <= 0 or amount > Decimal("1e12"):
        raise ValidationFailed(_("State the fine as a positive amount in yuan."), code="fine_amount_invalid")
    return amount.quantize(Decimal("0.01"))


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def alert_confirm(
    *,
    alert: Alert,
    actor: User,
    legal_basis: str,
    reason: str,
    entity_ids: Iterable[int] = (),
    sanction: str = "none",
    years: int | None = None,
    fine_amount=None,
) -> Alert:
    """Confirm collusion: the legal basis and the facts, and for each entity chosen the sanction entered
    in the credit platform (是否进入信用平台)."""
    _require_reviewer(actor, alert)
    legal_basis = _text(legal_basis, code="legal_basis_required", message=_("State the legal basis."))[:300]
    reason = _text(reason, code="reason_required", message=_("State the facts found."))
    if sanction not in SANCTIONS:
        raise ValidationFailed(_("Unknown sanction."), code="sanction_unknown")
    try:
        chosen = sorted({int(e) for e in entity_ids})
    except (TypeError, ValueError):
        raise ValidationFailed(_("Choose entities of this alert."), code="entities_invalid") from None
    if sanction != "none" and not chosen:
        raise ValidationFailed(_("Choose the entities the sanction applies to."), code="entities_required")
    if sanction == "disqualification" and years not in DISQUALIFICATION_YEARS:
        raise ValidationFailed(_("A disqualification lasts 1 to 3 years."), code="years_invalid")
    amount = _fine(fine_amount) if sanction == "fine" else None
    with transaction.atomic():
        alert = _locked_open(alert)
        allowed = set(alert.entities.values_list("pk", flat=True))
        if not set(chosen) <= allowed:
            raise ValidationFailed(_("Choose entities of this alert."), code="entities_invalid")
        now = timezone.now()
        today = timezone.localdate(now)
        records: list[int] = []
        if sanction != "none":
            for entity in MarketEntity.objects.filter(pk__in=chosen).order_by("pk"):
                ends_on = None
                if sanction == "disqualification":
                    ends_on = _add_years(today, years) - dt.timedelta(days=1)
                record = credit_record_create(
                    actor=actor,
                    kind=SANCTION_KINDS[sanction],
                    legal_basis=legal_basis,
                    starts_on=today,
                    ends_on=ends_on,
                    entity=entity,
                    fine_amount=amount,
                    restricted_action=str(_("Bidding in public-resource trading"))
                    if sanction == "disqualification"
                    else "",
                    description=reason,
                    source=f"alert:{alert.pk}",
                )
                records.append(record.pk)
        alert.status = Alert.Status.CONFIRMED
        alert.decided_by = actor
        alert.legal_basis = legal_basis
        alert.credit_entered = bool(records)
        alert.credit_records = records
        _decide(
            alert,
            actor=actor,
            now=now,
            status=Alert.Status.CONFIRMED,
            reason=reason,
            legal_basis=legal_basis,
            sanction=sanction,
            years=years,
            fine=str(amount) if amount is not None else None,
            entities=chosen,
            credit_records=records,
        )
    return alert


def alert_dismiss(*, alert: Alert, actor: User, reason: str) -> Alert:
    """Dismiss a false alarm with the reason (it becomes a negative label for the models)."""
    _require_reviewer(actor, alert)
    reason = _text(reason, code="reason_required", message=_("State why the alert is dismissed."))
    with transaction.atomic():
        alert = _locked_open(alert)
        _decide(alert, actor=actor, now=timezone.now(), status=Alert.Status.DISMISSED, reason=reason)
    return alert
