"""python manage.py simulate --tenders N --seed S [--json] — N complete tenders on the synthetic market.

Prints one JSON line (the figures: tenders completed and failed, alerts by kind and level and how they
were decided, the archive's sealed and verified packages, seconds per phase, wall time), then a short
human summary; with --json only the JSON line. See demo/simulate/__init__.py.
"""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from demo.simulate import MAX_TENDERS, simulate

SEED_MAX = 2**31 - 1


def _whole(value: str, name: str, lo: int, hi: int) -> int:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        raise CommandError(f"{name}_invalid: --{name} must be a whole number") from None
    if not lo <= n <= hi:
        raise CommandError(f"{name}_out_of_range: --{name} must be between {lo} and {hi}")
    return n


class Command(BaseCommand):
    help = "Run N complete tenders headlessly on the synthetic market and print a summary."

    def add_arguments(self, parser):
        parser.add_argument("--tenders", default="20", help=f"how many tenders (1–{MAX_TENDERS}, default 20)")
        parser.add_argument(
            "--seed", default="1", help=f"seed of the market and the run (0–{SEED_MAX}, default 1)"
        )
        parser.add_argument("--json", action="store_true", help="print only the JSON line")

    def handle(self, *args, tenders="20", seed="1", json=False, **options):
        n = _whole(tenders, "tenders", 1, MAX_TENDERS)
        s = _whole(seed, "seed", 0, SEED_MAX)
        verbosity = int(options.get("verbosity", 1))

        def progress(done: int, total: int, run) -> None:
            if verbosity >= 2:
                state = run.tender.state if run.tender is not None else "-"
                sys.stderr.write(f"simulate: {done}/{total} {run.plan.lot.lot} {state}\n")

        from django.db import connection

        if connection.in_atomic_block:
            raise CommandError("in_transaction: run simulate outside a transaction")
        data = simulate(tenders=n, seed=s, progress=progress)
        self.stdout.write(_dumps(data))
        if not json:
            from demo.simulate.summary import Summary

            self.stdout.write(Summary(tenders=n, seed=s).human(data))
        return None


def _dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
