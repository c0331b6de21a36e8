"""Collusion models and their offline evaluation (issue 5 item 4–5; docs/monitoring-models.md).

Pure (no Django): `table` reads bid CSVs, `features` turns bids into scale-free features, `models` holds
the unsupervised detector and the calibrated supervised classifier, `metrics` and `evaluate` measure
them. The model store (monitoring.services.modelstore) keeps trained versions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
from threadpoolctl import threadpool_limits

from monitoring.learn.evaluate import cross_validate, transfer
from monitoring.learn.features import FeatureSet, build_features, table_from_lots
from monitoring.learn.models import Model, SupervisedClassifier, UnsupervisedDetector, load_model
from monitoring.learn.table import BidTable, TableError, parse_bids, read_bids, table_from_bids

KINDS = ("supervised", "unsupervised")

__all__ = [
    "KINDS",
    "BidTable",
    "FeatureSet",
    "Model",
    "SupervisedClassifier",
    "TableError",
    "UnsupervisedDetector",
    "build_features",
    "cross_validate",
    "fit_model",
    "load_model",
    "parse_bids",
    "read_bids",
    "score_rows",
    "score_table",
    "table_from_bids",
    "table_from_lots",
    "table_from_rows",
    "transfer",
]


def one_thread():
    """OpenMP on one thread per calling thread: gradient boosting's default of one thread per core
    busy-waits badly when other processes (or the web server) share the two cores."""
    return threadpool_limits(limits=1, user_api="openmp")


def fit_model(table: BidTable, *, kind: str = "supervised", seed: int = 0, extra=None) -> Model:
    """Fit a model of `kind` on every tender of `table` (the supervised one needs labels)."""
    with one_thread():
        return _fit_model(table, kind=kind, seed=seed, extra=extra)


def _fit_model(table: BidTable, *, kind: str, seed: int, extra) -> Model:
    fs = build_features(table, extra=extra)
    if kind == "unsupervised":
        y = table.tender_labels()
        share = float(y.mean()) if y is not None and 0 < y.mean() < 1 else 0.1
        return UnsupervisedDetector(random_state=seed).fit(fs, flag_share=share)
    if kind != "supervised":
        raise ValueError(f"unknown model kind {kind!r}")
    table.check_trainable(min_tenders=10, min_positives=2)
    return SupervisedClassifier(random_state=seed).fit(fs, table.tender_labels(), table.label)


def score_table(model: Model, table: BidTable, *, extra=None) -> tuple[np.ndarray, np.ndarray]:
    """(score per tender in table.tenders order, score per bid in file order), both in [0, 1]."""
    fs = build_features(table, extra=extra)
    with one_thread():
        return model.score_tenders(fs), model.score_bids(fs)


def table_from_rows(rows: Iterable[Mapping]) -> BidTable:
    """A table from dicts with the CSV's column names (tender_id, bid_amount, bidder_id, estimate,
    is_winner, label; missing keys or None are missing values)."""
    return table_from_bids(
        (
            (
                r["tender_id"],
                r["bid_amount"],
                r.get("bidder_id"),
                r.get("estimate"),
                r.get("is_winner"),
                r.get("label"),
            )
            for r in rows
        ),
        with_label=False,
    )


def score_rows(model: Model, rows: Iterable[Mapping]) -> dict[str, float]:
    """The model's tender score per tender id of `rows` (see table_from_rows); tenders with fewer
    than two bids get none (no screen is defined for them)."""
    rows = list(rows)
    if not rows:
        return {}
    table = table_from_rows(rows)
    tender_scores, _ = score_table(model, table)
    counts = np.bincount(table.tender, minlength=table.n_tenders)
    return {t: float(s) for t, s, n in zip(table.tenders, tender_scores, counts, strict=True) if n >= 2}
