"""Score a bid table with the active collusion model.

    python manage.py monitoring_score --bids FILE.csv --out SCORED.csv [--kind supervised|unsupervised]

Writes the input columns followed by `tender_score`, `bid_score` (in [0, 1]) and `tender_level` (the
alert level the score alone would give: 2 from rules' alert_high, 3 from alert_low, empty below),
UTF-8, comma-separated, written to a temporary file and renamed so no half-written file is left.
Prints one JSON line (rows, tenders, model version, flagged tenders, seconds).
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core.errors import DomainError
from monitoring import rules
from monitoring.learn import KINDS, TableError, score_table
from monitoring.services.modelstore import bids_read, model_current, table_error

COLUMNS = ("tender_score", "bid_score", "tender_level")


def tender_level(score: float) -> int | None:
    if score >= float(rules.setting("alert_high")):
        return 2
    if score >= float(rules.setting("alert_low")):
        return 3
    return None


class Command(BaseCommand):
    help = "Score a bid table with the active model; write it back with tender and bid scores."

    def add_arguments(self, parser):
        parser.add_argument("--bids", required=True)
        parser.add_argument("--out", required=True)
        parser.add_argument("--kind", choices=KINDS, default=None, help="default: supervised if active")
        parser.add_argument("--skip-invalid", action="store_true")

    def handle(self, *args, **o):
        started = time.perf_counter()
        out = Path(o["out"])
        if out.is_dir() or not out.parent.is_dir():
            raise CommandError(
                "out_invalid: " + _("%(path)s is not a writable file path.") % {"path": out}, returncode=2
            )
        try:
            table = bids_read(o["bids"], skip_invalid=o["skip_invalid"])
            model, version = model_current(o["kind"], with_version=True)
        except TableError as exc:
            err = table_error(exc)
            raise CommandError(f"{err.code}: {err.message}", returncode=2) from None
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}", returncode=2) from None
        if model is None:
            raise CommandError(
                "no_active_model: " + _("no model is active; train one with monitoring_train."), returncode=2
            )
        tender_scores, bid_scores = score_table(model, table)
        levels = [tender_level(float(s)) for s in tender_scores]
        header = [*table.header, *COLUMNS]
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(header)
                for i, cells in enumerate(table.rows):
                    t = int(table.tender[i])
                    level = levels[t]
                    writer.writerow(
                        [
                            *cells,
                            f"{tender_scores[t]:.6f}",
                            f"{bid_scores[i]:.6f}",
                            "" if level is None else level,
                        ]
                    )
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.stdout.write(
            json.dumps(
                {
                    "rows": table.n_bids,
                    "tenders": table.n_tenders,
                    "skipped_rows": table.skipped,
                    "model": {"id": version.pk, "kind": version.kind, "version": version.version},
                    "flagged_tenders": int(sum(1 for lv in levels if lv is not None)),
                    "out": str(out),
                    "seconds": round(time.perf_counter() - started, 2),
                }
            )
        )
