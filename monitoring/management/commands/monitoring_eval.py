"""Evaluate the collusion models on a labelled bid table (docs/monitoring-models.md).

    python manage.py monitoring_eval --bids FILE.csv [--group-column kind] [--folds 5] [--repeats 5]
        [--seed 0] [--jobs 2] [--skip-invalid]
    python manage.py monitoring_eval --train A.csv --test B.csv [--group-column kind]

Columns: tender_id, bid_amount, and optionally bidder_id, estimate, is_winner, label (0/1 per bid; a
tender's label is the maximum). Prints exactly one JSON line on stdout (tender- and bid-level ROC-AUC,
PR-AUC, balanced accuracy, recall at 5 % FPR, precision at the top 10 %: mean and std over the
folds × repeats), and a human summary on stderr. A refused file exits 2 with `code: message`.
"""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core.errors import DomainError
from monitoring.learn import TableError, cross_validate, transfer
from monitoring.services.modelstore import bids_read, table_error


class Command(BaseCommand):
    help = "Cross-validate (or test the transfer of) the collusion models on a labelled bid table."

    def add_arguments(self, parser):
        parser.add_argument("--bids", help="the labelled bid table (CSV) to cross-validate on")
        parser.add_argument("--train", help="transfer: the table to train on")
        parser.add_argument("--test", help="transfer: the table (another market) to test on")
        parser.add_argument("--group-column", default="", help="report recall / false positives per value")
        parser.add_argument("--folds", type=int, default=5)
        parser.add_argument("--repeats", type=int, default=5)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--jobs", type=int, default=2, help="splits evaluated in parallel")
        parser.add_argument(
            "--skip-invalid", action="store_true", help="drop unreadable rows (counted) instead of refusing"
        )

    def handle(self, *args, **o):
        transfer_mode = bool(o["train"] or o["test"])
        if transfer_mode == bool(o["bids"]) or (transfer_mode and not (o["train"] and o["test"])):
            raise CommandError(
                "arguments_invalid: " + _("give either --bids, or both --train and --test."), returncode=2
            )
        if not 2 <= o["folds"] <= 20 or not 1 <= o["repeats"] <= 20:
            raise CommandError(
                "arguments_invalid: " + _("--folds must be 2 to 20 and --repeats 1 to 20."), returncode=2
            )
        group = o["group_column"].strip() or None
        try:
            if transfer_mode:
                train = bids_read(o["train"], skip_invalid=o["skip_invalid"])
                test = bids_read(o["test"], skip_invalid=o["skip_invalid"])
                result = transfer(train, test, seed=o["seed"], group_column=group)
            else:
                table = bids_read(o["bids"], skip_invalid=o["skip_invalid"])
                result = cross_validate(
                    table,
                    folds=o["folds"],
                    repeats=o["repeats"],
                    seed=o["seed"],
                    group_column=group,
                    jobs=o["jobs"],
                )
        except TableError as exc:
            err = table_error(exc)
            raise CommandError(f"{err.code}: {err.message}", returncode=2) from None
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}", returncode=2) from None
        self.stdout.write(json.dumps(result, ensure_ascii=False, sort_keys=False))
        sys.stderr.write(self._human(result) + "\n")

    def _human(self, r: dict) -> str:
        t, b, u = r["tender"], r["bid"], r["unsupervised"]["tender"]
        return _(
            "%(mode)s on %(tenders)s tenders (%(positives)s collusive), %(bids)s bids: tender ROC-AUC "
            "%(auc)s, PR-AUC %(ap)s, recall at 5%% FPR %(rec)s; bid ROC-AUC %(bauc)s; unsupervised "
            "tender ROC-AUC %(uauc)s; %(seconds)s s"
        ) % {
            "mode": r["mode"],
            "tenders": r["tenders"],
            "positives": r["positive_tenders"],
            "bids": r["bids"],
            "auc": t["roc_auc"],
            "ap": t["pr_auc"],
            "rec": t["recall_at_5fpr"],
            "bauc": b["roc_auc"],
            "uauc": u["roc_auc"],
            "seconds": r["seconds"],
        }
