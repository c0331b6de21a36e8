"""The market-entity registry: one form, centre verification, versioned changes, one Person per ID."""

from __future__ import annotations

import copy

import pytest

from archive.journal import verify_all
from archive.models import JournalEntry
from core.errors import DomainError
from tests.factories import AgencyUserFactory, BidderUserFactory, MarketEntityFactory, UserFactory, make_uscc
from trading import models as m
from trading.services.entities import (
    entity_change_decide,
    entity_change_propose,
    entity_register,
    entity_snapshot,
    entity_verify,
)

pytestmark = pytest.mark.django_db

CHILD_MODELS = (
    m.MarketEntity,
    m.Person,
    m.Shareholder,
    m.Position,
    m.BankAccount,
    m.Qualification,
    m.EntityVersion,
    JournalEntry,
)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in CHILD_MODELS}


def form(uscc: str | None = None, **overrides) -> dict:
    """A complete application form (一表申请) with every nested part."""
    data = {
        "uscc": uscc or make_uscc(501),
        "name": "广西桂通路桥建设有限公司",
        "name_en": "Guangxi Guitong Road & Bridge Co., Ltd.",
        "kind": "company",
        "is_bidder": True,
        "legal_rep": {"name": "王建国", "id_number": "450103197001011234", "phone": "13800000001"},
        "registered_capital": "50000000.00",
        "founded_on": "2008-05-12",
        "region_code": "450103",
        "address": "南宁市青秀区东葛路1号",
        "contact_name": "李青",
        "contact_phone": "0771-5550001",
        "business_scope": "公路工程施工",
        "qualifications": [
            {
                "kind": "construction",
                "name": "公路工程施工总承包",
                "level": "一级",
                "number": "D145000001",
                "issuer": "广西住建厅",
                "valid_from": "2022-01-01",
                "valid_until": "2027-01-01",
            }
        ],
        "shareholders": [
            {
                "person": {"name": "王建国", "id_number": "450103197001011234"},
                "share_pct": "60",
                "is_controlling": True,
            },
        ],
        "positions": [
            {
                "role": "project_manager",
                "person": {"name": "赵工", "id_number": "450103198505052222"},
                "professional_reg_no": "桂145060800123",
                "professional_kind": "一级建造师（公路）",
            },
            {"role": "finance", "person": {"name": "钱会计", "id_number": "450103199001013333"}},
        ],
        "bank_accounts": [
            {
                "bank_name": "中国工商银行南宁分行",
                "account_name": "广西桂通路桥建设有限公司",
                "account_number": "6222 0210 0100 1234",
                "is_basic": True,
            },
        ],
    }
    data.update(overrides)
    return data


# --- registration -------------------------------------------------------------------------------------


def test_registration_writes_the_whole_form_pending_with_a_proposed_version():
    # given an entity that will hold shares in the new one
    holder = MarketEntityFactory()
    data = form(
        shareholders=[
            *form()["shareholders"],
            {"entity_uscc": holder.uscc.lower(), "share_pct": "40"},
        ]
    )

    # when
    entity = entity_register(data=data)

    # then
    entity.refresh_from_db()
    assert entity.status == m.EntityStatus.PENDING
    assert (entity.uscc, entity.name, entity.version) == (data["uscc"], data["name"], 1)
    assert entity.legal_rep.name == "王建国"
    holders = {
        (s.person.name if s.person else None, s.holder_entity_id, str(s.share_pct))
        for s in entity.shareholders.select_related("person")
    }
    assert holders == {("王建国", None, "60.000"), (None, holder.pk, "40.000")}
    assert {
        (p.role, p.person.name, p.professional_reg_no) for p in entity.positions.select_related("person")
    } == {("project_manager", "赵工", "桂145060800123"), ("finance", "钱会计", "")}
    account = entity.bank_accounts.get()
    assert (account.account_number, account.is_basic) == ("6222021001001234", True)
    assert entity.qualifications.get().level == "一级"
    version = entity.versions.get()
    assert (version.state, version.version, version.reason) == (
        m.EntityVersion.State.PROPOSED,
        None,
        "registration",
    )
    assert version.data["uscc"] == data["uscc"]
    assert JournalEntry.objects.filter(stream=f"entity:{entity.pk}", action="entity.registered").exists()
    assert verify_all() == []


def test_legal_rep_who_is_also_shareholder_is_one_person():
    entity = entity_register(data=form())
    assert entity.shareholders.get().person_id == entity.legal_rep_id
    assert m.Person.objects.filter(id_number="450103197001011234").count() == 1


def test_same_person_in_two_entities_is_one_person_row():
    # given
    first = entity_register(data=form(make_uscc(601)))
    # when the second entity names the same project manager (ID typed in lower case)
    second_form = form(make_uscc(602), name="另一家公司")
    second_form["positions"][0]["person"]["id_number"] = "450103198505052222".lower()
    second = entity_register(data=second_form)

    # then
    pm1 = first.positions.get(role="project_manager").person_id
    pm2 = second.positions.get(role="project_manager").person_id
    assert pm1 == pm2
    assert m.Person.objects.filter(id_number="450103198505052222").count() == 1


def test_same_id_number_with_a_trailing_x_in_either_case_is_one_person():
    a = form(make_uscc(611))
    a["legal_rep"] = {"name": "韦X", "id_number": "45010319700101123x"}
    b = form(make_uscc(612), name="第二家")
    b["legal_rep"] = {"name": "韦X", "id_number": "45010319700101123X"}
    assert entity_register(data=a).legal_rep_id == entity_register(data=b).legal_rep_id


@pytest.mark.parametrize(
    ("uscc", "reason"),
    [
        ("91450100MA5K", "uscc_length"),
        ("91450100MA5KIIIIIZ", "uscc_format"),  # I is not in the GB 32100 alphabet
        (None, "uscc_checksum"),
    ],
)
def test_malformed_uscc_is_refused_and_nothing_is_written(uscc, reason):
    # given
    if uscc is None:  # a valid code with its check character changed
        good = make_uscc(701)
        uscc = good[:-1] + ("0" if good[-1] != "0" else "1")
    before = counts()

    # when
    with pytest.raises(DomainError) as exc:
        entity_register(data=form(uscc))

    # then
    assert exc.value.code == "registration_invalid"
    fields = exc.value.params["fields"]
    assert "uscc" in fields
    assert reason in fields["uscc"]
    assert counts() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"registered_capital": "lots"}, "registered_capital"),
        ({"registered_capital": "NaN"}, "registered_capital"),
        ({"registered_capital": "-5"}, "registered_capital"),
        ({"region_code": "4501"}, "region_code"),
        ({"kind": "pirate_ship"}, "kind"),
        ({"founded_on": "last year"}, "founded_on"),
        ({"legal_rep": "someone"}, "legal_rep"),
        (
            {
                "shareholders": [
                    {"person": {"name": "甲", "id_number": "1"}, "share_pct": "70"},
                    {"person": {"name": "乙", "id_number": "2"}, "share_pct": "40"},
                ]
            },
            "shareholders",
        ),
        (
            {"shareholders": [{"entity_uscc": make_uscc(999), "share_pct": "10"}]},
            "shareholders[0].entity_uscc",
        ),
        (
            {"positions": [{"role": "project_manager", "person": {"name": "甲", "id_number": "1"}}]},
            "positions[0].professional_reg_no",
        ),
        (
            {"positions": [{"role": "emperor", "person": {"name": "甲", "id_number": "1"}}]},
            "positions[0].role",
        ),
        (
            {"bank_accounts": [{"bank_name": "b", "account_name": "n", "account_number": "12AB"}]},
            "bank_accounts[0].account_number",
        ),
        (
            {
                "qualifications": [
                    {
                        "kind": "k",
                        "name": "n",
                        "number": "1",
                        "issuer": "i",
                        "valid_from": "2024-01-01",
                        "valid_until": "2023-01-01",
                    }
                ]
            },
            "qualifications[0].valid_until",
        ),
    ],
)
def test_bad_nested_input_is_refused_naming_the_field_and_nothing_is_written(change, field):
    # given
    before = counts()

    # when
    with pytest.raises(DomainError) as exc:
        entity_register(data=form(**change))

    # then
    assert exc.value.code == "registration_invalid"
    assert field in exc.value.params["fields"]
    assert str(exc.value.message)
    assert counts() == before


def test_all_errors_are_reported_at_once():
    with pytest.raises(DomainError) as exc:
        entity_register(data=form("123", name="", region_code="x"))
    assert {"uscc", "name", "region_code"} <= set(exc.value.params["fields"])


def test_a_form_that_is_not_an_object_is_refused():
    with pytest.raises(DomainError) as exc:
        entity_register(data=["not", "a", "form"])
    assert exc.value.code == "registration_invalid"


def test_duplicate_uscc_is_refused():
    # given
    entity_register(data=form())
    before = counts()

    # when
    with pytest.raises(DomainError) as exc:
        entity_register(data=form(name="冒名公司"))

    # then
    assert (exc.value.code, exc.value.status) == ("entity_exists", 409)
    assert counts() == before


# --- verification ------------------------------------------------------------------------------------


def test_centre_approves_a_registration(clock):
    # given
    entity = entity_register(data=form())
    centre = UserFactory(role=m.Role.CENTRE)

    # when
    entity = entity_verify(entity=entity, actor=centre, approve=True)

    # then
    entity.refresh_from_db()
    assert (entity.status, entity.verified_by_id, entity.verified_at) == (
        m.EntityStatus.VERIFIED,
        centre.pk,
        clock(),
    )
    version = entity.versions.get()
    assert (version.state, version.version, version.decided_by_id) == (
        m.EntityVersion.State.APPROVED,
        1,
        centre.pk,
    )
    assert JournalEntry.objects.filter(stream=f"entity:{entity.pk}", action="entity.verified").exists()


def test_centre_rejects_a_registration_with_a_reason():
    # given
    entity = entity_register(data=form())
    centre = UserFactory(role=m.Role.CENTRE)

    # when
    entity_verify(entity=entity, actor=centre, approve=False, reason="营业执照复印件不清晰")

    # then
    entity.refresh_from_db()
    assert (entity.status, entity.rejection_reason) == (m.EntityStatus.REJECTED, "营业执照复印件不清晰")
    assert entity.versions.get().state == m.EntityVersion.State.REJECTED
    assert JournalEntry.objects.get(action="entity.rejected").payload == {"reason": "营业执照复印件不清晰"}


def test_rejection_needs_a_reason():
    entity = entity_register(data=form())
    with pytest.raises(DomainError) as exc:
        entity_verify(entity=entity, actor=UserFactory(role=m.Role.CENTRE), approve=False, reason="  ")
    assert exc.value.code == "reason_required"
    entity.refresh_from_db()
    assert entity.status == m.EntityStatus.PENDING


def test_a_decided_registration_cannot_be_verified_again():
    entity = entity_register(data=form())
    centre = UserFactory(role=m.Role.CENTRE)
    entity_verify(entity=entity, actor=centre, approve=True)
    with pytest.raises(DomainError) as exc:
        entity_verify(entity=entity, actor=centre, approve=False, reason="changed my mind")
    assert exc.value.code == "entity_not_pending"


@pytest.mark.parametrize(
    "make_actor",
    [
        lambda: BidderUserFactory(),
        lambda: AgencyUserFactory(),
        lambda: UserFactory(role=m.Role.REGULATOR),
        lambda: UserFactory(role=m.Role.EXPERT),
    ],
    ids=["bidder", "agency", "regulator", "expert"],
)
def test_verification_by_other_roles_is_refused(make_actor):
    # given
    entity = entity_register(data=form())
    before = counts()

    # when
    with pytest.raises(DomainError) as exc:
        entity_verify(entity=entity, actor=make_actor(), approve=True)

    # then
    assert (exc.value.code, exc.value.status) == ("role_forbidden", 403)
    entity.refresh_from_db()
    assert entity.status == m.EntityStatus.PENDING
    assert counts()["JournalEntry"] == before["JournalEntry"]


def test_verification_by_anonymous_is_refused():
    from django.contrib.auth.models import AnonymousUser

    entity = entity_register(data=form())
    with pytest.raises(DomainError) as exc:
        entity_verify(entity=entity, actor=AnonymousUser(), approve=True)
    assert exc.value.code == "not_authenticated"


# --- changes -----------------------------------------------------------------------------------------


@pytest.fixture
def verified():
    """A verified entity with one of its own staff and a centre user."""
    entity = entity_register(data=form())
    centre = UserFactory(role=m.Role.CENTRE)
    entity_verify(entity=entity, actor=centre, approve=True)
    staff = BidderUserFactory(entity=entity)
    return entity, staff, centre


def test_own_staff_propose_a_change_and_nothing_changes_until_approved(verified):
    # given
    entity, staff, _centre = verified
    new = form(address="南宁市西乡塘区大学路100号")

    # when
    change = entity_change_propose(entity=entity, data=new, actor=staff, reason="搬迁")

    # then
    entity.refresh_from_db()
    assert entity.address == "南宁市青秀区东葛路1号"
    assert (change.state, change.version) == (m.EntityVersion.State.PROPOSED, None)
    assert change.data["address"] == "南宁市西乡塘区大学路100号"
    assert JournalEntry.objects.filter(action="entity.change_proposed").exists()


@pytest.mark.parametrize(
    "make_actor",
    [
        lambda: BidderUserFactory(),
        lambda: AgencyUserFactory(),
        lambda: UserFactory(role=m.Role.CENTRE),
        lambda: UserFactory(role=m.Role.REGULATOR),
        lambda: UserFactory(role=m.Role.ADMIN),
    ],
    ids=["other-bidder", "agency", "centre", "regulator", "admin"],
)
def test_change_proposal_by_anyone_but_own_staff_is_refused(verified, make_actor):
    # given
    entity, _staff, _centre = verified
    before = counts()

    # when
    with pytest.raises(DomainError) as exc:
        entity_change_propose(entity=entity, data=form(address="x路1号"), actor=make_actor(), reason="r")

    # then
    assert (exc.value.code, exc.value.status) == ("entity_not_yours", 403)
    assert counts()["EntityVersion"] == before["EntityVersion"]


def test_change_proposal_needs_a_reason(verified):
    entity, staff, _ = verified
    with pytest.raises(DomainError) as exc:
        entity_change_propose(entity=entity, data=form(), actor=staff, reason="")
    assert exc.value.code == "reason_required"


def test_uscc_cannot_change(verified):
    # given
    entity, staff, _ = verified
    before = counts()

    # when
    with pytest.raises(DomainError) as exc:
        entity_change_propose(entity=entity, data=form(make_uscc(802)), actor=staff, reason="换码")

    # then
    assert exc.value.code == "registration_invalid"
    assert "uscc" in exc.value.params["fields"]
    assert counts() == before


def test_approval_increments_the_version_and_keeps_the_old_snapshot(verified, clock):
    # given
    entity, staff, centre = verified
    v1 = entity.versions.get(version=1)
    v1_data = copy.deepcopy(v1.data)
    new = form(address="南宁市西乡塘区大学路100号", registered_capital="80000000")
    new["bank_accounts"].append(
        {"bank_name": "建设银行", "account_name": "一般户", "account_number": "4400123"}
    )
    change = entity_change_propose(entity=entity, data=new, actor=staff, reason="增资并搬迁")

    # when
    clock.advance(days=1)
    change = entity_change_decide(change=change, actor=centre, approve=True, note="核对无误")

    # then the entity reads the new state at version 2 ...
    entity.refresh_from_db()
    assert entity.version == 2
    assert entity.address == "南宁市西乡塘区大学路100号"
    assert str(entity.registered_capital) == "80000000.00"
    assert entity.bank_accounts.count() == 2
    assert (change.state, change.version, change.decided_at) == (m.EntityVersion.State.APPROVED, 2, clock())
    # ... and version 1 is still there, unchanged
    v1.refresh_from_db()
    assert v1.data == v1_data
    assert v1.data["address"] == "南宁市青秀区东葛路1号"
    assert list(
        entity.versions.exclude(version=None).order_by("version").values_list("version", flat=True)
    ) == [1, 2]
    assert entity_snapshot(entity)["address"] == "南宁市西乡塘区大学路100号"
    assert JournalEntry.objects.get(action="entity.change_approved").payload["version"] == 2
    assert verify_all() == []


def test_rejected_change_leaves_the_entity_as_it_was(verified):
    # given
    entity, staff, centre = verified
    change = entity_change_propose(entity=entity, data=form(address="别处"), actor=staff, reason="r")

    # when
    entity_change_decide(change=change, actor=centre, approve=False, note="材料不全")

    # then
    entity.refresh_from_db()
    change.refresh_from_db()
    assert (entity.version, entity.address) == (1, "南宁市青秀区东葛路1号")
    assert (change.state, change.version) == (m.EntityVersion.State.REJECTED, None)


def test_a_change_is_decided_once(verified):
    entity, staff, centre = verified
    change = entity_change_propose(entity=entity, data=form(address="别处"), actor=staff, reason="r")
    entity_change_decide(change=change, actor=centre, approve=True)
    with pytest.raises(DomainError) as exc:
        entity_change_decide(change=change, actor=centre, approve=True)
    assert exc.value.code == "change_not_pending"


def test_change_decision_by_staff_of_the_entity_is_refused(verified):
    entity, staff, _ = verified
    change = entity_change_propose(entity=entity, data=form(address="别处"), actor=staff, reason="r")
    with pytest.raises(DomainError) as exc:
        entity_change_decide(change=change, actor=staff, approve=True)
    assert exc.value.code == "role_forbidden"
