"""Supervision's contribution to a project's archival package: the departments that supervised it."""

from __future__ import annotations

from archive.providers import Item
from core.canonical import canonical_json
from supervision.models import TenderSupervision


def items(project: str) -> list[Item]:
    kind, _sep, key = project.partition(":")
    if kind != "tender" or not key.isdigit():
        return []
    rows = (
        TenderSupervision.objects.filter(tender_id=int(key))
        .select_related("department")
        .order_by("department_id")
    )
    if not rows:
        return []
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
            for r in rows
        ]
    }
    return [
        Item(
            path="supervisors.json",
            media_type="application/json",
            data=canonical_json(data),
            title="supervising departments",
        )
    ]
