"""The detectors: an unsupervised screen detector for a market without labels and a calibrated supervised
classifier for labelled history, each scoring tenders and bids in [0, 1].

Pure (no Django). Both work on a `FeatureSet` (monitoring.learn.features) by feature *name*, so a model
trained on one table scores another whose columns differ (absent features are NaN). `to_bytes()` /
`load_model()` serialise with joblib together with the feature lists and the library versions; load
only bytes whose digest you checked (monitoring.services.modelstore does), unpickling runs code.
"""

from __future__ import annotations

import io
import platform
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import joblib
import numpy as np

from monitoring.learn.features import FEATURES_VERSION, FeatureSet

FORMAT = "gongjiao-monitoring-model"
FORMAT_VERSION = 1

# The screens whose direction the literature agrees on (Imhof, Karagök & Rutz 2018; Huber & Imhof
# 2019; Wallimann, Imhof & Huber 2022): +1 when larger values point to collusion, −1 when smaller do.
DIRECTIONS = {
    "cv": -1,
    "cv_losers": -1,
    "spd": -1,
    "cv_k3_min": -1,
    "spd_k3_min": -1,
    "step_cv": -1,
    "diffp": +1,
    "rd": +1,
    "rdnor": +1,
    "rdalt": +1,
    "kurt": +1,
    "identical_share": +1,
    "mean_to_estimate": +1,
    "hist_pair_meet_max": +1,
    "hist_pair_meet_mean": +1,
}
# Bid-count strata for the unsupervised percentiles: a CV of 2 bids is not a CV of 12.
N_EDGES = (2, 3, 4, 6, 9)
MIN_STRATUM = 50
IFOREST_WEIGHT = 0.25


def versions() -> dict[str, str]:
    import scipy
    import sklearn

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "sklearn": sklearn.__version__,
        "joblib": joblib.__version__,
        "features": str(FEATURES_VERSION),
        "format": str(FORMAT_VERSION),
    }


class _ECDF:
    """Empirical distribution of reference values: `rank(x)` = share of references ≤ x, in [0, 1]."""

    def __init__(self, values: np.ndarray):
        v = np.asarray(values, dtype=float)
        self.sorted = np.sort(v[np.isfinite(v)])

    def rank(self, x: np.ndarray) -> np.ndarray:
        if self.sorted.size == 0:
            return np.full(len(x), np.nan)
        lo = np.searchsorted(self.sorted, x, side="left")
        hi = np.searchsorted(self.sorted, x, side="right")
        out = (lo + hi) / 2 / self.sorted.size  # mid-rank: ties count half
        return np.where(np.isfinite(x), out, np.nan)


@dataclass
class Model(ABC):
    """Common interface: `score_tenders(fs)` and `score_bids(fs)` in [0, 1]; `threshold` the score from
    which a tender is flagged (the balanced-accuracy operating point, see docs/monitoring-models.md)."""

    kind: str = ""
    tender_features: list[str] = field(default_factory=list)
    bid_features: list[str] = field(default_factory=list)
    threshold: float = 0.5
    bid_threshold: float = 0.5
    meta: dict = field(default_factory=dict)

    @abstractmethod
    def score_tenders(self, fs: FeatureSet) -> np.ndarray:
        """Score per tender of `fs`, in [0, 1]."""

    @abstractmethod
    def score_bids(self, fs: FeatureSet) -> np.ndarray:
        """Score per bid of `fs`, in [0, 1]."""

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        joblib.dump({"format": FORMAT, "format_version": FORMAT_VERSION, "model": self}, buf, compress=3)
        return buf.getvalue()

    def describe(self) -> dict:
        return {
            "kind": self.kind,
            "tender_features": list(self.tender_features),
            "bid_features": list(self.bid_features),
            "threshold": self.threshold,
            "bid_threshold": self.bid_threshold,
            **self.meta,
        }


def load_model(data: bytes) -> Model:
    """The model serialised by `Model.to_bytes` (ValueError when the bytes are not one)."""
    try:
        obj = joblib.load(io.BytesIO(data))
    except Exception as exc:  # a truncated or foreign file: joblib raises many kinds
        raise ValueError("not a monitoring model") from exc
    if not isinstance(obj, dict) or obj.get("format") != FORMAT or not isinstance(obj.get("model"), Model):
        raise ValueError("not a monitoring model")
    if obj.get("format_version") != FORMAT_VERSION:
        raise ValueError("unsupported model format version")
    return obj["model"]


def _strata(n: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.asarray(N_EDGES), np.nan_to_num(n, nan=0.0), side="right")


@dataclass
class UnsupervisedDetector(Model):
    """No labels. Each directional screen of DIRECTIONS becomes a percentile among the training
    tenders with a similar number of bids (pointing the collusive way), averaged over the screens a
    tender has; an IsolationForest over the same screens adds how unusual the tender is overall
    (weight IFOREST_WEIGHT). The blend is mapped to [0, 1] by its rank among the training tenders, so
    0.95 reads "more suspicious than 95 % of the reference market". Bids take their tender's score."""

    kind: str = "unsupervised"
    flag_share: float = 0.1
    random_state: int = 0
    _ecdf: dict = field(default_factory=dict, repr=False)
    _forest: object = None
    _medians: np.ndarray | None = None
    _forest_ecdf: _ECDF | None = None
    _final: _ECDF | None = None

    def fit(self, fs: FeatureSet, *, flag_share: float | None = None) -> UnsupervisedDetector:
        from sklearn.ensemble import IsolationForest

        available = set(fs.available("tender"))
        self.tender_features = [f for f in DIRECTIONS if f in available]
        if not self.tender_features:
            raise ValueError("no screen can be computed: every tender has fewer than 2 bids")
        self.bid_features = []
        if flag_share is not None:
            self.flag_share = float(flag_share)
        X = fs.matrix("tender", self.tender_features)
        n = fs.matrix("tender", ["n_bids"])[:, 0]
        strata = _strata(n)
        self._ecdf = {}
        for j, f in enumerate(self.tender_features):
            self._ecdf[(f, -1)] = _ECDF(X[:, j])
            for s in np.unique(strata):
                col = X[strata == s, j]
                if np.isfinite(col).sum() >= MIN_STRATUM:
                    self._ecdf[(f, int(s))] = _ECDF(col)
        self._medians = np.nanmedian(np.where(np.isfinite(X), X, np.nan), axis=0)
        self._medians = np.nan_to_num(self._medians, nan=0.0)
        self._forest = IsolationForest(n_estimators=150, random_state=self.random_state, n_jobs=1)
        self._forest.fit(self._impute(X))
        self._forest_ecdf = _ECDF(-self._forest.score_samples(self._impute(X)))
        raw = self._raw(X, n)
        self._final = _ECDF(raw)
        train = self._final.rank(raw)
        self.threshold = float(np.quantile(train, 1 - self.flag_share)) if len(train) else 0.5
        self.bid_threshold = self.threshold
        self.meta = {"versions": versions(), "directions": {f: DIRECTIONS[f] for f in self.tender_features}}
        return self

    def _impute(self, X: np.ndarray) -> np.ndarray:
        # robust to the heavy tails of ratio screens: rank-free but clipped by a log transform
        Z = np.where(np.isfinite(X), X, self._medians)
        return np.sign(Z) * np.log1p(np.abs(Z))

    def _raw(self, X: np.ndarray, n: np.ndarray) -> np.ndarray:
        strata = _strata(n)
        parts = np.full(X.shape, np.nan)
        for j, f in enumerate(self.tender_features):
            sign = DIRECTIONS[f]
            for s in np.unique(strata):
                rows = strata == s
                ecdf = self._ecdf.get((f, int(s))) or self._ecdf[(f, -1)]
                r = ecdf.rank(X[rows, j])
                parts[rows, j] = r if sign > 0 else 1 - r
        with np.errstate(all="ignore"):
            directional = np.nanmean(np.where(np.isfinite(parts), parts, np.nan), axis=1)
        directional = np.where(np.isfinite(directional), directional, 0.5)
        forest = self._forest_ecdf.rank(-self._forest.score_samples(self._impute(X)))
        return (1 - IFOREST_WEIGHT) * directional + IFOREST_WEIGHT * forest

    def score_tenders(self, fs: FeatureSet) -> np.ndarray:
        X = fs.matrix("tender", self.tender_features)
        n = fs.matrix("tender", ["n_bids"])[:, 0]
        return self._final.rank(self._raw(X, n))

    def score_bids(self, fs: FeatureSet) -> np.ndarray:
        return self.score_tenders(fs)[fs.bid_tender]


def _hgb(random_state: int):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=100,
        learning_rate=0.1,
        max_leaf_nodes=15,
        min_samples_leaf=20,
        l2_regularization=1.0,
        max_bins=63,
        early_stopping=False,
        random_state=random_state,
    )


def _calibrated(X: np.ndarray, y: np.ndarray, groups: np.ndarray, random_state: int, folds: int = 3):
    """Gradient boosting calibrated on held-out tenders: `folds` models, each calibrated (isotonic
    when each class has ≥ 200 held-out rows, else Platt's sigmoid) on the tenders it did not see, their
    probabilities averaged (sklearn's CalibratedClassifierCV with ensemble=True, grouped by tender so no
    bid of a calibration tender was seen in training)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import StratifiedGroupKFold

    counts = np.bincount(y, minlength=2)
    folds = int(max(2, min(folds, counts.min())))
    splits = list(
        StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=random_state).split(X, y, groups)
    )
    method = "isotonic" if counts.min() / folds >= 200 else "sigmoid"
    model = CalibratedClassifierCV(_hgb(random_state), method=method, cv=splits, ensemble=True)
    model.fit(X, y)
    model.cv = folds  # the split indices are not needed to predict: keep the artifact small
    return model, method


@dataclass
class SupervisedClassifier(Model):
    """Labelled history. Tender level: gradient boosting over the tender features; bid level: the same
    over the bid's own features and its tender's. Both calibrated on held-out tenders (see
    `_calibrated`); `threshold` is the training prevalence, the balanced-accuracy-optimal cut for
    calibrated probabilities."""

    kind: str = "supervised"
    random_state: int = 0
    _tender_model: object = None
    _bid_model: object = None

    def fit(
        self,
        fs: FeatureSet,
        y_tender: np.ndarray,
        y_bid: np.ndarray | None = None,
        *,
        tender_features: list[str] | None = None,
        bid_features: list[str] | None = None,
    ) -> SupervisedClassifier:
        y_tender = np.asarray(y_tender, dtype=int)
        if y_tender.min() == y_tender.max():
            raise ValueError("both classes are needed")
        self.tender_features = tender_features or fs.available("tender")
        self.bid_features = bid_features or fs.available("bid")
        Xt = fs.matrix("tender", self.tender_features)
        groups = np.arange(len(y_tender))
        self._tender_model, t_method = _calibrated(Xt, y_tender, groups, self.random_state)
        self.threshold = float(y_tender.mean())
        methods = {"tender": t_method}
        if y_bid is None:
            y_bid = y_tender[fs.bid_tender]
        y_bid = np.asarray(y_bid, dtype=int)
        if y_bid.min() != y_bid.max():
            Xb = fs.matrix("bid", self.bid_features)
            self._bid_model, methods["bid"] = _calibrated(Xb, y_bid, fs.bid_tender, self.random_state)
            self.bid_threshold = float(y_bid.mean())
        self.meta = {
            "versions": versions(),
            "estimator": "HistGradientBoostingClassifier + CalibratedClassifierCV",
            "calibration": methods,
            "params": _hgb(self.random_state).get_params(),
        }
        return self

    def score_tenders(self, fs: FeatureSet) -> np.ndarray:
        return self._tender_model.predict_proba(fs.matrix("tender", self.tender_features))[:, 1]

    def score_bids(self, fs: FeatureSet) -> np.ndarray:
        if self._bid_model is None:
            return self.score_tenders(fs)[fs.bid_tender]
        return self._bid_model.predict_proba(fs.matrix("bid", self.bid_features))[:, 1]
