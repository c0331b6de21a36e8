"""The award pages over HTTP: the agency's lot page and its actions, the bidder's objection channel, the
notice downloads (each notice only to its bidder, the tender's managers, centre staff and regulators)
and the deadlines page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from experts import documents
from experts.models import Award, Publicity, PublicityObjection, ResultNotice
from experts.services import award as svc
from tests.experts.test_award_world import award_world, publicity_over
from tests.factories import AgencyUserFactory, BidderUserFactory, UserFactory
from trading.models import Role, TenderState

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def world(clock):
    return award_world(clock)


def as_user(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def awarded(world, clock):
    svc.publicity_start(lot=world.lot, actor=world.agency)
    publicity_over(world, clock)
    return svc.award_decide(lot=world.lot, actor=world.agency)


# --- the agency's lot page -------------------------------------------------------------------------------


def test_the_lot_page_is_for_the_tenders_managers_and_regulators(world, client):
    url = reverse("experts:award-lot", args=[world.lot.pk])
    assert client.get(url).status_code == 302  # to the login page

    page = as_user(client, world.agency).get(url)
    assert page.status_code == 200
    assert world.bidder(0).entity.name in page.content.decode()
    assert reverse("experts:award-publicity-start", args=[world.lot.pk]) in page.content.decode()

    regulator = as_user(client, UserFactory(role=Role.REGULATOR)).get(url)
    assert regulator.status_code == 200
    assert reverse("experts:award-publicity-start", args=[world.lot.pk]) not in regulator.content.decode()

    for outsider in (AgencyUserFactory(), world.bidder(0).user):
        refused = as_user(client, outsider).get(url, **JSON)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "tender_not_yours"


def test_the_agency_publishes_and_a_refusal_shows_its_code(world, client):
    as_user(client, world.agency)
    response = client.post(reverse("experts:award-publicity-start", args=[world.lot.pk]))
    assert response.status_code == 302
    assert Publicity.objects.filter(lot=world.lot).exists()

    again = client.post(reverse("experts:award-publicity-start", args=[world.lot.pk]))
    assert again.status_code == 409 and b"publicity_exists" in again.content

    early = client.post(reverse("experts:award-decide", args=[world.lot.pk]), {"rank": "1"})
    assert early.status_code == 422 and b"publicity_not_ended" in early.content
    assert not Award.objects.exists()


def test_a_regulator_cannot_act_on_the_lot_page(world, client):
    as_user(client, UserFactory(role=Role.REGULATOR))
    response = client.post(reverse("experts:award-publicity-start", args=[world.lot.pk]), **JSON)
    assert response.status_code == 403
    assert not Publicity.objects.exists()


def test_the_award_and_the_contract_from_the_lot_page(world, client, clock):
    svc.publicity_start(lot=world.lot, actor=world.agency)
    publicity_over(world, clock)
    as_user(client, world.agency)

    refused = client.post(reverse("experts:award-decide", args=[world.lot.pk]), {"rank": "2"})
    assert refused.status_code == 422 and b"pass_over_ground_required" in refused.content

    decided = client.post(reverse("experts:award-decide", args=[world.lot.pk]), {"rank": "1"})
    assert decided.status_code == 302
    award = Award.objects.get(lot=world.lot)
    world.tender.refresh_from_db()
    assert world.tender.state == TenderState.AWARDED

    today = timezone.localdate(clock()).isoformat()
    contract = client.post(
        reverse("experts:award-contract", args=[world.lot.pk]), {"signed_on": today, "amount": "4000000.00"}
    )
    assert contract.status_code == 302
    award.refresh_from_db()
    assert award.contract_signed_on.isoformat() == today
    page = client.get(reverse("experts:award-lot", args=[world.lot.pk]))
    assert reverse("experts:award-notice-pdf", args=[award.pk]) in page.content.decode()


def test_the_gp_lot_page_offers_the_award_without_publicity(client, clock):
    world = award_world(clock, regime="GP")
    page = (
        as_user(client, world.agency).get(reverse("experts:award-lot", args=[world.lot.pk])).content.decode()
    )
    assert reverse("experts:award-decide", args=[world.lot.pk]) in page
    assert reverse("experts:award-publicity-start", args=[world.lot.pk]) not in page


def test_a_voided_publicity_can_be_published_again_from_the_lot_page(world, client, clock):
    publicity = svc.publicity_start(lot=world.lot, actor=world.agency)
    objection = svc.objection_raise(publicity=publicity, actor=world.bidder(3).user, text="异议")
    as_user(client, world.agency)
    url = reverse("experts:award-objection-answer", args=[world.lot.pk, objection.pk])
    assert client.post(url, {"answer": "成立", "upheld": "1", "reevaluate": "1"}).status_code == 302

    # the committee re-evaluates: nothing to publish or decide until its new report is signed
    lot_url = reverse("experts:award-lot", args=[world.lot.pk])
    page = client.get(lot_url).content.decode()
    assert reverse("experts:award-publicity-start", args=[world.lot.pk]) not in page
    assert reverse("experts:award-decide", args=[world.lot.pk]) not in page
    assert 'id="reevaluating"' in page
    again = client.post(reverse("experts:award-publicity-start", args=[world.lot.pk]))
    assert again.status_code == 409 and b"report_not_final" in again.content

    # the new report signed (as the room stores it): the candidates can be published again
    clock.advance(hours=3)
    report = world.report
    type(report).objects.filter(pk=report.pk).update(data=report.data, finalized_at=timezone.now())
    page = client.get(lot_url).content.decode()
    assert reverse("experts:award-publicity-start", args=[world.lot.pk]) in page
    assert client.post(reverse("experts:award-publicity-start", args=[world.lot.pk])).status_code == 302
    assert Publicity.objects.get(pk=publicity.pk).state == Publicity.State.OPEN


# --- the bidder's objection channel ----------------------------------------------------------------------


def test_a_bidder_objects_from_the_channel_the_announcement_links_to(world, client):
    publicity = svc.publicity_start(lot=world.lot, actor=world.agency)
    url = reverse("experts:award-objection", args=[world.lot.pk])
    assert url in publicity.announcement.body_html

    loser = world.bidder(3).user
    page = as_user(client, loser).get(url)
    assert page.status_code == 200 and b'name="text"' in page.content

    response = client.post(url, {"text": "第一中标候选人项目经理在建项目未完工。"})
    assert response.status_code == 302
    objection = PublicityObjection.objects.get()
    assert objection.entity == world.bidder(3).entity
    world.tender.refresh_from_db()
    assert world.tender.state == TenderState.SUSPENDED
    assert "第一中标候选人项目经理在建项目未完工。" in client.get(url).content.decode()

    empty = client.post(url, {"text": ""})
    assert empty.status_code == 400 and b"objection_text_required" in empty.content


def test_an_outsider_sees_the_channel_but_cannot_object(world, client):
    svc.publicity_start(lot=world.lot, actor=world.agency)
    url = reverse("experts:award-objection", args=[world.lot.pk])
    as_user(client, BidderUserFactory())
    page = client.get(url)
    assert page.status_code == 200 and b'name="text"' not in page.content
    assert b"objection_not_interested_party" in page.content
    assert client.post(url, {"text": "异议"}, **JSON).status_code == 403
    assert not PublicityObjection.objects.exists()


def test_the_agency_answers_an_objection_from_the_lot_page(world, client):
    publicity = svc.publicity_start(lot=world.lot, actor=world.agency)
    objection = svc.objection_raise(publicity=publicity, actor=world.bidder(3).user, text="异议")
    as_user(client, world.agency)
    url = reverse("experts:award-objection-answer", args=[world.lot.pk, objection.pk])
    page = client.get(reverse("experts:award-lot", args=[world.lot.pk])).content.decode()
    assert url in page and "异议" in page

    assert client.post(url, {"answer": ""}).status_code == 400
    assert client.post(url, {"answer": "经核查，异议不成立。"}).status_code == 302

    objection.refresh_from_db()
    world.tender.refresh_from_db()
    assert objection.upheld is False and objection.answered_by == world.agency
    assert world.tender.state == TenderState.PUBLICITY


# --- notices: who may download what ---------------------------------------------------------------------


def _get(client, user, url):
    if user is None:
        client.logout()
    else:
        client.force_login(user)
    return client.get(url, **JSON)


def test_the_award_notice_is_read_by_the_winner_the_managers_centre_and_regulators_only(
    world, awarded, client
):
    url = reverse("experts:award-notice-pdf", args=[awarded.pk])
    allowed = [
        world.bidder(0).user,
        world.agency,
        UserFactory(role=Role.CENTRE),
        UserFactory(role=Role.REGULATOR),
    ]
    for user in allowed:
        response = _get(client, user, url)
        assert response.status_code == 200, user.role
        assert response["Content-Type"] == "application/pdf"
        assert b"".join(response.streaming_content).startswith(b"%PDF")
    for user in (world.bidder(1).user, AgencyUserFactory(), UserFactory(role=Role.EXPERT)):
        response = _get(client, user, url)
        assert response.status_code == 403 and response.json()["error"]["code"] == "notice_not_yours"
    assert _get(client, None, url).status_code == 302


def test_a_result_notice_is_read_by_its_own_bidder_only_among_the_bidders(world, awarded, client):
    notice = ResultNotice.objects.get(award=awarded, entity=world.bidder(1).entity)
    url = reverse("experts:result-notice-pdf", args=[notice.pk])
    assert _get(client, world.bidder(1).user, url).status_code == 200
    assert _get(client, world.agency, url).status_code == 200
    assert _get(client, UserFactory(role=Role.REGULATOR), url).status_code == 200
    for user in (world.bidder(0).user, world.bidder(2).user, BidderUserFactory()):
        response = _get(client, user, url)
        assert response.status_code == 403 and response.json()["error"]["code"] == "notice_not_yours"


def test_the_signed_notice_data_verifies_offline(world, awarded, client):
    data = _get(client, world.bidder(0).user, reverse("experts:award-notice-json", args=[awarded.pk])).json()
    assert data["data"] == awarded.notice
    assert documents.verify(data["data"], data["platform_signature"])
    assert "BEGIN CERTIFICATE" in data["platform_certificate"]

    notice = ResultNotice.objects.get(award=awarded, entity=world.bidder(2).entity)
    data = _get(client, world.bidder(2).user, reverse("experts:result-notice-json", args=[notice.pk])).json()
    assert documents.verify(data["data"], data["platform_signature"])


def test_each_bidder_finds_its_own_notice_from_the_notification(world, awarded, client):
    url = reverse("experts:award-notice-page", args=[world.lot.pk])
    winner = _get(client, world.bidder(0).user, url).content.decode()
    assert reverse("experts:award-notice-pdf", args=[awarded.pk]) in winner

    notice = ResultNotice.objects.get(award=awarded, entity=world.bidder(1).entity)
    loser = _get(client, world.bidder(1).user, url).content.decode()
    assert reverse("experts:result-notice-pdf", args=[notice.pk]) in loser
    assert reverse("experts:award-notice-pdf", args=[awarded.pk]) not in loser

    stranger = _get(client, BidderUserFactory(), url).content.decode()
    assert "/award/notices/" not in stranger and "/award/result-notices/" not in stranger


# --- deadlines -----------------------------------------------------------------------------------------


def test_the_deadlines_page_lists_late_contracts_for_the_agency(world, awarded, client, clock):
    clock.set(
        timezone.make_aware(dt.datetime.combine(awarded.contract_due_on + dt.timedelta(days=3), dt.time(9)))
    )
    url = reverse("experts:award-deadlines")
    page = _get(client, world.agency, url)
    assert page.status_code == 200
    assert reverse("experts:award-lot", args=[world.lot.pk]) in page.content.decode()
    other = _get(client, AgencyUserFactory(), url)
    assert reverse("experts:award-lot", args=[world.lot.pk]) not in other.content.decode()
    assert _get(client, world.bidder(0).user, url).status_code == 403
