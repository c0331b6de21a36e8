"""Object-level access for every role, as one table: who may read entity A's private data,
change its registration, manage tender T, and read T while it is a draft or once published."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from core.errors import AccessDenied
from tests.factories import (
    AgencyUserFactory,
    BidderUserFactory,
    MarketEntityFactory,
    TenderFactory,
    UserFactory,
)
from trading import models as m
from trading.access import entity_access_edit, entity_access_private, tender_access_manage, tender_access_read

pytestmark = pytest.mark.django_db

OK = "allowed"


@pytest.fixture
def world():
    entity_a = MarketEntityFactory(name="投标人A")
    entity_b = MarketEntityFactory(name="投标人B")
    tender = TenderFactory(state=m.TenderState.DRAFT)
    users = {
        "anonymous": AnonymousUser(),
        "bidder A": BidderUserFactory(entity=entity_a),
        "bidder B": BidderUserFactory(entity=entity_b),
        "agency of T": AgencyUserFactory(entity=tender.agency),
        "tenderee of T": AgencyUserFactory(entity=tender.tenderee),
        "other agency": AgencyUserFactory(),
        "centre": UserFactory(role=m.Role.CENTRE),
        "regulator": UserFactory(role=m.Role.REGULATOR),
        "expert": UserFactory(role=m.Role.EXPERT),
        "social supervisor": UserFactory(role=m.Role.SUPERVISOR),
        "admin": UserFactory(role=m.Role.ADMIN),
    }
    return {"entity_a": entity_a, "tender": tender, "users": users}


def read_private(w, user):
    return entity_access_private(user=user, entity=w["entity_a"])


def edit_entity(w, user):
    return entity_access_edit(user=user, entity=w["entity_a"])


def manage_tender(w, user):
    return tender_access_manage(user=user, tender=w["tender"])


def read_draft(w, user):
    return tender_access_read(user=user, tender=w["tender"])


def read_published(w, user):
    w["tender"].state = m.TenderState.PUBLISHED
    return tender_access_read(user=user, tender=w["tender"])


ACTIONS = {
    "read entity A private": read_private,
    "edit entity A": edit_entity,
    "manage tender T": manage_tender,
    "read draft T": read_draft,
    "read published T": read_published,
}

NA = "not_authenticated"
PRIV = "entity_private"
MINE = "entity_not_yours"
TNY = "tender_not_yours"
HIDDEN = "tender_not_public"

# fmt: off
# role:            read A private, edit A, manage T, read draft T, read published T
TABLE = {
    "anonymous":     (NA,   NA,   NA,  HIDDEN, OK),
    "bidder A":      (OK,   OK,   TNY, HIDDEN, OK),
    "bidder B":      (PRIV, MINE, TNY, HIDDEN, OK),
    "agency of T":   (PRIV, MINE, OK,  OK,     OK),
    "tenderee of T": (PRIV, MINE, OK,  OK,     OK),
    "other agency":  (PRIV, MINE, TNY, HIDDEN, OK),
    "centre":        (OK,   MINE, OK,  OK,     OK),
    "regulator":     (OK,   MINE, TNY, OK,     OK),
    "expert":        (PRIV, MINE, TNY, HIDDEN, OK),
    "social supervisor": (PRIV, MINE, TNY, HIDDEN, OK),
    "admin":         (OK,   MINE, OK,  OK,     OK),
}
# fmt: on
STATUS = {NA: 401, PRIV: 403, MINE: 403, TNY: 403, HIDDEN: 404}

CASES = [
    pytest.param(role, action, expected, id=f"{role} / {action}")
    for role, row in TABLE.items()
    for action, expected in zip(ACTIONS, row, strict=True)
]


@pytest.mark.parametrize(("role", "action", "expected"), CASES)
def test_access_matrix(world, role, action, expected):
    # given a user of this role
    user = world["users"][role]

    # when they try the action
    try:
        ACTIONS[action](world, user)
        outcome, status = OK, None
    except AccessDenied as exc:
        outcome, status = exc.code, exc.status

    # then it is allowed, or refused with exactly this code and status
    assert outcome == expected
    if expected != OK:
        assert status == STATUS[expected]


def test_table_covers_every_role():
    covered = {
        "bidder": "bidder A",
        "agency": "agency of T",
        "centre": "centre",
        "regulator": "regulator",
        "expert": "expert",
        "supervisor": "social supervisor",
        "admin": "admin",
    }
    assert set(covered) == set(m.Role.values)
    assert set(covered.values()) <= set(TABLE)


def test_bidder_sees_its_own_private_data_but_not_after_moving_to_another_entity(world):
    # given
    user = world["users"]["bidder A"]
    entity_access_private(user=user, entity=world["entity_a"])
    # when the user now acts for another entity
    user.entity = MarketEntityFactory()
    # then
    with pytest.raises(AccessDenied) as exc:
        entity_access_private(user=user, entity=world["entity_a"])
    assert exc.value.code == PRIV


def test_a_bidder_staff_of_the_agency_entity_does_not_manage_its_tenders(world):
    # given a user with the bidder role whose entity happens to be the tender's agency
    user = BidderUserFactory(entity=world["tender"].agency)
    # when / then: managing needs the agency role, not only the entity
    with pytest.raises(AccessDenied) as exc:
        tender_access_manage(user=user, tender=world["tender"])
    assert exc.value.code == TNY
