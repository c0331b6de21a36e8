"""GP: the purchaser decides within 5 working days of the report, otherwise the first candidate is deemed
chosen (87号令68). `award_tick` makes that award as the system, with the same notices and announcement
as `award_decide`, once per lot."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from archive.journal import verify_all
from archive.models import JournalEntry
from experts import documents
from experts import rules as xrules
from experts.models import Award, ResultNotice
from experts.services import award as svc
from experts.services.award import deemed as deemed_module
from tests.experts.test_award_world import award_world
from tests.factories import AgencyUserFactory
from trading.models import Announcement, AnnouncementKind, Notification, Regime, Role, TenderState, User
from trading.services.tenders import tender_suspend

pytestmark = pytest.mark.django_db


@pytest.fixture
def gp(clock):
    return award_world(clock, regime=Regime.GP)


def past_due(world, clock, **extra):
    due = svc.gp_decision_due(world.report)
    clock.set(due + dt.timedelta(seconds=1, **extra))
    return due


def decided_entry(tender) -> JournalEntry:
    return JournalEntry.objects.get(stream=tender.stream, action="experts.award_decided")


def test_nothing_is_deemed_within_the_five_working_days(gp, clock):
    due = svc.gp_decision_due(gp.report)
    assert due > gp.report.finalized_at + dt.timedelta(days=5)  # working days, not calendar days
    clock.set(due)
    assert svc.award_tick() == 0
    assert not Award.objects.exists()


def test_after_five_working_days_the_first_candidate_is_deemed_chosen(gp, clock):
    past_due(gp, clock)

    assert svc.award_tick() == 1

    award = Award.objects.get(lot=gp.lot)
    assert (award.winner, award.rank, award.deemed, award.pass_over_ground) == (
        gp.bidder(0).entity,
        1,
        True,
        "",
    )
    assert award.decided_at == clock()
    today = timezone.localdate(clock())
    assert award.contract_due_on == xrules.contract_due(awarded_on=today, regime=Regime.GP)
    # the same notices and announcement as a purchaser's decision
    assert documents.verify(award.notice, award.notice_signature)
    assert sorted(n.entity_id for n in ResultNotice.objects.filter(award=award)) == sorted(
        b.entity.pk for b in gp.bidders[1:]
    )
    ann = award.announcement
    assert (ann.kind, ann.state) == (AnnouncementKind.RESULT, Announcement.State.PUBLISHED)
    assert "王评审" in ann.body_html  # GP: the experts' names
    gp.tender.refresh_from_db()
    assert gp.tender.state == TenderState.AWARDED
    assert Notification.objects.filter(entity=gp.bidder(0).entity, kind="experts.award_notice").exists()
    assert Notification.objects.filter(entity=gp.tender.agency, kind="experts.award_deemed").exists()
    # journalled as the system's decision, naming the user recorded
    entry = decided_entry(gp.tender)
    assert entry.actor_label == "system" and entry.actor_id == ""
    assert entry.payload["deemed"] is True and entry.payload["decided_by"] == award.decided_by_id
    assert entry.payload["gp_decision_late"] is True
    assert verify_all() == []


def test_the_tick_awards_a_lot_once(gp, clock):
    past_due(gp, clock)
    assert svc.award_tick() == 1
    clock.advance(hours=1)
    assert svc.award_tick() == 0
    assert Award.objects.count() == 1
    assert JournalEntry.objects.filter(action="experts.award_decided").count() == 1


def test_a_lot_awarded_meanwhile_is_rechecked_under_the_lock(gp, clock, monkeypatch):
    """A stale list (another process, or the purchaser deciding at the same moment) awards nothing."""
    stale = list(deemed_module._pending_reports())
    assert [r.pk for r in stale] == [gp.report.pk]
    svc.award_decide(lot=gp.lot, actor=gp.agency)
    monkeypatch.setattr(deemed_module, "_pending_reports", lambda: stale)
    past_due(gp, clock)

    assert svc.award_tick() == 0
    award = Award.objects.get()
    assert award.deemed is False and award.decided_by == gp.agency


def test_the_purchasers_own_decision_in_time_is_not_deemed(gp, clock):
    clock.advance(days=2)
    award = svc.award_decide(lot=gp.lot, actor=gp.agency)
    assert award.deemed is False
    assert decided_entry(gp.tender).payload["deemed"] is False
    past_due(gp, clock)
    assert svc.award_tick() == 0


def test_a_suspended_tender_is_not_awarded_by_the_tick(gp, clock):
    tender_suspend(tender=gp.tender, actor=gp.regulator, reason="投诉处理中")
    past_due(gp, clock)
    assert svc.award_tick() == 0
    assert not Award.objects.exists()


def test_bidding_law_lots_are_never_deemed(clock):
    world = award_world(clock)
    svc.publicity_start(lot=world.lot, actor=world.agency)
    clock.advance(days=30)
    assert svc.award_tick() == 0
    assert not Award.objects.exists()


def test_a_report_not_yet_signed_starts_no_clock(gp, clock):
    type(gp.report).objects.filter(pk=gp.report.pk).update(finalized_at=None)
    clock.advance(days=30)
    assert svc.award_tick() == 0


def test_an_invalid_first_bid_is_left_for_a_person(gp, clock):
    from bidding.models import Bid

    Bid.objects.filter(lot=gp.lot, entity=gp.bidder(0).entity).update(status=Bid.Status.WITHDRAWN)
    past_due(gp, clock)
    assert svc.award_tick() == 0
    assert not Award.objects.exists()
    assert not JournalEntry.objects.filter(action="experts.award_decided").exists()


def test_the_tick_takes_its_time_from_the_argument(gp, clock):
    due = svc.gp_decision_due(gp.report)
    assert svc.award_tick(now=due) == 0
    assert svc.award_tick(now=due + dt.timedelta(minutes=1)) == 1
    assert Award.objects.get().decided_at == due + dt.timedelta(minutes=1)


# --- whom the deemed award records (see experts/services/award/deemed.py) --------------------------------


def test_the_tenders_own_agency_user_is_recorded(gp, clock):
    creator = AgencyUserFactory(entity=gp.tender.agency)
    type(gp.tender).objects.filter(pk=gp.tender.pk).update(created_by=creator)
    past_due(gp, clock)
    svc.award_tick()
    assert Award.objects.get().decided_by == creator


def test_another_staff_member_of_the_agency_when_the_creator_cannot_act(gp, clock):
    # the factory's creator belongs to no entity of this tender: the agency's first active staff member
    assert svc.deemed_recorder(gp.tender) == gp.agency
    User.objects.filter(pk=gp.agency.pk).update(is_active=False)
    tenderee_staff = AgencyUserFactory(entity=gp.tender.tenderee)
    gp.tender.refresh_from_db()
    assert svc.deemed_recorder(gp.tender) == tenderee_staff


def test_a_centre_user_only_when_the_purchasers_side_has_nobody(gp, clock):
    User.objects.filter(role=Role.AGENCY).update(is_active=False)
    gp.tender.refresh_from_db()
    centre = User.objects.filter(role=Role.CENTRE, is_active=True).order_by("pk").first()
    assert centre is not None
    assert svc.deemed_recorder(gp.tender) == centre
    past_due(gp, clock)
    assert svc.award_tick() == 1
    award = Award.objects.get()
    assert award.decided_by == centre and award.deemed is True
    assert decided_entry(gp.tender).actor_label == "system"


def test_run_experts_makes_the_deemed_award(gp, clock):
    import io
    import json

    from django.core.management import call_command

    past_due(gp, clock)
    out = io.StringIO()
    call_command("run_experts", "--once", stdout=out)
    assert json.loads(out.getvalue())["run_experts"]["gp_awards_deemed"] == 1
    assert Award.objects.get().deemed is True
