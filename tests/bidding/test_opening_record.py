"""The opening record (开标记录, DOMAIN B9): its data, the platform's signature over it, the PDF."""

from __future__ import annotations

import pytest

from archive.blobs import blob_open
from bidding.opening import rules, services
from bidding.opening.record import record_verify
from tests.bidding.opening_world import hall_world, refused, to_readout

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(clock):
    return hall_world(clock=clock)


def test_the_host_closes_after_every_confirmation_and_the_record_is_signed_and_printed(world, clock):
    to_readout(world, clock)
    services.opening_start_confirmation(lot=world.lot, actor=world.host)
    for b in world.bidders[:2]:
        services.bid_confirm_record(lot=world.lot, user=b.user)
    assert refused(services.opening_close, lot=world.lot, actor=world.host) == "confirmation_still_open"

    services.bid_confirm_record(lot=world.lot, user=world.bidders[2].user)
    session = services.opening_close(lot=world.lot, actor=world.host)

    record = session.record
    assert session.phase == rules.CLOSED and record_verify(record)
    body = record.data["body"]
    assert body["place"] == "不见面开标（线上）"
    first = body["bidders"][0]
    assert (first["price"], first["currency"], first["duration_days"]) == ("4000000.00", "CNY", 180)
    assert first["project_manager"]["reg_no"].startswith("桂")
    assert first["deposit"]["amount"] == "80000.00" and first["deposit"]["method"] == "guarantee"
    assert [c["method"] for c in record.data["confirmations"]] == ["click"] * 3
    with blob_open(record.pdf) as fh:
        assert fh.read(5) == b"%PDF-"


def test_a_tampered_record_no_longer_verifies(world, clock):
    to_readout(world, clock)
    services.opening_start_confirmation(lot=world.lot, actor=world.host)
    clock.advance(minutes=rules.CONFIRMATION_MINUTES)
    record = services.opening_tick(lot=world.lot).record

    record.data["body"]["bidders"][0]["price"] = "1.00"

    assert record_verify(record) is False
