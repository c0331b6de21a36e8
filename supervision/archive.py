"""Supervision's contribution to a project's archival package: the departments that supervised it, the
challenges (异议/质疑) with their answers, and the complaints with their evidence files and decisions."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from archive.providers import Item
from core.canonical import canonical_json
from supervision.models import Challenge, Complaint, TenderSupervision, TipOff

CHALLENGE_FIELDS = (
    "kind", "lot_id", "entity_id", "filed_by_id", "text", "known_at", "filed_at", "reply_due_at", "reply",
    "replied_by_id", "replied_at",
)  # fmt: skip
COMPLAINT_FIELDS = (
    "lot_id", "entity_id", "filed_by_id", "matter", "text", "request", "known_at", "filed_at", "filing_deadline",
    "prior", "status", "accept_due_at", "accepted_at", "decision_due_at", "excluded_working_days",
    "handled_by_id", "refusal_reason", "suspended_tender", "outcome", "legal_basis", "decision", "decided_at",
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
    return out


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
