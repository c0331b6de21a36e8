"""Features of tenders and bids for the models: scale-free, label-free, identifier-free.

Pure (no Django). Every feature is a ratio, a rank, a count of bids or a share, so it means the same in
francs, yen, reais or yuan and for a road contract or a school canteen (docs/monitoring-models.md has
the list and the reasons). No identifier or date is ever a feature: bidder ids are used only to count
how often a bidder bids, wins and meets the same rivals across the table (history), and renaming or
shuffling ids leaves every feature unchanged. Missing is NaN (too few bids, no estimate, no winner
column); the gradient-boosting models handle NaN natively.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from monitoring import screens as S
from monitoring.learn.history import bidder_index, history_features
from monitoring.learn.table import BidTable, table_from_bids

FEATURES_VERSION = 1

# Screens of monitoring.screens used as tender features (ceiling screens need a ceiling the table lacks).
TENDER_SCREENS = tuple(
    s for s in S.SCREENS if s not in {"n", "identical", "min_to_ceiling", "mean_to_ceiling"}
)  # n is its own feature (n_bids); identical is a count, identical_share its scale-free form
SUBSET = ("cv", "spd", "diffp", "rd", "skew")  # screens over every 3-bid subset (incomplete cartels)
SUBSET_STATS = ("min", "max", "mean", "median")
TENDER_OTHER = (
    "n_bids",
    "cv_losers",  # dispersion of the bids behind the lowest (cover bids cluster)
    "max_to_min",  # highest / lowest − 1 on a log scale
    "winner_rank",  # (rank of the winner − 1) / (n − 1): 0 = the lowest bid won
    "winner_gap",  # (lowest other bid − winning bid) / winning bid
    "winner_to_estimate",
)
HISTORY_TENDER = (
    "hist_tenders_mean",  # log(1 + other tenders of the bidders), mean over the bidders
    "hist_tenders_min",
    "hist_win_rate_mean",  # wins / other tenders, leaving this tender out
    "hist_win_rate_max",
    "hist_win_rate_min",
    "hist_never_win_share",  # share of bidders with ≥ 3 other tenders and no win there
    "hist_pair_meet_max",  # max over pairs of (other meetings) / (other tenders of the rarer bidder)
    "hist_pair_meet_mean",
    "hist_winner_win_rate",
)
BID = (
    "bid_rel_min",
    "bid_rel_mean",
    "bid_z",
    "bid_rank",
    "bid_is_lowest",
    "bid_gap_below",
    "bid_gap_above",
    "bid_rel_winner",
    "bid_is_winner",
    "bid_to_estimate",
    "bid_identical",
)
# The tender features a bid row carries (prefixed `t_`): the main screens, not all 50, which keeps the
# bid-level model (ten times more rows) fast.
BID_CONTEXT = (
    "n_bids",
    "cv",
    "spd",
    "diffp",
    "rd",
    "rdalt",
    "skew",
    "kurt",
    "cv_losers",
    "step_cv",
    "identical_share",
    "winner_rank",
    "winner_gap",
    "mean_to_estimate",
    "cv_k3_min",
    "spd_k3_min",
    "rd_k3_max",
    "hist_pair_meet_max",
    "hist_win_rate_max",
    "hist_never_win_share",
)
HISTORY_BID = ("bid_hist_tenders", "bid_hist_win_rate", "bid_hist_mean_rank", "bid_hist_top_partner")
MAX_SUBSETS = S.MAX_SUBSETS
# History needs a market: in a table of fewer tenders (one lot scored live) the history columns stay
# missing rather than claiming that every bidder is a newcomer.
HISTORY_MIN_TENDERS = 30


def tender_feature_names(history: bool = True) -> list[str]:
    subset = [f"{s}_k3_{stat}" for s in SUBSET for stat in SUBSET_STATS]
    return [*TENDER_OTHER, *TENDER_SCREENS, *subset, *(HISTORY_TENDER if history else ())]


@dataclass
class FeatureSet:
    """Feature matrices of one table: T (tenders × tender_names) and B (bids × bid_names, the bid's
    own features followed by its tender's BID_CONTEXT and extra features, prefixed `t_`). `bid_tender[i]` is the tender row of bid i."""

    tenders: list[str]
    tender_names: list[str]
    T: np.ndarray
    bid_names: list[str]
    B: np.ndarray
    bid_tender: np.ndarray
    version: int = FEATURES_VERSION
    notes: list[str] = field(default_factory=list)

    def matrix(self, level: str, names: list[str]) -> np.ndarray:
        """The columns `names` of the tender ("tender") or bid ("bid") matrix, NaN where absent."""
        own, X = (self.tender_names, self.T) if level == "tender" else (self.bid_names, self.B)
        pos = {n: i for i, n in enumerate(own)}
        out = np.full((X.shape[0], len(names)), np.nan)
        for j, n in enumerate(names):
            if n in pos:
                out[:, j] = X[:, pos[n]]
        return out

    def available(self, level: str) -> list[str]:
        """The names of the columns with at least one finite value."""
        own, X = (self.tender_names, self.T) if level == "tender" else (self.bid_names, self.B)
        if X.shape[0] == 0:
            return []
        return [n for n, ok in zip(own, np.isfinite(X).any(axis=0), strict=True) if ok]


@cache
def _combos(n: int) -> np.ndarray:
    if math.comb(n, 3) <= MAX_SUBSETS:
        return np.array(list(itertools.combinations(range(n), 3)), dtype=np.int64).reshape(-1, 3)
    return np.array([(i, i + 1, i + 2) for i in range(n - 2)], dtype=np.int64)  # as screens.subset_screens


def subset_features(sorted_bids: np.ndarray) -> dict[str, float]:
    """SUBSET screens over the 3-bid subsets of the (sorted) bids, vectorised; same definitions and
    subset choice as monitoring.screens.subset_screens."""
    out = {f"{s}_k3_{stat}": math.nan for s in SUBSET for stat in SUBSET_STATS}
    n = len(sorted_bids)
    if n < 3:
        return out
    tri = sorted_bids[_combos(n)]
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    mean = tri.mean(axis=1)
    sd = tri.std(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = {
            "cv": sd / mean,
            "spd": (c - a) / a,
            "diffp": (b - a) / a,
            "rd": np.where(c > b, (b - a) / (np.abs(c - b) / math.sqrt(2)), np.nan),
            "skew": np.where(
                sd > 0, 3 / 2 * (((tri - mean[:, None]) / sd[:, None]) ** 3).sum(axis=1), np.nan
            ),
        }
    for s, v in values.items():
        v = v[np.isfinite(v)]
        if v.size:
            out[f"{s}_k3_min"] = float(v.min())
            out[f"{s}_k3_max"] = float(v.max())
            out[f"{s}_k3_mean"] = float(v.mean())
            out[f"{s}_k3_median"] = float(np.median(v))
    return out


def _none_nan(v) -> float:
    return math.nan if v is None else float(v)


def build_features(
    table: BidTable,
    *,
    extra: Mapping[str, Mapping[str, float]] | None = None,
    history: bool = True,
) -> FeatureSet:
    """Tender and bid features of `table`. `extra` maps a tender id to more tender features (the
    pipeline's graph and rule features), added as `x_<name>` columns (NaN where a tender has none)."""
    n_t = table.n_tenders
    tnames = tender_feature_names(history)
    T = np.full((n_t, len(tnames)), np.nan)
    tcol = {n: i for i, n in enumerate(tnames)}
    bid_own = [*BID, *(HISTORY_BID if history else ())]
    Bown = np.full((table.n_bids, len(bid_own)), np.nan)
    bcol = {n: i for i, n in enumerate(bid_own)}

    order = np.lexsort((table.amount, table.tender))
    starts = np.searchsorted(table.tender[order], np.arange(n_t + 1))
    est = table.estimate
    win = table.is_winner
    bidder = bidder_index(table) if history and n_t >= HISTORY_MIN_TENDERS else None
    rank_of_bid = np.full(table.n_bids, np.nan)

    for t in range(n_t):
        idx = order[starts[t] : starts[t + 1]]
        b = table.amount[idx]
        n = len(b)
        e = est[idx] if est is not None else None
        e = e[np.isfinite(e)] if e is not None else None
        estimate = float(np.median(e)) if e is not None and e.size else None
        sc = S.screens(b.tolist(), estimate=estimate)
        row = T[t]
        for name in TENDER_SCREENS:
            row[tcol[name]] = _none_nan(sc[name])
        row[tcol["n_bids"]] = n
        mean = b.mean()
        sd = b.std(ddof=1) if n >= 2 else math.nan
        if n >= 3:
            losers = b[1:]
            row[tcol["cv_losers"]] = losers.std(ddof=1) / losers.mean()
        if n >= 2:
            row[tcol["max_to_min"]] = math.log(b[-1] / b[0])
        for name, value in subset_features(b).items():
            row[tcol[name]] = value
        # ranks with ties averaged, 0 = lowest, 1 = highest
        ranks = np.searchsorted(b, b, side="left") + (np.searchsorted(b, b, side="right") - 1)
        rank = ranks / 2 / (n - 1) if n >= 2 else np.full(n, math.nan)
        rank_of_bid[idx] = rank
        own = Bown[idx]
        own[:, bcol["bid_rel_min"]] = b / b[0] - 1
        own[:, bcol["bid_rel_mean"]] = b / mean - 1
        if n >= 2 and sd > 0:
            own[:, bcol["bid_z"]] = (b - mean) / sd
        own[:, bcol["bid_rank"]] = rank
        own[:, bcol["bid_is_lowest"]] = (b == b[0]).astype(float)
        if n >= 2:
            own[1:, bcol["bid_gap_below"]] = np.diff(b) / b[1:]
            own[:-1, bcol["bid_gap_above"]] = np.diff(b) / b[:-1]
            own[:, bcol["bid_identical"]] = (
                (np.searchsorted(b, b, side="right") - np.searchsorted(b, b, side="left")) > 1
            ).astype(float)
        else:
            own[:, bcol["bid_identical"]] = 0.0
        if estimate:
            own[:, bcol["bid_to_estimate"]] = b / estimate
        if win is not None:
            w = win[idx]
            own[:, bcol["bid_is_winner"]] = w
            winners = np.flatnonzero(w == 1)
            if winners.size:
                wi = winners[0]
                wb = b[wi]
                own[:, bcol["bid_rel_winner"]] = b / wb - 1
                if n >= 2:
                    row[tcol["winner_rank"]] = rank[wi]
                    others = np.delete(b, wi)
                    row[tcol["winner_gap"]] = (others.min() - wb) / wb
                if estimate:
                    row[tcol["winner_to_estimate"]] = wb / estimate
        Bown[idx] = own

    if bidder is not None:
        history_features(table, order, starts, bidder, rank_of_bid, T, tcol, Bown, bcol)

    notes = []
    xnames: list[str] = []
    if extra:
        xnames = sorted({f"x_{k}" for feats in extra.values() for k in feats})
        X = np.full((n_t, len(xnames)), np.nan)
        xpos = {n: i for i, n in enumerate(xnames)}
        for t, tid in enumerate(table.tenders):
            for k, v in (extra.get(tid) or {}).items():
                X[t, xpos[f"x_{k}"]] = np.nan if v is None else float(v)
        T = np.hstack([T, X])
        tnames = [*tnames, *xnames]
    context = [n for n in tnames if n in BID_CONTEXT or n.startswith("x_")]
    ccols = [tnames.index(n) for n in context]
    B = (
        np.hstack([Bown, T[table.tender][:, ccols]])
        if table.n_bids
        else np.zeros((0, len(bid_own) + len(ccols)))
    )
    return FeatureSet(
        tenders=list(table.tenders),
        tender_names=tnames,
        T=T,
        bid_names=[*bid_own, *(f"t_{n}" for n in context)],
        B=B,
        bid_tender=table.tender.copy(),
        notes=notes,
    )


def table_from_lots(
    lots: Iterable, *, labels: Mapping[str, int] | None = None, bid_labels: Mapping[str, int] | None = None
) -> BidTable:
    """A BidTable from monitoring.evidence.LotEvidence records (one tender row per lot, keyed by
    `lot.lot`), bids without a readable price left out. Labels, when known: `bid_labels` gives each bid's
    0/1 label by bid key (a cartel member's bid is 1; the simulator's `bid_labels`), else `labels` gives
    a lot's label to every bid of the lot."""
    rows = []
    for lot in lots:
        for bid in lot.bids:
            if bid.price is None or not bid.price > 0:
                continue
            if bid_labels is not None:
                label = int(bid_labels.get(bid.bid, 0))
            elif labels is not None:
                label = int(labels.get(lot.lot, 0))
            else:
                label = None
            rows.append(
                (
                    lot.lot,
                    float(bid.price),
                    bid.party,
                    lot.estimate if lot.estimate and lot.estimate > 0 else None,
                    None if bid.is_winner is None else int(bid.is_winner),
                    label,
                )
            )
    return table_from_bids(rows, with_label=labels is not None or bid_labels is not None)
