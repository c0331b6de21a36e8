"""Offline evaluation: tender-grouped repeated cross-validation and train/test transfer.

Pure (no Django). Features are computed once per table (they use no label); each split fits the
models on the training tenders only and scores the held-out ones. All bids of a tender are always on
the same side of a split. The result is one JSON-ready dict (keys in docs/monitoring-models.md).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits

from monitoring.learn.features import FeatureSet, build_features
from monitoring.learn.metrics import METRICS, all_metrics, threshold_at_fpr
from monitoring.learn.models import SupervisedClassifier, UnsupervisedDetector
from monitoring.learn.table import BidTable

THRESHOLD_RULE = (
    "supervised: flag when the calibrated probability >= the training folds' positive rate; "
    "unsupervised: flag the training folds' positive rate of highest-scoring tenders"
)


def take(fs: FeatureSet, tenders: np.ndarray) -> FeatureSet:
    """The feature rows of the tenders at indices `tenders` (and all their bids), in that order."""
    tenders = np.asarray(tenders, dtype=np.int64)
    new = np.full(len(fs.tenders), -1, dtype=np.int64)
    new[tenders] = np.arange(len(tenders))
    bids = np.flatnonzero(new[fs.bid_tender] >= 0)
    return FeatureSet(
        tenders=[fs.tenders[i] for i in tenders],
        tender_names=fs.tender_names,
        T=fs.T[tenders],
        bid_names=fs.bid_names,
        B=fs.B[bids],
        bid_tender=new[fs.bid_tender[bids]],
        version=fs.version,
    )


def _bid_rows(fs: FeatureSet, tenders: np.ndarray) -> np.ndarray:
    mask = np.zeros(len(fs.tenders), dtype=bool)
    mask[tenders] = True
    return np.flatnonzero(mask[fs.bid_tender])


def _summary(runs: list[dict[str, float]]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for m in METRICS:
        vals = np.array([r[m] for r in runs], dtype=float)
        vals = vals[np.isfinite(vals)]
        out[m] = _round(vals.mean()) if vals.size else None
        out[f"{m}_std"] = _round(vals.std(ddof=1)) if vals.size > 1 else (0.0 if vals.size else None)
    return out


def _round(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 4)


class _Groups:
    """Per-group counts at the 5 %-FPR cut of each evaluation, pooled over the evaluations."""

    def __init__(self, names: list[str] | None):
        self.names = names
        self.counts: dict[str, dict[str, dict[str, int]]] = {}

    def add(self, model: str, tenders: np.ndarray, y: np.ndarray, s: np.ndarray) -> None:
        if self.names is None:
            return
        flagged = s > threshold_at_fpr(y, s)
        table = self.counts.setdefault(model, {})
        for t, yy, f in zip(tenders.tolist(), y.tolist(), flagged.tolist(), strict=True):
            c = table.setdefault(self.names[t] or "(none)", {"pos": 0, "tp": 0, "neg": 0, "fp": 0})
            if yy:
                c["pos"] += 1
                c["tp"] += int(f)
            else:
                c["neg"] += 1
                c["fp"] += int(f)

    def result(self, evaluations: int) -> dict | None:
        if self.names is None:
            return None
        out: dict[str, dict] = {}
        for model, table in self.counts.items():
            for g, c in table.items():
                row = out.setdefault(
                    g,
                    {
                        "tenders": (c["pos"] + c["neg"]) // max(1, evaluations),
                        "positives": c["pos"] // max(1, evaluations),
                    },
                )
                key = "" if model == "supervised" else "unsupervised_"
                row[f"{key}recall"] = _round(c["tp"] / c["pos"]) if c["pos"] else None
                row[f"{key}fpr"] = _round(c["fp"] / c["neg"]) if c["neg"] else None
        return dict(sorted(out.items()))


def _evaluate_split(
    fs: FeatureSet,
    train: np.ndarray,
    test: np.ndarray,
    y_t: np.ndarray,
    y_b: np.ndarray,
    seed: int,
    tender_features=None,
    bid_features=None,
    fs_test: FeatureSet | None = None,
    y_t_test=None,
    y_b_test=None,
):
    """Fit both models on `train` tenders of fs and score `test` tenders (of fs_test when given)."""
    ftr = take(fs, train)
    test_fs = take(fs_test if fs_test is not None else fs, test)
    yt_train = y_t[train]
    yb_train = y_b[_bid_rows(fs, train)]
    yt_test = (y_t_test if y_t_test is not None else y_t)[test]
    yb_test = (y_b_test if y_b_test is not None else y_b)[
        _bid_rows(fs_test if fs_test is not None else fs, test)
    ]
    sup = SupervisedClassifier(random_state=seed).fit(
        ftr, yt_train, yb_train, tender_features=tender_features, bid_features=bid_features
    )
    uns = UnsupervisedDetector(random_state=seed).fit(ftr, flag_share=float(yt_train.mean()))
    out = {}
    for name, model in (("supervised", sup), ("unsupervised", uns)):
        st, sb = model.score_tenders(test_fs), model.score_bids(test_fs)
        out[name] = {
            "tender": all_metrics(yt_test, st, st >= model.threshold),
            "bid": all_metrics(yb_test, sb, sb >= model.bid_threshold),
            "scores": st,
            "y": yt_test,
        }
    return out, sup


def cross_validate(
    table: BidTable,
    *,
    folds: int = 5,
    repeats: int = 5,
    seed: int = 0,
    group_column: str | None = None,
    extra: dict | None = None,
    progress: Callable[[int, int], None] | None = None,
    jobs: int = 2,
) -> dict:
    """Tender-grouped stratified K-fold, repeated with shuffled seeds seed, seed+1, …"""
    from sklearn.model_selection import StratifiedGroupKFold

    started = time.perf_counter()
    table.check_trainable(min_tenders=max(10, 2 * folds), min_positives=folds)
    groups = table.tender_group(group_column) if group_column else None
    fs = build_features(table, extra=extra)
    feature_seconds = time.perf_counter() - started
    y_t = table.tender_labels()
    y_b = np.asarray(table.label, dtype=int)
    runs: dict[str, dict[str, list]] = {m: {"tender": [], "bid": []} for m in ("supervised", "unsupervised")}
    pooled = _Groups(groups)
    tenders = np.arange(table.n_tenders)
    splits = []
    for r in range(repeats):
        splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed + r)
        splits += [(r, train, test) for train, test in splitter.split(tenders, y_t, groups=tenders)]
    done = 0

    def one(split):
        r, train, test = split
        # OpenMP's thread count is per calling thread: limit it here, in the worker
        with threadpool_limits(limits=1, user_api="openmp"):
            return test, _evaluate_split(fs, train, test, y_t, y_b, seed + r)[0]

    # Splits run in `jobs` threads, each gradient-boosting fit on one OpenMP thread: the heavy loops
    # release the GIL, and one thread per fit stays fast when other processes share the cores.
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for test, result in pool.map(one, splits):
            for name, res in result.items():
                runs[name]["tender"].append(res["tender"])
                runs[name]["bid"].append(res["bid"])
                pooled.add(name, test, res["y"], res["scores"])
            done += 1
            if progress:
                progress(done, len(splits))
    out = _header(table, "cv", seed)
    out.update({"folds": folds, "repeats": repeats})
    out["tender"] = _summary(runs["supervised"]["tender"])
    out["bid"] = _summary(runs["supervised"]["bid"])
    out["unsupervised"] = {
        "tender": _summary(runs["unsupervised"]["tender"]),
        "bid": _summary(runs["unsupervised"]["bid"]),
    }
    out["features"] = {"tender": len(fs.available("tender")), "bid": len(fs.available("bid"))}
    if groups is not None:
        out["groups"] = {"column": group_column, "level": "tender", "cut": "5% FPR of each test fold"}
        out["groups"]["values"] = pooled.result(repeats)
    out["threshold"] = THRESHOLD_RULE
    out["seconds"] = round(time.perf_counter() - started, 2)
    out["feature_seconds"] = round(feature_seconds, 2)
    return out


def transfer(train: BidTable, test: BidTable, *, seed: int = 0, group_column: str | None = None) -> dict:
    """Fit on every tender of `train`, score every tender of `test` (another market). Only the
    features computable in both tables are used; the unsupervised detector is also fitted on the
    test table itself (it needs no labels), as a market without labelled history would do."""
    with threadpool_limits(limits=1, user_api="openmp"):
        return _transfer(train, test, seed=seed, group_column=group_column)


def _transfer(train: BidTable, test: BidTable, *, seed: int, group_column: str | None) -> dict:
    started = time.perf_counter()
    train.check_trainable(min_tenders=10, min_positives=2)
    if test.label is None:
        from monitoring.learn.table import TableError

        raise TableError("column_missing", column="label")
    groups = test.tender_group(group_column) if group_column else None
    fa, fb = build_features(train), build_features(test)
    tf = [f for f in fa.available("tender") if f in set(fb.available("tender"))]
    bf = [f for f in fa.available("bid") if f in set(fb.available("bid"))]
    ya, yb = train.tender_labels(), test.tender_labels()
    result, _ = _evaluate_split(
        fa,
        np.arange(train.n_tenders),
        np.arange(test.n_tenders),
        ya,
        np.asarray(train.label, dtype=int),
        seed,
        tender_features=tf,
        bid_features=bf,
        fs_test=fb,
        y_t_test=yb,
        y_b_test=np.asarray(test.label, dtype=int),
    )
    own = UnsupervisedDetector(random_state=seed).fit(fb, flag_share=float(ya.mean()))
    so, sob = own.score_tenders(fb), own.score_bids(fb)
    y_bid_test = np.asarray(test.label, dtype=int)
    out = _header(test, "transfer", seed)
    out["train"] = {
        "tenders": train.n_tenders,
        "bids": train.n_bids,
        "positive_tenders": int(ya.sum()),
        "digest": train.digest(),
    }
    out["tender"] = {k: _round(v) for k, v in result["supervised"]["tender"].items()}
    out["bid"] = {k: _round(v) for k, v in result["supervised"]["bid"].items()}
    out["unsupervised"] = {
        "tender": {k: _round(v) for k, v in result["unsupervised"]["tender"].items()},
        "bid": {k: _round(v) for k, v in result["unsupervised"]["bid"].items()},
    }
    out["unsupervised_fit_on_test"] = {
        "tender": {k: _round(v) for k, v in all_metrics(yb, so, so >= own.threshold).items()},
        "bid": {k: _round(v) for k, v in all_metrics(y_bid_test, sob, sob >= own.threshold).items()},
    }
    out["features"] = {"tender": len(tf), "bid": len(bf)}
    if groups is not None:
        pooled = _Groups(groups)
        for name in ("supervised", "unsupervised"):
            pooled.add(name, np.arange(test.n_tenders), yb, result[name]["scores"])
        out["groups"] = {"column": group_column, "level": "tender", "cut": "5% FPR of the test table"}
        out["groups"]["values"] = pooled.result(1)
    out["threshold"] = THRESHOLD_RULE
    out["seconds"] = round(time.perf_counter() - started, 2)
    return out


def _header(table: BidTable, mode: str, seed: int) -> dict:
    y = table.tender_labels()
    return {
        "mode": mode,
        "tenders": table.n_tenders,
        "bids": table.n_bids,
        "positive_tenders": int(y.sum()),
        "positive_bids": int(np.sum(table.label)),
        "skipped_rows": table.skipped,
        "seed": seed,
    }
