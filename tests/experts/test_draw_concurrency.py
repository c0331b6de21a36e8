"""The draw under concurrency on PostgreSQL: two supervisors pressing "draw" at once perform it once;
members leaving at the same moment each call a different reserve, and no reserve is called twice."""

from __future__ import annotations

import pytest
from django.db import connection

from archive.journal import verify_stream
from core.errors import DomainError
from experts.models import Assignment, Draw
from experts.services import draw as draws
from tests.bidding.test_concurrency import run_together
from tests.experts.world import draw_world
from tests.factories import UserFactory
from trading.models import Role

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks need PostgreSQL (make test-services)"
    ),
]


def test_two_supervisors_at_once_perform_the_draw_once(clock):
    world = draw_world(clock=clock, experts=12)
    draw = world.request()
    other = UserFactory(role=Role.REGULATOR)
    results = run_together(
        [
            lambda: draws.draw_perform(draw=draw, nonce="first-nonce", actor=world.supervisor),
            lambda: draws.draw_perform(draw=draw, nonce="second-nonce", actor=other),
        ]
    )
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(refused) == 1 and refused[0].code == "draw_state"
    draw.refresh_from_db()
    assert draw.state == Draw.State.DRAWN and draw.nonce in {"first-nonce", "second-nonce"}
    assert Assignment.objects.filter(draw=draw).count() == 8


def test_members_leaving_at_once_call_different_reserves(clock):
    world = draw_world(clock=clock, experts=12)
    draw = world.perform(world.request(groups=[{"specialty": "A0101", "count": 4, "reserves": 4}]))
    leaving = draws.committee_assignments(draw)
    results = run_together(
        [
            (lambda a=a: draws.assignment_decline(assignment=a, actor=a.expert.user, reason="同时请假"))
            for a in leaving
        ]
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    called = [r.pk for r in results]
    assert len(set(called)) == 4  # four leavers, four different reserves
    assert Assignment.objects.filter(draw=draw, status=Assignment.Status.NOTIFIED).count() == 4
    assert Assignment.objects.filter(draw=draw, status=Assignment.Status.RESERVE).count() == 0
    assert verify_stream(world.tender.stream) is None
