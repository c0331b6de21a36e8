"""Label-free bidder history for the features: how often each bidder bids, wins and meets the same
rivals across the table, always leaving the tender itself out. Ids are only used to count."""

from __future__ import annotations

import math

import numpy as np

from monitoring.learn.table import BidTable

NEVER_WIN_MIN = 3  # a bidder "never wins" only after this many other tenders
# Pair meetings grow with n²: tenders with more bidders (average-bid auctions of hundreds of bids) get
# no pair features rather than a quadratic blow-up.
PAIR_MAX_BIDDERS = 60


def bidder_index(table: BidTable) -> np.ndarray | None:
    """Per bid, the bidder's index in order of first appearance (−1 when the id is empty)."""
    if table.bidder is None:
        return None
    ids: dict[str, int] = {}
    bidder = np.array([ids.setdefault(b, len(ids)) if b else -1 for b in table.bidder], dtype=np.int64)
    return bidder if ids else None


def history_features(table, order, starts, bidder, rank_of_bid, T, tcol, Bown, bcol) -> None:
    """Label-free history of the bidders across the table, leaving the tender itself out."""
    n_b = int(bidder.max()) + 1
    known = bidder >= 0
    tenders = np.bincount(bidder[known], minlength=n_b).astype(float)
    won = np.zeros(table.n_bids)
    if table.is_winner is not None:
        won = np.nan_to_num(table.is_winner, nan=0.0)
    wins = np.bincount(bidder[known], weights=won[known], minlength=n_b)
    has_winner = table.is_winner is not None and bool(np.any(table.is_winner == 1))
    r = np.nan_to_num(rank_of_bid, nan=0.0)
    rcount = np.bincount(bidder[known], weights=np.isfinite(rank_of_bid[known]).astype(float), minlength=n_b)
    rsum = np.bincount(bidder[known], weights=r[known], minlength=n_b)

    # pair meetings: every unordered pair of distinct bidders in a tender, counted once per tender
    pair_keys = []
    members: list[np.ndarray] = []
    for t in range(len(starts) - 1):
        m = np.unique(bidder[order[starts[t] : starts[t + 1]]])
        m = m[m >= 0]
        members.append(m)
        if 2 <= len(m) <= PAIR_MAX_BIDDERS:
            i, j = np.triu_indices(len(m), 1)
            pair_keys.append(m[i] * n_b + m[j])
    keys = np.concatenate(pair_keys) if pair_keys else np.zeros(0, dtype=np.int64)
    uniq, counts = np.unique(keys, return_counts=True)

    def meetings(k: np.ndarray) -> np.ndarray:
        return counts[np.searchsorted(uniq, k)].astype(float)

    with np.errstate(divide="ignore", invalid="ignore"):
        for t, m in enumerate(members):
            row = T[t]
            if not len(m):
                continue
            idx = order[starts[t] : starts[t + 1]]
            other = tenders[m] - 1
            row[tcol["hist_tenders_mean"]] = np.log1p(other).mean()
            row[tcol["hist_tenders_min"]] = np.log1p(other).min()
            if has_winner:
                w_here = np.zeros(len(m))
                for bi in idx:
                    if bidder[bi] >= 0 and won[bi] == 1:
                        w_here[np.searchsorted(m, bidder[bi])] = 1
                rate = np.where(other > 0, (wins[m] - w_here) / other, np.nan)
                if np.isfinite(rate).any():
                    row[tcol["hist_win_rate_mean"]] = np.nanmean(rate)
                    row[tcol["hist_win_rate_max"]] = np.nanmax(rate)
                    row[tcol["hist_win_rate_min"]] = np.nanmin(rate)
                eligible = other >= NEVER_WIN_MIN
                if eligible.any():
                    row[tcol["hist_never_win_share"]] = float(((wins[m] - w_here) == 0)[eligible].mean())
                if w_here.any():
                    wpos = int(np.flatnonzero(w_here)[0])
                    row[tcol["hist_winner_win_rate"]] = rate[wpos]
            if 2 <= len(m) <= PAIR_MAX_BIDDERS:
                i, j = np.triu_indices(len(m), 1)
                meet = meetings(m[i] * n_b + m[j]) - 1
                rarer = np.minimum(other[i], other[j])
                share = np.where(rarer > 0, meet / rarer, np.nan)
                if np.isfinite(share).any():
                    row[tcol["hist_pair_meet_max"]] = np.nanmax(share)
                    row[tcol["hist_pair_meet_mean"]] = np.nanmean(share)
                # per bid: the partner met most often elsewhere, as a share of the bidder's other tenders
                full = np.zeros((len(m), len(m)))
                full[i, j] = meet
                full[j, i] = meet
                top = np.where(other > 0, full.max(axis=1) / other, np.nan)
                for bi in idx:
                    if bidder[bi] >= 0:
                        Bown[bi, bcol["bid_hist_top_partner"]] = top[np.searchsorted(m, bidder[bi])]
            for bi in idx:
                k = bidder[bi]
                if k < 0:
                    continue
                o = tenders[k] - 1
                Bown[bi, bcol["bid_hist_tenders"]] = math.log1p(o)
                if o > 0:
                    if has_winner:
                        Bown[bi, bcol["bid_hist_win_rate"]] = (wins[k] - won[bi]) / o
                    c = rcount[k] - (1 if math.isfinite(rank_of_bid[bi]) else 0)
                    if c > 0:
                        Bown[bi, bcol["bid_hist_mean_rank"]] = (rsum[k] - r[bi]) / c
