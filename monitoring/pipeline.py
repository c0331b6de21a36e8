"""The analysis of one lot and of the whole market, over the pure contract (no database here).

One lot (live at the read-out, or for the monitoring report): price screens, document similarity when
the texts are known, the relationship graph, the statutory rules and vendor indicators, the model's
score, all combined into a score and an alert level, with the evidence subgraph for the picture.

The market (the scheduled batch): every lot as above but without document texts, then the market-wide
patterns (co-bidding, cover bidding, rotation, communities) whose findings are added to the lots they
concern, and the model scoring every lot in one pass.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from monitoring import graph as graphs
from monitoring import market as markets
from monitoring import rules, screens
from monitoring.evidence import Finding, LotEvidence, NodeKind, node_id
from monitoring.learn.features import subset_features

MARKET_EDGES_KEPT = 300  # co-bidding edges kept in a market run's summary (the strongest)


@dataclass
class LotResult:
    tender: str
    lot: str
    screens: dict
    findings: list[Finding]
    score: float
    level: int | None
    model_score: float | None
    graph: dict
    parties: list[str]
    seconds: float = 0.0

    @property
    def features(self) -> dict:
        out = {k: v for k, v in self.screens.items() if isinstance(v, (int, float)) or v is None}
        if self.model_score is not None:
            out["model_score"] = self.model_score
        return out


@dataclass
class MarketResult:
    lots: dict[str, LotResult]
    market: dict
    figures: dict = field(default_factory=dict)


def finding_dict(f: Finding) -> dict:
    """A finding as stored on an alert (JSON), with its human label."""
    data = asdict(f)
    data["parties"] = list(f.parties)
    data["paths"] = [list(p) for p in f.paths]
    data["label"] = str(rules.LABELS.get(f.code, f.code))
    data["fired"] = True
    return data


def lot_screens(lot: LotEvidence) -> dict:
    prices = [b.price for b in lot.bids if b.price is not None and b.price > 0]
    if not prices:
        return {"n": 0}
    out = dict(screens.screens(prices, ceiling=lot.ceiling, estimate=lot.estimate))
    # Summary screens over 3-bid subsets (incomplete cartels), vectorised: the same definitions as
    # screens.subset_screens, at a fraction of its cost over a whole market.
    for key, value in subset_features(np.sort(np.asarray(prices, dtype=float))).items():
        out[f"sub_{key}"] = None if math.isnan(value) else value
    return out


def _similarity(lot: LotEvidence):
    texts = {b.party: b.text for b in lot.bids if b.text}
    if len(texts) < 2:
        return None
    from monitoring import similarity

    names = {p.key: [n for n in (p.name, p.uscc) if n] for p in lot.bidders}
    return similarity.lot_similarity(texts, template=lot.template_text, names=names)


def _involved(findings: Iterable[Finding]) -> list[str]:
    return sorted({p for f in findings for p in f.parties})


def analyse_lot(
    lot: LotEvidence,
    *,
    model_score: float | None = None,
    extra_findings: Sequence[Finding] = (),
    with_similarity: bool = True,
) -> LotResult:
    started = time.perf_counter()
    measured = lot_screens(lot)
    g = graphs.lot_graph(lot)
    sim = _similarity(lot) if with_similarity else None
    findings = rules.lot_findings(lot, screens=measured, similarity=sim, graph=g)
    findings = list(findings) + list(extra_findings)
    if model_score is not None and model_score >= float(rules.setting("alert_low")):
        # The model's score is counted by combine(); this finding only says so on the alert.
        findings.append(
            Finding(
                code="model_anomaly",
                statutory=False,
                weight=rules.weight("model_anomaly"),
                parties=tuple(sorted({b.party for b in lot.bids})),
                value=round(float(model_score), 4),
                threshold=float(rules.setting("alert_low")),
            )
        )
    score, level = rules.combine(findings, model_score)
    return LotResult(
        tender=lot.tender,
        lot=lot.lot,
        screens=measured,
        findings=findings,
        score=score,
        level=level,
        model_score=model_score,
        graph=graphs.evidence_subgraph(g, findings) if findings else {"nodes": [], "edges": []},
        parties=_involved(findings),
        seconds=time.perf_counter() - started,
    )


MARKET_LISTS_KEPT = 200  # cover pairs, rotation groups and communities kept in a run's summary


def _pair_path(a: str, b: str) -> tuple[tuple[str, ...], ...]:
    return ((node_id(NodeKind.ENTITY, a), node_id(NodeKind.ENTITY, b)),)


def market_findings(lots: Sequence[LotEvidence]) -> tuple[dict[str, list[Finding]], dict]:
    """Market-wide patterns (monitoring.market), as findings on each lot they concern, and the summary
    a market run keeps: the strongest co-bidding edges, communities, cover pairs and rotation groups."""
    ts = markets.tenders(lots)
    cover = markets.cover_bidding(ts)
    rotation = markets.rotation(ts)
    edges = markets.cobidding(ts)
    communities = markets.communities([e for e in edges if e.meetings >= 2])
    by_winner: dict[str, list[dict]] = defaultdict(list)
    for c in cover:
        by_winner[c["winner"]].append(c)
    per_lot: dict[str, list[Finding]] = defaultdict(list)
    cover_w, rotation_w = rules.weight("cover_bidding"), rules.weight("bid_rotation")
    for lot, t in zip(lots, ts, strict=True):
        present = set(t.bidders)
        for winner in t.winners:
            for c in by_winner.get(winner, ()):
                if c["loser"] in present:
                    per_lot[lot.lot].append(
                        Finding(
                            code="cover_bidding",
                            statutory=False,
                            weight=cover_w,
                            parties=tuple(sorted((c["loser"], winner))),
                            value=round(c["share"], 4),
                            threshold=1.0,
                            paths=_pair_path(c["loser"], winner),
                            detail={"loser": c["loser"], "winner": winner, "meetings": c["meetings"]},
                        )
                    )
        for g in rotation:
            members = sorted(present.intersection(g["members"]))
            if len(members) >= 2:
                per_lot[lot.lot].append(
                    Finding(
                        code="bid_rotation",
                        statutory=False,
                        weight=rotation_w,
                        parties=tuple(members),
                        value=round(g["evenness"], 4),
                        threshold=0.5,
                        paths=tuple(p for a, b in itertools.pairwise(members) for p in _pair_path(a, b)),
                        detail={"group": g["members"], "tenders": g["tenders"], "wins": g["wins"]},
                    )
                )
    strongest = sorted(edges, key=lambda e: (-e.meetings, e.a, e.b))[:MARKET_EDGES_KEPT]
    # The co-bidding network over time: per year, how many pairs met and how often (repeat meetings).
    periods: dict[str, dict] = {}
    for e in markets.cobidding(ts, window="year"):
        p = periods.setdefault(
            e.period or "?", {"period": e.period or "?", "pairs": 0, "repeat_pairs": 0, "meetings": 0}
        )
        p["pairs"] += 1
        p["repeat_pairs"] += e.meetings >= 2
        p["meetings"] += e.meetings
    summary = {
        "lots": len(ts),
        "bidders": len({p for t in ts for p in t.bidders}),
        "cobidding_pairs": len(edges),
        "cobidding": [{"a": e.a, "b": e.b, "meetings": e.meetings} for e in strongest],
        "cobidding_by_year": [periods[k] for k in sorted(periods)],
        "communities": sorted(communities, key=len, reverse=True)[:MARKET_LISTS_KEPT],
        "cover_bidding": cover[:MARKET_LISTS_KEPT],
        "rotation": rotation[:MARKET_LISTS_KEPT],
    }
    return per_lot, summary


# Findings that need the bid documents' text: the batch reads no documents, so it carries them over from
# the lot's last analysis that had the texts (the live check or the report's).
TEXT_CODES = frozenset({"identical_documents", "shared_typos", "mixed_files"})


def finding_from_dict(data: dict) -> Finding:
    return Finding(
        code=data["code"],
        statutory=bool(data.get("statutory")),
        legal_source=data.get("legal_source") or "",
        weight=float(data.get("weight") or 0.0),
        parties=tuple(str(p) for p in data.get("parties") or ()),
        value=data.get("value"),
        threshold=data.get("threshold"),
        paths=tuple(tuple(p) for p in data.get("paths") or ()),
        detail=dict(data.get("detail") or {}),
    )


def analyse_market(
    lots: Sequence[LotEvidence], *, model=None, carried: dict[str, list[Finding]] | None = None
) -> MarketResult:
    """Every lot with the market-wide patterns and the model. `carried`: findings per lot kept from an
    earlier analysis that the batch cannot redo (TEXT_CODES)."""
    figures: dict[str, float] = {}
    t0 = time.perf_counter()
    per_lot, summary = market_findings(lots)
    figures["market_seconds"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    scores = model_scores(model, lots) if model is not None else {}
    figures["model_seconds"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    results = {
        lot.lot: analyse_lot(
            lot,
            model_score=scores.get(lot.lot),
            extra_findings=[*per_lot.get(lot.lot, ()), *(carried or {}).get(lot.lot, ())],
            with_similarity=False,
        )
        for lot in lots
    }
    figures["lots_seconds"] = time.perf_counter() - t0
    return MarketResult(lots=results, market=summary, figures=figures)


def bid_table(lots: Iterable[LotEvidence]) -> list[dict]:
    """The lots as a bid table (the `monitoring_eval` format): one row per priced bid."""
    rows = []
    for lot in lots:
        for b in lot.bids:
            if b.price is None or b.price <= 0:
                continue
            rows.append(
                {
                    "tender_id": lot.lot,
                    "bid_amount": b.price,
                    "bidder_id": b.party,
                    "estimate": lot.estimate,
                    "is_winner": None if b.is_winner is None else int(b.is_winner),
                }
            )
    return rows


def model_term(model, raw: float) -> float:
    """The model's score as combine() counts it. A supervised model is calibrated: its probability
    counts as it is. An unsupervised detector gives a percentile of the market, not a probability: it
    counts only from its flag point (`threshold`, the share of tenders it is fitted to flag), rescaled
    to [alert_low, alert_high) — so by itself it can raise at most a level-3 alert."""
    if getattr(model, "kind", "") != "unsupervised":
        return raw
    cut = float(getattr(model, "threshold", 0.9))
    if raw < cut or cut >= 1.0:
        return 0.0
    low, high = float(rules.setting("alert_low")), float(rules.setting("alert_high"))
    return low + (raw - cut) / (1.0 - cut) * (high - low) * 0.999


def model_scores(model, lots: Sequence[LotEvidence]) -> dict[str, float]:
    """The model's tender-level score per lot as combine() counts it (see model_term); lots with fewer
    than two priced bids get none."""
    from monitoring.learn import score_rows

    return {k: model_term(model, v) for k, v in score_rows(model, bid_table(lots)).items()}
