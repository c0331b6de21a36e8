"""Generate a synthetic market with labelled cartels (docs/synthetic-market.md).

    python manage.py simulate_market --tenders 10000 --seed 1 [--out DIR] [--cartel-share 0.2]
        [--benign-share 0.15] [--lowest-price-share 0.5] [--firms N] [--texts]

Writes DIR/bids.csv (monitoring_eval's format + kind, benign), DIR/evidence.jsonl (the lots, no labels)
and DIR/truth.json; prints one JSON summary line, then a human line.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from monitoring.simulate import simulate_market, write_bids_csv, write_evidence_jsonl, write_truth_json


class Command(BaseCommand):
    help = "Generate a synthetic bidding market with labelled cartels and benign collisions."

    def add_arguments(self, parser):
        parser.add_argument("--tenders", type=int, default=1000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--out", help="output directory (default: VAR_DIR/simulated/seed-S-nN)")
        parser.add_argument("--cartel-share", type=float, default=0.2)
        parser.add_argument("--benign-share", type=float, default=0.15)
        parser.add_argument("--lowest-price-share", type=float, default=0.5)
        parser.add_argument("--firms", type=int, default=None)
        parser.add_argument("--texts", action="store_true", help="a short text per bid (document similarity)")
        parser.add_argument("--no-evidence", action="store_true", help="write bids.csv and truth.json only")

    def handle(self, *args, **o):
        tenders, seed = o["tenders"], o["seed"]
        if tenders < 1:
            raise CommandError("tenders_invalid: " + _("the number of tenders must be at least 1"))
        out = Path(o["out"]) if o["out"] else Path(settings.VAR_DIR) / "simulated" / f"seed-{seed}-n{tenders}"
        if out.exists() and not out.is_dir():
            raise CommandError("out_invalid: " + _("%(path)s is not a directory") % {"path": out})
        options = {
            "cartel_share": o["cartel_share"],
            "benign_share": o["benign_share"],
            "lowest_price_share": o["lowest_price_share"],
            "texts": o["texts"],
        }
        if o["firms"] is not None:
            options["firms"] = o["firms"]
        try:
            market = simulate_market(tenders, seed, **options)
        except ValueError as exc:
            raise CommandError(f"option_invalid: {exc}") from exc
        try:
            out.mkdir(parents=True, exist_ok=True)
            rows = write_bids_csv(market, out / "bids.csv")
            if not o["no_evidence"]:
                write_evidence_jsonl(market, out / "evidence.jsonl")
            write_truth_json(market, out / "truth.json")
        except OSError as exc:
            raise CommandError(
                "out_invalid: " + _("cannot write to %(path)s: %(error)s") % {"path": out, "error": exc}
            ) from exc
        summary = market.summary()
        summary["out"] = str(out)
        summary["rows"] = rows
        self.stdout.write(json.dumps(summary, ensure_ascii=False, sort_keys=True))
        cartels = ", ".join(f"{k} {v}" for k, v in summary["cartels"].items() if v)
        benign = ", ".join(f"{k} {v}" for k, v in summary["benign"].items() if v)
        self.stdout.write(
            _(
                "%(tenders)s tenders, %(bids)s bids, %(collusive)s collusive tenders (%(cartels)s); "
                "benign collisions: %(benign)s; %(seconds)s s → %(out)s"
            )
            % {
                "tenders": summary["tenders"],
                "bids": summary["bids"],
                "collusive": summary["collusive_tenders"],
                "cartels": cartels or "-",
                "benign": benign or "-",
                "seconds": summary["seconds"],
                "out": out,
            }
        )
