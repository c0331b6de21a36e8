"""Sanctions decided by a supervising department (issue 7 item 5): a disqualification blacklists the entity
for its period, a fine is recorded with its amount, an expert's suspension takes the expert out of the
draws for its period; only a department supervising the tender (or an admin) decides; bad input gets a
stable code and nothing is half-written; and the pages (form prefilled from a tip-off, list, detail)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from archive.models import JournalEntry
from core.errors import AccessDenied, Conflict, ValidationFailed
from experts.models import Expert
from experts.services import conflicts
from supervision.models import Sanction
from supervision.services import department_create, member_add
from supervision.services import sanctions as svc
from supervision.services.sanctions import sanction_decide
from supervision.services.tipoffs import tipoff_submit
from tests.experts.world import SPECIALTY, expert_make
from tests.factories import BidderUserFactory, LotFactory, MarketEntityFactory, TenderFactory, UserFactory
from trading.models import CreditRecord, Notification, Role, Tender, TenderState
from trading.selectors import EntityMayNotParticipate, check_entity_may_participate, entity_is_blacklisted

pytestmark = pytest.mark.django_db
BASIS = "《招标投标法实施条例》第六十七条"
REASON = "经查，该公司与其他投标人相互串通投标。"


@pytest.fixture
def world(clock):
    admin = UserFactory(role=Role.ADMIN)
    dept = department_create(
        actor=admin, name="南宁市住房和城乡建设局", kind="industry", region_code="450100"
    )
    other = department_create(
        actor=admin, name="柳州市住房和城乡建设局", kind="industry", region_code="450200"
    )
    regulator, outsider = UserFactory(role=Role.REGULATOR), UserFactory(role=Role.REGULATOR)
    member_add(actor=admin, department=dept, user=regulator)
    member_add(actor=admin, department=other, user=outsider)

    def published(**fields) -> Tender:
        from trading.signals import tender_published

        tender = TenderFactory(state=TenderState.PUBLISHED, published_at=clock(), **fields)
        tender_published.send(sender=Tender, tender=tender, actor=admin)
        return tender

    return {
        "admin": admin,
        "dept": dept,
        "other": other,
        "regulator": regulator,
        "outsider": outsider,
        "tender": published(),
        "elsewhere": published(region_code="450200"),
        "entity": MarketEntityFactory(name="广西丙建设有限公司"),
    }


def decide(world, **changes) -> Sanction:
    args = {
        "actor": world["regulator"],
        "kind": "disqualification",
        "legal_basis": BASIS,
        "reason": REASON,
        "entity": world["entity"],
        "tender": world["tender"],
        "years": 2,
    }
    args.update(changes)
    return sanction_decide(**args)


def nothing_written(before: tuple[int, int, int]) -> None:
    assert (Sanction.objects.count(), CreditRecord.objects.count(), JournalEntry.objects.count()) == before


def counts() -> tuple[int, int, int]:
    return Sanction.objects.count(), CreditRecord.objects.count(), JournalEntry.objects.count()


# --- the service ----------------------------------------------------------------------------------------


def test_a_disqualification_blacklists_the_entity_for_its_years(world, clock):
    entity = world["entity"]
    assert not entity_is_blacklisted(entity)
    sanction = decide(world, years=2)
    today = clock().date()
    assert sanction.department == world["dept"] and sanction.tender == world["tender"]
    assert (sanction.starts_on, sanction.ends_on) == (today, dt.date(2028, 3, 1))
    record = sanction.credit_record
    assert record.kind == CreditRecord.Kind.DISQUALIFICATION and record.blocks_participation
    assert record.source == f"supervision:sanction:{sanction.pk}" and record.entity == entity
    assert entity_is_blacklisted(entity)
    with pytest.raises(EntityMayNotParticipate) as barred:
        check_entity_may_participate(entity)
    assert barred.value.code == "entity_blacklisted"
    assert entity_is_blacklisted(entity, on=sanction.ends_on)
    assert not entity_is_blacklisted(entity, on=sanction.ends_on + dt.timedelta(days=1))
    entry = JournalEntry.objects.get(stream=world["tender"].stream, action="supervision.sanction_decided")
    assert entry.payload["sanction"] == sanction.pk and entry.payload["credit_record"] == record.pk
    assert Notification.objects.filter(entity=entity, kind="supervision.sanction").exists()


def test_a_fine_is_recorded_with_its_amount_and_does_not_blacklist(world):
    sanction = decide(world, kind="fine", years=None, fine_amount="52000.50")
    assert sanction.fine_amount == Decimal("52000.50")
    assert sanction.credit_record.kind == CreditRecord.Kind.FINE
    assert sanction.credit_record.fine_amount == Decimal("52000.50")
    assert not entity_is_blacklisted(world["entity"])


def test_a_warning_without_a_tender_is_a_department_members_and_journalled_in_supervision(world):
    sanction = decide(world, kind="warning", years=None, tender=None)
    assert sanction.department == world["dept"] and sanction.tender is None
    assert sanction.credit_record.kind == CreditRecord.Kind.WARNING
    assert JournalEntry.objects.filter(stream="supervision", action="supervision.sanction_decided").exists()
    unattached = UserFactory(role=Role.REGULATOR)  # sees every tender (test settings) but has no department
    with pytest.raises(AccessDenied) as refused:
        decide(world, kind="warning", years=None, tender=None, actor=unattached)
    assert refused.value.code == "no_department"


def test_an_expert_suspension_takes_the_expert_out_of_draws_for_the_period(world, clock):
    expert = expert_make()
    lot = LotFactory(tender=world["tender"])
    today = clock().date()
    until = today + dt.timedelta(days=90)

    def drawable(day: dt.date) -> bool:
        starts = dt.datetime.combine(day, dt.time(9, 0), tzinfo=clock().tzinfo).isoformat()
        request = {"evaluation_starts_at": starts, "evaluation_ends_at": starts}
        return expert.pk in conflicts.candidates(group={"specialty": SPECIALTY}, request=request, lot=lot)

    assert drawable(today + dt.timedelta(days=10))
    sanction = decide(
        world, kind="expert_suspension", entity=None, expert=expert, years=None, suspended_until=until,
        legal_basis="《招标投标法实施条例》第七十二条",
    )  # fmt: skip
    expert.refresh_from_db()
    assert (expert.status, expert.suspended_from, expert.suspended_until) == (
        Expert.Status.SUSPENDED,
        today,
        until,
    )
    assert not drawable(today + dt.timedelta(days=10))
    assert drawable(until + dt.timedelta(days=1))
    record = sanction.credit_record
    assert record.person == expert.person and record.blocks_participation and record.ends_on == until
    change = JournalEntry.objects.get(stream=f"expert:{expert.pk}", action="experts.status_changed")
    assert change.payload["cause"] == f"supervision:sanction:{sanction.pk}"
    assert Notification.objects.filter(user=expert.user, kind="experts.status").exists()


def test_a_removed_expert_cannot_be_suspended(world, clock):
    expert = expert_make(status=Expert.Status.REMOVED)
    before = counts()
    with pytest.raises(Conflict) as refused:
        decide(world, kind="expert_suspension", entity=None, expert=expert, years=None,
               suspended_until=clock().date() + dt.timedelta(days=30))  # fmt: skip
    assert refused.value.code == "expert_removed"
    nothing_written(before)


def test_only_a_department_supervising_the_tender_or_an_admin_decides(world):
    tip, _ = tipoff_submit(text="线索", tender_id=world["tender"].pk)
    before = counts()
    for actor, code in (
        (world["outsider"], "outside_jurisdiction"),
        (UserFactory(role=Role.CENTRE), "forbidden"),
        (BidderUserFactory(), "forbidden"),
    ):
        with pytest.raises(AccessDenied) as refused:
            decide(world, actor=actor)
        assert refused.value.code == code
    with pytest.raises(AccessDenied) as refused:  # the tip-off's tender decides the jurisdiction
        decide(world, actor=world["outsider"], tender=None, tipoff=tip)
    assert refused.value.code == "outside_jurisdiction"
    nothing_written(before)
    sanction = decide(world, actor=world["admin"], tender=world["elsewhere"])
    assert sanction.department is None and sanction.decided_by == world["admin"]


@pytest.mark.parametrize(
    "changes, code",
    [
        ({"kind": "banishment"}, "sanction_kind_unknown"),
        ({"legal_basis": "  "}, "legal_basis_required"),
        ({"legal_basis": "x" * 301}, "legal_basis_too_long"),
        ({"reason": ""}, "reason_required"),
        ({"entity": None}, "entity_required"),
        ({"years": 4}, "years_invalid"),
        ({"years": None}, "years_invalid"),
        ({"kind": "warning", "years": 1}, "years_unexpected"),
        ({"kind": "fine", "years": None}, "fine_amount_required"),
        ({"kind": "fine", "years": None, "fine_amount": "0"}, "fine_amount_invalid"),
        ({"kind": "fine", "years": None, "fine_amount": "12.345"}, "fine_amount_invalid"),
        ({"kind": "fine", "years": None, "fine_amount": "-5"}, "fine_amount_invalid"),
        ({"kind": "fine", "years": None, "fine_amount": "NaN"}, "fine_amount_invalid"),
        ({"fine_amount": "100"}, "fine_amount_unexpected"),
        ({"starts_on": dt.date(2026, 3, 1)}, "starts_on_past"),
        ({"kind": "expert_suspension", "years": None}, "expert_required"),
        ({"suspended_until": dt.date(2026, 9, 1)}, "suspended_until_unexpected"),
    ],
)
def test_bad_input_is_refused_with_a_stable_code_and_writes_nothing(world, changes, code):
    before = counts()
    with pytest.raises(ValidationFailed) as refused:
        decide(world, **changes)
    assert refused.value.code == code
    nothing_written(before)


def test_an_expert_suspension_needs_a_valid_period(world, clock):
    expert = expert_make()
    base = {"kind": "expert_suspension", "entity": None, "expert": expert, "years": None}
    for until, code in ((None, "suspension_period_required"), (clock().date() - dt.timedelta(days=1), "suspension_period_invalid")):  # fmt: skip
        with pytest.raises(ValidationFailed) as refused:
            decide(world, **base, suspended_until=until)
        assert refused.value.code == code
    with pytest.raises(ValidationFailed) as refused:
        decide(world, **{**base, "entity": world["entity"]}, suspended_until=clock().date())
    assert refused.value.code == "entity_unexpected"
    expert.refresh_from_db()
    assert expert.status == Expert.Status.ACTIVE and not Sanction.objects.exists()


def test_a_tipoff_about_another_tender_is_refused(world):
    tip, _ = tipoff_submit(text="线索", tender_id=world["elsewhere"].pk)
    with pytest.raises(ValidationFailed) as refused:
        decide(world, actor=world["admin"], tipoff=tip)
    assert refused.value.code == "context_mismatch"


def test_a_failing_credit_write_leaves_no_sanction(world, monkeypatch):
    before = counts()

    def broken(**kwargs):
        raise RuntimeError("credit platform down")

    monkeypatch.setattr(svc, "credit_record_create", broken)
    with pytest.raises(RuntimeError):
        decide(world)
    nothing_written(before)
    assert not Notification.objects.filter(kind="supervision.sanction").exists()


def test_a_failing_status_write_leaves_no_sanction_and_no_credit_record(world, clock, monkeypatch):
    expert = expert_make()
    before = counts()

    def broken(**kwargs):
        raise RuntimeError("pool unavailable")

    monkeypatch.setattr(svc, "status_write", broken)
    with pytest.raises(RuntimeError):
        decide(world, kind="expert_suspension", entity=None, expert=expert, years=None,
               suspended_until=clock().date() + dt.timedelta(days=30))  # fmt: skip
    nothing_written(before)
    expert.refresh_from_db()
    assert expert.status == Expert.Status.ACTIVE


# --- the pages ------------------------------------------------------------------------------------------


def client_for(user) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def page_code(response) -> str:
    found = re.search(r'<code class="error-code">([^<]+)</code>', response.content.decode())
    return found.group(1) if found else ""


def form(world, **changes) -> dict:
    data = {
        "tender": str(world["tender"].pk),
        "kind": "disqualification",
        "entity": world["entity"].uscc,
        "years": "1",
        "legal_basis": BASIS,
        "reason": REASON,
    }
    data.update(changes)
    return data


def test_the_form_starts_from_a_tipoff_and_deciding_shows_the_sanction_with_its_credit_record(world):
    tip, _ = tipoff_submit(text="线索", tender_id=world["tender"].pk, entity_ids=[world["entity"].pk])
    client = client_for(world["regulator"])
    page = client.get(reverse("supervision:sanction_new"), {"tipoff": tip.pk}).content.decode()
    assert f'data-suggested="{world["entity"].pk}"' in page
    assert f'name="tipoff" value="{tip.pk}"' in page and f'data-tender="{world["tender"].pk}"' in page
    response = client.post(reverse("supervision:sanction_new"), form(world, tender="", tipoff=str(tip.pk)))
    sanction = Sanction.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("supervision:sanction_detail", args=[sanction.pk])
    assert (
        sanction.tipoff == tip
        and sanction.tender == world["tender"]
        and entity_is_blacklisted(world["entity"])
    )
    detail = client.get(response["Location"]).content.decode()
    assert f'data-credit-record="{sanction.credit_record_id}" data-blocks="1"' in detail
    assert f'href="{reverse("trading:entity_credit", args=[world["entity"].pk])}"' in detail
    tip_page = client.get(reverse("supervision:tipoff_detail", args=[tip.pk])).content.decode()
    assert f'data-sanction="{sanction.pk}"' in tip_page


def test_a_fine_from_the_form_by_name(world):
    response = client_for(world["regulator"]).post(
        reverse("supervision:sanction_new"),
        form(world, kind="fine", years="", entity=world["entity"].name, fine_amount="80000.00"),
    )
    assert response.status_code == 302
    assert Sanction.objects.get().credit_record.fine_amount == Decimal("80000.00")


@pytest.mark.parametrize(
    "changes, code",
    [
        ({"entity": "查无此公司"}, "entity_not_found"),
        ({"years": "9"}, "years_invalid"),
        ({"starts_on": "2026-13-01"}, "date_invalid"),
        ({"expert": "E99999999", "kind": "expert_suspension", "entity": ""}, "expert_not_found"),
        ({"legal_basis": ""}, "legal_basis_required"),
        ({"kind": "fine", "years": "", "fine_amount": "1e3x"}, "fine_amount_invalid"),
    ],
)
def test_bad_form_input_keeps_the_text_and_writes_nothing(world, changes, code):
    before = counts()
    response = client_for(world["regulator"]).post(
        reverse("supervision:sanction_new"), form(world, **changes)
    )
    assert (response.status_code, page_code(response)) == (400, code)
    assert REASON in response.content.decode()
    nothing_written(before)


def test_the_pages_are_refused_outside_the_jurisdiction_and_to_other_roles(world):
    sanction = decide(world)
    outsider = client_for(world["outsider"])
    detail = reverse("supervision:sanction_detail", args=[sanction.pk])
    response = outsider.get(detail)
    assert (response.status_code, page_code(response)) == (403, "outside_jurisdiction")
    response = outsider.get(reverse("supervision:sanction_new"), {"tender": world["tender"].pk})
    assert (response.status_code, page_code(response)) == (403, "outside_jurisdiction")
    before = counts()
    response = outsider.post(reverse("supervision:sanction_new"), form(world))
    assert (response.status_code, page_code(response)) == (403, "outside_jurisdiction")
    nothing_written(before)
    for user in (BidderUserFactory(), UserFactory(role=Role.CENTRE)):
        for address in (reverse("supervision:sanction_list"), detail, reverse("supervision:sanction_new")):
            response = client_for(user).get(address)
            assert (response.status_code, page_code(response)) == (403, "role_forbidden"), address
    anonymous = client_for(None).get(reverse("supervision:sanction_list"))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    missing = client_for(world["regulator"]).get(reverse("supervision:sanction_new"), {"tipoff": "999999"})
    assert (missing.status_code, page_code(missing)) == (404, "tipoff_not_found")


def test_each_regulator_lists_its_departments_sanctions_and_admins_all(world):
    mine = decide(world)
    theirs = decide(world, actor=world["outsider"], tender=world["elsewhere"], entity=MarketEntityFactory())
    by_admin = decide(world, actor=world["admin"], kind="warning", years=None)  # on our tender

    def listed(user, **params) -> set[int]:
        body = client_for(user).get(reverse("supervision:sanction_list"), params).content.decode()
        return {int(pk) for pk in re.findall(r'data-sanction="(\d+)"', body)}

    assert listed(world["regulator"]) == {mine.pk, by_admin.pk}
    assert listed(world["outsider"]) == {theirs.pk}
    assert listed(world["admin"]) == {mine.pk, theirs.pk, by_admin.pk}
    assert listed(world["admin"], kind="warning") == {by_admin.pk}
    response = client_for(world["admin"]).get(reverse("supervision:sanction_list"), {"kind": "bogus"})
    assert (response.status_code, page_code(response)) == (400, "invalid_filter")
