"""Loads the national specialty classification (发改法规〔2018〕316号) from experts/data/specialties.json.

Idempotent, so a corrected data file can be loaded again by a later migration."""

from django.db import migrations


def load(apps, schema_editor):
    from experts.specialties import specialties_load

    specialties_load(apps.get_model("experts", "Specialty"))


class Migration(migrations.Migration):
    dependencies = [("experts", "0003_pool_draw_evaluation_award")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
