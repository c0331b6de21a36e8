"""Supervision's contribution to a project's archival package: the departments that supervised it, the
challenges (异议/质疑) with their answers, the complaints with their evidence files and decisions, the
tip-offs, the instructions given online, the sanctions decided, and the social supervisors invited."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from archive.providers import Item
from core.canonical import canonical_json
from supervision.models import (
    Challenge,
    Complaint,
    Instruction,
    Invitation,
    Sanction,
    TenderSupervision,
    TipOff,
)

CHALLENGE_FIELDS = (
    "kind", "lot_id", "entity_id", "filed_by_id", "text", "known_at", "filed_at", "reply_due_at", "reply",
    "replied_by_id", "replied_at",
)  # fmt: skip
COMPLAINT_FIELDS = (
    "lot_id", "entity_id", "filed_by_id", "matter", "text", "request", "known_at", "filed_at", "filing_deadline",
    "prior", "status", "accept_due_at", "accepted_at", "decision_due_at", "excluded_working_days",
    "handled_by_id", "refusal_reason", "suspended_tender", "outcome", "legal_basis", "decision", "decided_at",
)  # fmt: skip
INSTRUCTION_FIELDS = (
    "department_id", "addressee", "text", "due_at", "issued_by_id", "issued_at", "status", "acknowledged_by_id",
    "acknowledged_at", "response", "done_at",
)  # fmt: skip
SANCTION_FIELDS = (
    "kind", "department_id", "complaint_id", "tipoff_id", "entity_id", "expert_id", "starts_on", "ends_on",
    "fine_amount", "legal_basis", "reason", "decided_by_id", "decided_at", "credit_record_id",
)  # fmt: skip


def items(project: str) -> list[Item]:
    with translation.override(settings.LANGUAGE_CODE):  # archived titles read the same for everyone
        return _items(project)


def _items(project: str) -> list[Item]:
    kind, _sep, key = project.partition(":")
    if kind != "tender" or not key.isdigit():
        return []
    tender_id = int(key)
    out = _supervisors(tender_id) + _challenges(tender_id)
    for complaint in Complaint.objects.filter(tender_id=tender_id).order_by("filed_at", "pk"):
        out += _complaint(complaint)
    for tip in TipOff.objects.filter(tender_id=tender_id).order_by("received_at", "pk"):
        out += _tipoff(tip)
    return out + _instructions(tender_id) + _sanctions(tender_id) + _invitations(tender_id)


def _instructions(tender_id: int) -> list[Item]:
    rows = (
        Instruction.objects.filter(tender_id=tender_id)
        .select_related("department")
        .order_by("issued_at", "pk")
    )
    data = {
        "instructions": [
            {
                "id": i.pk,
                "department_name": i.department.name,
                **{f: getattr(i, f) for f in INSTRUCTION_FIELDS},
            }
            for i in rows
        ]
    }
    title = _("Instructions of the supervising departments")
    return [_json("instructions.json", data, title)] if data["instructions"] else []


def _sanctions(tender_id: int) -> list[Item]:
    rows = (
        Sanction.objects.filter(tender_id=tender_id)
        .select_related("credit_record")
        .order_by("decided_at", "pk")
    )
    data = {
        "sanctions": [
            {
                "id": s.pk,
                **{f: getattr(s, f) for f in SANCTION_FIELDS},
                "blocks_participation": bool(s.credit_record and s.credit_record.blocks_participation),
            }
            for s in rows
        ]
    }
    return [_json("sanctions.json", data, _("Sanctions"))] if data["sanctions"] else []


def _invitations(tender_id: int) -> list[Item]:
    rows = (
        Invitation.objects.filter(tender_id=tender_id)
        .select_related("supervisor")
        .order_by("invited_at", "pk")
    )
    data = {
        "invitations": [
            {
                "id": i.pk,
                "supervisor": i.supervisor_id,
                "name": i.supervisor.name,
                "kind": i.supervisor.kind,
                "stage": i.stage,
                "invited_by": i.invited_by_id,
                "invited_at": i.invited_at,
                "revoked_at": i.revoked_at,
            }
            for i in rows
        ]
    }
    return (
        [_json("invitations.json", data, _("Social supervisors invited to watch"))]
        if data["invitations"]
        else []
    )


def _tipoff(tip: TipOff) -> list[Item]:
    """A tip-off about the tender: the text, the entities named, the triage; the reporter only as an id
    (none when anonymous), never the receipt code."""
    folder = f"tipoffs/{tip.pk:04d}"
    blobs = list(tip.evidence.order_by("sha256"))
    record = {
        "id": tip.pk,
        "text": tip.text,
        "entities": sorted(tip.entities.values_list("pk", flat=True)),
        "anonymous": tip.reporter_id is None,
        "reporter": tip.reporter_id,
        "received_at": tip.received_at,
        "status": tip.status,
        "triaged_by": tip.triaged_by_id,
        "triaged_at": tip.triaged_at,
        "note": tip.note,
        "reply": tip.reply,
        "alert": tip.alert_id,
        "evidence": [{"sha256": b.sha256, "size": b.size} for b in blobs],
    }
    out = [_json(f"{folder}/tipoff.json", record, _("Tip-off %(n)s") % {"n": tip.pk})]
    out += [
        Item(path=f"{folder}/evidence/{i:02d}.bin", media_type="application/octet-stream", blob=b.sha256)
        for i, b in enumerate(blobs, start=1)
    ]
    return out


def _json(path: str, data: dict, title: str) -> Item:
    return Item(path=path, media_type="application/json", data=canonical_json(data), title=title)


def _supervisors(tender_id: int) -> list[Item]:
    rows = TenderSupervision.objects.filter(tender_id=tender_id).select_related("department")
    data = {
        "supervisors": [
            {
                "department": r.department_id,
                "name": r.department.name,
                "kind": r.department.kind,
                "region": r.department.region_code,
                "assigned_at": r.assigned_at,
                "basis": r.basis,
            }
            for r in rows.order_by("department_id")
        ]
    }
    return [_json("supervisors.json", data, _("Supervising departments"))] if data["supervisors"] else []


def _challenges(tender_id: int) -> list[Item]:
    rows = Challenge.objects.filter(tender_id=tender_id).order_by("filed_at", "pk")
    data = {"challenges": [{"id": c.pk, **{f: getattr(c, f) for f in CHALLENGE_FIELDS}} for c in rows]}
    return (
        [_json("challenges.json", data, _("Objections and challenges with their answers"))]
        if data["challenges"]
        else []
    )


def _complaint(c: Complaint) -> list[Item]:
    folder = f"complaints/{c.pk:04d}"
    evidence = list(c.evidence.select_related("blob"))
    record = {"id": c.pk, **{f: getattr(c, f) for f in COMPLAINT_FIELDS}}
    record["evidence"] = [
        {"name": e.name, "sha256": e.blob_id, "size": e.blob.size, "added_at": e.added_at} for e in evidence
    ]
    out = [_json(f"{folder}/complaint.json", record, _("Complaint %(n)s") % {"n": c.pk})]
    out += [
        Item(
            path=f"{folder}/evidence/{i:02d}.bin",
            media_type="application/octet-stream",
            blob=e.blob_id,
            title=e.name,
        )
        for i, e in enumerate(evidence, start=1)
    ]
    return out
