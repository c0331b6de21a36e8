"""Every page and endpoint of the experts app refuses garbage with a 4xx — never a server error —
for every role, and a refused write leaves nothing behind."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from archive.models import JournalEntry
from experts.urls import urlpatterns
from tests.experts.room_world import room_world
from tests.factories import AgencyUserFactory, BidderUserFactory, UserFactory
from trading.models import Role

pytestmark = pytest.mark.django_db

GARBAGE = {
    "nonce": "\x00",
    "reason": "",
    "score": "abc",
    "group": "x",
    "more": "-1",
    "expert": "not-a-number",
    "rank": "99",
    "signed_on": "2026-13-45",
    "filed_on": "yesterday",
    "amount": "1e400",
    "evaluation_starts_at": "soon",
    "evaluation_ends_at": "",
    "specialty": ["ZZZ"],
    "count": ["many"],
    "reserves": [""],
    "answer": "",
    "text": "",
    "upheld": "maybe",
    "approve": "perhaps",
    "status": "sideways",
    "file": "",
}


def urls(lot_id: int) -> list[str]:
    out = []
    for p in urlpatterns:
        assert isinstance(p, URLPattern)
        kwargs = {}
        for name, conv in p.pattern.converters.items():
            kind = type(conv).__name__
            if kind == "UUIDConverter":
                kwargs[name] = uuid.uuid4()
            elif name == "lot_id":
                kwargs[name] = lot_id
            else:
                kwargs[name] = 999_999
        out.append(reverse(f"experts:{p.name}", kwargs=kwargs))
    return out


def test_no_experts_endpoint_answers_garbage_with_a_server_error(clock):
    world = room_world(clock=clock)
    member = world.assignments[0].expert.user
    users = {
        "anonymous": None,
        "bidder": world.hall.bidders[0].user,
        "stranger_bidder": BidderUserFactory(),
        "agency": AgencyUserFactory(entity=world.tender.agency),
        "centre": world.host,
        "regulator": world.regulator,
        "expert_member": member,
        "admin": UserFactory(role=Role.ADMIN),
    }
    before = JournalEntry.objects.count()
    failures = []
    for label, user in users.items():
        client = Client(raise_request_exception=False)
        if user is not None:
            client.force_login(user)
        for url in urls(world.lot.pk):
            for method in ("get", "post"):
                response = getattr(client, method)(url, GARBAGE) if method == "post" else client.get(url)
                if response.status_code >= 500:
                    failures.append((label, method, url, response.status_code))
    assert failures == [], failures
    # every garbage write was refused: nothing reached the journal
    assert JournalEntry.objects.count() == before
