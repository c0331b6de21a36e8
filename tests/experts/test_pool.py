"""The expert pool's services (experts.services.pool): admission, status, the expert's calendar,
declared relationships, profile proposals and their review (DOMAIN C2/C3/C5).

Also holds the small world the other pool tests import (valid ID numbers, a centre, an expert)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from archive.models import JournalEntry
from core.errors import DomainError
from experts.models import Employment, Expert, ExpertSpecialty, ProfileChange, Relationship, Unavailability
from experts.services import pool
from tests.factories import BidderUserFactory, MarketEntityFactory, PersonFactory, UserFactory, make_uscc
from trading.models import Notification, Person, Role, User
from trading.services.entities import person_id_digest, person_upsert

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


# --- the world the pool tests share ----------------------------------------------------------------


def rid(n: int, region: str = "450103", birth: str = "19700101") -> str:
    """A well-formed resident ID number (GB 11643 check character)."""
    body = f"{region}{birth}{n % 1000:03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _WEIGHTS, strict=True)) % 11]


def expert_data(n: int = 1, **over) -> dict:
    data = {
        "name": f"覃专家{n}",
        "id_number": rid(n),
        "phone": f"1390771{n:04d}",
        "region_code": "450100",
        "employer_name": "广西大学",
        "title": "教授级高级工程师",
        "title_level": "senior",
        "group": "technical",
        "birth_year": 1970,
        "years_in_field": 25,
        "specialties": [{"code": "A010101", "main": True}, {"code": "A0102", "main": False}],
        "qualifications": [{"name": "一级注册建造师", "number": "桂145000001", "valid_until": "2028-01-01"}],
        "employments": [{"employer_name": "广西大学", "position": "教授", "start_date": "2005-09-01"}],
    }
    data.update(over)
    return data


def centre(**kw) -> User:
    return UserFactory(role=Role.CENTRE, region_code="450100", **kw)


def make_expert(n: int = 1, *, actor: User | None = None, **over) -> Expert:
    return pool.expert_create(actor=actor or centre(), data=expert_data(n, **over), password="")


def refused(fn, **kwargs) -> DomainError:
    """The DomainError `fn(**kwargs)` raises."""
    with pytest.raises(DomainError) as info:
        fn(**kwargs)
    return info.value


def journal(expert: Expert) -> list[str]:
    return list(JournalEntry.objects.filter(stream=f"expert:{expert.pk}").values_list("action", flat=True))


def counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Person, User, Expert, ExpertSpecialty, Employment))


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


# --- admission ---------------------------------------------------------------------------------------


def test_centre_admits_an_expert_with_account_specialties_history_and_qualifications(clock):
    staff = centre()

    expert = pool.expert_create(actor=staff, data=expert_data(1), username="qin1", password="Kx7!pool-admit")

    assert expert.user.role == Role.EXPERT and expert.user.username == "qin1"
    assert expert.user.check_password("Kx7!pool-admit")
    assert expert.person.id_digest == person_id_digest("resident_id", rid(1))
    assert expert.user.person_id == expert.person_id
    assert [(s.specialty_id, s.is_main) for s in expert.specialty_links.order_by("-is_main")] == [
        ("A010101", True),
        ("A0102", False),
    ]
    assert expert.employments.get().start_date == dt.date(2005, 9, 1)
    assert expert.qualifications[0]["name"] == "一级注册建造师"
    assert expert.managed_by_region == "450100"
    assert journal(expert) == ["experts.expert_created"]
    assert JournalEntry.objects.get(stream=f"expert:{expert.pk}").actor_id == str(staff.pk)


def test_the_user_name_defaults_to_the_phone_number(clock):
    expert = make_expert(2)
    assert expert.user.username == "13907710002"


def test_an_existing_registry_person_is_reused(clock):
    person = person_upsert(name="覃专家3", id_number=rid(3))
    expert = make_expert(3)
    assert expert.person == person


@pytest.mark.parametrize("role", [Role.AGENCY, Role.BIDDER, Role.EXPERT, Role.REGULATOR])
def test_only_centre_staff_admit_experts(clock, role):
    actor = BidderUserFactory() if role == Role.BIDDER else UserFactory(role=role)
    before = counts()
    assert refused(pool.expert_create, actor=actor, data=expert_data(4)).code == "role_forbidden"
    assert counts() == before


@pytest.mark.parametrize(
    ("over", "field", "code"),
    [
        ({"specialties": [{"code": "Z999999", "main": True}]}, "specialties[0]", "specialty_unknown"),
        ({"specialties": [{"code": "A010101", "main": False}]}, "specialties", "specialty_main_count"),
        (
            {"specialties": [{"code": "A010101", "main": True}, {"code": "A0102", "main": True}]},
            "specialties",
            "specialty_main_count",
        ),
        (
            {"specialties": [{"code": "A010101", "main": True}, {"code": "A010101", "main": False}]},
            "specialties[1]",
            "specialty_duplicate",
        ),
        ({"specialties": []}, "specialties", "required"),
        ({"region_code": "999900"}, "region_code", "region_unknown"),
        ({"region_code": "459900"}, "region_code", "region_unknown"),
        ({"region_code": "45"}, "region_code", "region_invalid"),
        ({"employer_uscc": "91450100MA5L000000"}, "employer_uscc", "uscc_checksum"),
        ({"id_number": "450103197001010000"}, "id_number", "id_number_invalid"),
        ({"phone": "12345"}, "phone", "phone_invalid"),
        ({"title_level": "emperor"}, "title_level", "choice_invalid"),
        ({"birth_year": 1800}, "birth_year", "out_of_range"),
        (
            {"employments": [{"employer_name": "甲", "start_date": "2020-01-01", "end_date": "2019-01-01"}]},
            "employments[0].end_date",
            "period_invalid",
        ),
        ({"qualifications": [{"name": "", "valid_until": "soon"}]}, "qualifications[0].name", "required"),
    ],
)
def test_a_bad_field_refuses_the_whole_admission_with_its_code(clock, over, field, code):
    staff = centre()
    before = counts()

    exc = refused(pool.expert_create, actor=staff, data=expert_data(5, **over))

    assert exc.code == "expert_invalid"
    assert exc.params["codes"][field] == code
    assert counts() == before


def test_every_bad_field_is_reported_at_once(clock):
    exc = refused(
        pool.expert_create,
        actor=centre(),
        data=expert_data(6, region_code="1", phone="x", specialties=[{"code": "Q1", "main": True}]),
    )
    assert {"region_code", "phone", "specialties[0]"} <= set(exc.params["codes"])


def test_main_and_other_specialty_columns_are_accepted_too(clock):
    data = expert_data(7)
    del data["specialties"]
    data.update(main_specialty="a010203", other_specialties="A0101；A0102、B01")
    expert = pool.expert_create(actor=centre(), data=data)
    assert expert.specialty_links.get(is_main=True).specialty_id == "A010203"
    assert set(expert.specialty_links.values_list("specialty_id", flat=True)) == {
        "A010203",
        "A0101",
        "A0102",
        "B01",
    }


def test_an_employer_in_the_registry_is_linked_by_its_credit_code(clock):
    entity = MarketEntityFactory()
    expert = make_expert(8, employer_name="", employer_uscc=entity.uscc)
    assert expert.employer == entity and expert.employer_name == entity.name


def test_a_person_already_in_the_pool_is_refused(clock):
    make_expert(9)
    assert refused(pool.expert_create, actor=centre(), data=expert_data(9, phone="13800000009")).code == (
        "expert_exists"
    )


def test_an_id_number_registered_under_another_name_is_refused(clock):
    person_upsert(name="韦某", id_number=rid(10))
    exc = refused(pool.expert_create, actor=centre(), data=expert_data(10))
    assert exc.params["codes"]["name"] == "name_mismatch"


def test_a_taken_user_name_and_a_weak_password_are_field_errors(clock):
    UserFactory(username="13907710011")
    exc = refused(pool.expert_create, actor=centre(), data=expert_data(11), password="123")
    assert exc.params["codes"]["username"] == "username_taken"
    assert exc.params["codes"]["password"] == "password_weak"


def test_an_existing_expert_account_gets_the_profile(clock):
    person = PersonFactory(name="陆专家")
    user = UserFactory(role=Role.EXPERT, person=person)
    expert = pool.expert_create(actor=centre(), data=expert_data(12), user=user)
    assert expert.user == user and expert.person == person


def test_an_account_without_the_expert_role_cannot_be_an_expert(clock):
    user = UserFactory(role=Role.AGENCY, person=PersonFactory())
    exc = refused(pool.expert_create, actor=centre(), data=expert_data(13), user=user)
    assert exc.params["codes"]["user"] == "user_not_expert"


# --- status --------------------------------------------------------------------------------------------


def test_suspension_needs_a_period_and_is_journalled(clock):
    expert, staff = make_expert(20), centre()
    assert (
        refused(pool.expert_set_status, expert=expert, actor=staff, status="suspended", reason="体检").code
        == "suspension_period_required"
    )

    pool.expert_set_status(
        expert=expert,
        actor=staff,
        status="suspended",
        suspended_from=dt.date(2026, 3, 2),
        suspended_until=dt.date(2026, 6, 30),
        reason="长期出差",
    )

    expert.refresh_from_db()
    assert (expert.status, expert.suspended_until, expert.version) == ("suspended", dt.date(2026, 6, 30), 2)
    assert journal(expert)[-1] == "experts.status_changed"
    assert Notification.objects.filter(user=expert.user, kind="experts.status").exists()


def test_a_suspension_period_must_not_end_before_it_starts(clock):
    exc = refused(
        pool.expert_set_status,
        expert=make_expert(21),
        actor=centre(),
        status="suspended",
        suspended_from=dt.date(2026, 6, 1),
        suspended_until=dt.date(2026, 5, 1),
        reason="x",
    )
    assert exc.code == "suspension_period_invalid"


def test_reactivation_clears_the_period_and_removal_is_final(clock):
    expert, staff = make_expert(22), centre()
    pool.expert_set_status(
        expert=expert,
        actor=staff,
        status="suspended",
        suspended_from=dt.date(2026, 3, 2),
        suspended_until=dt.date(2026, 4, 1),
        reason="x",
    )
    pool.expert_set_status(expert=expert, actor=staff, status="active", reason="恢复")
    expert.refresh_from_db()
    assert expert.suspended_from is None and expert.status == "active"

    pool.expert_set_status(expert=expert, actor=staff, status="removed", reason="本人申请退出")

    assert refused(pool.expert_set_status, expert=expert, actor=staff, status="active", reason="x").code == (
        "expert_removed"
    )


def test_status_needs_a_reason_and_centre_staff(clock):
    expert = make_expert(23)
    assert refused(
        pool.expert_set_status, expert=expert, actor=centre(), status="removed", reason=" "
    ).code == ("reason_required")
    assert (
        refused(
            pool.expert_set_status,
            expert=expert,
            actor=UserFactory(role=Role.REGULATOR),
            status="removed",
            reason="x",
        ).code
        == "role_forbidden"
    )
    assert refused(
        pool.expert_set_status, expert=expert, actor=centre(), status="active", reason="x"
    ).code == ("status_unchanged")


# --- the availability calendar -------------------------------------------------------------------------


def test_the_expert_adds_and_removes_unavailable_periods(clock):
    expert = make_expert(30)
    period = pool.unavailability_add(
        expert=expert,
        actor=expert.user,
        starts_at=at(2026, 3, 10, 0),
        ends_at=at(2026, 3, 12, 0),
        reason="出国",
    )
    assert journal(expert)[-1] == "experts.unavailability_added"

    pool.unavailability_remove(unavailability=period, actor=expert.user)

    assert not Unavailability.objects.exists()
    assert journal(expert)[-1] == "experts.unavailability_removed"


@pytest.mark.parametrize(
    ("starts", "ends", "code"),
    [
        (at(2026, 3, 11, 0), at(2026, 3, 13, 0), "unavailability_overlap"),
        (at(2026, 3, 9, 0), at(2026, 3, 10, 0, 1), "unavailability_overlap"),
        (at(2026, 3, 20, 0), at(2026, 3, 20, 0), "unavailability_period_invalid"),
        (at(2026, 3, 1, 0), at(2026, 3, 2, 8), "unavailability_past"),
    ],
)
def test_periods_do_not_overlap_end_after_they_start_and_are_not_past(clock, starts, ends, code):
    expert = make_expert(31)
    pool.unavailability_add(
        expert=expert, actor=expert.user, starts_at=at(2026, 3, 10, 0), ends_at=at(2026, 3, 12, 0)
    )
    assert (
        refused(
            pool.unavailability_add, expert=expert, actor=expert.user, starts_at=starts, ends_at=ends
        ).code
        == code
    )
    assert Unavailability.objects.count() == 1


def test_adjacent_periods_do_not_overlap(clock):
    expert = make_expert(32)
    pool.unavailability_add(
        expert=expert, actor=expert.user, starts_at=at(2026, 3, 10, 0), ends_at=at(2026, 3, 12, 0)
    )
    pool.unavailability_add(
        expert=expert, actor=expert.user, starts_at=at(2026, 3, 12, 0), ends_at=at(2026, 3, 13, 0)
    )
    assert expert.unavailable.count() == 2


def test_another_expert_cannot_touch_my_calendar_and_past_periods_stay(clock):
    mine, other = make_expert(33), make_expert(34)
    period = pool.unavailability_add(
        expert=mine, actor=mine.user, starts_at=at(2026, 3, 10, 0), ends_at=at(2026, 3, 12, 0)
    )
    assert refused(
        pool.unavailability_add,
        expert=mine,
        actor=other.user,
        starts_at=at(2026, 4, 1, 0),
        ends_at=at(2026, 4, 2, 0),
    ).code == ("expert_not_yours")
    assert (
        refused(pool.unavailability_remove, unavailability=period, actor=other.user).code
        == "expert_not_yours"
    )

    clock.set(dt.datetime(2026, 3, 13, 9, 0))

    assert (
        refused(pool.unavailability_remove, unavailability=period, actor=mine.user).code
        == "unavailability_past"
    )


# --- declared relationships ------------------------------------------------------------------------------


def test_a_relative_known_to_the_registry_is_linked_to_the_person(clock):
    expert = make_expert(40)
    brother = person_upsert(name="覃兄", id_number=rid(400))

    rel = pool.relationship_declare(
        expert=expert,
        actor=expert.user,
        kind="kin",
        relation="兄弟",
        person_name="覃兄",
        person_id_number=rid(400).lower(),
    )

    assert rel.person == brother and rel.person_id_digest == brother.id_digest
    assert journal(expert)[-1] == "experts.relationship_declared"


def test_an_unknown_relative_is_kept_by_id_digest_only(clock):
    expert = make_expert(41)
    rel = pool.relationship_declare(
        expert=expert,
        actor=expert.user,
        kind="kin",
        relation="配偶",
        person_name="黄某",
        person_id_number=rid(401),
    )
    assert rel.person is None
    assert rel.person_id_digest == person_id_digest("resident_id", rid(401))
    assert rid(401) not in str(Relationship.objects.values().get())


def test_a_relative_needs_name_id_and_relation_and_is_declared_once(clock):
    expert = make_expert(42)
    exc = refused(pool.relationship_declare, expert=expert, actor=expert.user, kind="kin")
    assert exc.code == "relationship_invalid"
    assert {"person_name", "person_id_number", "relation"} <= set(exc.params["codes"])
    kw = {"kind": "kin", "relation": "父亲", "person_name": "覃父", "person_id_number": rid(402)}
    pool.relationship_declare(expert=expert, actor=expert.user, **kw)
    assert (
        refused(pool.relationship_declare, expert=expert, actor=expert.user, **kw).code
        == "relationship_duplicate"
    )


def test_an_economic_interest_names_a_company_by_credit_code(clock):
    expert, entity = make_expert(43), MarketEntityFactory()
    rel = pool.relationship_declare(
        expert=expert, actor=expert.user, kind="economic", entity_uscc=entity.uscc
    )
    assert rel.entity == entity
    exc = refused(
        pool.relationship_declare, expert=expert, actor=expert.user, kind="economic", entity_uscc="123"
    )
    assert exc.params["codes"]["entity_uscc"] == "uscc_length"
    exc = refused(pool.relationship_declare, expert=expert, actor=expert.user, kind="other")
    assert exc.params["codes"]["entity_uscc"] == "relationship_subject_required"


def test_only_the_expert_declares_and_withdraws(clock):
    expert, staff = make_expert(44), centre()
    assert refused(
        pool.relationship_declare, expert=expert, actor=staff, kind="other", note="曾任该公司顾问"
    ).code == ("expert_not_yours")
    rel = pool.relationship_declare(
        expert=expert, actor=expert.user, kind="former_post", entity_uscc=make_uscc(4401)
    )
    assert refused(pool.relationship_withdraw, relationship=rel, actor=staff).code == "expert_not_yours"

    pool.relationship_withdraw(relationship=rel, actor=expert.user, reason="申报错误")

    # kept, marked withdrawn: the draw no longer counts it, the history stays
    assert Relationship.objects.get(pk=rel.pk).withdrawn_at is not None
    assert journal(expert)[-1] == "experts.relationship_withdrawn"


# --- profile changes proposed by the expert, reviewed by the centre ----------------------------------------


def test_a_proposal_changes_nothing_until_approved_then_applies_at_once(clock):
    expert, staff = make_expert(50), centre()
    new_employer = MarketEntityFactory(name="广西交通设计集团有限公司")

    change = pool.profile_change_propose(
        expert=expert,
        actor=expert.user,
        data={
            "region_code": "450200",
            "employer_uscc": new_employer.uscc,
            "employer_name": "",
            "specialties": [{"code": "A0102", "main": True}],
            "remote_ok": False,
        },
    )
    expert.refresh_from_db()
    assert expert.region_code == "450100" and change.state == "proposed"
    assert set(change.data) == {"region_code", "employer_uscc", "employer_name", "specialties", "remote_ok"}

    clock.advance(days=1)
    pool.profile_change_decide(change=change, actor=staff, approve=True, note="")

    expert.refresh_from_db()
    assert (expert.region_code, expert.employer, expert.remote_ok, expert.version) == (
        "450200",
        new_employer,
        False,
        2,
    )
    assert list(expert.specialty_links.values_list("specialty_id", "is_main")) == [("A0102", True)]
    # The old job ended on the day of the proposal; the new one began then (recent employers, C5).
    jobs = list(expert.employments.order_by("start_date").values_list("employer_name", "end_date"))
    assert jobs == [("广西大学", dt.date(2026, 3, 2)), ("广西交通设计集团有限公司", None)]
    assert journal(expert)[-2:] == ["experts.profile_change_proposed", "experts.profile_change_approved"]
    assert Notification.objects.filter(user=expert.user, kind="experts.profile_change").exists()


def test_a_proposal_is_validated_up_front_with_field_codes(clock):
    expert = make_expert(51)
    exc = refused(
        pool.profile_change_propose,
        expert=expert,
        actor=expert.user,
        data={"region_code": "000000", "birth_year": 1960, "specialties": [{"code": "NOPE", "main": True}]},
    )
    assert exc.params["codes"] == {
        "birth_year": "field_not_changeable",
        "region_code": "region_unknown",
        "specialties[0]": "specialty_unknown",
    }
    assert not ProfileChange.objects.exists()


def test_a_proposal_must_change_something_and_only_one_is_open(clock):
    expert = make_expert(52)
    assert refused(
        pool.profile_change_propose, expert=expert, actor=expert.user, data={"region_code": "450100"}
    ).code == ("change_empty")
    pool.profile_change_propose(expert=expert, actor=expert.user, data={"title": "研究员"})
    assert refused(
        pool.profile_change_propose, expert=expert, actor=expert.user, data={"title": "教授"}
    ).code == ("change_pending")


def test_only_the_expert_proposes_and_only_the_centre_decides(clock):
    expert, other = make_expert(53), make_expert(54)
    assert refused(
        pool.profile_change_propose, expert=expert, actor=other.user, data={"title": "x"}
    ).code == ("expert_not_yours")
    change = pool.profile_change_propose(expert=expert, actor=expert.user, data={"title": "研究员"})
    assert (
        refused(pool.profile_change_decide, change=change, actor=expert.user, approve=True).code
        == "role_forbidden"
    )


def test_a_rejection_needs_a_reason_and_a_decision_is_taken_once(clock):
    expert, staff = make_expert(55), centre()
    change = pool.profile_change_propose(expert=expert, actor=expert.user, data={"title": "研究员"})
    assert (
        refused(pool.profile_change_decide, change=change, actor=staff, approve=False).code
        == "reason_required"
    )

    pool.profile_change_decide(change=change, actor=staff, approve=False, note="无证明材料")

    expert.refresh_from_db()
    assert expert.title == "教授级高级工程师" and expert.version == 1
    assert (
        refused(pool.profile_change_decide, change=change, actor=staff, approve=True).code
        == "change_not_pending"
    )
    # and a new proposal may follow
    pool.profile_change_propose(expert=expert, actor=expert.user, data={"title": "研究员"})


def test_a_full_employment_history_replaces_the_old_one(clock):
    expert, staff = make_expert(56), centre()
    history = [
        {
            "employer_name": "广西大学",
            "position": "教授",
            "start_date": "2005-09-01",
            "end_date": "2025-12-31",
        },
        {"employer_name": "南宁设计院", "employer_uscc": make_uscc(5601), "start_date": "2026-01-01"},
    ]
    change = pool.profile_change_propose(expert=expert, actor=expert.user, data={"employments": history})
    pool.profile_change_decide(change=change, actor=staff, approve=True)
    assert list(expert.employments.order_by("start_date").values_list("employer_name", "end_date")) == [
        ("广西大学", dt.date(2025, 12, 31)),
        ("南宁设计院", None),
    ]


def test_a_removed_experts_proposal_cannot_be_approved(clock):
    expert, staff = make_expert(57), centre()
    change = pool.profile_change_propose(expert=expert, actor=expert.user, data={"title": "研究员"})
    pool.expert_set_status(expert=expert, actor=staff, status="removed", reason="退出")
    assert (
        refused(pool.profile_change_decide, change=change, actor=staff, approve=True).code == "expert_removed"
    )


def test_the_centre_updates_a_profile_directly_with_a_new_version(clock):
    expert, staff = make_expert(58), centre()
    _expert, changes = pool.expert_update(
        expert=expert, actor=staff, data={"birth_year": 1971, "title": "教授级高级工程师"}
    )
    expert.refresh_from_db()
    assert list(changes) == ["birth_year"] and expert.version == 2
    _expert, changes = pool.expert_update(expert=expert, actor=staff, data={"birth_year": 1971})
    assert changes == {} and journal(expert).count("experts.expert_updated") == 1


def test_a_corrected_employer_name_with_the_same_credit_code_is_no_change_of_job(clock):
    uscc = make_uscc(5901)
    expert, staff = make_expert(59, employer_uscc=uscc, employer_name="南宁设计院"), centre()
    change = pool.profile_change_propose(
        expert=expert,
        actor=expert.user,
        data={"employer_name": "南宁市政设计院有限公司", "employer_uscc": uscc},
    )
    pool.profile_change_decide(change=change, actor=staff, approve=True)
    expert.refresh_from_db()
    assert expert.employer_name == "南宁市政设计院有限公司"
    assert list(expert.employments.values_list("employer_name", "end_date")) == [("广西大学", None)]
