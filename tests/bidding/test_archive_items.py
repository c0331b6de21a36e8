"""Bidding's items in a project's archival package (issue 6 item 1): every bid with its ciphertext,
envelope data, receipt, withdrawal and — once opened — its form and content key; the securities; the
opening hall, its sign-ins, objections, read-out and signed record. A bid never opened stays sealed:
its ciphertext alone beside JSON metadata."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest

from archive.blobs import blob_open
from archive.providers import collect
from bidding import archive, envelope
from bidding.models import Bid
from bidding.opening import rules
from bidding.opening import services as opening
from bidding.receipts import receipt_verify
from bidding.services.withdrawal import bid_withdraw
from core.canonical import canonical_json
from tests.bidding.opening_world import DEADLINE, hall_world
from tests.experts.test_archive_items import awarded_tender, receipted, snapshot
from trading import pki
from trading.models import Lot, TenderState

pytestmark = pytest.mark.django_db

OPENED = ("ciphertext.bin", "bid.json", "receipt.json", "opened.json", "document.pdf")
OPENING = [
    "lots/1/opening/session.json",
    "lots/1/opening/signins.json",
    "lots/1/opening/signins/0001-attorney.pdf",
    "lots/1/opening/objections.json",
    "lots/1/opening/readout.json",
    "lots/1/opening/record.json",
    "lots/1/opening/record.pdf",
]
AWARDED = [
    *(f"lots/1/bids/000{n}/{name}" for n in (1, 2, 3) for name in OPENED),
    "lots/1/bids/0004/ciphertext.bin",
    "lots/1/bids/0004/bid.json",
    "lots/1/bids/0004/receipt.json",
    "lots/1/bids/0004/withdrawal.json",
    "lots/1/securities.json",
    *OPENING,
]
FAILED = [
    "lots/1/bids/0001/ciphertext.bin",
    "lots/1/bids/0001/bid.json",
    "lots/1/bids/0001/receipt.json",
    "lots/1/bids/0002/ciphertext.bin",
    "lots/1/bids/0002/bid.json",
    "lots/1/bids/0002/receipt.json",
    "lots/1/bids/0003/ciphertext.bin",
    "lots/1/bids/0003/bid.json",
    "lots/1/bids/0003/receipt.json",
    "lots/1/bids/0003/withdrawal.json",
    "lots/1/securities.json",
    "lots/1/opening/session.json",
    "lots/1/opening/signins.json",
    "lots/1/opening/record.json",
    "lots/1/opening/record.pdf",
]


def failed_before_opening(clock):
    """Three sealed bids, one withdrawn before the deadline; the two left are too few: the host fails
    the lot when publishing the bidders (流标), nothing is ever decrypted."""
    clock.set(DEADLINE - dt.timedelta(days=20))
    world = hall_world(clock=clock, bids=3)
    bid_withdraw(bid=world.bidders[2].bid, user=world.bidders[2].user)
    clock.set(DEADLINE - dt.timedelta(hours=1))
    opening.opening_tick(lot=world.lot)
    for b in world.bidders[:2]:
        opening.opening_signin(lot=world.lot, user=b.user)
    clock.set(DEADLINE)
    opening.opening_tick(lot=world.lot)
    opening.opening_publish_bidders(
        lot=world.lot, actor=world.host, decision=rules.FAIL, reason="投标人不足三家"
    )
    world.tender.refresh_from_db()
    assert (
        world.tender.state == TenderState.FAILED
        and Lot.objects.get(pk=world.lot.pk).status == Lot.Status.FAILED
    )
    return world


def _folders_of_sealed(items) -> dict[str, list[str]]:
    sealed = {i.path.rsplit("/", 1)[0] for i in items if i.sealed}
    return {
        f: sorted(i.path.rsplit("/", 1)[1] for i in items if i.path.rsplit("/", 1)[0] == f) for f in sealed
    }


def test_an_awarded_tender_archives_every_bid_and_the_opening(clock):
    story = awarded_tender(clock)
    items = archive.items(story.project)

    assert [i.path for i in items] == AWARDED
    by_path = {i.path: i for i in items}
    data = {p: json.loads(i.data) for p, i in by_path.items() if i.data is not None and p.endswith(".json")}
    assert not any(i.public for i in items)
    # opened bids: the archived content key opens the archived ciphertext to the archived form
    for n, bidder in enumerate(story.world.bidders[:3], start=1):
        folder = f"lots/1/bids/000{n}"
        bid = Bid.objects.get(pk=bidder.bid.pk)
        assert not by_path[f"{folder}/ciphertext.bin"].sealed
        assert by_path[f"{folder}/ciphertext.bin"].blob == bid.ciphertext_id
        assert by_path[f"{folder}/receipt.json"].data == canonical_json(bid.receipt)
        assert receipt_verify(data[f"{folder}/receipt.json"], ca_pem=pki.ca_certificate_pem())[
            "bid_id"
        ] == str(bid.pk)
        meta, opened = data[f"{folder}/bid.json"], data[f"{folder}/opened.json"]
        with blob_open(bid.ciphertext) as fh:
            again = envelope.open_stream(
                header_bytes=envelope.b64u_decode(meta["envelope"]["header"]),
                cek=envelope.cek_from_b64u(opened["content_key"]),
                ciphertext=io.BytesIO(fh.read()),
                ciphertext_sha256=meta["envelope"]["ciphertext_sha256"],
            )
        assert again.form == opened["form"] and opened["form"]["price"] == bid.form["price"]
        # and the document itself, as the committee read it, is a file of its own: the sealed digest
        assert by_path[f"{folder}/document.pdf"].blob == bid.document_meta["sha256"]
    # the withdrawn bid stays sealed: its ciphertext alone beside JSON metadata
    assert _folders_of_sealed(items) == {
        "lots/1/bids/0004": ["bid.json", "ciphertext.bin", "receipt.json", "withdrawal.json"]
    }
    assert data["lots/1/bids/0004/withdrawal.json"]["journal"]["seq"] > 0
    # the opening: the record re-checks, the objection has its answer, the read-out names bids 1–3
    record = data["lots/1/opening/record.json"]
    assert pki.platform_verify(canonical_json(record["data"]), envelope.b64u_decode(record["signature"]))
    assert by_path["lots/1/opening/record.pdf"].blob
    (objection,) = data["lots/1/opening/objections.json"]["objections"]
    assert objection["answer"] == "工期为180日历天，已当场核对。"
    assert [b["n"] for b in data["lots/1/opening/readout.json"]["bids"]] == [1, 2, 3]
    assert (
        data["lots/1/opening/signins.json"]["signins"][0]["attorney"]["path"] == "signins/0001-attorney.pdf"
    )

    # the other tender (failed before its opening) shares nothing with this one, and vice versa
    failed = failed_before_opening(clock)
    others = archive.items(f"tender:{failed.tender.pk}")
    assert {i.blob for i in items if i.blob}.isdisjoint({i.blob for i in others if i.blob})
    for mine, theirs in ((items, failed), (others, story.world)):
        for b in theirs.bidders:
            assert not any(i.data and str(b.bid.pk).encode() in i.data for i in mine)
    # deterministic, and the package collects
    paths = [p for p, _i in collect(story.project)]
    assert [p for p in paths if p.startswith("bidding/")] == sorted(f"bidding/{p}" for p in AWARDED)
    assert snapshot(archive.items(story.project)) == snapshot(items)


def test_the_bids_of_a_tender_failed_before_its_opening_stay_sealed(clock):
    world = failed_before_opening(clock)
    for b in world.bidders:
        receipted(b.bid)
    project = f"tender:{world.tender.pk}"

    items = archive.items(project)

    assert [i.path for i in items] == FAILED
    assert _folders_of_sealed(items) == {
        "lots/1/bids/0001": ["bid.json", "ciphertext.bin", "receipt.json"],
        "lots/1/bids/0002": ["bid.json", "ciphertext.bin", "receipt.json"],
        "lots/1/bids/0003": ["bid.json", "ciphertext.bin", "receipt.json", "withdrawal.json"],
    }
    assert not any(i.public for i in items)
    assert all(i.media_type == "application/json" for i in items if "/bids/" in i.path and not i.sealed)
    bid = json.loads(next(i.data for i in items if i.path == "lots/1/bids/0001/bid.json"))
    assert bid["opened"] is False and bid["decryption"] == Bid.Decryption.PENDING
    header = json.loads(envelope.b64u_decode(bid["envelope"]["header"]))
    assert bid["envelope"]["ciphertext_size"] == envelope.expected_ciphertext_size(header)
    record = json.loads(next(i.data for i in items if i.path == "lots/1/opening/record.json"))
    assert record["data"]["body"]["outcome"] == "failed" and record["data"]["body"]["valid_bids"] == 0
    assert snapshot(archive.items(project)) == snapshot(items)
    assert {p for p, _i in collect(project) if p.startswith("bidding/")} == {f"bidding/{p}" for p in FAILED}
