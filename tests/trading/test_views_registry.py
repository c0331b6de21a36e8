"""The registry pages: one-form registration, entity pages (public / private), change proposals,
verification by the centre, credit records and the blacklist (trading.views.registry)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from tests.factories import AgencyUserFactory, BidderUserFactory, MarketEntityFactory, UserFactory, make_uscc
from trading.models import (
    BankAccount,
    CreditRecord,
    EntityStatus,
    EntityVersion,
    MarketEntity,
    Person,
    Position,
    Qualification,
    Role,
    Shareholder,
    User,
)
from trading.selectors import entity_is_blacklisted
from trading.services.credit import credit_record_create
from trading.services.entities import entity_change_propose, entity_register

pytestmark = pytest.mark.django_db
REGISTER = reverse("trading:entity_register")


def form(uscc: str | None = None, **overrides) -> dict:
    """A complete one-form application as the browser posts it."""
    data = {
        "uscc": uscc or make_uscc(424242),
        "name": "南宁市青山建筑工程有限公司",
        "kind": "company",
        "is_bidder": "1",
        "registered_capital": "20000000",
        "founded_on": "2010-05-04",
        "region_code": "450100",
        "address": "南宁市青秀区金湖路8号",
        "contact_name": "黄联系",
        "contact_phone": "0771-5550000",
        "legal_rep.name": "韦法人",
        "legal_rep.id_number": "450103197001011234",
        "qualifications[0].kind": "建筑业企业资质",
        "qualifications[0].name": "建筑工程施工总承包",
        "qualifications[0].level": "一级",
        "qualifications[0].number": "D245000001",
        "qualifications[0].issuer": "广西壮族自治区住房和城乡建设厅",
        "qualifications[0].valid_from": "2022-01-01",
        "qualifications[0].valid_until": "2027-12-31",
        "shareholders[0].person.name": "韦法人",
        "shareholders[0].person.id_number": "450103197001011234",
        "shareholders[0].share_pct": "60",
        "shareholders[0].is_controlling": "1",
        "shareholders[1].person.name": "陆股东",
        "shareholders[1].person.id_number": "450103198002022345",
        "shareholders[1].share_pct": "40",
        "positions[0].role": "project_manager",
        "positions[0].person.name": "覃项目",
        "positions[0].person.id_number": "450103198503033456",
        "positions[0].professional_reg_no": "桂1452010201234567",
        "positions[0].professional_kind": "一级建造师",
        # a role chosen in an otherwise empty row is ignored
        "positions[1].role": "staff",
        "bank_accounts[0].bank_name": "中国工商银行南宁分行",
        "bank_accounts[0].account_name": "南宁市青山建筑工程有限公司",
        "bank_accounts[0].account_number": "2102100009000123456",
        "bank_accounts[0].is_basic": "1",
    }
    data.update(overrides)
    return data


def counts() -> tuple[int, ...]:
    return tuple(
        m.objects.count()
        for m in (
            MarketEntity,
            Person,
            Qualification,
            Shareholder,
            Position,
            BankAccount,
            EntityVersion,
            User,
        )
    )


def registered(**overrides) -> MarketEntity:
    """An entity registered through the service, with private data (ID numbers, an account)."""
    from django.http import QueryDict

    from trading.views.registry import entity_data_from_post

    q = QueryDict(mutable=True)
    q.update(form(**overrides))
    entity = entity_register(data=entity_data_from_post(q))
    entity.status = EntityStatus.VERIFIED
    entity.save(update_fields=["status"])
    return entity


# --- registration ---------------------------------------------------------------------------------


def test_anyone_may_open_the_registration_form_which_says_no_account_is_created(client):
    response = client.get(REGISTER, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert b'name="uscc"' in response.content
    assert b'name="bank_accounts[0].account_number"' in response.content
    assert b"does not create a user account" in response.content


def test_registration_creates_a_pending_entity_with_every_part_and_no_user(client):
    users_before = User.objects.count()

    response = client.post(REGISTER, form())

    assert response.status_code == 302
    assert response["Location"] == reverse("trading:entity_register_done")
    entity = MarketEntity.objects.get(uscc=make_uscc(424242))
    assert entity.status == EntityStatus.PENDING
    assert entity.legal_rep.id_number == "450103197001011234"
    assert entity.qualifications.get().level == "一级"
    assert sorted(s.share_pct for s in entity.shareholders.all()) == [40, 60]
    assert entity.positions.get().professional_reg_no == "桂1452010201234567"
    assert entity.bank_accounts.get().is_basic is True
    assert User.objects.count() == users_before
    done = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert entity.uscc in done and "No user account was created" in done


def test_a_malformed_credit_code_is_refused_and_nothing_is_written(client):
    # given a code whose check character is wrong
    good = make_uscc(424242)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    before = counts()

    # when the form is posted
    response = client.post(REGISTER, form(uscc=bad))

    # then it comes back with the codes, the entered values, and no row was written
    body = response.content.decode()
    assert response.status_code == 400
    assert "registration_invalid" in body and "uscc_checksum" in body
    assert "南宁市青山建筑工程有限公司" in body
    assert counts() == before


def test_errors_are_shown_next_to_their_fields(client):
    response = client.post(REGISTER, form(**{"bank_accounts[0].account_number": "ABC-123"}))

    assert response.status_code == 400
    field = response.context["sections"][-1]["rows"][0][2]
    assert field["name"] == "bank_accounts[0].account_number"
    assert field["error"]
    assert b'aria-invalid="true"' in response.content


def test_a_second_registration_of_the_same_code_is_refused(client):
    client.post(REGISTER, form())
    before = counts()

    response = client.post(REGISTER, form(name="另一家公司"))

    assert response.status_code == 409
    assert b"entity_exists" in response.content
    assert counts() == before


# --- entity pages: public and private parts ---------------------------------------------------------


def test_a_bidder_sees_another_bidders_public_data_but_not_its_private_data(client):
    # given entity B with ID numbers, staff and a bank account
    other = registered()
    client.force_login(BidderUserFactory())

    # when bidder A opens B's page
    response = client.get(reverse("trading:entity_detail", args=[other.pk]))

    # then B's name and qualification are there, its private data is not
    body = response.content.decode()
    assert response.status_code == 200
    assert other.name in body and "D245000001" in body
    assert "2102100009000123456" not in body
    assert "450103197001011234" not in body
    assert "覃项目" not in body


@pytest.mark.parametrize("role", [Role.CENTRE, Role.REGULATOR, Role.ADMIN])
def test_centre_regulator_and_admin_read_private_data(client, role):
    entity = registered()
    client.force_login(UserFactory(role=role))

    body = client.get(reverse("trading:entity_detail", args=[entity.pk])).content.decode()

    assert "2102100009000123456" in body and "450103197001011234" in body


def test_an_entitys_own_staff_read_its_private_data(client):
    entity = registered()
    client.force_login(BidderUserFactory(entity=entity))

    body = client.get(reverse("trading:entity_detail", args=[entity.pk])).content.decode()

    assert "2102100009000123456" in body and "覃项目" in body


def test_an_agency_does_not_read_a_bidders_private_data(client):
    entity = registered()
    client.force_login(AgencyUserFactory())

    body = client.get(reverse("trading:entity_detail", args=[entity.pk])).content.decode()

    assert "2102100009000123456" not in body


def test_version_history_is_private(client):
    entity = registered()
    client.force_login(BidderUserFactory())

    response = client.get(reverse("trading:entity_history", args=[entity.pk]))

    assert response.status_code == 403
    assert b"entity_private" in response.content


def test_version_history_shows_each_snapshot_to_the_entitys_staff(client):
    entity = registered()
    client.force_login(BidderUserFactory(entity=entity))

    response = client.get(reverse("trading:entity_history", args=[entity.pk]))

    assert response.status_code == 200
    assert entity.versions.get().digest in response.content.decode()


def test_a_pending_registration_is_hidden_from_other_bidders(client):
    pending = MarketEntityFactory(status=EntityStatus.PENDING)
    client.force_login(BidderUserFactory())

    assert client.get(reverse("trading:entity_detail", args=[pending.pk])).status_code == 404


def test_entity_pages_need_a_login(client):
    entity = MarketEntityFactory()

    response = client.get(reverse("trading:entity_detail", args=[entity.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("trading:login"))


# --- change proposals ------------------------------------------------------------------------------


def test_own_staff_propose_a_change_without_changing_the_entity(client):
    entity = registered()
    client.force_login(BidderUserFactory(entity=entity))

    response = client.post(
        reverse("trading:entity_change", args=[entity.pk]),
        form(address="南宁市良庆区五象大道9号", reason="搬迁"),
    )

    assert response.status_code == 302
    change = entity.versions.get(state=EntityVersion.State.PROPOSED, reason="搬迁")
    assert change.data["address"] == "南宁市良庆区五象大道9号"
    entity.refresh_from_db()
    assert entity.address == "南宁市青秀区金湖路8号"


def test_the_change_form_starts_from_the_current_registration(client):
    entity = registered()
    client.force_login(BidderUserFactory(entity=entity))

    response = client.get(reverse("trading:entity_change", args=[entity.pk]))

    body = response.content.decode()
    assert 'value="南宁市青秀区金湖路8号"' in body
    assert 'value="2102100009000123456"' in body


def test_a_change_without_a_reason_is_refused_and_not_recorded(client):
    entity = registered()
    client.force_login(BidderUserFactory(entity=entity))
    before = EntityVersion.objects.count()

    response = client.post(reverse("trading:entity_change", args=[entity.pk]), form(reason=""))

    assert response.status_code == 400
    assert b"reason_required" in response.content
    assert EntityVersion.objects.count() == before


def test_another_entitys_staff_cannot_propose_a_change(client):
    entity = registered()
    client.force_login(BidderUserFactory())

    response = client.post(reverse("trading:entity_change", args=[entity.pk]), form(reason="x"))

    assert response.status_code == 403
    assert b"entity_not_yours" in response.content
    assert not entity.versions.filter(reason="x").exists()


# --- verification by the centre --------------------------------------------------------------------


@pytest.mark.parametrize(
    "factory", [BidderUserFactory, AgencyUserFactory, lambda: UserFactory(role=Role.REGULATOR)]
)
def test_only_the_centre_sees_the_verification_queue(client, factory):
    client.force_login(factory())

    response = client.get(reverse("trading:entity_pending"))

    assert response.status_code == 403
    assert b"role_forbidden" in response.content


def test_the_centre_verifies_a_registration(client):
    client.post(REGISTER, form())
    entity = MarketEntity.objects.get()
    centre = UserFactory(role=Role.CENTRE)
    client.force_login(centre)
    assert entity.name in client.get(reverse("trading:entity_pending")).content.decode()

    response = client.post(reverse("trading:entity_verify", args=[entity.pk]), {"decision": "approve"})

    assert response.status_code == 302
    entity.refresh_from_db()
    assert entity.status == EntityStatus.VERIFIED and entity.verified_by == centre


def test_rejecting_needs_a_reason(client):
    client.post(REGISTER, form())
    entity = MarketEntity.objects.get()
    client.force_login(UserFactory(role=Role.CENTRE))

    response = client.post(reverse("trading:entity_verify", args=[entity.pk]), {"decision": "reject"})

    assert response.status_code == 400
    assert b"reason_required" in response.content
    entity.refresh_from_db()
    assert entity.status == EntityStatus.PENDING


def test_a_regulator_cannot_verify_an_entity(client):
    client.post(REGISTER, form())
    entity = MarketEntity.objects.get()
    client.force_login(UserFactory(role=Role.REGULATOR))

    response = client.post(reverse("trading:entity_verify", args=[entity.pk]), {"decision": "approve"})

    assert response.status_code == 403
    assert b"role_forbidden" in response.content
    entity.refresh_from_db()
    assert entity.status == EntityStatus.PENDING


def _proposed_change(entity: MarketEntity, **overrides) -> EntityVersion:
    from django.http import QueryDict

    from trading.views.registry import entity_data_from_post

    q = QueryDict(mutable=True)
    q.update(form(**overrides))
    staff = BidderUserFactory(entity=entity)
    return entity_change_propose(entity=entity, data=entity_data_from_post(q), actor=staff, reason="搬迁")


def test_the_centre_sees_a_diff_of_old_and_new_and_approves(client):
    # given a proposed change of address
    entity = registered()
    change = _proposed_change(entity, address="南宁市良庆区五象大道9号")
    client.force_login(UserFactory(role=Role.CENTRE))

    # when the centre opens it, the diff shows the old and the new address and nothing else
    response = client.get(reverse("trading:entity_change_detail", args=[change.pk]))
    assert [row["path"] for row in response.context["diff"]] == ["address"]
    body = response.content.decode()
    assert "南宁市青秀区金湖路8号" in body and "南宁市良庆区五象大道9号" in body

    # and approving applies it as version 2
    client.post(reverse("trading:entity_change_decide", args=[change.pk]), {"decision": "approve"})
    entity.refresh_from_db()
    assert entity.address == "南宁市良庆区五象大道9号" and entity.version == 2


def test_a_regulator_cannot_decide_a_change(client):
    entity = registered()
    change = _proposed_change(entity, address="新地址")
    client.force_login(UserFactory(role=Role.REGULATOR))

    response = client.post(reverse("trading:entity_change_decide", args=[change.pk]), {"decision": "approve"})

    assert response.status_code == 403
    change.refresh_from_db()
    assert change.state == EntityVersion.State.PROPOSED


def test_rejecting_a_change_needs_a_note(client):
    entity = registered()
    change = _proposed_change(entity, address="新地址")
    client.force_login(UserFactory(role=Role.CENTRE))

    response = client.post(reverse("trading:entity_change_decide", args=[change.pk]), {"decision": "reject"})

    assert response.status_code == 400
    assert b"reason_required" in response.content
    change.refresh_from_db()
    assert change.state == EntityVersion.State.PROPOSED


def test_another_bidder_cannot_read_a_proposed_change(client):
    entity = registered()
    change = _proposed_change(entity, address="新地址")
    client.force_login(BidderUserFactory())

    response = client.get(reverse("trading:entity_change_detail", args=[change.pk]))

    assert response.status_code == 403
    assert b"entity_private" in response.content


# --- credit records and the blacklist --------------------------------------------------------------


def credit_form(**overrides) -> dict:
    data = {
        "kind": "disqualification",
        "legal_basis": "招标投标法实施条例第六十七条",
        "restricted_action": "参加依法必须进行招标的项目的投标",
        "starts_on": "2026-03-01",
        "ends_on": "2027-02-28",
        "description": "串通投标",
    }
    data.update(overrides)
    return data


def test_a_regulator_adds_a_disqualification_which_blacklists_the_entity(client, clock):
    entity = MarketEntityFactory()
    client.force_login(UserFactory(role=Role.REGULATOR))
    assert b'name="legal_basis"' in client.get(reverse("trading:entity_credit", args=[entity.pk])).content

    response = client.post(reverse("trading:entity_credit", args=[entity.pk]), credit_form())

    assert response.status_code == 302
    record = CreditRecord.objects.get(entity=entity)
    assert record.blocks_participation is True and record.ends_on == dt.date(2027, 2, 28)
    assert entity_is_blacklisted(entity)


def test_the_centre_cannot_add_a_credit_record(client):
    entity = MarketEntityFactory()
    client.force_login(UserFactory(role=Role.CENTRE))

    response = client.post(reverse("trading:entity_credit", args=[entity.pk]), credit_form())

    assert response.status_code == 403
    assert b"role_forbidden" in response.content
    assert not CreditRecord.objects.exists()


def test_the_centre_reads_credit_records_without_a_form(client):
    entity = MarketEntityFactory()
    client.force_login(UserFactory(role=Role.CENTRE))

    response = client.get(reverse("trading:entity_credit", args=[entity.pk]))

    assert response.status_code == 200
    assert b'name="legal_basis"' not in response.content


def test_another_bidder_cannot_read_credit_details(client):
    entity = MarketEntityFactory()
    client.force_login(BidderUserFactory())

    response = client.get(reverse("trading:entity_credit", args=[entity.pk]))

    assert response.status_code == 403
    assert b"entity_private" in response.content


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"ends_on": "2026-01-01"}, "credit_period_invalid", "ends_on"),
        ({"legal_basis": "  "}, "legal_basis_required", "legal_basis"),
        ({"starts_on": "2026-13-01"}, "credit_form_invalid", "starts_on"),
        ({"kind": "fine", "fine_amount": ""}, "fine_amount_required", "fine_amount"),
        ({"kind": "fine", "fine_amount": "12.345"}, "credit_form_invalid", "fine_amount"),
    ],
)
def test_a_bad_credit_record_is_refused_with_its_code_next_to_the_field(client, overrides, code, field):
    entity = MarketEntityFactory()
    client.force_login(UserFactory(role=Role.REGULATOR))

    response = client.post(reverse("trading:entity_credit", args=[entity.pk]), credit_form(**overrides))

    assert response.status_code == 400
    assert code.encode() in response.content
    assert next(f for f in response.context["fields"] if f["name"] == field)["error"]
    assert not CreditRecord.objects.exists()


def test_a_regulator_revokes_a_record_with_a_reason(client, clock):
    regulator = UserFactory(role=Role.REGULATOR)
    entity = MarketEntityFactory()
    record = credit_record_create(
        actor=regulator,
        entity=entity,
        kind="disqualification",
        legal_basis="条例67",
        starts_on=dt.date(2026, 3, 1),
    )
    client.force_login(regulator)

    refused = client.post(reverse("trading:credit_revoke", args=[record.pk]), {"reason": ""})
    assert refused.status_code == 400 and b"reason_required" in refused.content
    client.post(reverse("trading:credit_revoke", args=[record.pk]), {"reason": "行政复议撤销"})

    record.refresh_from_db()
    assert record.revoked_at == clock()
    assert not entity_is_blacklisted(entity)


def test_the_centre_cannot_revoke_a_record(client, clock):
    record = credit_record_create(
        actor=UserFactory(role=Role.REGULATOR),
        entity=MarketEntityFactory(),
        kind="warning",
        legal_basis="条例67",
        starts_on=dt.date(2026, 3, 1),
    )
    client.force_login(UserFactory(role=Role.CENTRE))

    response = client.post(reverse("trading:credit_revoke", args=[record.pk]), {"reason": "x"})

    assert response.status_code == 403
    record.refresh_from_db()
    assert record.revoked_at is None


def test_the_blacklist_lists_active_bars_only(client, clock):
    regulator = UserFactory(role=Role.REGULATOR)
    barred, expired, warned = MarketEntityFactory.create_batch(3)
    credit_record_create(
        actor=regulator,
        entity=barred,
        kind="disqualification",
        legal_basis="条例67",
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2026, 12, 31),
    )
    credit_record_create(
        actor=regulator,
        entity=expired,
        kind="disqualification",
        legal_basis="条例67",
        starts_on=dt.date(2025, 1, 1),
        ends_on=dt.date(2025, 12, 31),
    )
    credit_record_create(
        actor=regulator, entity=warned, kind="warning", legal_basis="条例67", starts_on=dt.date(2026, 1, 1)
    )
    client.force_login(BidderUserFactory())

    body = client.get(reverse("trading:blacklist")).content.decode()

    assert barred.name in body and "2026-12-31" in body
    assert expired.name not in body and warned.name not in body


def test_the_entity_list_shows_pending_entities_to_the_centre_only(client):
    pending = MarketEntityFactory(status=EntityStatus.PENDING)
    verified = MarketEntityFactory()

    client.force_login(BidderUserFactory())
    body = client.get(reverse("trading:entity_list")).content.decode()
    assert verified.name in body and pending.name not in body

    client.force_login(UserFactory(role=Role.CENTRE))
    body = client.get(reverse("trading:entity_list"), {"status": "pending"}).content.decode()
    assert pending.name in body and verified.name not in body
