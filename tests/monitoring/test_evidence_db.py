"""Reading a lot's evidence from the database: registry, bid, bid security and activity evidence become
links on the parties, normalised so that equal facts meet on one node."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bidding.models import BidSecurity
from monitoring.evidence import NodeKind, PartyRole, Relation
from monitoring.evidence_db import lot_evidence, norm_digits, norm_serial, norm_text
from tests.bidding.opening_world import hall_world
from tests.factories import PersonFactory
from trading.models import ActivityEvidence, BankAccount, Position, PositionRole, Shareholder

pytestmark = pytest.mark.django_db


def _links(ev, key, relation):
    party = ev.party(str(key))
    return {(link.kind, link.value) for link in party.links if link.relation == relation}


def test_normalisation_makes_equal_facts_equal():
    assert norm_digits("0771-5512 345") == "07715512345"
    assert norm_serial("aa:bb-cc dd") == "AABBCCDD"
    assert norm_text("广西 南宁市，民族大道１号") == norm_text("广西南宁市民族大道1号")


def test_registry_bid_security_and_activity_evidence_become_links(clock):
    world = hall_world(clock=clock, bids=3)
    a, b, c = (x.entity for x in world.bidders)
    shared = PersonFactory()
    Position.objects.create(entity=a, person=shared, role=PositionRole.AGENT)
    Shareholder.objects.create(entity=b, person=shared, share_pct=Decimal("60"), is_controlling=True)
    Shareholder.objects.create(entity=c, holder_entity=a, share_pct=Decimal("10"))
    BankAccount.objects.create(
        entity=a, bank_name="工行", account_name=a.name, account_number="6222 0000 1111"
    )
    BidSecurity.objects.filter(lot=world.lot, entity=b).update(payer_account_number="6222-0000-1111")
    for entity in (a, c):
        ActivityEvidence.objects.create(
            at=clock(),
            action=ActivityEvidence.Action.UPLOAD,
            entity=entity,
            tender=world.tender,
            ip="10.1.2.3",
            hardware={"machine_code": "mc-77aa", "mac": "00:1a:2b:3c:4d:5e"},
            file_sha256="ab" * 32,
            file_meta={"author": "王 造价", "template_id": "T-1", "file_md5": "c" * 32},
        )

    ev = lot_evidence(world.lot)

    assert [p.role for p in ev.parties].count(PartyRole.BIDDER) == 3
    assert {p.role for p in ev.parties} == {PartyRole.BIDDER, PartyRole.TENDEREE, PartyRole.AGENCY}
    assert [row.price for row in ev.bids] == [None, None, None]  # not decrypted yet: no price known
    assert (NodeKind.PERSON, str(shared.pk)) in _links(ev, a.pk, Relation.AGENT)
    assert (NodeKind.PERSON, str(shared.pk)) in _links(ev, b.pk, Relation.CONTROLLER)
    assert (NodeKind.ENTITY, str(a.pk)) in _links(ev, c.pk, Relation.SHAREHOLDER)
    assert _links(ev, a.pk, Relation.BANK_ACCOUNT) == {(NodeKind.ACCOUNT, "622200001111")}
    assert _links(ev, b.pk, Relation.DEPOSIT_ACCOUNT) == {(NodeKind.ACCOUNT, "622200001111")}
    for entity in (a, c):
        assert _links(ev, entity.pk, Relation.UPLOAD_IP) == {(NodeKind.IP, "10.1.2.3")}
        assert _links(ev, entity.pk, Relation.MACHINE_CODE) == {(NodeKind.DEVICE, "machine_code:MC77AA")}
        assert _links(ev, entity.pk, Relation.MAC) == {(NodeKind.MAC, "001A2B3C4D5E")}
        assert (NodeKind.AUTHOR, "author:王造价") in _links(ev, entity.pk, Relation.AUTHOR)
        assert (NodeKind.DOCUMENT, "ab" * 32) in _links(ev, entity.pk, Relation.FILE_DIGEST)
    # The tender's own template id is shared by every bidder: it is not evidence of anything.
    assert not any("template_id" in link.value for p in ev.parties for link in p.links)
    assert _links(ev, b.pk, Relation.UPLOAD_IP) == set()
    # Each bid's signing certificate is a link; its form (and the project manager named there) is sealed
    # until the opening, so nothing of it is known yet.
    for x in world.bidders:
        assert (NodeKind.DONGLE, x.cert.serial) in _links(ev, x.entity.pk, Relation.DONGLE)
        assert _links(ev, x.entity.pk, Relation.PROJECT_MANAGER) == set()


def test_a_project_manager_named_in_two_bids_resolves_to_the_registered_person(clock):
    world = hall_world(clock=clock, bids=2)
    a, b = (x.entity for x in world.bidders)
    pm = PersonFactory()
    reg_no = "桂1452019201912345"
    Position.objects.create(
        entity=a, person=pm, role=PositionRole.PROJECT_MANAGER, professional_reg_no=reg_no
    )
    world.bidders[0].bid.form = {"price": "100", "project_manager": {"name": "x", "reg_no": reg_no}}
    world.bidders[0].bid.save()
    world.bidders[1].bid.form = {"price": "101", "project_manager": {"name": "y", "reg_no": reg_no}}
    world.bidders[1].bid.save()

    ev = lot_evidence(world.lot)

    assert (NodeKind.PERSON, str(pm.pk)) in _links(ev, b.pk, Relation.PROJECT_MANAGER)
    assert (NodeKind.PERSON, str(pm.pk)) in _links(ev, a.pk, Relation.PROJECT_MANAGER)
    assert sorted(row.price for row in ev.bids) == [100.0, 101.0]
    # An unregistered number is still a node of its own, shared by the bids that name it.
    world.bidders[1].bid.form = {"price": "101", "project_manager": {"name": "y", "reg_no": "粤 0001"}}
    world.bidders[1].bid.save()
    ev = lot_evidence(world.lot)
    assert _links(ev, b.pk, Relation.PROJECT_MANAGER) == {(NodeKind.PERSON, "reg:粤0001")}
