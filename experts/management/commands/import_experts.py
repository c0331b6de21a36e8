"""Import experts from a CSV or XLSX file (columns: docs/expert-pool.md).

    manage.py import_experts FILE [--dry-run] [--actor USERNAME] [--region CODE]

Prints one line per row (imported, updated, unchanged or refused with field, code and message),
then one JSON summary line. Exits 1 when a row was refused, 2 when the file itself was refused.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from experts.services.importer import MAX_BYTES, ImportReport, import_experts
from trading.models import User


class Command(BaseCommand):
    help = "Import experts from a CSV (UTF-8, with or without BOM) or XLSX file, with a row-by-row report."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The .csv or .xlsx file.")
        parser.add_argument("--dry-run", action="store_true", help="Check every row; write nothing.")
        parser.add_argument(
            "--actor",
            default="",
            help="User name of the centre staff recorded in the journal (default: the command).",
        )
        parser.add_argument(
            "--region", default="", help="Region code of the managing centre (default: the actor's region)."
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            if path.stat().st_size > MAX_BYTES:
                raise CommandError(
                    f"file_too_large: {path} is larger than {MAX_BYTES // 2**20} MB.", returncode=2
                )
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(
                f"file_unreadable: cannot read {path}: {exc.strerror}.", returncode=2
            ) from None
        actor: User | str = "manage.py import_experts"
        if options["actor"]:
            actor = User.objects.filter(username=options["actor"]).first()
            if actor is None:
                raise CommandError(f"actor_unknown: no user {options['actor']!r}.", returncode=2)
        try:
            report = import_experts(
                data=data,
                filename=path.name,
                actor=actor,
                dry_run=options["dry_run"],
                managed_by_region=options["region"],
            )
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}", returncode=2) from None
        self._print(report)
        if report.file_errors:
            raise CommandError(
                "import_file_refused: the file was refused; nothing was imported.", returncode=2
            )
        rejected = report.counts()["rejected"]
        if rejected:
            raise CommandError(f"import_rows_rejected: {rejected} row(s) refused.", returncode=1)

    def _print(self, report: ImportReport) -> None:
        out = self.stdout
        for e in report.file_errors:
            out.write(f"FILE  {e.code:<22} {e.field or '-':<18} {e.message}")
        for w in report.warnings:
            out.write(f"WARN  {w.code:<22} {w.field:<18} {w.message}")
        if report.rows:
            out.write(
                f"{'row':>5}  {'outcome':<10} {'name':<12} {'id':<20} {'field':<18} {'code':<22} message"
            )
        for r in report.rows:
            head = f"{r.row:>5}  {r.outcome:<10} {r.name[:12]:<12} {r.id_masked:<20}"
            if not r.errors:
                detail = ", ".join(r.changes)
                out.write(f"{head} {'':<18} {'':<22} {detail}".rstrip())
            for e in r.errors:
                out.write(f"{head} {e.path or e.field or '-':<18} {e.code:<22} {e.message}")
        out.write(json.dumps(report.summary(), ensure_ascii=False, sort_keys=True))
