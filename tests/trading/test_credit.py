"""Credit records and the blacklist (DOMAIN C11, D4): decided by regulators, journalled, dated."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser

from archive.journal import verify_all
from archive.models import JournalEntry
from core.errors import DomainError
from tests.factories import (
    AgencyUserFactory,
    BidderUserFactory,
    MarketEntityFactory,
    PersonFactory,
    UserFactory,
)
from trading import models as m
from trading.selectors import check_entity_may_participate, entity_blacklist_entry, entity_is_blacklisted
from trading.services.credit import credit_record_create, credit_record_revoke

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def regulator():
    return UserFactory(role=m.Role.REGULATOR)


MARCH_2 = D(2026, 3, 2)
JUNE_30 = D(2026, 6, 30)


def disqualify(actor, entity, *, starts_on=MARCH_2, ends_on=JUNE_30, **kw):
    return credit_record_create(
        actor=actor,
        kind=m.CreditRecord.Kind.DISQUALIFICATION,
        entity=entity,
        legal_basis="招标投标法实施条例第六十七条",
        starts_on=starts_on,
        ends_on=ends_on,
        restricted_action="参加依法必须招标项目投标",
        **kw,
    )


@pytest.mark.parametrize("role", [m.Role.REGULATOR, m.Role.ADMIN])
def test_regulators_and_admins_record_credit(role, clock):
    # given
    entity = MarketEntityFactory()
    actor = UserFactory(role=role)

    # when
    record = credit_record_create(
        actor=actor,
        kind=m.CreditRecord.Kind.WARNING,
        entity=entity,
        legal_basis="条例第七十七条",
        starts_on=D(2026, 3, 2),
        source="complaint:3",
    )

    # then
    assert (record.decided_by_id, record.decided_at, record.blocks_participation) == (
        actor.pk,
        clock(),
        False,
    )
    assert not entity_is_blacklisted(entity)


@pytest.mark.parametrize(
    "make_actor",
    [
        lambda: UserFactory(role=m.Role.CENTRE),
        lambda: BidderUserFactory(),
        lambda: AgencyUserFactory(),
        lambda: UserFactory(role=m.Role.EXPERT),
    ],
    ids=["centre", "bidder", "agency", "expert"],
)
def test_other_roles_may_not_record_credit(make_actor):
    # given
    entity = MarketEntityFactory()

    # when
    with pytest.raises(DomainError) as exc:
        disqualify(make_actor(), entity)

    # then
    assert (exc.value.code, exc.value.status) == ("role_forbidden", 403)
    assert m.CreditRecord.objects.count() == 0
    assert JournalEntry.objects.count() == 0


def test_anonymous_may_not_record_credit():
    with pytest.raises(DomainError) as exc:
        disqualify(AnonymousUser(), MarketEntityFactory())
    assert exc.value.code == "not_authenticated"


def test_disqualification_blacklists_until_its_last_day_inclusive(regulator, clock):
    # given an entity barred from 2 March to 30 June
    entity = MarketEntityFactory()
    record = disqualify(regulator, entity)
    assert record.blocks_participation  # a disqualification always bars

    # when it is the last day, then it is still barred
    clock.set(dt.datetime(2026, 6, 30, 23, 59))
    with pytest.raises(DomainError) as exc:
        check_entity_may_participate(entity)
    assert (exc.value.code, exc.value.status) == ("entity_blacklisted", 403)
    assert exc.value.params["until"] == "2026-06-30"
    assert exc.value.params["record"] == record.pk

    # when it is the day after, then it may take part again
    clock.set(dt.datetime(2026, 7, 1, 0, 0))
    check_entity_may_participate(entity)
    assert entity_blacklist_entry(entity) is None


def test_day_is_taken_in_the_platform_time_zone(regulator, clock):
    # given a ban ending 30 June; at 16:30 UTC on 30 June it is already 1 July in Shanghai
    entity = MarketEntityFactory()
    disqualify(regulator, entity)

    # when
    clock.set(dt.datetime(2026, 6, 30, 16, 30, tzinfo=dt.UTC))

    # then
    assert not entity_is_blacklisted(entity)


def test_blacklist_not_yet_started_does_not_bar(regulator, clock):
    entity = MarketEntityFactory()
    disqualify(regulator, entity, starts_on=D(2026, 3, 3))
    check_entity_may_participate(entity)  # 2 March: not yet
    clock.advance(days=1)
    with pytest.raises(DomainError) as exc:
        check_entity_may_participate(entity)
    assert exc.value.code == "entity_blacklisted"


def test_permanent_disqualification_has_no_end(regulator, clock):
    entity = MarketEntityFactory()
    disqualify(regulator, entity, ends_on=None)
    clock.set(dt.datetime(2036, 1, 1, 9, 0))
    with pytest.raises(DomainError) as exc:
        check_entity_may_participate(entity)
    assert exc.value.params["until"] == ""


def test_the_longest_ban_is_reported_when_several_overlap(regulator, clock):
    entity = MarketEntityFactory()
    disqualify(regulator, entity, ends_on=D(2026, 4, 30))
    longest = disqualify(regulator, entity, ends_on=D(2027, 1, 31))
    assert entity_blacklist_entry(entity).pk == longest.pk


def test_a_ban_of_another_entity_does_not_bar_this_one(regulator):
    disqualify(regulator, MarketEntityFactory())
    check_entity_may_participate(MarketEntityFactory())


def test_revocation_lifts_the_ban_and_is_journalled(regulator, clock):
    # given
    entity = MarketEntityFactory()
    record = disqualify(regulator, entity)

    # when
    clock.advance(days=3)
    credit_record_revoke(record=record, actor=regulator, reason="复议撤销")

    # then
    record.refresh_from_db()
    assert record.revoked_at == clock()
    check_entity_may_participate(entity)
    entry = JournalEntry.objects.get(action="credit.revoked")
    assert (entry.stream, entry.object_id, entry.payload) == (
        f"entity:{entity.pk}",
        str(record.pk),
        {"reason": "复议撤销"},
    )


def test_revocation_is_refused_twice_without_reason_and_for_other_roles(regulator):
    record = disqualify(regulator, MarketEntityFactory())
    for actor, reason, code in [
        (UserFactory(role=m.Role.CENTRE), "x", "role_forbidden"),
        (regulator, " ", "reason_required"),
    ]:
        with pytest.raises(DomainError) as exc:
            credit_record_revoke(record=record, actor=actor, reason=reason)
        assert exc.value.code == code
    credit_record_revoke(record=record, actor=regulator, reason="复议撤销")
    with pytest.raises(DomainError) as exc:
        credit_record_revoke(record=record, actor=regulator, reason="again")
    assert exc.value.code == "credit_already_revoked"


def test_records_are_journalled_in_the_subjects_stream(regulator):
    # given
    entity = MarketEntityFactory()
    person = PersonFactory()

    # when
    on_entity = disqualify(regulator, entity, source="alert:17")
    on_person = credit_record_create(
        actor=regulator,
        kind=m.CreditRecord.Kind.FINE,
        person=person,
        legal_basis="条例第七十二条",
        starts_on=D(2026, 3, 2),
        fine_amount=Decimal("5000.00"),
    )

    # then
    e1 = JournalEntry.objects.get(action="credit.recorded", object_id=str(on_entity.pk))
    assert e1.stream == f"entity:{entity.pk}"
    assert e1.payload == {
        "kind": "disqualification",
        "legal_basis": "招标投标法实施条例第六十七条",
        "starts_on": "2026-03-02",
        "ends_on": "2026-06-30",
        "blocks": True,
        "source": "alert:17",
    }
    e2 = JournalEntry.objects.get(action="credit.recorded", object_id=str(on_person.pk))
    assert e2.stream == f"person:{person.pk}"
    assert verify_all() == []


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"kind": "medal"}, "credit_kind_unknown"),
        ({"entity": None}, "credit_subject_required"),
        ({"legal_basis": "  "}, "legal_basis_required"),
        ({"ends_on": D(2026, 3, 1)}, "credit_period_invalid"),
        ({"kind": "fine"}, "fine_amount_required"),
        ({"kind": "fine", "fine_amount": Decimal("0")}, "fine_amount_required"),
    ],
)
def test_bad_records_are_refused_and_nothing_is_written(regulator, kwargs, code):
    # given
    base = {
        "actor": regulator,
        "kind": "disqualification",
        "entity": MarketEntityFactory(),
        "legal_basis": "条例第六十七条",
        "starts_on": D(2026, 3, 2),
        "ends_on": D(2026, 6, 30),
    }

    # when
    with pytest.raises(DomainError) as exc:
        credit_record_create(**{**base, **kwargs})

    # then
    assert exc.value.code == code
    assert m.CreditRecord.objects.count() == 0
    assert JournalEntry.objects.count() == 0


def test_unverified_entity_may_not_take_part():
    entity = MarketEntityFactory(status=m.EntityStatus.PENDING)
    with pytest.raises(DomainError) as exc:
        check_entity_may_participate(entity)
    assert exc.value.code == "entity_not_verified"


def test_no_entity_may_not_take_part():
    with pytest.raises(DomainError) as exc:
        check_entity_may_participate(None)
    assert exc.value.code == "entity_required"
