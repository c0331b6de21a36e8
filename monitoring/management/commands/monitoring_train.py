"""Train a collusion model on a bid table and store it as a new model version.

    python manage.py monitoring_train --bids FILE.csv [--kind supervised|unsupervised] [--activate]
        [--evaluate [--folds 5 --repeats 5]] [--source TEXT] [--actor USERNAME] [--seed 0]
    python manage.py monitoring_train --from-alerts [--bids EXTRA.csv] ...

--from-alerts learns from the regulators' decisions: the lots of confirmed and dismissed alerts, a bid
labelled 1 when its bidder was named in a confirmed alert (monitoring.selectors.labelled_history);
--bids then adds a labelled table (e.g. another market's history) to them.

The version is active when --activate is given or when no version of its kind is active yet. Prints one
JSON line (version, digests, counts, seconds). A refused file exits 2 with `code: message`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core.errors import DomainError
from monitoring.learn import KINDS, TableError, cross_validate, fit_model
from monitoring.models import ModelVersion
from monitoring.services.modelstore import bids_read, model_version_save, table_error, training_digest
from trading.models import User


class Command(BaseCommand):
    help = "Train the supervised classifier or the unsupervised detector and store it as a model version."

    def add_arguments(self, parser):
        parser.add_argument("--bids", default="", help="the bid table (CSV); labels needed for supervised")
        parser.add_argument(
            "--from-alerts", action="store_true", help="learn from the regulators' decided alerts"
        )
        parser.add_argument("--kind", choices=KINDS, default="supervised")
        parser.add_argument("--activate", action="store_true", help="make it the active model of its kind")
        parser.add_argument("--evaluate", action="store_true", help="cross-validate first; store the metrics")
        parser.add_argument("--folds", type=int, default=5)
        parser.add_argument("--repeats", type=int, default=5)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--source", default="", help="where the table came from (default: the file name)")
        parser.add_argument("--actor", default="", help="user name recorded as the trainer")
        parser.add_argument("--skip-invalid", action="store_true")

    def handle(self, *args, **o):
        started = time.perf_counter()
        actor = None
        if o["actor"]:
            actor = User.objects.filter(username=o["actor"]).first()
            if actor is None:
                raise CommandError(
                    "actor_unknown: " + _("no user %(name)s.") % {"name": o["actor"]}, returncode=2
                )
        if not o["bids"] and not o["from_alerts"]:
            raise CommandError("arguments_invalid: " + _("give --bids, --from-alerts or both."), returncode=2)
        try:
            table = self._table(o)
            metrics = {}
            if o["evaluate"] and o["kind"] == "supervised":
                metrics = cross_validate(table, folds=o["folds"], repeats=o["repeats"], seed=o["seed"])
            model = fit_model(table, kind=o["kind"], seed=o["seed"])
            y = table.tender_labels()
            activate = o["activate"] or not ModelVersion.objects.filter(kind=o["kind"], active=True).exists()
            version = model_version_save(
                model=model,
                training_source=o["source"] or self._source(o),
                training_digest=training_digest(table),
                training_tenders=table.n_tenders,
                training_bids=table.n_bids,
                training_positives=int(y.sum()) if y is not None else 0,
                metrics=metrics,
                actor=actor or "manage.py monitoring_train",
                activate=activate,
            )
        except TableError as exc:
            err = table_error(exc)
            raise CommandError(f"{err.code}: {err.message}", returncode=2) from None
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}", returncode=2) from None
        self.stdout.write(
            json.dumps(
                {
                    "model_version": version.pk,
                    "kind": version.kind,
                    "version": version.version,
                    "active": version.active,
                    "artifact_sha256": version.artifact_id,
                    "training_digest": version.training_digest,
                    "tenders": version.training_tenders,
                    "bids": version.training_bids,
                    "positives": version.training_positives,
                    "features": {"tender": len(model.tender_features), "bid": len(model.bid_features)},
                    "seconds": round(time.perf_counter() - started, 2),
                }
            )
        )

    @staticmethod
    def _source(o) -> str:
        parts = ["alerts"] if o["from_alerts"] else []
        if o["bids"]:
            parts.append(f"file:{Path(o['bids']).name}")
        return "+".join(parts)

    @staticmethod
    def _table(o):
        """The training table: the file, the decided alerts' lots, or both (their rows concatenated)."""
        from monitoring.learn import parse_bids
        from monitoring.selectors import labelled_history

        if not o["from_alerts"]:
            return bids_read(o["bids"], skip_invalid=o["skip_invalid"])
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["tender_id", "bid_amount", "bidder_id", "estimate", "is_winner", "label"])
        if o["bids"]:
            t = bids_read(o["bids"], skip_invalid=o["skip_invalid"])
            if t.label is None:
                raise TableError("column_missing", column="label")
            for i in range(t.n_bids):
                writer.writerow(
                    [
                        f"file-{t.tenders[t.tender[i]]}",
                        repr(float(t.amount[i])),
                        t.bidder[i] if t.bidder else "",
                        _number(t.estimate, i),
                        _number(t.is_winner, i, integer=True),
                        int(t.label[i]),
                    ]
                )
        for row in labelled_history():
            writer.writerow(
                [
                    f"alert-{row['tender_id']}",
                    row["bid_amount"],
                    row["bidder_id"],
                    row["estimate"],
                    row["is_winner"],
                    row["label"],
                ]
            )
        return parse_bids(out.getvalue())


def _number(values, i: int, *, integer: bool = False) -> str:
    """A cell of an optional numeric column: "" when the column or the value is missing."""
    if values is None or math.isnan(values[i]):
        return ""
    return str(int(values[i])) if integer else repr(float(values[i]))
