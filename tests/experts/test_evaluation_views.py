"""The evaluation room's pages: the room (for members, centre staff, regulators; never bidders), the
centre's page that opens it, bid documents, the report, and the bidder's answer pages."""

from __future__ import annotations

import pytest
from django.test import Client

from experts.models import Clarification, EvaluationRoom, LowPriceJustification
from experts.services import evaluation as ev
from tests.experts.room_world import chair_user, declare_all, elect, room_world, to_detailed, to_summary
from tests.factories import BidderUserFactory

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_room_page_loads_its_script_with_the_csp_nonce_for_members_and_refuses_bidders(clock):
    world = room_world(clock=clock)
    url = f"/experts/evaluation/lots/{world.lot.pk}/"
    response = client_for(world.member(1).user).get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="room-declaration"' in page and "experts/room.js" in page and 'nonce="' in page
    assert 'data-ws-path="/ws/evaluation/' in page
    assert client_for(world.host).get(url).status_code == 200
    assert client_for(world.regulator).get(url).status_code == 200
    refused = client_for(world.bidders[0].user).get(url)
    assert refused.status_code == 403 and b"room_forbidden" in refused.content


def test_the_state_as_json(clock):
    world = room_world(clock=clock)
    response = client_for(world.member(2).user).get(f"/experts/evaluation/lots/{world.lot.pk}/state")
    assert response.status_code == 200
    assert response.json()["me"]["seat"] == 2


def test_centre_staff_open_the_room_from_its_page_with_a_representative(clock):
    world = room_world(clock=clock, open_room=False, reps=1)
    url = f"/experts/evaluation/lots/{world.lot.pk}/open"
    client = client_for(world.host)
    page = client.get(url)
    assert page.status_code == 200 and world.reps[0].display_name in page.content.decode()
    response = client.post(url, {"tenderee_reps": [str(world.reps[0].pk)]})
    assert response.status_code == 302 and response.url == f"/experts/evaluation/lots/{world.lot.pk}/"
    room = EvaluationRoom.objects.get(lot=world.lot)
    assert room.members.count() == 6
    assert client_for(world.regulator).get(url).status_code == 403


def test_the_open_page_shows_a_refusal_with_its_code(clock):
    world = room_world(clock=clock, open_room=False)
    world.draw.state = "committed"
    world.draw.save()
    response = client_for(world.host).post(f"/experts/evaluation/lots/{world.lot.pk}/open")
    assert response.status_code == 400 and b"draw_not_ready" in response.content


def test_a_member_downloads_a_bid_document(clock):
    world = room_world(clock=clock)
    declare_all(world)
    bid = world.bids[0]
    url = f"/experts/evaluation/lots/{world.lot.pk}/bids/{bid.pk}/document"
    response = client_for(world.member(1).user).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.7 tender"
    assert "attachment" in response["Content-Disposition"] and response["Content-Type"] == "application/pdf"
    assert client_for(world.regulator).get(url).status_code == 403


def test_the_report_pdf_exists_once_final(clock):
    world = room_world(clock=clock)
    to_summary(world)
    ev.report_build(room=world.room, actor=chair_user(world))
    client = client_for(world.member(1).user)
    base = f"/experts/evaluation/lots/{world.lot.pk}/report"
    assert client.get(base + ".pdf").status_code == 404
    assert client.get(base).json()["final"] is False
    for m in world.active():
        ev.report_sign(member=m, actor=m.user, agrees=True)
    response = client.get(base + ".pdf")
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    assert client_for(world.host).get(base).json()["final"] is True


def test_the_bidder_answers_a_clarification_on_its_page(clock):
    world = room_world(clock=clock)
    declare_all(world)
    elect(world)
    m = world.member(1)
    c = ev.clarification_ask(member=m, actor=m.user, bid=world.bids[0], question="请说明质量保证措施。")
    url = f"/experts/evaluation/clarifications/{c.pk}/"
    bidder = client_for(world.bidders[0].user)
    page = bidder.get(url)
    assert page.status_code == 200 and "请说明质量保证措施。" in page.content.decode()
    assert "evaluation/clarifications" in bidder.get("/experts/evaluation/answers/").content.decode()
    assert client_for(world.bidders[1].user).get(url).status_code == 404
    response = bidder.post(url, {"answer": "按ISO9001体系执行。"})
    assert response.status_code == 302
    c.refresh_from_db()
    assert c.answer == "按ISO9001体系执行。"
    assert bidder.post(url, {"answer": "again"}).status_code == 400


def test_the_bidder_justifies_a_low_price_on_its_page(clock):
    world = room_world(clock=clock, prices=("4000000.00", "4100000.00", "4200000.00", "2000000.00"))
    to_detailed(world)
    j = LowPriceJustification.objects.get()
    url = f"/experts/evaluation/justifications/{j.pk}/"
    low = client_for(world.bidders[3].user)
    assert low.get(url).status_code == 200
    assert low.post(url, {"text": " "}).status_code == 400
    assert low.post(url, {"text": "我公司有自有搅拌站，成本清单附后。"}).status_code == 302
    j.refresh_from_db()
    assert j.text.startswith("我公司有自有搅拌站")
    assert client_for(BidderUserFactory()).get(url).status_code == 404


def test_the_answers_page_is_for_bidders(clock):
    world = room_world(clock=clock)
    assert client_for(world.host).get("/experts/evaluation/answers/").status_code == 403
    assert Clarification.objects.count() == 0


def test_the_room_page_has_the_time_flag_and_the_correction_form_with_the_four_cases(clock):
    world = room_world(clock=clock)
    page = client_for(world.member(1).user).get(f"/experts/evaluation/lots/{world.lot.pk}/").content.decode()
    assert 'id="room-time-flag"' in page and 'id="room-end"' in page
    assert 'id="room-correct-form"' in page
    for case in ("sum_error", "out_of_range", "objective_inconsistent", "extreme"):
        assert f'<option value="{case}">' in page
    centre = client_for(world.host).get(f"/experts/evaluation/lots/{world.lot.pk}/").content.decode()
    assert 'id="room-correct-form"' not in centre and 'id="room-revisions-panel"' in centre
    state = client_for(world.member(1).user).get(f"/experts/evaluation/lots/{world.lot.pk}/state").json()
    assert state["time"]["ends_at"] == world.refresh().ends_at.isoformat()
