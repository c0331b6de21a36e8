"""The relationship graph of one lot (DESIGN §7, issue 5 item 1): parties, people, devices, accounts and
document fingerprints as nodes, the evidence links as edges; pure (networkx), no Django.

Every party of the lot (bidders, the tenderee, the agency) is the node `entity:<party.key>` with
attributes kind, label and role; every Link of a party adds its node `node_id(kind, value)` (attributes
kind and label, no role) and an edge party—node with the link's relation, source and label. Two parties
sharing a node are two edges away from each other; an ENTITY link whose value is another party's key (a
control relationship) joins the two party nodes directly. A related company given as a Party with another
role ("related") brings its own links, so longer paths appear (bidder → holding → its legal rep ← bidder)
and paths may pass through it, never through a bidder, the tenderee or the agency. When a party has
several links to one node (a person who is both legal representative and controller) the edge keeps the
first relation in `relation` and all of them, sorted, in `relations`.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice, pairwise

import networkx as nx

from monitoring.evidence import Finding, LotEvidence, NodeKind, PartyRole, Relation, node_id

MAX_PATHS = 3  # evidence paths kept per pair
_MAX_CANDIDATES = 20  # paths looked at per pair before the shortest-first sort


def party_node(key: str) -> str:
    return node_id(NodeKind.ENTITY, key)


def _add_edge(G: nx.Graph, a: str, b: str, relation: str, source: str, label: str) -> None:
    if G.has_edge(a, b):
        data = G.edges[a, b]
        data["relations"] = tuple(sorted({*data["relations"], relation}))
        return
    G.add_edge(a, b, relation=relation, relations=(relation,), source=source, label=label)


def lot_graph(lot: LotEvidence) -> nx.Graph:
    """The lot's evidence graph; built in a fixed order, so equal evidence gives an equal graph."""
    G = nx.Graph()
    for party in lot.parties:
        G.add_node(
            party_node(party.key), kind=NodeKind.ENTITY, label=party.name or party.key, role=party.role
        )
    for party in lot.parties:
        here = party_node(party.key)
        for link in party.links:
            there = node_id(link.kind, link.value)
            if there == here:
                continue
            if there not in G:
                G.add_node(there, kind=link.kind, label=link.label or link.value)
            _add_edge(G, here, there, link.relation, link.source, link.label)
    # The bid's own file digest, when the selector did not already give it as a link.
    for bid in lot.bids:
        here = party_node(bid.party)
        if bid.file_sha256 and here in G:
            there = node_id(NodeKind.DOCUMENT, bid.file_sha256)
            if there not in G:
                G.add_node(there, kind=NodeKind.DOCUMENT, label=bid.file_sha256[:12])
            _add_edge(G, here, there, Relation.FILE_DIGEST, f"bid:{bid.bid}", bid.file_sha256[:12])
    return G


LOT_ROLES = frozenset({PartyRole.BIDDER, PartyRole.TENDEREE, PartyRole.AGENCY})


def is_party(G: nx.Graph, node: str) -> bool:
    """A bidder, the tenderee or the agency; a related company given as a party with another role
    (a holding company with its own links) is an ordinary node that paths may pass through."""
    return G.nodes[node].get("role") in LOT_ROLES


def bidder_nodes(G: nx.Graph) -> list[str]:
    return sorted(n for n, role in G.nodes(data="role") if role == PartyRole.BIDDER)


def linked_pairs(
    G: nx.Graph, parties: list[str], k: int, *, skip_kinds: Iterable[str] = ()
) -> list[tuple[str, str, tuple[tuple[str, ...], ...]]]:
    """Pairs (a, b) of the given party nodes (a < b) joined by a path of at most k edges whose inner
    nodes are not parties of the lot (bidder, tenderee or agency) nor of a kind in `skip_kinds`; with up
    to MAX_PATHS paths each (tuples of node ids from a to b), shortest first, ties in node-id order."""
    wanted = sorted(set(parties) & set(G.nodes))
    skip = frozenset(skip_kinds)

    def passable(n: str) -> bool:
        return not is_party(G, n) and G.nodes[n].get("kind") not in skip

    out = []
    for i, a in enumerate(wanted):
        targets = set(wanted[i + 1 :])
        if not targets:
            break
        found = _reachable(G, a, targets, k, passable)
        for b in sorted(found):
            view = nx.subgraph_view(G, filter_node=lambda n, a=a, b=b: n in (a, b) or passable(n))
            paths = []
            for path in islice(nx.shortest_simple_paths(view, a, b), _MAX_CANDIDATES):
                if len(path) - 1 > k:
                    break
                paths.append(tuple(path))
            paths.sort(key=lambda p: (len(p), p))
            out.append((a, b, tuple(paths[:MAX_PATHS])))
    return out


def _reachable(G: nx.Graph, a: str, targets: set[str], k: int, passable) -> set[str]:
    """Breadth-first from a, at most k edges, passing only through passable nodes."""
    seen, frontier, found = {a}, [a], set()
    for _ in range(k):
        nxt = []
        for n in frontier:
            for m in G.adj[n]:
                if m in seen:
                    continue
                seen.add(m)
                if m in targets:
                    found.add(m)
                elif passable(m):
                    nxt.append(m)
        frontier = nxt
    return found


def evidence_subgraph(G: nx.Graph, findings: Iterable[Finding]) -> dict:
    """The nodes and edges on the findings' paths plus the findings' parties, JSON-ready.

    A path step with no edge in G (two bidders tied by a document comparison or a mention, not by a
    shared node) becomes an edge whose relation is the finding's code."""
    findings = list(findings)
    nodes: set[str] = set()
    edges: dict[tuple[str, str], dict] = {}
    for f in findings:
        nodes.update(n for n in (party_node(p) for p in f.parties) if n in G)
        for path in f.paths:
            nodes.update(path)
            for u, v in pairwise(path):
                key = (min(u, v), max(u, v))
                if key in edges:
                    continue
                if G.has_edge(u, v):
                    data = G.edges[u, v]
                    edges[key] = {
                        "source": key[0],
                        "target": key[1],
                        "relation": data.get("relation", ""),
                        "relations": list(data.get("relations", ())),
                        "label": data.get("label", ""),
                    }
                else:
                    edges[key] = {
                        "source": key[0],
                        "target": key[1],
                        "relation": f.code,
                        "relations": [f.code],
                        "label": "",
                    }
    out_nodes = []
    for n in sorted(nodes):
        data = G.nodes[n] if n in G else {}
        kind = data.get("kind") or n.split(":", 1)[0]
        out_nodes.append(
            {"id": n, "kind": kind, "label": data.get("label") or n, "role": data.get("role", "")}
        )
    return {"nodes": out_nodes, "edges": [edges[k] for k in sorted(edges)]}
