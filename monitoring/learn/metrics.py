"""The evaluation metrics (definitions in docs/monitoring-models.md), pure numpy + sklearn.

Scores are "higher = more suspicious"; labels 0/1. Each function returns NaN when it is undefined
(one class only), never a made-up number.
"""

from __future__ import annotations

import math

import numpy as np

FPR = 0.05
TOP = 0.10


def _both(y: np.ndarray) -> bool:
    return 0 < int(np.sum(y)) < len(y)


def roc_auc(y, s) -> float:
    from sklearn.metrics import roc_auc_score

    y, s = np.asarray(y), np.asarray(s, dtype=float)
    return float(roc_auc_score(y, s)) if _both(y) else math.nan


def pr_auc(y, s) -> float:
    """Average precision (the step-wise area under the precision–recall curve)."""
    from sklearn.metrics import average_precision_score

    y, s = np.asarray(y), np.asarray(s, dtype=float)
    return float(average_precision_score(y, s)) if _both(y) else math.nan


def balanced_accuracy(y, flagged) -> float:
    """(recall of the positives + recall of the negatives) / 2 of a 0/1 decision."""
    y, f = np.asarray(y).astype(bool), np.asarray(flagged).astype(bool)
    if not _both(y):
        return math.nan
    return float((f[y].mean() + (~f[~y]).mean()) / 2)


def threshold_at_fpr(y, s, fpr: float = FPR) -> float:
    """The cut t such that flagging `score > t` flags at most ⌊fpr · negatives⌋ negatives: the
    (k+1)-th highest negative score, k = ⌊fpr · negatives⌋ (ties with it are not flagged)."""
    y, s = np.asarray(y).astype(bool), np.asarray(s, dtype=float)
    neg = np.sort(s[~y])[::-1]
    if neg.size == 0:
        return -math.inf
    k = math.floor(fpr * neg.size + 1e-9)
    return float(neg[k]) if k < neg.size else -math.inf


def recall_at_fpr(y, s, fpr: float = FPR) -> float:
    """Share of the positives flagged at the cut of `threshold_at_fpr`."""
    y, s = np.asarray(y).astype(bool), np.asarray(s, dtype=float)
    if not _both(y):
        return math.nan
    return float((s[y] > threshold_at_fpr(y, s, fpr)).mean())


def precision_at_top(y, s, share: float = TOP) -> float:
    """Share of positives among the ⌈share · n⌉ highest scores (ties broken by the order given)."""
    y, s = np.asarray(y), np.asarray(s, dtype=float)
    if len(y) == 0:
        return math.nan
    m = max(1, math.ceil(share * len(y) - 1e-9))
    top = np.argsort(-s, kind="stable")[:m]
    return float(np.mean(y[top]))


def all_metrics(y, s, flagged) -> dict[str, float]:
    return {
        "roc_auc": roc_auc(y, s),
        "pr_auc": pr_auc(y, s),
        "balanced_accuracy": balanced_accuracy(y, flagged),
        "recall_at_5fpr": recall_at_fpr(y, s),
        "precision_at_top10": precision_at_top(y, s),
    }


METRICS = ("roc_auc", "pr_auc", "balanced_accuracy", "recall_at_5fpr", "precision_at_top10")
