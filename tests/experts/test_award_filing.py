"""What the award records besides the winner: the 条例55 ground of a pass-over, a publicity published late
(条例54), the written report to the supervisor (法47) — in the services, on the lot page and on the
deadlines page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from archive.models import JournalEntry
from experts.models import Award, Publicity
from experts.selectors_award import award_deadlines
from experts.services import award as svc
from tests.bidding.opening_world import refused
from tests.experts.test_award_world import award_world, publicity_over
from tests.factories import AgencyUserFactory, UserFactory
from trading.models import Regime, Role

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def world(clock):
    return award_world(clock)


@pytest.fixture
def awarded(world, clock):
    svc.publicity_start(lot=world.lot, actor=world.agency)
    publicity_over(world, clock)
    return svc.award_decide(lot=world.lot, actor=world.agency)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def page_of(client, user, url) -> str:
    """Sign in again before each read: the session idles out while the clock moves on."""
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def journal_of(tender, action: str) -> JournalEntry:
    return JournalEntry.objects.filter(stream=tender.stream, action=action).order_by("-seq").first()


# --- the pass-over ground (条例55) --------------------------------------------------------------------------


def test_the_ground_of_a_pass_over_is_stored_on_the_award(world, clock):
    svc.publicity_start(lot=world.lot, actor=world.agency)
    publicity_over(world, clock)
    award = svc.award_decide(
        lot=world.lot,
        actor=world.agency,
        rank=2,
        ground="no_performance_security",
        reason="未提交履约保证金。",
    )
    assert Award.objects.get(pk=award.pk).pass_over_ground == "no_performance_security"


def test_the_first_candidate_has_no_pass_over_ground(world, clock):
    svc.publicity_start(lot=world.lot, actor=world.agency)
    publicity_over(world, clock)
    award = svc.award_decide(lot=world.lot, actor=world.agency, rank=1, ground="declined")
    assert award.pass_over_ground == ""


def test_an_unknown_ground_is_refused_even_where_the_tenderee_may_choose(clock):
    world = award_world(clock, state_funded=False)
    svc.publicity_start(lot=world.lot, actor=world.agency)
    publicity_over(world, clock)
    code = refused(svc.award_decide, lot=world.lot, actor=world.agency, rank=3, ground="cheaper")
    assert code == "pass_over_ground_invalid"
    assert not Award.objects.exists()
    award = svc.award_decide(lot=world.lot, actor=world.agency, rank=3, ground="declined", reason="放弃")
    assert award.pass_over_ground == "declined"


# --- a late publicity (条例54) ------------------------------------------------------------------------------


def test_a_publicity_within_three_days_is_not_late(world, clock):
    clock.advance(days=2)
    assert svc.publicity_start(lot=world.lot, actor=world.agency).late is False


def test_a_publicity_after_three_days_is_marked_late(world, clock):
    clock.advance(days=5)
    publicity = svc.publicity_start(lot=world.lot, actor=world.agency)
    assert Publicity.objects.get(pk=publicity.pk).late is True
    assert journal_of(world.tender, "experts.publicity_started").payload["late"] is True


# --- the written report to the supervisor (法47) -----------------------------------------------------------


def test_the_report_to_the_supervisor_is_recorded_once(world, awarded, clock):
    clock.advance(days=3)
    today = timezone.localdate(clock())

    award = svc.supervisor_report_record(award=awarded, actor=world.agency, filed_on=today.isoformat())

    assert Award.objects.get(pk=award.pk).report_filed_on == today
    entry = journal_of(world.tender, "experts.supervisor_report_filed")
    assert entry.payload["late"] is False and entry.payload["due_on"] == awarded.report_due_on.isoformat()
    code = refused(svc.supervisor_report_record, award=awarded, actor=world.agency, filed_on=today)
    assert code == "supervisor_report_already_filed"


def test_the_filing_date_is_checked(world, awarded, clock):
    today = timezone.localdate(clock())
    cases = {
        "supervisor_report_before_award": today - dt.timedelta(days=1),
        "supervisor_report_date_future": today + dt.timedelta(days=1),
        "supervisor_report_date_invalid": "2026-13-40",
    }
    for code, filed_on in cases.items():
        assert (
            refused(svc.supervisor_report_record, award=awarded, actor=world.agency, filed_on=filed_on)
            == code
        )
    assert Award.objects.get(pk=awarded.pk).report_filed_on is None
    assert journal_of(world.tender, "experts.supervisor_report_filed") is None


def test_only_the_tenderee_or_its_agency_files_the_report(world, awarded, clock):
    today = timezone.localdate(clock())
    for outsider in (UserFactory(role=Role.CENTRE), AgencyUserFactory(), world.bidder(0).user):
        code = refused(svc.supervisor_report_record, award=awarded, actor=outsider, filed_on=today)
        assert code == "supervisor_report_tenderee_only"
    tenderee = AgencyUserFactory(entity=world.tender.tenderee)
    assert (
        svc.supervisor_report_record(award=awarded, actor=tenderee, filed_on=today).report_filed_on == today
    )


def test_a_report_filed_after_fifteen_days_is_recorded_late(world, awarded, clock):
    clock.set(at(awarded.report_due_on + dt.timedelta(days=2)))
    svc.supervisor_report_record(award=awarded, actor=world.agency, filed_on=timezone.localdate(clock()))
    assert journal_of(world.tender, "experts.supervisor_report_filed").payload["late"] is True


def test_a_filed_report_leaves_the_deadlines_list(world, awarded, clock):
    clock.set(at(awarded.report_due_on - dt.timedelta(days=3)))
    assert [r["kind"] for r in award_deadlines(user=world.agency, now=clock())] == ["report"]

    svc.supervisor_report_record(award=awarded, actor=world.agency, filed_on=timezone.localdate(clock()))

    assert award_deadlines(user=world.agency, now=clock()) == []


def test_an_unfiled_report_stays_listed_late(world, awarded, clock):
    clock.set(at(awarded.report_due_on + dt.timedelta(days=40)))
    rows = award_deadlines(user=world.agency, now=clock())
    assert ("report", True) in [(r["kind"], r["overdue"]) for r in rows]


# --- the pages ----------------------------------------------------------------------------------------------


def test_the_lot_page_files_the_report_and_shows_it(world, awarded, clock, client):
    client.force_login(world.agency)
    url = reverse("experts:award-lot", args=[world.lot.pk])
    form = reverse("experts:award-supervisor-report", args=[world.lot.pk])
    page = client.get(url).content.decode()
    assert form in page and 'id="report-filing"' in page

    future = (timezone.localdate(clock()) + dt.timedelta(days=1)).isoformat()
    bad = client.post(form, {"filed_on": future})
    assert bad.status_code == 400 and b"supervisor_report_date_future" in bad.content

    today = timezone.localdate(clock()).isoformat()
    assert client.post(form, {"filed_on": today}).status_code == 302
    page = client.get(url).content.decode()
    assert form not in page
    assert today in page.split('id="report-filing"')[1].split("</dd>")[0]


def test_centre_staff_see_no_filing_form_and_are_refused(world, awarded, clock, client):
    client.force_login(world.host)
    url = reverse("experts:award-lot", args=[world.lot.pk])
    form = reverse("experts:award-supervisor-report", args=[world.lot.pk])
    assert form not in client.get(url).content.decode()
    response = client.post(form, {"filed_on": timezone.localdate(clock()).isoformat()}, **JSON)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "supervisor_report_tenderee_only"


def test_the_lot_page_shows_the_ground_and_a_late_publicity(world, clock, client):
    clock.advance(days=5)
    svc.publicity_start(lot=world.lot, actor=world.agency)
    url = reverse("experts:award-lot", args=[world.lot.pk])
    assert 'id="publicity-late"' in page_of(client, world.agency, url)

    publicity_over(world, clock)
    svc.award_decide(lot=world.lot, actor=world.agency, rank=2, ground="declined", reason="放弃中标")
    page = page_of(client, world.agency, url)
    assert 'id="pass-over-ground"' in page
    ground = page.split('id="pass-over-ground">')[1].split("</dd>")[0]
    assert ground == str(svc.PASS_OVER_GROUNDS["declined"])
    assert 'id="award-deemed"' not in page


def test_the_lot_page_shows_a_deemed_award_and_the_purchasers_deadline(clock, client):
    world = award_world(clock, regime=Regime.GP)
    url = reverse("experts:award-lot", args=[world.lot.pk])
    due = svc.gp_decision_due(world.report)
    assert timezone.localtime(due).strftime("%Y-%m-%d %H:%M") in page_of(client, world.agency, url)

    clock.set(due + dt.timedelta(minutes=1))
    assert svc.award_tick() == 1
    page = page_of(client, world.agency, url)
    assert 'id="award-deemed"' in page and timezone.localtime(due).strftime("%Y-%m-%d %H:%M") not in page


def test_the_deadlines_page_shows_the_notes_and_drops_a_filed_report(clock, client):
    world = award_world(clock, regime=Regime.GP)
    clock.set(svc.gp_decision_due(world.report) + dt.timedelta(minutes=1))
    svc.award_tick()
    award = Award.objects.get()
    url = reverse("experts:award-deadlines")

    clock.set(at(award.report_due_on - dt.timedelta(days=1)))
    page = page_of(client, world.agency, url)
    assert page.count('data-note="deemed"') == 1  # the report row

    svc.supervisor_report_record(award=award, actor=world.agency, filed_on=timezone.localdate(clock()))
    clock.set(at(award.contract_due_on - dt.timedelta(days=1)))
    page = page_of(client, world.agency, url)
    rows = [r for r in page.split("<tr") if "/experts/award/lots/" in r]
    assert len(rows) == 1  # the contract; the filed report is gone
    assert 'data-note="deemed"' in rows[0] and 'data-note="report-filed"' in rows[0]
