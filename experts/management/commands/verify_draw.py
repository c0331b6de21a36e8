"""Re-run a recorded expert draw and say whether it matches (DESIGN §6).

    python manage.py verify_draw 12              # a draw in the database (after the seed is revealed)
    python manage.py verify_draw 12 --sealed     # before the reveal, with the sealed seed (regulators)
    python manage.py verify_draw --file rec.json # an exported record, offline (no database needed)
    python manage.py verify_draw 12 --export rec.json

Exit status 0 when every group matches, 1 otherwise; one line per group plus a JSON summary line.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from experts.models import Draw
from experts.services.draw import draw_record, draw_verify, record_verify


class Command(BaseCommand):
    help = "Re-run an expert draw from its record and report whether it matches."

    def add_arguments(self, parser):
        parser.add_argument("draw_id", nargs="?", type=int)
        parser.add_argument("--file", help="verify an exported draw record (JSON) instead")
        parser.add_argument("--sealed", action="store_true", help="use the sealed seed before the reveal")
        parser.add_argument("--export", help="write the draw's public record to this file")

    def handle(self, *args, draw_id=None, file=None, sealed=False, export=None, **options):
        if file:
            try:
                record = json.loads(Path(file).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandError(f"cannot read the record: {exc}") from exc
            if not record.get("seed"):
                raise CommandError("draw_not_revealed: the record carries no revealed seed")
            try:
                checks = record_verify(record)
            except (KeyError, TypeError, ValueError) as exc:
                raise CommandError(f"record_malformed: {exc}") from exc
            label = file
        else:
            if draw_id is None:
                raise CommandError("give a draw id or --file")
            try:
                draw = Draw.objects.get(pk=draw_id)
            except Draw.DoesNotExist as exc:
                raise CommandError(f"draw_not_found: no draw {draw_id}") from exc
            if export:
                Path(export).write_text(
                    json.dumps(draw_record(draw), ensure_ascii=False, indent=1), encoding="utf-8"
                )
            try:
                checks = draw_verify(draw, use_sealed=sealed)
            except DomainError as exc:
                raise CommandError(f"{exc.code}: {exc.message}") from exc
            label = f"draw {draw_id}"
        ok = bool(checks) and all(c.ok for c in checks)
        for c in checks:
            self.stdout.write(f"group {c.group}: {'MATCH' if c.ok else 'MISMATCH'} ({c.reason})")
        self.stdout.write(f"{label}: {'MATCHES' if ok else 'DOES NOT MATCH'}")
        self.stdout.write(json.dumps({"draw": label, "ok": ok, "groups": [c.__dict__ for c in checks]}))
        if not ok:
            raise SystemExit(1)
