"""The national specialty classification (发改法规〔2018〕316号) as shipped data: loading it into the
Specialty table (the data migration, and tests whose transactional flush emptied the table)."""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "specialties.json"


def specialty_nodes() -> list[dict]:
    return json.loads(DATA.read_text(encoding="utf-8"))["nodes"]


def specialties_load(Specialty) -> int:
    """Insert the missing nodes, parents first, and update the others; `Specialty` may be the
    migration's historical model. Returns how many nodes were inserted."""
    existing = set(Specialty.objects.values_list("code", flat=True))
    rows = [
        Specialty(
            code=node["code"],
            name=node["name"],
            name_en=node.get("name_en") or "",
            level=node["level"],
            parent_id=node.get("parent"),
        )
        for node in sorted(specialty_nodes(), key=lambda n: n["level"])
    ]
    Specialty.objects.bulk_create([r for r in rows if r.code not in existing], batch_size=500)
    for row in rows:
        if row.code in existing:
            row.save()
    return len(rows) - len(existing & {r.code for r in rows})
