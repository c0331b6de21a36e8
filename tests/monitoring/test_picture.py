"""The evidence picture (monitoring.picture): one deterministic SVG, shapes and colours per kind, every
text escaped, malformed graphs drawn without their broken parts, a shared node drawn between its
parties."""

from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET

from monitoring import picture

SVG = "{http://www.w3.org/2000/svg}"


def graph() -> dict:
    return {
        "nodes": [
            {"id": "entity:1", "kind": "entity", "label": "广西甲建设有限公司", "role": "bidder"},
            {"id": "entity:2", "kind": "entity", "label": "广西乙建设有限公司", "role": "bidder"},
            {"id": "entity:9", "kind": "entity", "label": "某招标代理", "role": "agency"},
            {"id": "account:6222", "kind": "account", "label": "6222 **** 0001", "role": ""},
            {"id": "person:77", "kind": "person", "label": "王某", "role": ""},
            {"id": "ip:10.0.0.7", "kind": "ip", "label": "10.0.0.7", "role": ""},
        ],
        "edges": [
            {
                "source": "entity:1",
                "target": "account:6222",
                "relation": "deposit_account",
                "label": "保证金",
            },
            {"source": "entity:2", "target": "account:6222", "relation": "bank_account", "label": "基本户"},
            {"source": "entity:1", "target": "person:77", "relation": "agent", "label": "代理人"},
            {"source": "entity:9", "target": "person:77", "relation": "employee", "label": "员工"},
            {"source": "entity:2", "target": "ip:10.0.0.7", "relation": "upload_ip", "label": "上传"},
        ],
    }


def nodes_of(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)
    return {g.get("data-node"): g for g in root.iter(f"{SVG}g") if g.get("data-node")}


def centre(g: ET.Element) -> tuple[float, float]:
    """The node's position: its label sits 30 px under the centre, at the same x."""
    text = g.find(f"{SVG}text")
    return float(text.get("x")), float(text.get("y")) - 30


def test_the_same_graph_gives_the_same_bytes_whatever_the_order_of_its_lists():
    first = picture.svg(graph(), title="t")
    shuffled = graph()
    rng = random.Random(3)
    rng.shuffle(shuffled["nodes"])
    rng.shuffle(shuffled["edges"])
    assert picture.svg(shuffled, title="t") == first
    assert picture.svg(graph(), title="t") == first


def test_it_is_one_well_formed_svg_with_every_node_and_edge():
    svg = picture.svg(graph(), title="证据图")
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert (root.get("data-nodes"), root.get("data-edges")) == ("6", "5")
    assert set(nodes_of(svg)) == {
        "entity:1",
        "entity:2",
        "entity:9",
        "account:6222",
        "person:77",
        "ip:10.0.0.7",
    }
    edges = [g for g in root.iter(f"{SVG}g") if g.get("class") == "edge"]
    assert sorted((e.get("data-source"), e.get("data-target"), e.get("data-relation")) for e in edges) == [
        ("account:6222", "entity:1", "deposit_account"),
        ("account:6222", "entity:2", "bank_account"),
        ("entity:1", "person:77", "agent"),
        ("entity:2", "ip:10.0.0.7", "upload_ip"),
        ("entity:9", "person:77", "employee"),
    ]
    assert root.find(f"{SVG}title").text == "证据图"
    assert "<script" not in svg and "style=" not in svg  # CSP: no script, no inline style


def test_shapes_and_colours_follow_the_kind_and_the_role():
    found = nodes_of(picture.svg(graph()))

    def shape(nid):
        child = next(c for c in found[nid] if c.tag not in (f"{SVG}title", f"{SVG}text"))
        return child.tag.removeprefix(SVG), child.get("fill"), child.get("stroke")

    assert shape("entity:1") == ("rect", "#fdecea", "#b8161c")  # a bidder: red
    assert shape("entity:9") == ("rect", "#e8f0fb", "#1f5fa8")  # the agency: blue
    assert shape("person:77") == ("circle", "#fff4d6", "#a66a00")
    assert shape("ip:10.0.0.7")[0] == "polygon"  # a diamond
    assert shape("account:6222") == ("rect", "#fce4ec", "#ad1457")
    assert found["entity:1"].get("class") == "node node-entity role-bidder"


def test_every_text_is_escaped_and_long_labels_are_cut_with_the_full_label_kept_as_a_tooltip():
    evil = {
        "nodes": [
            {
                "id": 'entity:1"><script>',
                "kind": "entity",
                "label": "<script>alert(1)</script>",
                "role": "bidder",
            },
            {
                "id": "entity:2",
                "kind": 'entity" onload="x',
                "label": "A&B 公司名称非常非常非常长的一家公司",
                "role": "bidder",
            },
        ],
        "edges": [
            {"source": 'entity:1"><script>', "target": "entity:2", "relation": "<r>", "label": "</svg>"}
        ],
    }
    svg = picture.svg(evil, title="<t>")
    assert "<script" not in svg and "</svg><" not in svg and 'onload="' not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert 'data-node="entity:1&quot;&gt;&lt;script&gt;"' in svg
    found = nodes_of(svg)
    assert found["entity:2"].get("data-kind") == "entityonloadx"  # a kind is reduced to a safe token
    assert found["entity:2"].find(f"{SVG}title").text == "A&B 公司名称非常非常非常长的一家公司"
    assert found["entity:2"].find(f"{SVG}text").text == "A&B 公司名称非常非常非…"  # 14 characters


def test_a_malformed_graph_is_drawn_without_its_broken_parts():
    broken = {
        "nodes": [
            {"id": "entity:1", "kind": "entity", "role": "bidder"},  # no label: the id is shown
            {"id": "entity:1", "kind": "person", "label": "duplicate"},  # the first one wins
            {"kind": "ip", "label": "no id"},
            "not a node",
        ],
        "edges": [
            {"source": "entity:1", "target": "nowhere"},
            {"source": "entity:1", "target": "entity:1"},
            None,
        ],
    }
    svg = picture.svg(broken)
    root = ET.fromstring(svg)
    assert (root.get("data-nodes"), root.get("data-edges")) == ("1", "0")
    assert nodes_of(svg)["entity:1"].find(f"{SVG}text").text == "entity:1"
    for junk in (None, [], "x", {"nodes": "x"}):
        empty = picture.svg(junk, empty_text="没有关系证据")
        assert ET.fromstring(empty).get("data-nodes") == "0"
        assert "没有关系证据" in empty


def test_a_shared_node_is_drawn_between_the_bidders_it_links():
    two = {
        "nodes": [
            {"id": "entity:1", "kind": "entity", "label": "甲", "role": "bidder"},
            {"id": "entity:2", "kind": "entity", "label": "乙", "role": "bidder"},
            {"id": "account:1", "kind": "account", "label": "账户", "role": ""},
        ],
        "edges": [
            {"source": "entity:1", "target": "account:1", "relation": "deposit_account"},
            {"source": "entity:2", "target": "account:1", "relation": "deposit_account"},
        ],
    }
    found = nodes_of(picture.svg(two))
    (x1, y1), (x2, y2), (xa, _ya) = (centre(found[k]) for k in ("entity:1", "entity:2", "account:1"))
    # the two bidders stay on the ellipse, left and right, at the margins; the account is half-way
    assert (x1, x2) == (picture.MARGIN, picture.WIDTH - picture.MARGIN)
    assert y1 == y2
    assert abs(xa - picture.WIDTH / 2) < 1


def test_the_legend_lists_the_kinds_drawn_with_the_callers_labels():
    legend = {"bidder": "投标人", "tenderee": "招标人或代理", "person": "人员", "mac": "MAC", "nonsense": "x"}
    svg = picture.svg(graph(), legend=legend)
    root = ET.fromstring(svg)
    items = [g.get("data-kind") for g in root.iter(f"{SVG}g") if g.get("class") == "legend-item"]
    assert items == ["bidder", "tenderee", "person"]  # no MAC address in this graph, no unknown key
    assert "投标人" in svg and ">x<" not in svg
    assert int(root.get("height")) > picture.NODE_AREA
    assert re.search(r'height="(\d+)"', picture.svg(graph())).group(1) == str(picture.NODE_AREA)


def test_a_busy_picture_keeps_edge_labels_only_between_parties():
    g = graph()
    for i in range(10):
        g["nodes"].append({"id": f"device:d{i}", "kind": "device", "label": f"机器码{i}", "role": ""})
        g["edges"].append(
            {"source": "entity:1", "target": f"device:d{i}", "relation": "machine_code", "label": f"m{i}"}
        )
    g["edges"].append(
        {"source": "entity:1", "target": "entity:2", "relation": "identical_documents", "label": "0.87"}
    )
    root = ET.fromstring(picture.svg(g, title="t"))
    labelled = {
        e.get("data-relation")
        for e in root.iter(f"{SVG}g")
        if e.get("class") == "edge" and e.find(f"{SVG}text") is not None
    }
    assert labelled == {"identical_documents"}
    # Every edge still carries its full label as a tooltip.
    titles = [e.find(f"{SVG}title").text for e in root.iter(f"{SVG}g") if e.get("class") == "edge"]
    assert "m7" in titles and len(titles) == 16
    # A small picture labels every edge.
    small = ET.fromstring(picture.svg(graph(), title="t"))
    assert all(e.find(f"{SVG}text") is not None for e in small.iter(f"{SVG}g") if e.get("class") == "edge")
