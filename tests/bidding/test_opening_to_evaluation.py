"""A tender goes on to evaluation once the hall of every live lot is closed (DESIGN §3)."""

from __future__ import annotations

import pytest

from archive.models import JournalEntry
from bidding.opening import rules, services
from tests.bidding.opening_world import hall_world, seal_bid, to_readout
from tests.factories import LotFactory
from trading.models import TenderState

pytestmark = pytest.mark.django_db


def close(world, lot, clock):
    services.opening_start_confirmation(lot=lot, actor=world.host)
    clock.advance(minutes=rules.CONFIRMATION_MINUTES)
    return services.opening_tick(lot=lot)


def test_the_tender_moves_to_evaluation_when_its_only_hall_closes(clock):
    world = hall_world(clock=clock, bids=3)
    to_readout(world, clock)
    assert close(world, world.lot, clock).phase == rules.CLOSED
    world.tender.refresh_from_db()
    assert world.tender.state == TenderState.EVALUATION
    entry = JournalEntry.objects.filter(stream=world.tender.stream, action="tender.state_changed").last()
    assert entry.payload == {"from": "opening", "to": "evaluation", "reason": "openings closed"}


def test_the_tender_waits_for_the_hall_of_its_other_lot(clock):
    world = hall_world(clock=clock, bids=3)
    second = LotFactory(tender=world.tender, number=2)
    for b in world.bidders:
        first = (b.bid, b.cek)
        seal_bid(lot=second, bidder=b, price="1000000.00")
        b.bid, b.cek = first  # the world decrypts the first lot's bids
    to_readout(world, clock)
    close(world, world.lot, clock)
    world.tender.refresh_from_db()
    assert world.tender.state == TenderState.OPENING
