"""Loads the national specialty classification (发改法规〔2018〕316号) from experts/data/specialties.json.

Idempotent, so a corrected data file can be loaded again by a later migration."""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "specialties.json"


def load(apps, schema_editor):
    Specialty = apps.get_model("experts", "Specialty")
    nodes = json.loads(DATA.read_text(encoding="utf-8"))["nodes"]
    existing = set(Specialty.objects.values_list("code", flat=True))
    rows = [
        Specialty(
            code=node["code"],
            name=node["name"],
            name_en=node.get("name_en") or "",
            level=node["level"],
            parent_id=node.get("parent"),
        )
        for node in sorted(nodes, key=lambda n: n["level"])  # parents first
    ]
    Specialty.objects.bulk_create([r for r in rows if r.code not in existing], batch_size=500)
    for row in rows:
        if row.code in existing:
            row.save()

class Migration(migrations.Migration):
    dependencies = [("experts", "0003_pool_draw_evaluation_award")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
