"""The evidence subgraph of an alert (or the market's co-bidding graph) drawn as an inline SVG picture:
pure, deterministic, no script, every text escaped — the page, the report and a test see the same bytes.

Input is the JSON the alert stores (`monitoring.graph.evidence_subgraph`):
``{"nodes": [{id, kind, label, role}], "edges": [{source, target, relation, label}]}``.
The layout is a spring layout seeded and started from fixed positions: the bidders sit on an ellipse
and stay there, the nodes that link them (people, devices, accounts, documents) settle in between, so
a shared node is drawn between the parties it joins. Nodes and edges are sorted first, so the same
graph gives the same picture whatever order its lists came in. Shapes and colours say the kind of
node (the legend, if asked for, repeats them with labels given by the caller, already translated:
this module has no Django in it).
"""

from __future__ import annotations

import math
import re
from html import escape

import networkx as nx

WIDTH = 760
NODE_AREA = 420  # height of the drawing above the legend
MARGIN = 56
LABEL_CHARS = 14
EDGE_LABELS_MAX = 8  # more edges than this: labels only on the edges between two parties
EDGE_LABEL_CHARS = 12

# kind → (shape, fill, stroke); entity colours depend on the role (see _style).
STYLE: dict[str, tuple[str, str, str]] = {
    "entity": ("rect", "#f3f3f3", "#555555"),
    "person": ("circle", "#fff4d6", "#a66a00"),
    "ip": ("diamond", "#e6f4ea", "#1e7d3a"),
    "device": ("diamond", "#e0f2f1", "#00695c"),
    "mac": ("diamond", "#e0f7fa", "#00838f"),
    "dongle": ("diamond", "#ede7f6", "#5e35b1"),
    "account": ("rounded", "#fce4ec", "#ad1457"),
    "phone": ("rounded", "#f1f8e9", "#558b2f"),
    "address": ("triangle", "#fff3e0", "#e65100"),
    "document": ("document", "#eceff1", "#37474f"),
    "author": ("document", "#f3e5f5", "#6a1b9a"),
}
UNKNOWN = ("circle", "#ffffff", "#777777")
ROLE_STYLE = {
    "bidder": ("rect", "#fdecea", "#b8161c"),
    "tenderee": ("rect", "#e8f0fb", "#1f5fa8"),
    "agency": ("rect", "#e8f0fb", "#1f5fa8"),
}
_TOKEN = re.compile(r"[^a-z0-9_-]")


def _token(value: object) -> str:
    """A value safe inside a class name (kinds and roles are short identifiers)."""
    return _TOKEN.sub("", str(value or "").lower())[:24]


def _text(value: object) -> str:
    return escape(str(value if value is not None else ""), quote=True)


def _short(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _style(node: dict) -> tuple[str, str, str]:
    if node["kind"] == "entity" and node["role"] in ROLE_STYLE:
        return ROLE_STYLE[node["role"]]
    return STYLE.get(node["kind"], UNKNOWN)


def normalise(graph: object) -> tuple[list[dict], list[dict]]:
    """Nodes and edges as clean dicts, sorted; malformed items are dropped, never drawn half."""
    nodes: dict[str, dict] = {}
    edges: dict[tuple[str, str, str], dict] = {}
    if not isinstance(graph, dict):
        return [], []
    for raw in graph.get("nodes") or []:
        if not isinstance(raw, dict) or raw.get("id") in (None, ""):
            continue
        nid = str(raw["id"])
        nodes.setdefault(
            nid,
            {
                "id": nid,
                "kind": _token(raw.get("kind")) or _token(nid.split(":", 1)[0]),
                "label": str(raw.get("label") or nid),
                "role": _token(raw.get("role")),
            },
        )
    for raw in graph.get("edges") or []:
        if not isinstance(raw, dict):
            continue
        a, b = str(raw.get("source", "")), str(raw.get("target", ""))
        if a not in nodes or b not in nodes or a == b:
            continue
        a, b = sorted((a, b))
        relation = str(raw.get("relation") or "")
        edges.setdefault(
            (a, b, relation),
            {"source": a, "target": b, "relation": relation, "label": str(raw.get("label") or "")},
        )
    return [nodes[k] for k in sorted(nodes)], [edges[k] for k in sorted(edges)]


def layout(nodes: list[dict], edges: list[dict], *, seed: int = 7) -> dict[str, tuple[float, float]]:
    """Positions in the drawing's coordinates, rounded to 0.1 so the output is stable."""
    if not nodes:
        return {}
    anchors = [n["id"] for n in nodes if n["role"] == "bidder"] or [
        n["id"] for n in nodes if n["kind"] == "entity"
    ]
    G = nx.Graph()
    G.add_nodes_from(n["id"] for n in nodes)
    G.add_edges_from((e["source"], e["target"]) for e in edges)
    start: dict[str, tuple[float, float]] = {}
    for i, nid in enumerate(anchors):
        angle = 2 * math.pi * i / len(anchors) + math.pi  # the first bidder on the left
        start[nid] = (math.cos(angle), 0.8 * math.sin(angle)) if len(anchors) > 1 else (0.0, 0.0)
    others = [n["id"] for n in nodes if n["id"] not in start]
    for i, nid in enumerate(others):  # a small inner circle: the spring pulls them towards their parties
        angle = 2 * math.pi * i / max(len(others), 1)
        start[nid] = (0.45 * math.cos(angle), 0.35 * math.sin(angle))
    fixed = anchors if len(anchors) > 1 and others else None
    if len(nodes) > 1 and others:
        pos = nx.spring_layout(G, pos=start, fixed=fixed, seed=seed, iterations=80, k=0.5)
    else:
        pos = start
    xs = [float(p[0]) for p in pos.values()]
    ys = [float(p[1]) for p in pos.values()]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    # One scale for both axes (the picture keeps its proportions), centred; a span below 1e-6 is
    # rounding noise, not a dimension to stretch.
    scales = [(WIDTH - 2 * MARGIN) / (x1 - x0)] if x1 - x0 > 1e-6 else []
    scales += [(NODE_AREA - 2 * MARGIN) / (y1 - y0)] if y1 - y0 > 1e-6 else []
    s = min(scales) if scales else 0.0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    out = {}
    for nid, (x, y) in pos.items():
        out[nid] = (
            round(WIDTH / 2 + (float(x) - cx) * s, 1) + 0.0,
            round(NODE_AREA / 2 + (float(y) - cy) * s, 1) + 0.0,
        )
    return out


def _shape(shape: str, x: float, y: float, fill: str, stroke: str) -> str:
    paint = f'fill="{fill}" stroke="{stroke}" stroke-width="2"'
    if shape == "rect":
        return f'<rect x="{x - 22:.1f}" y="{y - 14:.1f}" width="44" height="28" rx="3" {paint}/>'
    if shape == "rounded":
        return f'<rect x="{x - 16:.1f}" y="{y - 11:.1f}" width="32" height="22" rx="9" {paint}/>'
    if shape == "diamond":
        pts = f"{x:.1f},{y - 15:.1f} {x + 15:.1f},{y:.1f} {x:.1f},{y + 15:.1f} {x - 15:.1f},{y:.1f}"
        return f'<polygon points="{pts}" {paint}/>'
    if shape == "triangle":
        pts = f"{x:.1f},{y - 15:.1f} {x + 15:.1f},{y + 11:.1f} {x - 15:.1f},{y + 11:.1f}"
        return f'<polygon points="{pts}" {paint}/>'
    if shape == "document":
        pts = (
            f"{x - 12:.1f},{y - 15:.1f} {x + 6:.1f},{y - 15:.1f} {x + 12:.1f},{y - 9:.1f} "
            f"{x + 12:.1f},{y + 15:.1f} {x - 12:.1f},{y + 15:.1f}"
        )
        return f'<polygon points="{pts}" {paint}/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="13" {paint}/>'


def _present(nodes: list[dict]) -> set[str]:
    """The legend keys the drawing uses: node kinds, and for entities their role's key."""
    keys = set()
    for n in nodes:
        if n["kind"] == "entity" and n["role"] in ROLE_STYLE:
            keys.add("tenderee" if n["role"] == "agency" else n["role"])
        elif n["kind"] in STYLE:
            keys.add(n["kind"])
    return keys


def svg(
    graph: object,
    *,
    title: str = "",
    empty_text: str = "",
    legend: dict[str, str] | None = None,
    seed: int = 7,
    ident: str = "evidence-graph",
    emphasise_direct: bool = True,
) -> str:
    """The picture as one `<svg>` element. `legend` maps a kind (or "bidder"/"tenderee") to its
    label and draws a key under the graph for those the drawing uses; `empty_text` is shown when there
    is nothing to draw."""
    nodes, edges = normalise(graph)
    pos = layout(nodes, edges, seed=seed)
    keys = [k for k in (legend or {}) if k in _present(nodes)]
    legend_rows = math.ceil(len(keys) / 5)
    height = NODE_AREA + (legend_rows * 30 + 16 if keys else 0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="evidence-graph" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-labelledby="{_token(ident)}-title" '
        f'data-nodes="{len(nodes)}" data-edges="{len(edges)}">',
        f'<title id="{_token(ident)}-title">{_text(title)}</title>',
        f'<rect class="graph-bg" x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>',
    ]
    if not nodes:
        parts.append(
            f'<text x="{WIDTH / 2:.1f}" y="{NODE_AREA / 2:.1f}" text-anchor="middle" font-size="14" '
            f'fill="#666666">{_text(empty_text)}</text>'
        )
    parts.append('<g class="edges">')
    # An edge's label mostly repeats the node it reaches; on a busy picture only the edges between two
    # parties (a document comparison, a market pattern) keep theirs. Every edge keeps its tooltip.
    # (`emphasise_direct=False` for a picture of parties only, such as the market's co-bidding ties.)
    parties = {n["id"] for n in nodes if n.get("role")} if emphasise_direct else set()
    for e in edges:
        (x1, y1), (x2, y2) = pos[e["source"]], pos[e["target"]]
        direct = e["source"] in parties and e["target"] in parties
        text = ""
        if len(edges) <= EDGE_LABELS_MAX or direct:
            text = (
                f'<text x="{(x1 + x2) / 2:.1f}" y="{(y1 + y2) / 2 - 4:.1f}" text-anchor="middle" '
                f'font-size="10" fill="#555555">{_text(_short(e["label"] or e["relation"], EDGE_LABEL_CHARS))}</text>'
            )
        parts.append(
            f'<g class="edge" data-source="{_text(e["source"])}" data-target="{_text(e["target"])}" '
            f'data-relation="{_text(e["relation"])}"><title>{_text(e["label"] or e["relation"])}</title>'
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke="{"#b3261e" if direct else "#8a8a8a"}" stroke-width="{2.5 if direct else 1.5}"/>'
            f"{text}</g>"
        )
    parts.append("</g>")
    parts.append('<g class="nodes">')
    for n in nodes:
        x, y = pos[n["id"]]
        shape, fill, stroke = _style(n)
        parts.append(
            f'<g class="node node-{n["kind"]}{" role-" + n["role"] if n["role"] else ""}" '
            f'data-node="{_text(n["id"])}" data-kind="{n["kind"]}" data-role="{n["role"]}">'
            f"<title>{_text(n['label'])}</title>"
            f"{_shape(shape, x, y, fill, stroke)}"
            f'<text x="{x:.1f}" y="{y + 30:.1f}" text-anchor="middle" font-size="12" '
            f'fill="#222222">{_text(_short(n["label"], LABEL_CHARS))}</text></g>'
        )
    parts.append("</g>")
    if keys:
        parts.append('<g class="legend">')
        for i, key in enumerate(keys):
            row, col = divmod(i, 5)
            x, y = 40 + col * 146, NODE_AREA + 22 + row * 30
            shape, fill, stroke = ROLE_STYLE.get(key) or STYLE[key]
            parts.append(
                f'<g class="legend-item" data-kind="{_token(key)}" transform="translate({x} {y}) scale(0.6)">'
                f"{_shape(shape, 0, 0, fill, stroke)}</g>"
                f'<text x="{x + 20}" y="{y + 4}" font-size="12" fill="#333333">'
                f"{_text(_short(legend[key], 16))}</text>"
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)
