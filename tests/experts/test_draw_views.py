"""The draw pages: who may request, perform, see names; the public record before and after the reveal."""

from __future__ import annotations

import pytest
from django.urls import reverse

from experts.models import Assignment, Draw
from experts.services import draw as draws
from tests.experts.world import SPECIALTY, draw_world
from tests.factories import BidderUserFactory
from trading.models import Lot, TenderState

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(clock):
    return draw_world(clock=clock, experts=10)


def as_user(client, user):
    client.force_login(user)
    return client


def request_form(world) -> dict:
    start = world.starts.astimezone(world.tender.deadline.tzinfo)
    return {
        "specialty": [SPECIALTY, ""],
        "count": ["4", ""],
        "reserves": ["3", ""],
        "evaluation_starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "evaluation_ends_at": start.replace(hour=start.hour + 4).strftime("%Y-%m-%dT%H:%M"),
        "region_include": "45",
        "region_exclude": "",
        "same_employer_limit": "1",
        "tenderee_limit": "3",
        "tenderee_window_days": "90",
        "age_cap": "70",
    }


def test_centre_requests_a_draw_from_the_form(world, client):
    response = as_user(client, world.centre).post(
        reverse("experts:draw_new", args=[world.lot.pk]), request_form(world)
    )
    draw = Draw.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "experts:draw_detail", args=[draw.pk]
    )
    assert draw.request["groups"] == [{"specialty": SPECIALTY, "count": 4, "reserves": 3, "main_only": True}]
    assert draw.request["region_include"] == ["45"]


def test_a_bad_form_shows_the_code_and_writes_nothing(world, client):
    form = request_form(world) | {"specialty": ["NOPE"]}
    response = as_user(client, world.centre).post(reverse("experts:draw_new", args=[world.lot.pk]), form)
    assert response.status_code == 400 and b"draw_request_invalid" in response.content
    assert not Draw.objects.exists()


def test_bidders_and_experts_may_not_see_draws(world, client):
    draw = world.request()
    for user in (BidderUserFactory(), world.experts[0].user):
        client.force_login(user)
        assert client.get(reverse("experts:draw_detail", args=[draw.pk])).status_code == 403
        assert client.get(reverse("experts:draw_list")).status_code == 403


def test_the_supervisor_performs_and_centre_sees_no_names(world, client):
    draw = world.request()
    response = as_user(client, world.supervisor).post(
        reverse("experts:draw_perform", args=[draw.pk]), {"nonce": "abc-12345"}
    )
    assert response.status_code == 302
    draw.refresh_from_db()
    names = [a.expert.person.name for a in draws.committee_assignments(draw)]
    centre_page = (
        as_user(client, world.centre).get(reverse("experts:draw_detail", args=[draw.pk])).content.decode()
    )
    regulator_page = (
        as_user(client, world.regulator).get(reverse("experts:draw_detail", args=[draw.pk])).content.decode()
    )
    assert not any(n in centre_page for n in names)
    assert all(n in regulator_page for n in names)


def test_the_requester_cannot_perform(world, client):
    draw = world.request()
    response = as_user(client, world.centre).post(
        reverse("experts:draw_perform", args=[draw.pk]), {"nonce": "abc-12345"}
    )
    assert response.status_code == 403
    draw.refresh_from_db()
    assert draw.state == Draw.State.COMMITTED


def test_the_public_record_hides_the_order_until_the_reveal(world, client):
    draw = world.perform(world.request())
    before = client.get(reverse("experts:draw_record", args=[draw.pk])).json()
    assert before["seed"] is None and "order" not in before["groups"][0] and "pool" not in before["groups"][0]
    Lot.objects.filter(pk=world.lot.pk).update(status=Lot.Status.AWARDED)
    world.tender.state = TenderState.AWARDED
    world.tender.save(update_fields=["state"])
    draws.draw_reveal(draw=draw)
    after = client.get(reverse("experts:draw_record", args=[draw.pk])).json()
    assert after["seed"] and after["groups"][0]["order"]
    assert all(c.ok for c in draws.record_verify(after))


def test_the_expert_confirms_and_declines_on_their_page(world, client):
    draw = world.perform(world.request())
    first, second = draws.committee_assignments(draw)[:2]
    as_user(client, first.expert.user)
    page = client.get(reverse("experts:my_draws")).content.decode()
    assert world.tender.title not in page  # the project stays sealed
    assert client.post(reverse("experts:my_draw_confirm", args=[first.pk])).status_code == 302
    first.refresh_from_db()
    assert first.status == Assignment.Status.CONFIRMED
    # Someone else's seat is not found.
    assert (
        client.post(reverse("experts:my_draw_decline", args=[second.pk]), {"reason": "x"}).status_code == 404
    )
    as_user(client, second.expert.user)
    refused = client.post(reverse("experts:my_draw_decline", args=[second.pk]), {"reason": ""})
    assert refused.status_code == 400 and b"reason_required" in refused.content
    client.post(reverse("experts:my_draw_decline", args=[second.pk]), {"reason": "出差"})
    second.refresh_from_db()
    assert second.status == Assignment.Status.DECLINED


def test_the_centre_extends_an_exhausted_group_from_the_page(world, client):
    draw = world.perform(world.request(groups=[{"specialty": SPECIALTY, "count": 4, "reserves": 0}]))
    leaver = draws.committee_assignments(draw)[0]
    draws.assignment_decline(assignment=leaver, actor=leaver.expert.user, reason="病假")
    as_user(client, world.centre)
    page = client.get(reverse("experts:draw_detail", args=[draw.pk])).content.decode()
    assert reverse("experts:draw_extend", args=[draw.pk]) in page
    bad = client.post(reverse("experts:draw_extend", args=[draw.pk]), {"group": "0", "more": "x"})
    assert bad.status_code == 400 and b"draw_extend_invalid" in bad.content
    client.post(reverse("experts:draw_extend", args=[draw.pk]), {"group": "0", "more": "2"})
    assert len(draws.committee_assignments(draw)) == 4
