"""The rules of one lot: which situations and indicators fire, with their values, thresholds, parties
and evidence paths; and `combine`, which turns findings into a score and a level. Pure."""

from __future__ import annotations

import math
import operator
from collections import defaultdict
from itertools import combinations, product
from typing import Any

import networkx as nx

from monitoring import screens as price_screens
from monitoring.evidence import Finding, LotEvidence, NodeKind, PartyRole, Relation
from monitoring.graph import is_party, linked_pairs, lot_graph, party_node
from monitoring.rules.base import _ORDER, LEGAL, setting, weight

R = Relation
_PREPARER = frozenset({R.AUTHOR, R.MACHINE_CODE, R.MAC, R.DONGLE})
_MANAGER = frozenset({R.PROJECT_MANAGER, R.CONTACT, R.PHONE})
_IPS = frozenset({R.UPLOAD_IP, R.DECRYPT_IP})
_ACCOUNTS = frozenset({R.DEPOSIT_ACCOUNT, R.BANK_ACCOUNT})
# Node kinds a bidder may not share with the tenderee or its agency (an IP alone does not suffice).
TENDEREE_KINDS = frozenset(
    {NodeKind.PERSON, NodeKind.DEVICE, NodeKind.MAC, NodeKind.ACCOUNT, NodeKind.AUTHOR}
)


def _both(relations: frozenset[str]):
    return lambda x, y: bool(x & relations) and bool(y & relations)


# Rules that fire on a node shared by two bidders, given the relations of each bidder's edge to it.
_SHARED = {
    "same_preparer": _both(_PREPARER),
    "same_agent": _both(frozenset({R.AGENT})),
    "same_manager_or_contact": _both(_MANAGER),
    "identical_documents": _both(frozenset({R.FILE_DIGEST})),
    # the same deposit account, or one bidder's deposit paid from another's registered account
    "same_deposit_account": lambda x, y: (
        (R.DEPOSIT_ACCOUNT in x and bool(y & _ACCOUNTS)) or (R.DEPOSIT_ACCOUNT in y and bool(x & _ACCOUNTS))
    ),
    # one legal representative, or a common controller
    "same_legal_rep_or_control": lambda x, y: (
        (R.LEGAL_REP in x and R.LEGAL_REP in y) or (R.CONTROLLER in x and R.CONTROLLER in y)
    ),
    "same_ip": _both(_IPS),
}


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    """A field of part B's result objects (attributes or dict keys), whichever name it uses."""
    for name in names:
        if isinstance(obj, dict):
            if name in obj:
                return obj[name]
        elif hasattr(obj, name):
            return getattr(obj, name)
    return default


class _Collector:
    """Findings being gathered, merged per (code, parties)."""

    def __init__(self, regime: str):
        self.regime = regime
        self.found: dict[tuple[str, tuple[str, ...]], dict] = {}

    def add(self, code, parties, *, value, threshold, paths=(), better=max, **detail) -> None:
        key = (code, tuple(sorted(parties)))
        entry = self.found.get(key)
        if entry is None:
            self.found[key] = {"value": value, "threshold": threshold, "paths": set(paths), "detail": {}}
            entry = self.found[key]
        else:
            entry["value"] = better(entry["value"], value)
            entry["paths"].update(paths)
        for name, item in detail.items():
            entry["detail"].setdefault(name, []).append(item)

    def count(self, code: str, parties: tuple[str, ...], path: tuple[str, ...], label: str) -> None:
        """A finding whose value is the number of shared nodes (or links) behind it."""
        self.add(code, parties, value=1, threshold=1, paths=[path], better=operator.add, nodes=label)

    def findings(self) -> list[Finding]:
        out = []
        for (code, parties), entry in self.found.items():
            detail = {k: sorted(v, key=str) for k, v in entry["detail"].items()}
            out.append(
                Finding(
                    code=code,
                    statutory=code in LEGAL,
                    legal_source=LEGAL.get(code, {}).get(self.regime, ""),
                    weight=weight(code),
                    parties=parties,
                    value=entry["value"],
                    threshold=entry["threshold"],
                    paths=tuple(sorted(entry["paths"], key=lambda p: (len(p), p))),
                    detail=detail,
                )
            )
        out.sort(key=lambda f: (_ORDER[f.code], f.parties, str(f.value)))
        return out


def _graph_rules(G: nx.Graph, out: _Collector) -> None:
    """Rules on nodes shared by two bidders, direct control edges, and links to the tenderee/agency."""
    for n in sorted(G.nodes):
        if is_party(G, n):
            continue
        bidders, others = [], []
        for m in sorted(G.adj[n]):
            role = G.nodes[m].get("role")
            relations = frozenset(G.edges[n, m]["relations"])
            if role == PartyRole.BIDDER:
                bidders.append((m, relations))
            elif role in (PartyRole.TENDEREE, PartyRole.AGENCY):
                others.append(m)
        label = G.nodes[n].get("label", n)
        for (a, ra), (b, rb) in combinations(bidders, 2):
            for code, fires in _SHARED.items():
                if not fires(ra, rb):
                    continue
                if code == "identical_documents":  # a file digest is a similarity of 1.0
                    out.add(code, _keys(a, b), value=1.0, threshold=1, paths=[(a, n, b)], nodes=label)
                else:
                    out.count(code, _keys(a, b), (a, n, b), label)
        if G.nodes[n].get("kind") in TENDEREE_KINDS:
            for (a, _relations), t in product(bidders, others):
                out.count("tenderee_collusion", _keys(a, t), (a, n, t), label)
    for u, v, data in G.edges(data=True):
        if not (is_party(G, u) and is_party(G, v)):
            continue
        roles = {G.nodes[u].get("role"), G.nodes[v].get("role")}
        a, b = sorted((u, v))
        if roles == {PartyRole.BIDDER} and R.CONTROLLER in data["relations"]:
            out.count("same_legal_rep_or_control", _keys(a, b), (a, b), R.CONTROLLER)
        elif PartyRole.BIDDER in roles and roles & {PartyRole.TENDEREE, PartyRole.AGENCY}:
            out.count("tenderee_collusion", _keys(a, b), (a, b), "+".join(data["relations"]))


def _keys(*nodes: str) -> tuple[str, ...]:
    return tuple(n.split(":", 1)[1] for n in nodes)


def _similarity_rules(lot: LotEvidence, similarity: Any, out: _Collector) -> None:
    bidders = {p.key for p in lot.bidders}
    threshold = float(setting("doc_similarity"))
    typos: dict[tuple[str, str], set[str]] = defaultdict(set)
    for pair in _get(similarity, "pairs", default=()) or ():
        a, b = str(_get(pair, "a")), str(_get(pair, "b"))
        if a == b or a not in bidders or b not in bidders:
            continue
        sim = _get(pair, "jaccard")
        if sim is None:
            sim = _get(pair, "minhash_estimate")
        sim = 1.0 if _get(pair, "identical", default=False) else float(sim or 0.0)
        if sim >= threshold:
            path = tuple(sorted((party_node(a), party_node(b))))
            out.add("identical_documents", (a, b), value=sim, threshold=threshold, paths=[path], nodes="text")
    raw = _get(similarity, "typos", default=()) or ()
    items = raw.items() if isinstance(raw, dict) else ((_pair_of(t), _strings_of(t)) for t in raw)
    for (a, b), strings in items:
        if a != b and a in bidders and b in bidders:
            typos[tuple(sorted((str(a), str(b))))].update(str(s) for s in strings)
    least = int(setting("typos_min"))
    for (a, b), strings in sorted(typos.items()):
        if len(strings) >= least:
            path = (party_node(a), party_node(b))
            out.add(
                "shared_typos",
                (a, b),
                value=len(strings),
                threshold=least,
                paths=[path],
                strings=sorted(strings)[:5],
            )
    for mention in _get(similarity, "mentions", default=()) or ():
        a = str(_get(mention, "a", "party"))
        b = str(_get(mention, "b", "mentioned", "other"))
        if a != b and a in bidders and b in bidders:
            path = (party_node(a), party_node(b))
            snippet = str(_get(mention, "snippet", default=""))
            mention = {
                "in": a,
                "names": b,
                "snippet": snippet,
                "needle": str(_get(mention, "needle", default="")),
            }
            out.add(
                "mixed_files",
                (a, b),
                value=1,
                threshold=1,
                paths=[path],
                better=operator.add,
                mentions=mention,
            )


def _pair_of(item: Any) -> tuple[str, str]:
    return str(_get(item, "a")), str(_get(item, "b"))


def _strings_of(item: Any) -> list[str]:
    """One typo record's strings: part B's SharedTypo has one `text`; a list under another name is taken too."""
    text = _get(item, "text")
    if isinstance(text, str):
        return [text] if text else []
    return list(_get(item, "strings", "examples", "typos", "shared_rare", "runs", default=()) or ())


def _price_rules(lot: LotEvidence, found: dict, out: _Collector) -> None:
    priced = [(b.party, float(b.price)) for b in lot.bids if _valid_price(b.price)]
    by_price: dict[float, set[str]] = defaultdict(set)
    for party, price in priced:
        by_price[price].add(party)
    for price, parties in sorted(by_price.items()):
        if len(parties) >= 2:
            count = sum(1 for _p, x in priced if x == price)
            out.add("regular_prices", tuple(parties), value=count, threshold=2, identical_price=price)
    everyone = tuple(sorted({p for p, _x in priced}))
    n = found.get("n") or 0
    limit = float(setting("regular_step_cv"))
    steps = [found.get(s) for s in ("step_cv", "ratio_cv") if found.get(s) is not None]
    if n >= int(setting("regular_min_bids")) and steps and min(steps) <= limit:
        cvs = {"step_cv": found.get("step_cv"), "ratio_cv": found.get("ratio_cv")}
        out.add("regular_prices", everyone, value=min(steps), threshold=limit, better=min, **cvs)
    enough = n >= int(setting("screen_min_bids"))
    checks = (
        ("low_cv", "cv", enough, lambda v, t: v <= t),
        ("low_spread", "spd", enough, lambda v, t: v <= t),
        ("high_rd", "rdalt", enough, lambda v, t: v >= t),
        ("near_ceiling", "min_to_ceiling", n >= 1, lambda v, t: v >= t),
    )
    for code, screen, applies, fires in checks:
        value, threshold = found.get(screen), float(setting(code))
        if applies and value is not None and fires(float(value), threshold):
            out.add(code, everyone, value=float(value), threshold=threshold, screen=screen)


def _valid_price(price: Any) -> bool:
    return price is not None and math.isfinite(float(price)) and float(price) > 0


def _upload_rules(lot: LotEvidence, out: _Collector) -> None:
    bidders = {p.key for p in lot.bidders}
    times = sorted((b.submitted_at, b.party) for b in lot.bids if b.submitted_at and b.party in bidders)
    limit = float(setting("cluster_seconds"))
    for i, (t, a) in enumerate(times):
        for u, b in times[i + 1 :]:
            gap = (u - t).total_seconds()
            if gap > limit:
                break
            if a != b:
                path = tuple(sorted((party_node(a), party_node(b))))
                out.add("clustered_uploads", (a, b), value=gap, threshold=limit, paths=[path], better=min)


def _linked_rules(G: nx.Graph, out: _Collector) -> None:
    """Bidders linked within k hops, for pairs no shared-node rule has already tied."""
    tied = {
        parties
        for (code, parties) in out.found
        if len(parties) == 2 and code in (*_SHARED, "same_legal_rep_or_control")
    }
    k = int(setting("link_hops"))
    bidders = [n for n, role in G.nodes(data="role") if role == PartyRole.BIDDER]
    for a, b, paths in linked_pairs(G, bidders, k, skip_kinds=setting("link_skip_kinds")):
        parties = tuple(sorted(_keys(a, b)))
        if parties not in tied and paths:
            out.add("linked_parties", parties, value=len(paths[0]) - 1, threshold=k, paths=paths, better=min)


def lot_findings(
    lot: LotEvidence, *, screens: dict | None = None, similarity: Any = None, graph: nx.Graph | None = None
) -> list[Finding]:
    """Every rule and indicator that fires on the lot, in a fixed order (CODES, then parties).

    `screens` are monitoring.screens.screens of the lot's prices (computed when not given); `similarity`
    is part B's LotSimilarity or None; `graph` the lot graph (built when not given)."""
    G = graph if graph is not None else lot_graph(lot)
    if screens is None:
        prices = [b.price for b in lot.bids if _valid_price(b.price)]
        screens = price_screens.screens(prices, ceiling=lot.ceiling, estimate=lot.estimate)
    out = _Collector(lot.regime if lot.regime in ("TB", "GP") else "TB")
    _graph_rules(G, out)
    if similarity is not None:
        _similarity_rules(lot, similarity, out)
    _price_rules(lot, screens, out)
    _upload_rules(lot, out)
    _linked_rules(G, out)
    return out.findings()


def combine(findings: list[Finding], model_score: float | None = None) -> tuple[float, int | None]:
    """(score in [0, 1], alert level or None): noisy-or over codes (see the module docstring); level 1
    when a statutory finding fired, else 2 from alert_high, 3 from alert_low, else no alert."""
    best: dict[str, float] = {}
    for f in findings:
        best[f.code] = max(best.get(f.code, 0.0), min(max(float(f.weight), 0.0), 1.0))
    keep = 1.0
    for w in best.values():
        keep *= 1.0 - w
    if model_score is not None and math.isfinite(float(model_score)):
        p = min(max(float(model_score), 0.0), 1.0)
        keep *= 1.0 - min(max(float(setting("model_weight")), 0.0), 1.0) * p
    score = min(max(1.0 - keep, 0.0), 1.0)
    if any(f.statutory for f in findings):
        return score, 1
    if score >= float(setting("alert_high")):
        return score, 2
    if score >= float(setting("alert_low")):
        return score, 3
    return score, None
