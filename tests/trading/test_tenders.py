"""Tenders: drafting with lots and a unified transaction code, publication under the legal
rules, amendments with the forced extension, state transitions and document downloads.

The clock starts on Wednesday 4 March 2026, 09:00 (no holiday in the periods used), so the
20-day bid period from 4 March ends exactly on Tuesday 24 March and 5 days end on 9 March.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import RequestFactory

from archive.journal import verify_all
from archive.models import GLOBAL_STREAM, JournalEntry
from core.errors import DomainError
from tests.conftest import SHANGHAI
from tests.factories import AgencyUserFactory, BidderUserFactory, MarketEntityFactory, UserFactory
from trading import models as m
from trading.codes import transaction_code_validate
from trading.services.credit import credit_record_create
from trading.services.tenders import (
    tender_amend,
    tender_close,
    tender_create,
    tender_document_download,
    tender_publish,
    tender_resume,
    tender_set_state,
    tender_suspend,
    tender_update_draft,
)

pytestmark = pytest.mark.django_db


def at(day: int, hour: int = 9, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def clock(clock):
    clock.set(at(4))
    return clock


@pytest.fixture
def parties(clock):
    tenderee = MarketEntityFactory(is_tenderee=True, is_bidder=False, kind=m.EntityKind.GOVERNMENT)
    agency = MarketEntityFactory(is_agency=True, is_bidder=False)
    return {"tenderee": tenderee, "agency": agency, "agent": AgencyUserFactory(entity=agency)}


def lot_form(**overrides) -> dict:
    lot = {
        "title": "第一标段",
        "classification_code": "A010000",
        "budget": "5000000.00",
        "ceiling_price": "4800000.00",
        "bid_security": "100000.00",
        "duration_days": "180",
        "evaluation_method": "scoring",
        "evaluation": {
            "criteria": [
                {"code": "tech", "name": "技术", "group": "technical", "max": 50},
                {"code": "biz", "name": "商务", "group": "commercial", "max": 20},
                {"code": "price", "name": "价格", "group": "price", "max": 30},
            ],
            "price_formula": {"kind": "deviation"},
        },
        "committee": {"size": 5, "experts": 4, "tenderee_reps": 1},
    }
    lot.update(overrides)
    return lot


def tender_form(parties, **overrides) -> dict:
    data = {
        "title": "南宁市民族大道改造工程施工招标",
        "regime": "TB",
        "category": "works",
        "method": "open",
        "tenderee_id": parties["tenderee"].pk,
        "agency_id": parties["agency"].pk,
        "region_code": "450103",
        "docs_from": "2026-03-04T09:00:00+08:00",
        "docs_until": "2026-03-09T17:00:00+08:00",
        "deadline": "2026-03-24T09:30:00+08:00",
        "lots": [
            lot_form(),
            lot_form(title="第二标段", budget="2000000.00", ceiling_price="", bid_security="0"),
        ],
    }
    data.update(overrides)
    return data


def written() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            m.Tender,
            m.Lot,
            m.CodeSequence,
            m.Announcement,
            m.AnnouncementAttachment,
            m.Notification,
            m.DocumentDownload,
            m.ActivityEvidence,
            JournalEntry,
        )
    }


@pytest.fixture
def draft(parties):
    return tender_create(actor=parties["agent"], data=tender_form(parties))


@pytest.fixture
def published(draft, parties):
    tender_publish(
        tender=draft,
        actor=parties["agent"],
        documents=[("招标文件.pdf", b"%PDF-1.7 docs", "application/pdf")],
    )
    draft.refresh_from_db()
    return draft


@pytest.fixture
def bidder(clock):
    return BidderUserFactory()


# --- drafting ---------------------------------------------------------------------------------------


def test_agency_creates_a_draft_with_lots_and_a_valid_transaction_code(parties):
    # when
    tender = tender_create(actor=parties["agent"], data=tender_form(parties))

    # then
    tender.refresh_from_db()
    assert tender.state == m.TenderState.DRAFT
    assert (tender.tenderee_id, tender.agency_id, tender.created_by_id) == (
        parties["tenderee"].pk,
        parties["agency"].pk,
        parties["agent"].pk,
    )
    assert len(tender.code) == 33
    assert transaction_code_validate(tender.code) == tender.code
    assert tender.code.startswith("12450000MB0Y95706Y" + "20260304" + "000001")
    lots = list(tender.lots.order_by("number"))
    assert [(lot.number, lot.title, lot.budget, lot.bid_security) for lot in lots] == [
        (1, "第一标段", Decimal("5000000.00"), Decimal("100000.00")),
        (2, "第二标段", Decimal("2000000.00"), Decimal("0")),
    ]
    assert lots[0].evaluation["criteria"][2] == {
        "code": "price",
        "name": "价格",
        "group": "price",
        "max": "30",
    }
    assert lots[1].ceiling_price is None
    assert lots[0].min_bidders == 3
    entry = JournalEntry.objects.get(stream=tender.stream, action="tender.created")
    assert entry.payload == {"code": tender.code, "title": tender.title, "lots": 2}


def test_transaction_codes_are_sequential_per_day(parties, clock):
    # given
    first = tender_create(actor=parties["agent"], data=tender_form(parties))
    second = tender_create(actor=parties["agent"], data=tender_form(parties))

    # when the day changes
    clock.set(at(5, 8))
    third = tender_create(actor=parties["agent"], data=tender_form(parties))

    # then
    assert [t.code[18:32] for t in (first, second, third)] == [
        "20260304000001",
        "20260304000002",
        "20260305000001",
    ]
    assert len({t.code for t in (first, second, third)}) == 3
    for t in (first, second, third):
        transaction_code_validate(t.code)


def test_the_day_of_the_code_is_the_local_day(parties, clock):
    # 23:30 UTC on 4 March is 07:30 on 5 March in Shanghai
    clock.set(dt.datetime(2026, 3, 4, 23, 30, tzinfo=dt.UTC))
    tender = tender_create(actor=parties["agent"], data=tender_form(parties))
    assert tender.code[18:26] == "20260305"


def test_tenderee_staff_and_centre_may_create(parties):
    tenderee_staff = AgencyUserFactory(entity=parties["tenderee"])
    assert tender_create(actor=tenderee_staff, data=tender_form(parties)).pk
    assert tender_create(actor=UserFactory(role=m.Role.CENTRE), data=tender_form(parties)).pk


@pytest.mark.parametrize(
    ("make_actor", "code"),
    [
        (lambda: AgencyUserFactory(), "tender_not_yours"),
        (lambda: BidderUserFactory(), "role_forbidden"),
        (lambda: UserFactory(role=m.Role.REGULATOR), "role_forbidden"),
        (lambda: UserFactory(role=m.Role.EXPERT), "role_forbidden"),
    ],
    ids=["other-agency", "bidder", "regulator", "expert"],
)
def test_others_may_not_create(parties, make_actor, code):
    before = written()
    with pytest.raises(DomainError) as exc:
        tender_create(actor=make_actor(), data=tender_form(parties))
    assert (exc.value.code, exc.value.status) == (code, 403)
    assert written() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"regime": "XX"}, "regime"),
        ({"category": "spaceships"}, "category"),
        ({"tenderee_id": None}, "tenderee_id"),
        ({"tenderee_id": "not-a-number"}, "tenderee_id"),
        ({"agency_id": "abc"}, "agency_id"),
        ({"region_code": "45"}, "region_code"),
        ({"docs_from": "soon"}, "docs_from"),
        ({"deadline": "2026-02-30T09:00:00"}, "deadline"),
        ({"docs_until": "2026-03-03T09:00:00+08:00"}, "docs_until"),
        ({"decryption_minutes": 2}, "decryption_minutes"),
        ({"confirmation_minutes": 2}, "confirmation_minutes"),
        ({"confirmation_minutes": 2000}, "confirmation_minutes"),
        ({"bid_validity_days": -5}, "bid_validity_days"),
        ({"decryption_policy": "bidder_custodian", "custodian_k": 3, "custodian_n": 2}, "custodian_k"),
        ({"lots": []}, "lots"),
        ({"lots": "one lot"}, "lots"),
        ({"lots": [lot_form(title="")]}, "lots[0].title"),
        ({"lots": [lot_form(classification_code="B010000")]}, "lots[0].classification_code"),
        ({"lots": [lot_form(classification_code="A01")]}, "lots[0].classification_code"),
        ({"lots": [lot_form(budget="-1")]}, "lots[0].budget"),
        ({"lots": [lot_form(budget="0")]}, "lots[0].budget"),
        ({"lots": [lot_form(budget="NaN")]}, "lots[0].budget"),
        ({"lots": [lot_form(budget="Infinity")]}, "lots[0].budget"),
        ({"lots": [lot_form(bid_security="1.005")]}, "lots[0].bid_security"),
        ({"lots": [lot_form(duration_days="half a year")]}, "lots[0].duration_days"),
        ({"lots": [lot_form(min_bidders="many")]}, "lots[0].min_bidders"),
        ({"lots": [lot_form(committee={"size": 5, "experts": 6, "tenderee_reps": -1})]}, "lots[0].committee"),
        ({"lots": [lot_form(committee={"experts": 4})]}, "lots[0].committee"),
        ({"lots": [lot_form(evaluation_method="coin_toss")]}, "lots[0].evaluation_method"),
        ({"lots": [lot_form(evaluation={"criteria": []})]}, "lots[0].evaluation"),
        (
            {
                "lots": [
                    lot_form(
                        evaluation={
                            "criteria": [
                                {"code": "t", "name": "技术", "group": "technical", "max": 70},
                                {"code": "p", "name": "价格", "group": "price", "max": 20},
                            ]
                        }
                    )
                ]
            },
            "lots[0].evaluation.criteria",
        ),
        (
            {"regime": "GP", "category": "goods", "lots": [lot_form(classification_code="B010000")]},
            "lots[0].evaluation.price_formula",
        ),
        (
            {
                "regime": "GP",
                "category": "goods",
                "lots": [lot_form(classification_code="B010000", ceiling_price="6000000.00")],
            },
            "lots[0].ceiling_price",
        ),
    ],
)
def test_bad_form_is_refused_naming_the_field_and_nothing_is_written(parties, change, field):
    # given
    before = written()

    # when
    with pytest.raises(DomainError) as exc:
        tender_create(actor=parties["agent"], data=tender_form(parties, **change))

    # then
    assert (exc.value.code, exc.value.status) == ("tender_invalid", 400)
    assert field in exc.value.params["fields"], exc.value.params["fields"]
    assert str(exc.value.message)
    assert written() == before


def test_script_in_the_description_is_refused(parties):
    before = written()
    with pytest.raises(DomainError) as exc:
        tender_create(actor=parties["agent"], data=tender_form(parties, description="<script>x()</script>"))
    assert exc.value.code == "html_unsafe"
    assert written() == before


def test_a_form_that_is_not_an_object_is_refused(parties):
    with pytest.raises(DomainError) as exc:
        tender_create(actor=parties["agent"], data=[1, 2])
    assert exc.value.code == "tender_invalid"


def test_draft_can_be_edited_by_its_agency_only(draft, parties):
    # when
    tender_update_draft(
        tender=draft, actor=parties["agent"], data=tender_form(parties, title="新标题", lots=[lot_form()])
    )

    # then
    draft.refresh_from_db()
    assert draft.title == "新标题"
    assert draft.lots.count() == 1
    with pytest.raises(DomainError) as exc:
        tender_update_draft(tender=draft, actor=AgencyUserFactory(), data=tender_form(parties))
    assert exc.value.code == "tender_not_yours"


# --- publication ------------------------------------------------------------------------------------


def test_publish_refuses_a_bid_period_one_day_short_with_the_rules_code_and_source(draft, parties):
    # given a deadline 19 days after the documents are first issued
    m.Tender.objects.filter(pk=draft.pk).update(deadline=at(23, 9, 30))
    before = written()

    # when
    with pytest.raises(DomainError) as exc:
        tender_publish(tender=draft, actor=parties["agent"])

    # then
    assert (exc.value.code, exc.value.status) == ("tb_bid_period_too_short", 422)
    assert exc.value.source == "招标投标法第二十四条"
    assert exc.value.as_dict()["params"]["earliest"] == "2026-03-24"
    draft.refresh_from_db()
    assert (draft.state, draft.published_at) == (m.TenderState.DRAFT, None)
    assert written() == before


def test_publish_accepts_a_bid_period_of_exactly_twenty_days(draft, parties, clock):
    # given deadline 24 March: docs_from 4 March + 20 days
    # when
    ann = tender_publish(tender=draft, actor=parties["agent"])

    # then
    draft.refresh_from_db()
    assert (draft.state, draft.published_at, draft.original_deadline) == (
        m.TenderState.PUBLISHED,
        clock(),
        at(24, 9, 30),
    )
    assert ann.state == m.Announcement.State.PUBLISHED


def test_publish_refuses_a_document_period_one_day_short(draft, parties):
    m.Tender.objects.filter(pk=draft.pk).update(docs_until=at(8, 17))  # a Sunday, 4 days
    with pytest.raises(DomainError) as exc:
        tender_publish(tender=draft, actor=parties["agent"])
    assert (exc.value.code, exc.value.source) == ("tb_doc_period_too_short", "招标投标法实施条例第十六条")


def test_publish_refuses_documents_issued_before_the_day_of_publication(draft, parties, clock):
    clock.set(at(5, 10))
    with pytest.raises(DomainError) as exc:
        tender_publish(tender=draft, actor=parties["agent"])
    assert exc.value.code == "docs_before_publication"
    all_codes = {v["code"] for v in exc.value.params["violations"]}
    assert "tb_bid_period_too_short" not in all_codes


def test_documents_drafted_from_earlier_the_same_day_start_at_publication(draft, parties, clock):
    # given a draft whose documents are available "from today 09:00", published at 10:00
    clock.set(at(4, 10))

    # when
    tender_publish(tender=draft, actor=parties["agent"])

    # then
    draft.refresh_from_db()
    assert draft.docs_from == draft.published_at == at(4, 10)


def test_publish_refuses_bid_security_over_two_percent(parties):
    # given 2 % of 5,000,000.00 is 100,000.00; one cent more is unlawful
    tender = tender_create(
        actor=parties["agent"], data=tender_form(parties, lots=[lot_form(bid_security="100000.01")])
    )

    # when
    with pytest.raises(DomainError) as exc:
        tender_publish(tender=tender, actor=parties["agent"])

    # then
    assert (exc.value.code, exc.value.source) == ("tb_bid_security_too_high", "招标投标法实施条例第二十六条")
    assert exc.value.as_dict()["params"]["maximum"] == "100000.00"
    tender.refresh_from_db()
    assert tender.state == m.TenderState.DRAFT


def test_publish_refuses_an_unlawful_committee(parties):
    tender = tender_create(
        actor=parties["agent"],
        data=tender_form(parties, lots=[lot_form(committee={"size": 5, "experts": 3, "tenderee_reps": 2})]),
    )
    with pytest.raises(DomainError) as exc:
        tender_publish(tender=tender, actor=parties["agent"])
    assert exc.value.code == "tb_committee_too_few_experts"


def test_publish_refuses_a_gp_price_weight_below_the_minimum(parties):
    lot = lot_form(
        classification_code="B010000",
        ceiling_price="",
        evaluation={
            "criteria": [
                {"code": "t", "name": "技术", "group": "technical", "max": 75},
                {"code": "p", "name": "价格", "group": "price", "max": 25},
            ],
            "price_formula": {"kind": "gp_base_over_price"},
        },
    )
    tender = tender_create(
        actor=parties["agent"],
        data=tender_form(
            parties,
            regime="GP",
            category="goods",
            lots=[lot],
            docs_until="2026-03-11T17:00:00+08:00",
            deadline="2026-03-31T09:30:00+08:00",
        ),
    )
    with pytest.raises(DomainError) as exc:
        tender_publish(tender=tender, actor=parties["agent"])
    assert (exc.value.code, exc.value.source) == ("gp_price_weight_too_low", "87号令第五十五条")


def test_publication_publishes_the_tender_announcement_with_documents_and_journals(draft, parties):
    # when
    ann = tender_publish(
        tender=draft,
        actor=parties["agent"],
        body_html="<p>招标公告正文</p>",
        documents=[("招标文件.pdf", b"%PDF-1.7 docs", "application/pdf")],
    )

    # then
    ann.refresh_from_db()
    assert (ann.kind, ann.state, ann.body_html) == (
        m.AnnouncementKind.TENDER,
        m.Announcement.State.PUBLISHED,
        "<p>招标公告正文</p>",
    )
    assert len(ann.content_digest) == 64
    doc = ann.attachments.get()
    assert (doc.filename, doc.is_tender_document) == ("招标文件.pdf", True)
    actions = list(JournalEntry.objects.filter(stream=draft.stream).values_list("action", flat=True))
    assert actions == [
        "tender.created",
        "announcement.drafted",
        "tender.state_changed",
        "announcement.published",
    ]
    change = JournalEntry.objects.get(stream=draft.stream, action="tender.state_changed")
    assert (change.payload["from"], change.payload["to"]) == ("draft", "published")
    anchor = JournalEntry.objects.get(stream=GLOBAL_STREAM, action="journal.anchor")
    assert (anchor.payload["stream"], anchor.payload["seq"]) == (draft.stream, 4)
    assert verify_all() == []


def test_publication_is_refused_twice_and_to_other_agencies(published, parties):
    with pytest.raises(DomainError) as exc:
        tender_publish(tender=published, actor=parties["agent"])
    assert exc.value.code == "tender_not_draft"
    with pytest.raises(DomainError) as exc:
        tender_publish(tender=published, actor=AgencyUserFactory())
    assert exc.value.code == "tender_not_yours"


def test_unsafe_announcement_text_rolls_the_publication_back(draft, parties):
    before = written()
    with pytest.raises(DomainError) as exc:
        tender_publish(tender=draft, actor=parties["agent"], body_html='<p onclick="x()">公告</p>')
    assert exc.value.code == "html_unsafe"
    draft.refresh_from_db()
    assert draft.state == m.TenderState.DRAFT
    assert written() == before


# --- amendments --------------------------------------------------------------------------------------


def test_late_amendment_moves_the_deadline_and_notifies_document_holders(published, parties, bidder, clock):
    # given a bidder that obtained the documents, and one that did not
    clock.set(at(5, 10))
    tender_document_download(tender=published, user=bidder)
    outsider = BidderUserFactory()

    # when an amendment that affects preparation is issued 12 days before the deadline
    clock.set(at(12, 10))
    ann = tender_amend(
        tender=published,
        actor=parties["agent"],
        title="澄清与修改（一）",
        body_html="<p>工程量清单第3项更正</p>",
        affects_preparation=True,
    )

    # then the deadline moves to 15 days after the amendment, at its time of day
    published.refresh_from_db()
    assert published.deadline == at(27, 9, 30)
    assert published.original_deadline == at(24, 9, 30)
    assert (ann.kind, ann.state, ann.new_deadline) == (
        m.AnnouncementKind.AMENDMENT,
        m.Announcement.State.PUBLISHED,
        at(27, 9, 30),
    )
    note = m.Notification.objects.get()
    assert (note.entity_id, note.kind, note.created_at) == (bidder.entity_id, "tender.amended", clock())
    assert "2026-03-27 09:30" in note.body
    assert not m.Notification.objects.filter(entity=outsider.entity).exists()
    moved = JournalEntry.objects.get(stream=published.stream, action="tender.deadline_changed")
    assert moved.payload["forced"] is True
    assert moved.payload["to"] == "2026-03-27T01:30:00.000000Z"
    assert JournalEntry.objects.get(action="tender.holders_notified").payload["entities"] == [
        bidder.entity_id
    ]
    assert verify_all() == []


def test_amendment_fifteen_days_before_the_deadline_keeps_it(published, parties, clock):
    clock.set(at(9, 9))
    ann = tender_amend(
        tender=published,
        actor=parties["agent"],
        title="澄清",
        body_html="<p>澄清</p>",
        affects_preparation=True,
    )
    published.refresh_from_db()
    assert published.deadline == at(24, 9, 30)
    assert ann.new_deadline == at(24, 9, 30)
    assert not JournalEntry.objects.filter(action="tender.deadline_changed").exists()


def test_late_amendment_that_does_not_affect_preparation_keeps_the_deadline(published, parties, clock):
    clock.set(at(20, 9))
    tender_amend(
        tender=published,
        actor=parties["agent"],
        title="答疑",
        body_html="<p>答疑</p>",
        affects_preparation=False,
    )
    published.refresh_from_db()
    assert published.deadline == at(24, 9, 30)


def test_amendment_may_set_a_later_deadline_than_the_law_requires(published, parties, clock):
    clock.set(at(12, 10))
    tender_amend(
        tender=published,
        actor=parties["agent"],
        title="延期",
        body_html="<p>延期</p>",
        affects_preparation=True,
        new_deadline=at(3, 9, 30, month=4),
    )
    published.refresh_from_db()
    assert published.deadline == at(3, 9, 30, month=4)
    assert JournalEntry.objects.get(action="tender.deadline_changed").payload["forced"] is False


@pytest.mark.parametrize(
    ("when", "kwargs", "code"),
    [
        (at(12), {"new_deadline": at(20, 9, 30)}, "deadline_earlier"),
        (at(5), {"new_deadline": at(23, 9, 30), "affects_preparation": False}, "deadline_earlier"),
        (at(24, 9, 30), {}, "deadline_passed"),
        (at(12), {"body_html": "<script>x()</script>"}, "html_unsafe"),
        (at(12), {"title": ""}, "title_required"),
    ],
)
def test_bad_amendments_are_refused_and_nothing_is_written(published, parties, clock, when, kwargs, code):
    clock.set(when)
    before = written()
    args = {"title": "修改", "body_html": "<p>修改</p>", "affects_preparation": True, **kwargs}
    with pytest.raises(DomainError) as exc:
        tender_amend(tender=published, actor=parties["agent"], **args)
    assert exc.value.code == code
    assert written() == before


def test_gp_amendment_may_not_change_the_object(parties, clock):
    lot = lot_form(
        classification_code="B010000",
        ceiling_price="",
        evaluation={
            "criteria": [
                {"code": "t", "name": "技术", "group": "technical", "max": 70},
                {"code": "p", "name": "价格", "group": "price", "max": 30},
            ],
            "price_formula": {"kind": "gp_base_over_price"},
        },
    )
    tender = tender_create(
        actor=parties["agent"],
        data=tender_form(
            parties,
            regime="GP",
            category="goods",
            lots=[lot],
            docs_until="2026-03-11T17:00:00+08:00",
            deadline="2026-03-31T09:30:00+08:00",
        ),
    )
    tender_publish(tender=tender, actor=parties["agent"])
    with pytest.raises(DomainError) as exc:
        tender_amend(
            tender=tender,
            actor=parties["agent"],
            title="修改",
            body_html="<p>改采购标的</p>",
            affects_preparation=True,
            changes_object=True,
        )
    assert (exc.value.code, exc.value.source) == ("gp_amendment_changes_object", "87号令第二十七条")


def test_amendment_of_a_draft_is_refused(draft, parties):
    with pytest.raises(DomainError) as exc:
        tender_amend(
            tender=draft, actor=parties["agent"], title="x", body_html="<p>x</p>", affects_preparation=False
        )
    assert exc.value.code == "tender_not_open"


# --- state transitions -------------------------------------------------------------------------------


def test_suspend_and_resume_return_to_the_previous_state(published, parties):
    # given
    regulator = UserFactory(role=m.Role.REGULATOR)

    # when
    tender_suspend(tender=published, actor=regulator, reason="收到投诉")
    published.refresh_from_db()
    # then
    assert (published.state, published.state_before_suspension) == (
        m.TenderState.SUSPENDED,
        m.TenderState.PUBLISHED,
    )

    # when
    tender_resume(tender=published, actor=parties["agent"], reason="投诉已处理")
    published.refresh_from_db()
    # then
    assert (published.state, published.state_before_suspension) == (m.TenderState.PUBLISHED, "")
    steps = [
        (e.payload["from"], e.payload["to"])
        for e in JournalEntry.objects.filter(stream=published.stream, action="tender.state_changed")
    ]
    assert steps[-2:] == [("published", "suspended"), ("suspended", "published")]


def test_suspension_from_evaluation_resumes_in_evaluation(published, parties):
    centre = UserFactory(role=m.Role.CENTRE)
    tender_set_state(tender=published, actor=centre, target=m.TenderState.OPENING)
    tender_set_state(tender=published, actor=centre, target=m.TenderState.EVALUATION)
    tender_suspend(tender=published, actor=centre, reason="异议")
    tender_resume(tender=published, actor=centre, reason="异议答复")
    published.refresh_from_db()
    assert published.state == m.TenderState.EVALUATION


@pytest.mark.parametrize(
    ("make_actor", "reason", "code"),
    [
        (lambda: AgencyUserFactory(), "r", "tender_not_yours"),
        (lambda: BidderUserFactory(), "r", "role_forbidden"),
        (lambda: UserFactory(role=m.Role.CENTRE), " ", "reason_required"),
    ],
)
def test_bad_suspensions_are_refused(published, make_actor, reason, code):
    with pytest.raises(DomainError) as exc:
        tender_suspend(tender=published, actor=make_actor(), reason=reason)
    assert exc.value.code == code
    published.refresh_from_db()
    assert published.state == m.TenderState.PUBLISHED


def test_resume_of_a_tender_that_is_not_suspended_is_refused(published, parties):
    with pytest.raises(DomainError) as exc:
        tender_resume(tender=published, actor=parties["agent"], reason="r")
    assert exc.value.code == "tender_not_suspended"


@pytest.mark.parametrize("target", [m.TenderState.FAILED, m.TenderState.TERMINATED])
def test_failed_or_terminated_tender_gets_its_announcement(published, parties, target, clock):
    # when
    tender_close(tender=published, actor=parties["agent"], target=target, reason="有效投标不足三家")

    # then
    published.refresh_from_db()
    assert published.state == target
    notice = m.Announcement.objects.get(tender=published, kind=m.AnnouncementKind.TERMINATION)
    assert (notice.state, notice.published_at) == (m.Announcement.State.PUBLISHED, clock())
    assert "有效投标不足三家" in notice.body_html
    assert JournalEntry.objects.filter(
        stream=published.stream, action="tender.state_changed", payload__to=target
    ).exists()
    assert verify_all() == []


def test_the_reason_is_shown_as_text_in_the_notice(published, parties):
    tender_close(
        tender=published, actor=parties["agent"], target=m.TenderState.FAILED, reason="投标人<3家 <b>流标</b>"
    )
    notice = m.Announcement.objects.get(tender=published, kind=m.AnnouncementKind.TERMINATION)
    assert notice.body_html == "<p>投标人&lt;3家 &lt;b&gt;流标&lt;/b&gt;</p>"


def test_terminating_a_draft_publishes_no_announcement(draft, parties):
    tender_close(tender=draft, actor=parties["agent"], target=m.TenderState.TERMINATED, reason="项目取消")
    draft.refresh_from_db()
    assert draft.state == m.TenderState.TERMINATED
    assert not m.Announcement.objects.filter(tender=draft).exists()


def test_suspended_tender_can_be_terminated(published, parties):
    tender_suspend(tender=published, actor=parties["agent"], reason="投诉")
    tender_close(tender=published, actor=parties["agent"], target=m.TenderState.TERMINATED, reason="投诉成立")
    published.refresh_from_db()
    assert published.state == m.TenderState.TERMINATED


@pytest.mark.parametrize(
    ("setup", "target"),
    [
        ([], m.TenderState.OPENING),
        ([], m.TenderState.AWARDED),
        ([m.TenderState.TERMINATED], m.TenderState.PUBLISHED),
        ([m.TenderState.TERMINATED, m.TenderState.ARCHIVED], m.TenderState.DRAFT),
    ],
)
def test_invalid_transitions_are_refused(draft, setup, target):
    # given
    centre = UserFactory(role=m.Role.CENTRE)
    for state in setup:
        tender_set_state(tender=draft, actor=centre, target=state)
    draft.refresh_from_db()
    state_before = draft.state
    entries = JournalEntry.objects.count()

    # when
    with pytest.raises(DomainError) as exc:
        tender_set_state(tender=draft, actor=centre, target=target)

    # then
    assert (exc.value.code, exc.value.status) == ("tender_transition_forbidden", 409)
    draft.refresh_from_db()
    assert draft.state == state_before
    assert JournalEntry.objects.count() == entries


def test_failing_a_draft_is_refused(draft, parties):
    with pytest.raises(DomainError) as exc:
        tender_close(tender=draft, actor=parties["agent"], target=m.TenderState.FAILED, reason="r")
    assert exc.value.code == "tender_transition_forbidden"


def test_close_to_another_state_is_refused(published, parties):
    with pytest.raises(DomainError) as exc:
        tender_close(tender=published, actor=parties["agent"], target=m.TenderState.AWARDED, reason="r")
    assert exc.value.code == "invalid_target"


# --- document download --------------------------------------------------------------------------------


def test_download_registers_the_entity_and_records_evidence(published, bidder, clock):
    # given
    clock.set(at(5, 10))
    request = RequestFactory().get(
        "/",
        REMOTE_ADDR="192.0.2.7",
        HTTP_USER_AGENT="Bidder/1.0",
        HTTP_X_CLIENT_HARDWARE='{"mac": "00:11:22:33:44:55", "evil": "x"}',
    )

    # when
    dl = tender_document_download(tender=published, user=bidder, request=request)

    # then
    assert (dl.entity_id, dl.user_id, dl.first_at, dl.count) == (bidder.entity_id, bidder.pk, clock(), 1)
    ev = m.ActivityEvidence.objects.get(action=m.ActivityEvidence.Action.DOWNLOAD)
    assert (ev.tender_id, ev.entity_id, ev.user_id, ev.ip, ev.user_agent) == (
        published.pk,
        bidder.entity_id,
        bidder.pk,
        "192.0.2.7",
        "Bidder/1.0",
    )
    assert ev.hardware == {"mac": "00:11:22:33:44:55"}
    assert (
        JournalEntry.objects.filter(stream=published.stream, action="tender.documents_obtained").count() == 1
    )


def test_a_second_download_counts_and_is_evidenced_again(published, bidder, clock):
    clock.set(at(5, 10))
    tender_document_download(tender=published, user=bidder)
    dl = tender_document_download(tender=published, user=bidder)
    assert dl.count == 2
    assert m.DocumentDownload.objects.count() == 1
    assert m.ActivityEvidence.objects.filter(action="download").count() == 2
    assert JournalEntry.objects.filter(action="tender.documents_obtained").count() == 1


def test_download_by_a_blacklisted_entity_is_refused(published, bidder, clock):
    # given
    credit_record_create(
        actor=UserFactory(role=m.Role.REGULATOR),
        kind=m.CreditRecord.Kind.DISQUALIFICATION,
        entity=bidder.entity,
        legal_basis="条例第六十七条",
        starts_on=dt.date(2026, 3, 1),
        ends_on=dt.date(2026, 3, 5),
    )
    clock.set(at(5, 10))
    before = written()

    # when
    with pytest.raises(DomainError) as exc:
        tender_document_download(tender=published, user=bidder)

    # then
    assert (exc.value.code, exc.value.status) == ("entity_blacklisted", 403)
    assert written() == before

    # and the day after the ban it works
    clock.set(at(6, 10))
    assert tender_document_download(tender=published, user=bidder).pk


def test_download_by_an_unverified_entity_is_refused(published, clock):
    user = BidderUserFactory(entity=MarketEntityFactory(status=m.EntityStatus.PENDING))
    clock.set(at(5, 10))
    before = written()
    with pytest.raises(DomainError) as exc:
        tender_document_download(tender=published, user=user)
    assert exc.value.code == "entity_not_verified"
    assert written() == before


@pytest.mark.parametrize("when", [at(9, 17, 1), at(10, 9)])
def test_download_outside_the_document_period_is_refused(published, bidder, clock, when):
    clock.set(when)
    before = written()
    with pytest.raises(DomainError) as exc:
        tender_document_download(tender=published, user=bidder)
    assert exc.value.code == "documents_closed"
    assert written() == before


def test_download_at_the_last_moment_of_the_period_is_accepted(published, bidder, clock):
    clock.set(at(9, 17))
    assert tender_document_download(tender=published, user=bidder).pk


def test_download_before_publication_or_by_non_bidders_is_refused(published, parties, clock):
    other_draft = tender_create(actor=parties["agent"], data=tender_form(parties))
    clock.set(at(5, 10))
    with pytest.raises(DomainError) as exc:
        tender_document_download(tender=other_draft, user=BidderUserFactory())
    assert exc.value.code == "tender_not_open"
    with pytest.raises(DomainError) as exc:
        tender_document_download(tender=published, user=parties["agent"])
    assert exc.value.code == "role_forbidden"
