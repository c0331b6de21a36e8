"""Tip-offs (举报, issue 7 item 3): anyone may report, anonymously if they wish, and follows it up with
the receipt code shown once; a regulator triages it into an investigation, an alert of collusion
monitoring (added to the lot's open alert, if any, as one more indicator) or no further action."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from archive.blobs import blob_put
from archive.journal import journal_append
from core.errors import AccessDenied, Conflict, NotFound, ValidationFailed
from monitoring.models import Alert
from monitoring.services.alerts import alert_raise
from supervision.models import TipOff
from supervision.rules import TRIAGE_STEPS
from supervision.selectors import may_supervise
from trading.models import Lot, MarketEntity, Role, Tender

TEXT_MAX = 20_000
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone
CODE_LENGTH = 16
EVIDENCE_MAX_FILES = 10
EVIDENCE_MAX_BYTES = 20 * 1024 * 1024
STREAM = "supervision"
ACTIONS = ("investigate", "alert", "dismiss", "close")


def code_digest(code: str) -> str:
    return hashlib.sha256("".join(code.split()).upper().replace("-", "").encode()).hexdigest()


def tipoff_submit(
    *,
    actor=None,
    text: str,
    tender_id=None,
    entity_ids=(),
    contact: str = "",
    anonymous: bool = False,
    evidence: list[tuple[str, bytes]] = (),
) -> tuple[TipOff, str]:
    """Record a tip-off; returns it and its receipt code (shown to the reporter once, kept hashed)."""
    text = (text or "").strip()
    if not text or len(text) > TEXT_MAX:
        raise ValidationFailed(_("Write the text (at most 20,000 characters)."), code="text_invalid")
    contact = (contact or "").strip()
    if len(contact) > 200:
        raise ValidationFailed(_("The contact is too long."), code="contact_invalid")
    tender = None
    if tender_id not in (None, ""):
        tender = (
            Tender.objects.filter(pk=tender_id).exclude(state="draft").first()
            if str(tender_id).isdigit()
            else None
        )
        if tender is None:
            raise ValidationFailed(_("No such tender."), code="tender_not_found")
    ids = {int(e) for e in entity_ids if str(e).isdigit()}
    if len(ids) != len(set(entity_ids)) or MarketEntity.objects.filter(pk__in=ids).count() != len(ids):
        raise ValidationFailed(_("No such market entity."), code="entity_not_found")
    if len(evidence) > EVIDENCE_MAX_FILES or any(len(d) > EVIDENCE_MAX_BYTES for _n, d in evidence):
        raise ValidationFailed(_("At most 10 evidence files of 20 MiB each."), code="evidence_too_large")
    reporter = None if anonymous or not getattr(actor, "is_authenticated", False) else actor
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    with transaction.atomic():
        tip = TipOff.objects.create(
            code_sha256=code_digest(code),
            tender=tender,
            text=text,
            contact="" if anonymous else contact,
            reporter=reporter,
            received_at=timezone.now(),
        )
        tip.entities.set(ids)
        blobs = [blob_put(data=data) for _name, data in evidence]
        tip.evidence.set(blobs)
        payload = {"tipoff": tip.pk, "anonymous": reporter is None, "evidence": [b.sha256 for b in blobs]}
        journal_append(
            stream=STREAM,
            action="supervision.tipoff_received",
            actor=reporter or "anonymous",
            obj=tip,
            payload=payload,
        )
        if tender is not None:
            journal_append(
                stream=tender.stream,
                action="supervision.tipoff_received",
                actor=reporter or "anonymous",
                obj=tip,
                payload=payload,
            )
    return tip, "-".join(code[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def tipoff_lookup(code: str) -> TipOff:
    tip = TipOff.objects.filter(code_sha256=code_digest(code or "")).first()
    if tip is None:
        raise NotFound(_("No tip-off has this receipt code."), code="tipoff_not_found")
    return tip


def _triager(actor, tip: TipOff) -> None:
    role = getattr(actor, "role", None)
    if role == Role.ADMIN:
        return
    if role != Role.REGULATOR or (tip.tender is not None and not may_supervise(actor, tip.tender)):
        raise AccessDenied(
            _("Only a department supervising the tender triages this tip-off."), code="forbidden"
        )


def tipoff_triage(*, actor, tip: TipOff, action: str, note: str = "", reply: str = "", lot_id=None) -> TipOff:
    _triager(actor, tip)
    if action not in ACTIONS:
        raise ValidationFailed(_("Not a triage action."), code="triage_action_invalid")
    note, reply = (note or "").strip()[:TEXT_MAX], (reply or "").strip()[:TEXT_MAX]
    with transaction.atomic():
        tip = TipOff.objects.select_for_update().get(pk=tip.pk)
        if action not in TRIAGE_STEPS.get(tip.status, ()):
            raise Conflict(_("The tip-off is not at this step."), code="tipoff_state", current=tip.status)
        if action == "alert":
            tip.alert = _raise_alert(tip, lot_id)
        tip.status = {
            "investigate": TipOff.Status.INVESTIGATING,
            "alert": TipOff.Status.ALERT,
            "dismiss": TipOff.Status.DISMISSED,
            "close": TipOff.Status.CLOSED,
        }[action]
        tip.triaged_by, tip.triaged_at, tip.note = actor, timezone.now(), note
        if reply:
            tip.reply = reply
        tip.save()
        payload = {"tipoff": tip.pk, "action": action, "alert": tip.alert_id}
        journal_append(
            stream=STREAM, action="supervision.tipoff_triaged", actor=actor, obj=tip, payload=payload
        )
        if tip.tender is not None:
            journal_append(
                stream=tip.tender.stream,
                action="supervision.tipoff_triaged",
                actor=actor,
                obj=tip,
                payload=payload,
            )
    return tip


def _raise_alert(tip: TipOff, lot_id) -> Alert:
    """The tip-off becomes an indicator of its lot's alert (joined to an open one, or a new one)."""
    if tip.tender is None:
        raise ValidationFailed(
            _("A tip-off about no tender cannot become a lot's alert."), code="tipoff_no_tender"
        )
    lots = Lot.objects.filter(tender=tip.tender)
    lot = lots.filter(pk=lot_id).first() if lot_id not in (None, "") else lots.order_by("number").first()
    if lot is None:
        raise ValidationFailed(_("No such lot in this tender."), code="lot_not_found")
    parties = sorted(tip.entities.values_list("pk", flat=True))
    indicator = {
        "code": "tipoff",
        "statutory": False,
        "legal_source": "",
        "weight": 0.5,
        "parties": [str(p) for p in parties],
        "value": tip.pk,
        "threshold": None,
        "paths": [],
        "detail": {"tipoff": tip.pk},
    }
    current = Alert.objects.filter(lot=lot, status=Alert.Status.OPEN).order_by("created_at", "pk").first()
    indicators = [*(current.indicators if current else []), indicator]
    entity_ids = set(parties) | set(current.entities.values_list("pk", flat=True) if current else [])
    alert, _outcome = alert_raise(
        lot=lot,
        node=current.node if current else Alert.Node.TIPOFF,
        score=max(0.5, current.score if current else 0.0),
        level=min(Alert.Level.MEDIUM, current.level if current else Alert.Level.MEDIUM),
        message=(current.message + " " if current else "")
        + _("A tip-off names this lot (%(n)s).") % {"n": tip.pk},
        indicators=indicators,
        graph=current.graph if current else {"nodes": [], "edges": []},
        features=current.features if current else {},
        entity_ids=entity_ids,
    )
    if alert is None:
        raise Conflict(_("This finding was already decided."), code="alert_decided")
    return alert
