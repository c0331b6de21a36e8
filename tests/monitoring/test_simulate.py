"""The synthetic market: deterministic, labelled consistently, each cartel and benign kind present with
the evidence it should (and should not) leave, collusive price patterns in the literature's direction."""

from __future__ import annotations

import csv
import io
import itertools
import json
import statistics

import pytest
from django.core.management import CommandError, call_command

from monitoring import screens
from monitoring.evidence import NodeKind, PartyRole, Relation
from monitoring.simulate import (
    BENIGN_KINDS,
    CARTEL_KINDS,
    CSV_COLUMNS,
    EVIDENCE_KINDS,
    PRICE_ONLY_KINDS,
    read_evidence_jsonl,
    simulate_market,
    write_bids_csv,
    write_evidence_jsonl,
)

# Node kinds whose sharing between two bidders is a statutory situation (rules.py, DOMAIN D1): people,
# hardware, dongles, accounts, phones, documents, authors. IP and address are not.
STATUTORY_NODES = {
    NodeKind.PERSON,
    NodeKind.DEVICE,
    NodeKind.MAC,
    NodeKind.DONGLE,
    NodeKind.ACCOUNT,
    NodeKind.PHONE,
    NodeKind.DOCUMENT,
    NodeKind.AUTHOR,
}
TENDEREE_NODES = {NodeKind.PERSON, NodeKind.DEVICE, NodeKind.MAC, NodeKind.ACCOUNT, NodeKind.AUTHOR}
RELATION_NODE = {
    Relation.MACHINE_CODE: NodeKind.DEVICE,
    Relation.MAC: NodeKind.MAC,
    Relation.UPLOAD_IP: NodeKind.IP,
    Relation.AGENT: NodeKind.PERSON,
    Relation.PROJECT_MANAGER: NodeKind.PERSON,
    Relation.CONTACT: NodeKind.PERSON,
    Relation.PHONE: NodeKind.PHONE,
    Relation.DEPOSIT_ACCOUNT: NodeKind.ACCOUNT,
    Relation.AUTHOR: NodeKind.AUTHOR,
    Relation.FILE_DIGEST: NodeKind.DOCUMENT,
}


@pytest.fixture(scope="module")
def market():
    return simulate_market(400, 11, texts=True)


def nodes(party, kinds):
    return {link.node for link in party.links if link.kind in kinds}


def shared_statutory(lot):
    bidders = lot.bidders
    pairs = [
        nodes(a, STATUTORY_NODES) & nodes(b, STATUTORY_NODES) for a, b in itertools.combinations(bidders, 2)
    ]
    others = set().union(*(nodes(p, TENDEREE_NODES) for p in lot.parties if p.role != PartyRole.BIDDER))
    return set().union(*pairs, *(nodes(p, TENDEREE_NODES) & others for p in bidders))


def lots_of(market, kind=None, benign=None):
    return [
        lot
        for lot in market.lots
        if (kind is None or market.truth[lot.lot]["kind"] == kind)
        and (benign is None or market.truth[lot.lot]["benign"] == benign)
    ]


def csv_text(m, tmp_path, name):
    path = tmp_path / name
    write_bids_csv(m, path)
    return path.read_text(encoding="utf-8")


def test_same_seed_gives_the_same_market_and_another_seed_another(tmp_path):
    a, b, c = simulate_market(150, 5), simulate_market(150, 5), simulate_market(150, 6)
    assert csv_text(a, tmp_path, "a.csv") == csv_text(b, tmp_path, "b.csv")
    assert a.truth == b.truth
    assert a.lots == b.lots
    assert csv_text(a, tmp_path, "a.csv") != csv_text(c, tmp_path, "c.csv")


def test_labels_follow_the_injected_cartels(market):
    collusive = 0
    for lot in market.lots:
        truth = market.truth[lot.lot]
        labels = {b.party: market.bid_labels[b.bid] for b in lot.bids}
        assert truth["label"] == max(labels.values())
        assert truth["label"] == int(truth["kind"] != "")
        assert {p for p, v in labels.items() if v} == set(truth["members"])
        collusive += truth["label"]
        if truth["label"]:
            assert truth["designated"] in truth["members"]
    assert collusive == round(400 * 0.2) == 80


def test_every_tender_has_three_bids_one_winner_and_prices_under_the_ceiling(market):
    for lot in market.lots:
        assert len(lot.bids) >= 3
        assert sum(1 for b in lot.bids if b.is_winner) == 1
        assert all(0 < b.price <= lot.ceiling for b in lot.bids)
        if market.truth[lot.lot]["award"] == "lowest_price":
            assert next(b for b in lot.bids if b.is_winner).price == min(b.price for b in lot.bids)


def test_every_cartel_kind_is_present(market):
    assert {market.truth[lot.lot]["kind"] for lot in market.lots} == {"", *CARTEL_KINDS}


@pytest.mark.parametrize("kind", EVIDENCE_KINDS)
def test_evidence_cartels_leak_the_links_their_truth_names(market, kind):
    leaked = 0
    for lot in lots_of(market, kind):
        truth = market.truth[lot.lot]
        for relation in truth["evidence"]:
            node_kind = RELATION_NODE[relation]
            found = False
            for a, b in truth["evidence_pairs"]:
                pa, pb = lot.party(a), lot.party(b)
                found |= bool(nodes(pa, {node_kind}) & nodes(pb, {node_kind}))
            assert found, (lot.lot, relation)
            leaked += 1
        if any(RELATION_NODE[r] != NodeKind.IP for r in truth["evidence"]):
            assert shared_statutory(lot)
    assert leaked > 0


@pytest.mark.parametrize("kind", PRICE_ONLY_KINDS)
def test_price_only_cartels_leave_no_statutory_link(market, kind):
    found = lots_of(market, kind)
    assert found
    for lot in found:
        assert market.truth[lot.lot]["evidence"] == []
        assert shared_statutory(lot) == set()


def test_no_competitive_tender_has_a_statutory_link(market):
    competitive = [lot for lot in market.lots if not market.truth[lot.lot]["label"]]
    assert len(competitive) == 320
    assert all(shared_statutory(lot) == set() for lot in competitive)


def test_each_benign_collision_is_present_with_its_evidence_and_nothing_statutory(market):
    assert {market.truth[lot.lot]["benign"] for lot in market.lots} >= set(BENIGN_KINDS)
    for lot in lots_of(market, benign="internet_cafe") + lots_of(market, benign="shared_agency"):
        ips = [nodes(p, {NodeKind.IP}) for p in lot.bidders]
        uploads = [
            {(link.kind, link.value) for link in p.links if link.relation == Relation.UPLOAD_IP}
            for p in lot.bidders
        ]
        assert any(a & b for a, b in itertools.combinations(uploads, 2))
        agency = next(p for p in lot.parties if p.role == PartyRole.AGENCY)
        with_agency = any(ip & nodes(agency, {NodeKind.IP}) for ip in ips)
        assert with_agency == (market.truth[lot.lot]["benign"] == "shared_agency")
    for lot in lots_of(market, benign="same_region"):
        addresses = [nodes(p, {NodeKind.ADDRESS}) for p in lot.bidders]
        assert any(a & b for a, b in itertools.combinations(addresses, 2))
    for lot in lots_of(market, benign="common_template"):
        passages = {s for s in lot.template_text.split("。")[1:] if s}
        for bid in lot.bids:
            assert sum(1 for s in passages if s in bid.text) == 8
    for lot in market.lots:
        if market.truth[lot.lot]["benign"] and not market.truth[lot.lot]["label"]:
            assert shared_statutory(lot) == set()


def test_shared_document_covers_copy_the_preparers_text(market):
    lot = next(x for x in lots_of(market, "shared_document") if market.truth[x.lot]["evidence_pairs"])
    a, b = market.truth[lot.lot]["evidence_pairs"][0]
    text = {bid.party: bid.text for bid in lot.bids}
    own = set(text[a].split("。")[1:]) & set(text[b].split("。")[1:])
    assert len(own) >= 5  # beyond the 3 template passages every bid quotes


def test_collusive_prices_follow_the_literature(market):
    def med(kind_lots, screen):
        return statistics.median(
            screens.screens([b.price for b in lot.bids], estimate=lot.estimate, ceiling=lot.ceiling)[screen]
            for lot in kind_lots
        )

    competitive = [lot for lot in market.lots if not market.truth[lot.lot]["label"]]
    complete = lots_of(market, "cover") + lots_of(market, "rotation")
    assert med(complete, "cv") < 0.03 < 0.05 < med(competitive, "cv")
    assert med(complete, "rdnor") > med(competitive, "rdnor")
    assert med(complete, "min_to_estimate") > med(competitive, "min_to_estimate") + 0.05
    collusive = [lot for lot in market.lots if market.truth[lot.lot]["label"]]
    assert med(collusive, "cv") < med(competitive, "cv")


def test_rotation_rings_rotate_and_cover_rings_have_a_leader():
    m = simulate_market(600, 4, cartel_share=0.3, benign_share=0.0)
    for ring in m.rings:
        designated = [t["designated"] for t in m.truth.values() if t["ring"] == ring.index]
        if ring.kind == "rotation" and len(designated) >= len(ring.members):
            assert len(set(designated)) >= 2
        if ring.kind == "cover" and len(designated) >= 8:
            assert designated.count(ring.leader) > len(designated) / 2


def test_bids_csv_has_the_evaluation_columns(market, tmp_path):
    rows = list(csv.DictReader(io.StringIO(csv_text(market, tmp_path, "bids.csv"))))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    assert len(rows) == sum(len(lot.bids) for lot in market.lots)
    assert sum(int(r["label"]) for r in rows) == sum(market.bid_labels.values())
    assert {r["kind"] for r in rows} == {"", *CARTEL_KINDS}
    assert {r["benign"] for r in rows} == {"", *BENIGN_KINDS}
    first = market.lots[0]
    assert rows[0]["tender_id"] == first.lot
    assert float(rows[0]["estimate"]) == first.estimate
    assert sum(int(r["is_winner"]) for r in rows) == len(market.lots)


def test_evidence_jsonl_reads_back_the_same_lots(tmp_path):
    m = simulate_market(30, 2, texts=True)
    write_evidence_jsonl(m, tmp_path / "ev.jsonl")
    assert read_evidence_jsonl(tmp_path / "ev.jsonl") == m.lots


def test_options_are_checked():
    with pytest.raises(TypeError, match="unknown option"):
        simulate_market(10, 1, cartels=3)
    with pytest.raises(ValueError, match="cartel_share"):
        simulate_market(10, 1, cartel_share=1.5)
    with pytest.raises(ValueError, match="tenders"):
        simulate_market(0, 1)
    clean = simulate_market(50, 1, cartel_share=0.0, benign_share=0.0)
    assert not any(t["label"] or t["benign"] for t in clean.truth.values())


def test_command_writes_the_files_and_prints_a_json_line(tmp_path):
    out = io.StringIO()
    call_command("simulate_market", tenders=60, seed=9, out=str(tmp_path / "m"), stdout=out)
    lines = out.getvalue().splitlines()
    summary = json.loads(lines[0])
    assert summary["tenders"] == 60
    assert summary["collusive_tenders"] == 12
    assert sum(summary["cartels"].values()) == 12
    assert summary["rows"] == summary["bids"]
    assert len(lines) == 2
    for name in ("bids.csv", "evidence.jsonl", "truth.json"):
        assert (tmp_path / "m" / name).is_file()
    truth = json.loads((tmp_path / "m" / "truth.json").read_text(encoding="utf-8"))
    assert sum(t["label"] for t in truth["lots"].values()) == 12


def test_command_refuses_bad_input(tmp_path):
    with pytest.raises(CommandError, match="tenders_invalid"):
        call_command("simulate_market", tenders=0, out=str(tmp_path), stdout=io.StringIO())
    with pytest.raises(CommandError, match="option_invalid"):
        call_command(
            "simulate_market", tenders=5, cartel_share=2.0, out=str(tmp_path / "x"), stdout=io.StringIO()
        )
    assert not (tmp_path / "x").exists()  # nothing half-written
    (tmp_path / "file").write_text("x")
    with pytest.raises(CommandError, match="out_invalid"):
        call_command("simulate_market", tenders=5, out=str(tmp_path / "file"), stdout=io.StringIO())
