"""Every exclusion rule of the draw (DOMAIN C1, C4, C5), each with the case that breaks it and a
near miss that must stay eligible."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest

from experts.models import Assignment, Draw, Employment, Expert, Relationship, Unavailability
from experts.services import conflicts as c
from experts.services.draw import draw_request
from tests.experts.world import OTHER_SPECIALTY, SPECIALTY, draw_world, expert_make
from tests.factories import MarketEntityFactory, PersonFactory, TenderFactory
from trading.models import CreditRecord, Position, PositionRole, Shareholder
from trading.services.entities import person_id_digest

pytestmark = pytest.mark.django_db


def performed(world, **request):
    return world.perform(world.request(**request))


def outcome(draw: Draw, expert: Expert) -> tuple[bool, list[str]]:
    """(in the eligible pool, exclusion reasons)."""
    pid = expert.public_id
    return pid in draw.groups[0]["pool"], draw.excluded.get(pid, [])


@pytest.fixture
def world(clock):
    return draw_world(clock=clock, experts=10)


def test_employee_of_a_bidder_is_excluded_and_of_a_stranger_is_not(world):
    bidder = world.bidders[0]
    inside = expert_make(employer=bidder)
    outside = expert_make(employer=MarketEntityFactory())
    draw = performed(world)
    assert outcome(draw, inside) == (False, [c.EMPLOYEE])
    assert outcome(draw, outside) == (True, [])


def test_employee_by_credit_code_only_is_excluded(world):
    expert = expert_make(employer_name="某公司", employer_uscc=world.bidders[1].uscc)
    assert outcome(performed(world), expert) == (False, [c.EMPLOYEE])


def test_employee_of_the_tenderee_is_excluded(world):
    expert = expert_make(employer=world.tender.tenderee)
    assert c.EMPLOYEE in outcome(performed(world), expert)[1]


def test_agency_staff_are_excluded(world):
    expert = expert_make(employer=world.tender.agency)
    assert c.AGENCY_STAFF in outcome(performed(world), expert)[1]


@pytest.mark.parametrize("years_ago, excluded", [(2, True), (4, False)])
def test_recent_employment_within_three_years(world, clock, years_ago, excluded):
    expert = expert_make()
    Employment.objects.create(
        expert=expert,
        employer=world.bidders[0],
        employer_name=world.bidders[0].name,
        start_date=dt.date(2010, 1, 1),
        end_date=clock().date() - dt.timedelta(days=365 * years_ago),
    )
    assert outcome(performed(world), expert) == ((False, [c.RECENT_EMPLOYEE]) if excluded else (True, []))


@pytest.mark.parametrize(
    "role, excluded",
    [(PositionRole.DIRECTOR, True), (PositionRole.SUPERVISOR, True), (PositionRole.STAFF, False)],
)
def test_directors_and_supervisors_of_a_bidder(world, role, excluded):
    expert = expert_make()
    Position.objects.create(entity=world.bidders[0], person=expert.person, role=role)
    in_pool, reasons = outcome(performed(world), expert)
    assert (c.DIRECTOR in reasons) is excluded and in_pool is not excluded


def test_legal_representative_of_a_bidder_is_excluded(world):
    bidder = world.bidders[2]
    expert = expert_make(person=bidder.legal_rep) if bidder.legal_rep else None
    if expert is None:  # the factory may leave it empty: make one
        bidder.legal_rep = PersonFactory()
        bidder.save(update_fields=["legal_rep"])
        expert = expert_make(person=bidder.legal_rep)
    assert c.DIRECTOR in outcome(performed(world), expert)[1]


def test_shareholder_of_a_bidder_is_excluded(world):
    expert = expert_make()
    Shareholder.objects.create(entity=world.bidders[0], person=expert.person, share_pct=Decimal("12.5"))
    assert outcome(performed(world), expert) == (False, [c.SHAREHOLDER])


def test_kin_of_a_bidders_officer_is_excluded_by_registry_row_and_by_id_digest(world):
    officer = PersonFactory()
    Position.objects.create(entity=world.bidders[0], person=officer, role=PositionRole.LEGAL_REP)
    holder = PersonFactory()
    Shareholder.objects.create(entity=world.bidders[1], person=holder, share_pct=Decimal("60"))
    by_row, by_digest, unrelated = expert_make(), expert_make(), expert_make()
    now = world.tender.published_at
    Relationship.objects.create(expert=by_row, kind="kin", relation="spouse", person=officer, declared_at=now)
    Relationship.objects.create(
        expert=by_digest,
        kind="kin",
        relation="brother",
        declared_at=now,
        person_id_digest=person_id_digest(holder.id_type, holder.id_number),
    )
    Relationship.objects.create(
        expert=unrelated, kind="kin", relation="spouse", person=PersonFactory(), declared_at=now
    )
    draw = performed(world)
    assert outcome(draw, by_row) == (False, [c.KIN])
    assert outcome(draw, by_digest) == (False, [c.KIN])
    assert outcome(draw, unrelated) == (True, [])


def test_declared_conflict_with_a_bidder_is_excluded(world):
    declared, elsewhere = expert_make(), expert_make()
    now = world.tender.published_at
    Relationship.objects.create(
        expert=declared, kind="economic", entity_uscc=world.bidders[0].uscc, declared_at=now
    )
    Relationship.objects.create(
        expert=elsewhere, kind="economic", entity=MarketEntityFactory(), declared_at=now
    )
    draw = performed(world)
    assert outcome(draw, declared) == (False, [c.DECLARED])
    assert outcome(draw, elsewhere) == (True, [])


def test_document_holders_count_as_bidders_before_the_deadline(world, clock):
    from trading.models import DocumentDownload

    holder = MarketEntityFactory()
    DocumentDownload.objects.create(tender=world.tender, entity=holder, user=world.centre, first_at=clock())
    expert = expert_make(employer=holder)
    assert c.EMPLOYEE in outcome(performed(world), expert)[1]


def test_sanctioned_person_is_excluded_until_the_record_ends(world, clock):
    barred, lapsed = expert_make(), expert_make()
    for expert, ends in ((barred, None), (lapsed, clock().date() - dt.timedelta(days=1))):
        CreditRecord.objects.create(
            person=expert.person,
            kind=CreditRecord.Kind.DISQUALIFICATION,
            legal_basis="实施条例75",
            blocks_participation=True,
            starts_on=dt.date(2025, 1, 1),
            ends_on=ends,
            decided_by=world.regulator,
            decided_at=clock(),
        )
    draw = performed(world)
    assert outcome(draw, barred) == (False, [c.SANCTIONED])
    assert outcome(draw, lapsed) == (True, [])


def test_suspended_during_the_evaluation_is_not_in_the_pool_but_after_the_period_is(world):
    day = world.starts.date()
    during = expert_make(
        status=Expert.Status.SUSPENDED,
        suspended_from=day - dt.timedelta(days=10),
        suspended_until=day + dt.timedelta(days=10),
    )
    ended = expert_make(
        status=Expert.Status.SUSPENDED,
        suspended_from=day - dt.timedelta(days=30),
        suspended_until=day - dt.timedelta(days=1),
    )
    removed = expert_make(status=Expert.Status.REMOVED)
    draw = performed(world)
    assert outcome(draw, during)[0] is False
    assert outcome(draw, removed)[0] is False
    assert outcome(draw, ended) == (True, [])


def test_unavailable_overlapping_the_evaluation_but_not_adjacent(world):
    blocked, adjacent = expert_make(), expert_make()
    Unavailability.objects.create(
        expert=blocked,
        starts_at=world.starts + dt.timedelta(hours=5),
        ends_at=world.starts + dt.timedelta(days=1),
    )
    Unavailability.objects.create(
        expert=adjacent, starts_at=world.starts - dt.timedelta(days=1), ends_at=world.starts
    )
    draw = performed(world)
    assert outcome(draw, blocked) == (False, [c.UNAVAILABLE])
    assert outcome(draw, adjacent) == (True, [])


def _other_draw(world, clock, *, tender, starts):
    from tests.factories import LotFactory

    lot = LotFactory(tender=tender, number=tender.lots.count() + 1)
    return Draw.objects.create(
        lot=lot,
        state=Draw.State.DRAWN,
        request={
            "evaluation_starts_at": starts.isoformat(),
            "evaluation_ends_at": (starts + dt.timedelta(hours=4)).isoformat(),
        },
        request_digest="0" * 64,
        seed_commitment="0" * 64,
        seed_sealed="x",
        requested_by=world.centre,
        requested_at=clock(),
        drawn_at=clock(),
    )


def test_busy_in_another_evaluation_at_the_same_time(world, clock):
    busy, free = expert_make(), expert_make()
    other_tender = TenderFactory()
    same_time = _other_draw(world, clock, tender=other_tender, starts=world.starts + dt.timedelta(hours=1))
    next_day = _other_draw(world, clock, tender=other_tender, starts=world.starts + dt.timedelta(days=1))
    Assignment.objects.create(draw=same_time, expert=busy, group=0, position=0, status="confirmed")
    Assignment.objects.create(draw=next_day, expert=free, group=0, position=0, status="confirmed")
    draw = performed(world, tenderee_limit=0)
    assert outcome(draw, busy) == (False, [c.BUSY])
    assert outcome(draw, free) == (True, [])


@pytest.mark.parametrize("seats, excluded", [(3, True), (2, False)])
def test_drawn_for_the_same_tenderee_too_often(world, clock, seats, excluded):
    expert = expert_make()
    for i in range(seats):
        other = TenderFactory(tenderee=world.tender.tenderee)
        d = _other_draw(world, clock, tender=other, starts=world.starts - dt.timedelta(days=10 + i))
        Assignment.objects.create(draw=d, expert=expert, group=0, position=0, status="confirmed")
    draw = performed(world, tenderee_limit=3, tenderee_window_days=90)
    assert outcome(draw, expert) == ((False, [c.TENDEREE_FREQUENCY]) if excluded else (True, []))


def test_region_include_and_exclude(world):
    nanning = expert_make(region="450102")
    guilin = expert_make(region="450300")
    guangdong = expert_make(region="440100")
    only_gx = performed(world, region_include=["45"], region_exclude=["4503"])
    assert [outcome(only_gx, e)[0] for e in (nanning, guilin, guangdong)] == [True, False, False]


def test_other_specialty_and_non_main_specialty_are_not_in_the_pool(world):
    other = expert_make(specialty=OTHER_SPECIALTY)
    secondary = expert_make(main=False)
    child = expert_make(specialty=SPECIALTY + "01")  # a 4th-level direction under the 3rd-level code
    draw = performed(world)
    assert [outcome(draw, e)[0] for e in (other, secondary, child)] == [False, False, True]


def test_age_cap(world):
    old = expert_make(birth_year=1950)
    assert outcome(performed(world, age_cap=70), old)[0] is False


def test_same_employer_limit_holds_for_every_nonce_and_is_what_the_cap_changes(world, clock):
    firm = MarketEntityFactory()
    colleagues = {expert_make(employer=firm).public_id for _ in range(6)}

    def most_from_firm(limit: int) -> int:
        worst = 0
        for n in range(12):
            clock.advance(minutes=1)
            if (live := Draw.objects.exclude(state=Draw.State.CANCELLED).first()) is not None:
                live.state = Draw.State.CANCELLED
                live.save(update_fields=["state"])
            draw = world.perform(world.request(same_employer_limit=limit), nonce=f"nonce-{limit}-{n:04d}")
            worst = max(worst, len(colleagues & set(draw.groups[0]["members"])))
        return worst

    assert most_from_firm(1) <= 1
    assert most_from_firm(0) >= 2  # without the cap the six colleagues do take several seats


def test_exclusions_count_only_parties_of_this_lot(world):
    other_bidder = MarketEntityFactory()
    expert = expert_make(employer=other_bidder)
    assert outcome(performed(world), expert) == (True, [])


def test_excluded_reasons_are_recorded_per_expert_and_counted_in_the_journal(world):
    from archive.models import JournalEntry

    expert = expert_make(employer=world.bidders[0])
    draw = performed(world)
    entry = JournalEntry.objects.filter(stream=world.tender.stream, action="experts.draw_performed").get()
    assert draw.excluded[expert.public_id] == [c.EMPLOYEE]
    assert Counter(entry.payload["excluded"])[c.EMPLOYEE] >= 1


def test_request_refuses_counts_that_do_not_fill_the_committee(world):
    from core.errors import DomainError

    with pytest.raises(DomainError) as info:
        draw_request(
            lot=world.lot,
            actor=world.centre,
            groups=[{"specialty": SPECIALTY, "count": 3}],
            evaluation_starts_at=world.starts,
            evaluation_ends_at=world.starts + dt.timedelta(hours=3),
        )
    assert info.value.code == "draw_count_mismatch"


def test_a_withdrawn_declaration_no_longer_excludes(world):
    from experts.services.pool import relationship_withdraw

    expert = expert_make()
    rel = Relationship.objects.create(
        expert=expert, kind="economic", entity=world.bidders[0], declared_at=world.tender.published_at
    )
    relationship_withdraw(relationship=rel, actor=expert.user, reason="关系已解除")
    assert outcome(performed(world), expert) == (True, [])
