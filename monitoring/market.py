"""Patterns across the market (DESIGN §7, issue 5 item 1): who bids with whom over time, cover bidding,
winner rotation, communities of co-bidders, and per-party history features; pure (plain
counters, igraph for communities), no Django.

Input is any iterable of LotEvidence (decided lots have `is_winner` on their bids; `date` places a lot in a
time window). `tenders(lots)` reduces each lot to what these functions need, once: pass its output to
several functions instead of the lots when the market is large. Each function accepts either.

Definitions (thresholds are arguments with [G] defaults, to calibrate on the synthetic market):
- co-bidding: two parties *meet* in a lot when both bid in it; `cobidding` counts meetings per pair.
- cover bidding: loser L and winner W met in at least `min_meetings` decided lots and W won, L lost in a
  share ≥ `min_share` of them ("bid and always lose to the same winner").
- rotation: a community of the graph of pairs that met at least `min_meetings` times (a recurring group)
  whose members win in turn the decided lots where at least half of them (and two) bid: the group wins a
  share ≥ `min_win_share` of those lots, at least `min_winners` members won, and the wins are spread
  evenly (Pielou evenness of the members' win counts, ln-entropy / ln(members), ≥ `min_evenness`).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations
from typing import NamedTuple

import igraph

from monitoring.evidence import LotEvidence

WINDOWS = (None, "year", "quarter", "month")


@dataclass(frozen=True, slots=True)
class Tender:
    """One lot reduced to its bidders and winners."""

    key: str  # "<tender>/<lot>"
    date: dt.date | None
    bidders: tuple[str, ...]  # distinct party keys, sorted
    winners: tuple[str, ...]  # the bidders with is_winner True
    decided: bool  # the outcome is known (some bid has is_winner set)


class Edge(NamedTuple):
    a: str
    b: str
    meetings: int
    period: str = ""


def tenders(lots: Iterable[LotEvidence | Tender]) -> list[Tender]:
    out = []
    for lot in lots:
        if isinstance(lot, Tender):
            out.append(lot)
            continue
        bidders = sorted({b.party for b in lot.bids})
        winners = sorted({b.party for b in lot.bids if b.is_winner})
        decided = any(b.is_winner is not None for b in lot.bids)
        out.append(Tender(f"{lot.tender}/{lot.lot}", lot.date, tuple(bidders), tuple(winners), decided))
    return out


def period(date: dt.date | None, window: str | None) -> str:
    """The time window a date falls in: "" (no window or no date), "2025", "2025-Q3", "2025-07"."""
    if window not in WINDOWS:
        raise ValueError(f"window is one of {WINDOWS}")
    if window is None or date is None:
        return ""
    if window == "year":
        return str(date.year)
    if window == "quarter":
        return f"{date.year}-Q{(date.month - 1) // 3 + 1}"
    return f"{date.year}-{date.month:02d}"


def _meetings(ts: list[Tender], decided_only: bool = False) -> Counter:
    counts: Counter = Counter()
    for t in ts:
        if t.decided or not decided_only:
            counts.update(combinations(t.bidders, 2))
    return counts


def cobidding(lots: Iterable[LotEvidence | Tender], *, window: str | None = None) -> list[Edge]:
    """Pairs (a < b) of parties that bid in the same lots, with how often, per time window (all time when
    window is None); ordered by period, then most meetings, then names."""
    ts = tenders(lots)
    if window is None:
        counts = _meetings(ts)
        edges = [Edge(a, b, n) for (a, b), n in counts.items()]
    else:
        by_period: dict[str, Counter] = defaultdict(Counter)
        for t in ts:
            by_period[period(t.date, window)].update(combinations(t.bidders, 2))
        edges = [Edge(a, b, n, p) for p, counts in by_period.items() for (a, b), n in counts.items()]
    edges.sort(key=lambda e: (e.period, -e.meetings, e.a, e.b))
    return edges


def _beats(ts: list[Tender]) -> Counter:
    """(loser, winner) → decided lots both bid in where the winner won and the loser did not."""
    beats: Counter = Counter()
    for t in ts:
        if t.decided and t.winners:
            losers = [p for p in t.bidders if p not in t.winners]
            beats.update((loser, w) for w in t.winners for loser in losers)
    return beats


def cover_bidding(
    lots: Iterable[LotEvidence | Tender], *, min_meetings: int = 3, min_share: float = 1.0
) -> list[dict]:
    """Loser–winner pairs where the loser lost to that winner in (nearly) every decided lot they met in:
    [{loser, winner, meetings, losses_to_winner, share, loser_tenders, loser_wins}], strongest first."""
    ts = tenders(lots)
    meetings = _meetings(ts, decided_only=True)
    beats = _beats(ts)
    played, wins = Counter(), Counter()
    for t in ts:
        played.update(t.bidders)
        wins.update(t.winners)
    out = []
    for (loser, winner), losses in beats.items():
        met = meetings[(loser, winner) if loser < winner else (winner, loser)]
        if met >= min_meetings and losses / met >= min_share:
            out.append(
                {
                    "loser": loser,
                    "winner": winner,
                    "meetings": met,
                    "losses_to_winner": losses,
                    "share": losses / met,
                    "loser_tenders": played[loser],
                    "loser_wins": wins[loser],
                }
            )
    out.sort(key=lambda r: (-r["losses_to_winner"], -r["share"], r["loser"], r["winner"]))
    return out


def communities(
    edges: Iterable[Edge | tuple], *, seed: int = 0, method: str = "multilevel", min_size: int = 2
) -> list[list[str]]:
    """Communities of the weighted co-bidding graph (edges (a, b, weight), repeated pairs summed) by
    igraph's multilevel (Louvain) or Leiden modularity, seeded: the same edges give the same answer.
    Each community sorted; largest first, ties by first member; smaller than min_size left out."""
    weights: Counter = Counter()
    for e in edges:
        a, b, w = e[0], e[1], e[2]
        if a != b and w > 0:
            weights[(a, b) if a < b else (b, a)] += w
    if not weights:
        return []
    names = sorted({p for pair in weights for p in pair})
    index = {p: i for i, p in enumerate(names)}
    pairs = sorted(weights)
    g = igraph.Graph(n=len(names), edges=[(index[a], index[b]) for a, b in pairs])
    g.es["weight"] = [float(weights[p]) for p in pairs]
    # igraph draws from Python's random module by default: give it its own seeded generator, then put
    # the default back so nothing else is disturbed.
    igraph.set_random_number_generator(random.Random(seed))
    try:
        if method == "leiden":
            clusters = g.community_leiden(objective_function="modularity", weights="weight", n_iterations=-1)
        elif method == "multilevel":
            clusters = g.community_multilevel(weights="weight")
        else:
            raise ValueError("method is multilevel or leiden")
    finally:
        igraph.set_random_number_generator(random)
    groups = [sorted(names[i] for i in members) for members in clusters]
    groups = [g for g in groups if len(g) >= min_size]
    groups.sort(key=lambda g: (-len(g), g[0]))
    return groups


def _evenness(counts: list[int]) -> float:
    """Pielou's evenness of the counts: 1 when all equal, 0 when one member has everything."""
    total = sum(counts)
    if total == 0 or len(counts) < 2:
        return 0.0
    entropy = -sum(c / total * math.log(c / total) for c in counts if c)
    return entropy / math.log(len(counts))


def rotation(
    lots: Iterable[LotEvidence | Tender],
    *,
    min_meetings: int = 3,
    min_tenders: int = 3,
    min_winners: int = 2,
    min_win_share: float = 0.5,
    min_evenness: float = 0.5,
    max_size: int = 12,
    seed: int = 0,
) -> list[dict]:
    """Recurring groups whose wins rotate: [{members, tenders, group_wins, wins: {member: n}, win_share,
    evenness}], most tenders first (see the module docstring)."""
    ts = tenders(lots)
    strong = [Edge(a, b, n) for (a, b), n in _meetings(ts).items() if n >= min_meetings]
    by_party: dict[str, list[int]] = defaultdict(list)
    for i, t in enumerate(ts):
        for p in t.bidders:
            by_party[p].append(i)
    out = []
    for group in communities(strong, seed=seed):
        if len(group) > max_size:
            continue
        quorum = max(2, math.ceil(len(group) / 2))
        present = Counter(i for p in group for i in by_party[p])
        chosen = sorted(i for i, n in present.items() if n >= quorum and ts[i].decided)
        if len(chosen) < min_tenders:
            continue
        members = set(group)
        wins = Counter(w for i in chosen for w in ts[i].winners if w in members)
        group_wins = sum(1 for i in chosen if members.intersection(ts[i].winners))
        counts = [wins[p] for p in group]
        winners = sum(1 for c in counts if c)
        evenness = _evenness(counts)
        share = group_wins / len(chosen)
        if winners >= min_winners and share >= min_win_share and evenness >= min_evenness:
            out.append(
                {
                    "members": group,
                    "tenders": len(chosen),
                    "group_wins": group_wins,
                    "wins": {p: wins[p] for p in group},
                    "win_share": share,
                    "evenness": evenness,
                }
            )
    out.sort(key=lambda r: (-r["tenders"], r["members"]))
    return out


FEATURES = (
    "tenders",
    "decided",
    "wins",
    "win_rate",
    "partners",
    "top_partner_share",
    "mean_rivals",
    "top_winner_loss_share",
    "always_loses_to_one",
)


def party_features(lots: Iterable[LotEvidence | Tender], *, min_meetings: int = 3) -> dict[str, dict]:
    """Per party, history features with no identifier in them (FEATURES); None when undefined:
    tenders and decided lots bid in, wins, win_rate (wins / decided), partners (distinct co-bidders),
    top_partner_share (lots with the most frequent co-bidder / lots), mean_rivals (other bidders per lot),
    top_winner_loss_share (losses to the most frequent winner over it / losses) and always_loses_to_one
    (1 when some winner beat it in every one of at least min_meetings decided meetings)."""
    ts = tenders(lots)
    tenders_n, decided, wins, losses, rivals = Counter(), Counter(), Counter(), Counter(), Counter()
    for t in ts:
        tenders_n.update(t.bidders)
        rivals.update({p: len(t.bidders) - 1 for p in t.bidders})
        if t.decided:
            decided.update(t.bidders)
            wins.update(t.winners)
            losses.update(p for p in t.bidders if p not in t.winners)
    partners, top_partner = Counter(), Counter()
    for (a, b), n in _meetings(ts).items():
        partners[a] += 1
        partners[b] += 1
        top_partner[a] = max(top_partner[a], n)
        top_partner[b] = max(top_partner[b], n)
    meetings = _meetings(ts, decided_only=True)
    top_beaten, covered = Counter(), set()
    for (loser, winner), n in _beats(ts).items():
        top_beaten[loser] = max(top_beaten[loser], n)
        met = meetings[(loser, winner) if loser < winner else (winner, loser)]
        if met >= min_meetings and n == met:
            covered.add(loser)
    out = {}
    for p in sorted(tenders_n):
        n = tenders_n[p]
        out[p] = {
            "tenders": n,
            "decided": decided[p],
            "wins": wins[p],
            "win_rate": wins[p] / decided[p] if decided[p] else None,
            "partners": partners[p],
            "top_partner_share": top_partner[p] / n,
            "mean_rivals": rivals[p] / n,
            "top_winner_loss_share": top_beaten[p] / losses[p] if losses[p] else None,
            "always_loses_to_one": int(p in covered),
        }
    return out
