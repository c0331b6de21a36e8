"""Ratings after an evaluation and sanctions feeding the credit record (DOMAIN C11)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from archive.models import JournalEntry
from experts.models import Assignment, Draw, EvaluationRoom, Expert, Rating, Sanction
from experts.services import pool
from tests.experts.test_pool import centre, journal, make_expert, refused
from tests.factories import AgencyUserFactory, BidderUserFactory, LotFactory, UserFactory
from trading.models import CreditRecord, Role

pytestmark = pytest.mark.django_db


def sat_on(lot, *experts, status=Assignment.Status.CONFIRMED, closed_at=None, clock=None):
    """A drawn committee for `lot` and, when `closed_at` is given, its closed evaluation room."""
    now = clock() if clock else dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    draw = Draw.objects.create(
        lot=lot,
        state=Draw.State.DRAWN,
        request={"v": 1},
        request_digest="0" * 64,
        seed_commitment="1" * 64,
        seed_sealed="sealed",
        requested_by=UserFactory(role=Role.CENTRE),
        requested_at=now,
    )
    for i, expert in enumerate(experts):
        Assignment.objects.create(draw=draw, expert=expert, group=0, position=i, status=status)
    if closed_at is not None:
        EvaluationRoom.objects.create(
            lot=lot, draw=draw, phase="closed", phase_changed_at=closed_at, opens_at=now, closed_at=closed_at
        )
    return draw


def agency_of(lot):
    return AgencyUserFactory(entity=lot.tender.agency)


# --- ratings -------------------------------------------------------------------------------------------


def test_the_agency_rates_an_expert_of_the_committee_within_five_working_days(clock):
    lot, expert = LotFactory(), make_expert(60)
    sat_on(lot, expert, closed_at=clock())  # Monday 2026-03-02
    clock.set(dt.datetime(2026, 3, 9, 17, 0))  # the 5th working day after

    rating = pool.rating_record(
        expert=expert, lot=lot, actor=agency_of(lot), score=92, marks={"punctuality": 5, "discipline": 4}
    )

    assert (rating.score, rating.marks["discipline"]) == (92, 4)
    entry = JournalEntry.objects.filter(stream=f"expert:{expert.pk}", action="experts.rating_recorded").get()
    assert entry.payload["late"] is False and entry.payload["due_on"] == "2026-03-09"


def test_a_late_rating_is_recorded_and_marked_late(clock):
    lot, expert = LotFactory(), make_expert(61)
    sat_on(lot, expert, closed_at=clock())
    clock.set(dt.datetime(2026, 3, 11, 9, 0))  # two working days past the limit

    pool.rating_record(expert=expert, lot=lot, actor=centre(), score=80)

    payload = JournalEntry.objects.get(stream=f"expert:{expert.pk}", action="experts.rating_recorded").payload
    assert payload["late"] is True and payload["working_days_late"] == 2
    assert Rating.objects.count() == 1


def test_the_limit_follows_the_expert_rules_setting(clock, settings):
    settings.EXPERT_RULES = {"rating_working_days": 1}
    lot, expert = LotFactory(), make_expert(62)
    sat_on(lot, expert, closed_at=clock())
    clock.set(dt.datetime(2026, 3, 4, 9, 0))
    pool.rating_record(expert=expert, lot=lot, actor=centre(), score=80)
    assert JournalEntry.objects.get(action="experts.rating_recorded").payload["late"] is True


def test_the_tenderee_may_rate_too(clock):
    lot, expert = LotFactory(), make_expert(63)
    sat_on(lot, expert, closed_at=clock())
    tenderee = AgencyUserFactory(entity=lot.tender.tenderee)
    assert pool.rating_record(expert=expert, lot=lot, actor=tenderee, score=70).rated_by == tenderee


def test_only_experts_who_sat_on_the_lot_are_rated(clock):
    lot, member, declined, stranger = LotFactory(), make_expert(64), make_expert(65), make_expert(66)
    draw = sat_on(lot, member, closed_at=clock())
    Assignment.objects.create(
        draw=draw, expert=declined, group=0, position=5, status=Assignment.Status.DECLINED
    )
    for expert in (declined, stranger):
        assert refused(pool.rating_record, expert=expert, lot=lot, actor=centre(), score=90).code == (
            "rating_not_member"
        )
    assert not Rating.objects.exists()


def test_no_rating_before_the_evaluation_ended(clock):
    lot, expert = LotFactory(), make_expert(67)
    sat_on(lot, expert)
    assert refused(pool.rating_record, expert=expert, lot=lot, actor=centre(), score=90).code == (
        "evaluation_not_finished"
    )


def test_who_may_rate_and_what_a_rating_holds(clock):
    lot, expert = LotFactory(), make_expert(68)
    sat_on(lot, expert, closed_at=clock())
    for actor in (BidderUserFactory(), AgencyUserFactory(), expert.user, UserFactory(role=Role.REGULATOR)):
        assert (
            refused(pool.rating_record, expert=expert, lot=lot, actor=actor, score=90).code
            == "rating_forbidden"
        )
    agency = agency_of(lot)
    exc = refused(pool.rating_record, expert=expert, lot=lot, actor=agency, score=101, marks={"x": 9})
    assert exc.code == "rating_invalid" and set(exc.params["codes"]) == {"score", "marks.x"}
    pool.rating_record(expert=expert, lot=lot, actor=agency, score=90)
    assert (
        refused(pool.rating_record, expert=expert, lot=lot, actor=agency, score=91).code == "rating_duplicate"
    )


# --- sanctions -------------------------------------------------------------------------------------------


def regulator():
    return UserFactory(role=Role.REGULATOR, region_code="450100")


BASIS = "《招标投标法实施条例》第七十五条"


def test_a_fine_becomes_a_credit_record_of_the_person(clock):
    expert, lot = make_expert(70), LotFactory()

    sanction = pool.sanction_impose(
        expert=expert,
        actor=regulator(),
        kind="fine",
        legal_basis=BASIS,
        starts_on=dt.date(2026, 3, 2),
        fine_amount="5000",
        description="私下接触投标人",
        lot=lot,
    )

    record = sanction.credit_record
    assert (record.person, record.kind, record.fine_amount) == (expert.person, "fine", Decimal("5000.00"))
    assert record.blocks_participation is False
    expert.refresh_from_db()
    assert expert.status == "active"
    assert journal(expert)[-1] == "experts.sanction_imposed"


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("1999.99", "fine_out_of_range"),
        ("50000.01", "fine_out_of_range"),
        (None, "fine_amount_required"),
        ("abc", "fine_amount_invalid"),
    ],
)
def test_a_fine_has_a_lawful_amount(clock, amount, code):
    exc = refused(
        pool.sanction_impose,
        expert=make_expert(71),
        actor=regulator(),
        kind="fine",
        legal_basis=BASIS,
        starts_on=dt.date(2026, 3, 2),
        fine_amount=amount,
    )
    assert exc.code == code
    assert not CreditRecord.objects.exists() and not Sanction.objects.exists()


def test_a_suspension_bars_the_expert_for_its_period(clock):
    expert = make_expert(72)

    sanction = pool.sanction_impose(
        expert=expert,
        actor=regulator(),
        kind="suspension",
        legal_basis=BASIS,
        starts_on=dt.date(2026, 3, 2),
        ends_on=dt.date(2027, 3, 1),
    )

    record = sanction.credit_record
    assert (record.kind, record.blocks_participation, record.ends_on) == (
        "disqualification",
        True,
        dt.date(2027, 3, 1),
    )
    expert.refresh_from_db()
    assert (expert.status, expert.suspended_from, expert.suspended_until) == (
        "suspended",
        dt.date(2026, 3, 2),
        dt.date(2027, 3, 1),
    )
    assert journal(expert)[-2:] == ["experts.sanction_imposed", "experts.status_changed"]


def test_a_suspension_needs_its_end(clock):
    exc = refused(
        pool.sanction_impose,
        expert=make_expert(73),
        actor=regulator(),
        kind="suspension",
        legal_basis=BASIS,
        starts_on=dt.date(2026, 3, 2),
    )
    assert exc.code == "suspension_period_required"


def test_removal_is_permanent_and_final(clock):
    expert, reg = make_expert(74), regulator()
    sanction = pool.sanction_impose(
        expert=expert, actor=reg, kind="removal", legal_basis=BASIS, starts_on=dt.date(2026, 3, 2)
    )
    assert (sanction.credit_record.kind, sanction.credit_record.ends_on) == ("other_penalty", None)
    assert Expert.objects.get(pk=expert.pk).status == "removed"

    again = refused(
        pool.sanction_impose,
        expert=expert,
        actor=reg,
        kind="suspension",
        legal_basis=BASIS,
        starts_on=dt.date(2026, 3, 2),
        ends_on=dt.date(2026, 9, 1),
    )
    assert again.code == "expert_removed"
    # Lifelong accountability: a warning can still be recorded.
    pool.sanction_impose(
        expert=expert, actor=reg, kind="warning", legal_basis=BASIS, starts_on=dt.date(2026, 4, 1)
    )
    assert CreditRecord.objects.filter(person=expert.person).count() == 2


def test_only_regulators_sanction_and_the_basis_is_required(clock):
    expert = make_expert(75)
    kw = {"expert": expert, "kind": "warning", "starts_on": dt.date(2026, 3, 2)}
    assert refused(pool.sanction_impose, actor=centre(), legal_basis=BASIS, **kw).code == "role_forbidden"
    assert (
        refused(pool.sanction_impose, actor=regulator(), legal_basis=" ", **kw).code == "legal_basis_required"
    )
    assert refused(
        pool.sanction_impose, actor=regulator(), legal_basis=BASIS, fine_amount="10", **kw
    ).code == ("fine_amount_unexpected")
    assert not Sanction.objects.exists()
