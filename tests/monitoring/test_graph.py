"""The lot graph: nodes and edges from the evidence links, k-hop linked pairs with their paths, and the
evidence subgraph an alert stores."""

from __future__ import annotations

import json

from monitoring.evidence import BidRow, Finding, Link, LotEvidence, NodeKind, Party, PartyRole, Relation
from monitoring.graph import evidence_subgraph, linked_pairs, lot_graph

K, R = NodeKind, Relation


def link(kind, value, relation, label=""):
    return Link(kind=kind, value=value, relation=relation, source=f"src:{value}", label=label)


def party(key, *links, role=PartyRole.BIDDER):
    return Party(key=key, name=f"Firm {key}", role=role, links=tuple(links))


def make(*parties, bids=()):
    return LotEvidence(tender="T", lot="L", parties=tuple(parties), bids=tuple(bids))


def test_parties_links_and_edges_carry_their_attributes():
    G = lot_graph(
        make(
            party("A", link(K.PERSON, "P1", R.LEGAL_REP, "张三")),
            party("T", link(K.PHONE, "010", R.PHONE), role=PartyRole.TENDEREE),
        )
    )
    assert sorted(G.nodes) == ["entity:A", "entity:T", "person:P1", "phone:010"]
    assert G.nodes["entity:A"] == {"kind": "entity", "label": "Firm A", "role": "bidder"}
    assert G.nodes["entity:T"]["role"] == "tenderee"
    assert G.nodes["person:P1"] == {"kind": "person", "label": "张三"}
    assert G.nodes["phone:010"]["label"] == "010"  # no label: the value
    edge = G.edges["entity:A", "person:P1"]
    assert edge["relation"] == "legal_rep" and edge["source"] == "src:P1" and edge["label"] == "张三"


def test_two_links_to_one_node_make_one_edge_with_both_relations():
    G = lot_graph(make(party("A", link(K.PERSON, "P1", R.LEGAL_REP), link(K.PERSON, "P1", R.CONTROLLER))))
    assert G.number_of_edges() == 1
    edge = G.edges["entity:A", "person:P1"]
    assert edge["relation"] == "legal_rep" and edge["relations"] == ("controller", "legal_rep")


def test_an_entity_link_to_another_party_joins_the_two_party_nodes():
    G = lot_graph(make(party("A", link(K.ENTITY, "B", R.CONTROLLER)), party("B")))
    assert G.has_edge("entity:A", "entity:B") and G.number_of_nodes() == 2


def test_a_bids_file_digest_becomes_a_document_node():
    G = lot_graph(make(party("A"), bids=[BidRow(bid="b1", party="A", price=1.0, file_sha256="f" * 64)]))
    assert G.edges["entity:A", "document:" + "f" * 64]["relation"] == "file_digest"


def test_equal_evidence_gives_an_equal_graph():
    lot = make(party("A", link(K.IP, "1.1.1.1", R.UPLOAD_IP)), party("B", link(K.IP, "1.1.1.1", R.UPLOAD_IP)))
    G1, G2 = lot_graph(lot), lot_graph(lot)
    assert list(G1.nodes(data=True)) == list(G2.nodes(data=True))
    assert list(G1.edges(data=True)) == list(G2.edges(data=True))


def chain_lot():
    """A and B share an address (2 hops); A reaches C through a related holding company (3 hops);
    D is linked to B only through bidder C, which paths may not cross."""
    holding = party("H", link(K.PERSON, "P5", R.LEGAL_REP), role="related")
    return make(
        party(
            "A",
            link(K.ADDRESS, "X1", R.ADDRESS),
            link(K.ENTITY, "H", R.SHAREHOLDER),
            link(K.IP, "9", R.UPLOAD_IP),
        ),
        party("B", link(K.ADDRESS, "X1", R.ADDRESS), link(K.IP, "9", R.UPLOAD_IP)),
        party("C", link(K.PERSON, "P5", R.OFFICER), link(K.PHONE, "777", R.PHONE)),
        party("D", link(K.PHONE, "777", R.PHONE)),
        holding,
    )


BIDDERS = ["entity:A", "entity:B", "entity:C", "entity:D"]


def test_linked_pairs_within_k_hops_with_paths_shortest_first():
    pairs = linked_pairs(lot_graph(chain_lot()), BIDDERS, 3)
    assert pairs == [
        (
            "entity:A",
            "entity:B",
            (("entity:A", "address:X1", "entity:B"), ("entity:A", "ip:9", "entity:B")),
        ),
        ("entity:A", "entity:C", (("entity:A", "entity:H", "person:P5", "entity:C"),)),
        ("entity:C", "entity:D", (("entity:C", "phone:777", "entity:D"),)),
    ]


def test_linked_pairs_never_cross_a_bidder_and_respect_k():
    G = lot_graph(chain_lot())
    assert [(a, b) for a, b, _ in linked_pairs(G, BIDDERS, 2)] == [
        ("entity:A", "entity:B"),
        ("entity:C", "entity:D"),
    ]
    # A–D would be 5 hops through bidder C: never, whatever k
    assert ("entity:A", "entity:D") not in [(a, b) for a, b, _ in linked_pairs(G, BIDDERS, 9)]


def test_linked_pairs_skip_node_kinds():
    pairs = linked_pairs(lot_graph(chain_lot()), ["entity:A", "entity:B"], 3, skip_kinds=[K.IP])
    assert pairs == [("entity:A", "entity:B", (("entity:A", "address:X1", "entity:B"),))]


def test_linked_pairs_keep_at_most_three_paths():
    links = [link(K.PHONE, str(i), R.PHONE) for i in range(5)]
    pairs = linked_pairs(lot_graph(make(party("A", *links), party("B", *links))), ["entity:A", "entity:B"], 3)
    assert [p[1] for p in pairs[0][2]] == ["phone:0", "phone:1", "phone:2"]


def test_evidence_subgraph_holds_the_paths_and_the_parties():
    G = lot_graph(chain_lot())
    findings = [
        Finding(
            code="linked_parties",
            statutory=False,
            parties=("A", "C"),
            paths=(("entity:A", "entity:H", "person:P5", "entity:C"),),
        ),
        Finding(code="mixed_files", statutory=True, parties=("B", "D"), paths=(("entity:B", "entity:D"),)),
    ]
    sub = evidence_subgraph(G, findings)
    assert [n["id"] for n in sub["nodes"]] == [
        "entity:A",
        "entity:B",
        "entity:C",
        "entity:D",
        "entity:H",
        "person:P5",
    ]
    assert sub["nodes"][4] == {"id": "entity:H", "kind": "entity", "label": "Firm H", "role": "related"}
    assert sub["nodes"][5] == {"id": "person:P5", "kind": "person", "label": "P5", "role": ""}
    assert [(e["source"], e["target"], e["relation"]) for e in sub["edges"]] == [
        ("entity:A", "entity:H", "shareholder"),
        ("entity:B", "entity:D", "mixed_files"),  # no edge in the graph: the finding's code
        ("entity:C", "person:P5", "officer"),
        ("entity:H", "person:P5", "legal_rep"),
    ]
    assert json.loads(json.dumps(sub)) == sub


def test_evidence_subgraph_of_nothing_is_empty():
    assert evidence_subgraph(lot_graph(chain_lot()), []) == {"nodes": [], "edges": []}
