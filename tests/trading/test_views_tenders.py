"""Tender management pages: drafts with lots, publication under the legal rules, amendments with
forced extension, suspend/resume/close, document download by bidders (trading.views.tenders)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import (
    SH,
    AgencyUserFactory,
    AnnouncementAttachmentFactory,
    AnnouncementFactory,
    BidderUserFactory,
    LotFactory,
    MarketEntityFactory,
    TenderFactory,
    UserFactory,
)
from trading.models import (
    Announcement,
    AnnouncementKind,
    DocumentDownload,
    EntityKind,
    Lot,
    Notification,
    Role,
    Tender,
    TenderState,
)
from trading.services.credit import credit_record_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def agency():
    return AgencyUserFactory()


@pytest.fixture
def tenderee():
    return MarketEntityFactory(is_tenderee=True, is_bidder=False, kind=EntityKind.GOVERNMENT)


def tender_form(*, agency_entity, tenderee, lots: int = 2, **overrides) -> dict:
    """A lawful TB works tender as the browser posts it (clock: Monday 2026-03-02 09:00)."""
    data = {
        "title": "南宁市某道路改造工程施工招标",
        "regime": "TB",
        "category": "works",
        "method": "open",
        "tenderee_id": str(tenderee.pk),
        "agency_id": str(agency_entity.pk),
        "region_code": "450100",
        "state_funded": "1",
        "docs_from": "2026-03-02T09:00",
        "docs_until": "2026-03-09T17:00",
        "deadline": "2026-03-25T09:30",
        "decryption_minutes": "30",
        "decryption_policy": "bidder",
        "bid_validity_days": "90",
    }
    evaluation = json.dumps(
        {
            "criteria": [
                {"code": "tech", "name": "技术", "group": "technical", "max": 40},
                {"code": "biz", "name": "商务", "group": "commercial", "max": 20},
                {"code": "price", "name": "价格", "group": "price", "max": 40},
            ],
            "price_formula": {"kind": "deviation"},
        }
    )
    for i in range(lots):
        data.update(
            {
                f"lots[{i}].title": f"第{i + 1}标段",
                f"lots[{i}].classification_code": "A010000",
                f"lots[{i}].budget": "5000000.00",
                f"lots[{i}].ceiling_price": "4800000.00",
                f"lots[{i}].bid_security": "80000.00",
                f"lots[{i}].evaluation_method": "scoring",
                f"lots[{i}].committee.size": "5",
                f"lots[{i}].committee.experts": "4",
                f"lots[{i}].committee.tenderee_reps": "1",
                f"lots[{i}].evaluation": evaluation,
            }
        )
    # an untouched row keeps its defaults and is ignored
    data.update({"lots[4].evaluation_method": "scoring", "lots[4].committee.size": "5"})
    data.update(overrides)
    return data


def draft(agency_user, **kwargs) -> Tender:
    tender = TenderFactory(agency=agency_user.entity, created_by=agency_user, **kwargs)
    LotFactory(tender=tender, number=1)
    return tender


def published(agency_user, **kwargs) -> Tender:
    return draft(
        agency_user,
        state=TenderState.PUBLISHED,
        published_at=dt.datetime(2026, 3, 2, 9, 0, tzinfo=SH),
        original_deadline=dt.datetime(2026, 3, 25, 9, 30, tzinfo=SH),
        **kwargs,
    )


# --- create and edit drafts ----------------------------------------------------------------------


def test_the_new_tender_form_offers_lot_rows_with_default_criteria(client, agency):
    client.force_login(agency)

    response = client.get(reverse("trading:tender_create"))

    body = response.content.decode()
    assert response.status_code == 200
    assert 'name="lots[4].title"' in body
    assert "gp_base_over_price" in body
    preset = {f["name"]: f["value"] for f in response.context["form"]["fields"]}
    assert preset["agency_id"] == agency.entity.pk


def test_an_agency_creates_a_draft_with_its_lots(client, clock, agency, tenderee):
    client.force_login(agency)

    response = client.post(
        reverse("trading:tender_create"), tender_form(agency_entity=agency.entity, tenderee=tenderee)
    )

    tender = Tender.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("trading:tender_detail", args=[tender.pk])
    assert tender.state == TenderState.DRAFT and tender.agency == agency.entity
    assert [lot.title for lot in tender.lots.order_by("number")] == ["第1标段", "第2标段"]
    assert tender.lots.first().evaluation["price_formula"] == {"kind": "deviation"}
    assert tender.deadline == dt.datetime(2026, 3, 25, 9, 30, tzinfo=SH)


def test_malformed_criteria_json_is_refused_next_to_the_field(client, clock, agency, tenderee):
    client.force_login(agency)

    response = client.post(
        reverse("trading:tender_create"),
        tender_form(agency_entity=agency.entity, tenderee=tenderee, **{"lots[1].evaluation": "{not json"}),
    )

    assert response.status_code == 400
    assert b"tender_invalid" in response.content and b"evaluation_json_invalid" in response.content
    assert response.context["form"]["lots"][1][-1]["error"]
    assert "{not json" in response.content.decode()
    assert not Tender.objects.exists()


def test_a_bad_lot_is_refused_with_its_code_and_nothing_is_written(client, clock, agency, tenderee):
    client.force_login(agency)

    response = client.post(
        reverse("trading:tender_create"),
        tender_form(
            agency_entity=agency.entity, tenderee=tenderee, **{"lots[1].classification_code": "B010000"}
        ),
    )

    assert response.status_code == 400
    assert b"classification_category" in response.content
    assert Tender.objects.count() == 0 and Lot.objects.count() == 0


def test_an_agency_cannot_create_a_tender_for_another_agency(client, clock, agency, tenderee):
    other = MarketEntityFactory(is_agency=True, is_bidder=False)
    client.force_login(agency)

    response = client.post(
        reverse("trading:tender_create"), tender_form(agency_entity=other, tenderee=tenderee)
    )

    assert response.status_code == 403
    assert b"tender_not_yours" in response.content
    assert not Tender.objects.exists()


@pytest.mark.parametrize("role", [Role.BIDDER, Role.REGULATOR, Role.EXPERT])
def test_other_roles_cannot_create_tenders(client, role):
    user = BidderUserFactory() if role == Role.BIDDER else UserFactory(role=role)
    client.force_login(user)

    response = client.get(reverse("trading:tender_create"))

    assert response.status_code == 403
    assert b"role_forbidden" in response.content


def test_the_edit_form_starts_from_the_draft_and_saves_it(client, clock, agency, tenderee):
    tender = draft(agency, tenderee=tenderee)
    client.force_login(agency)
    assert (
        'value="2026-03-25T09:30"'
        in client.get(reverse("trading:tender_edit", args=[tender.pk])).content.decode()
    )

    response = client.post(
        reverse("trading:tender_edit", args=[tender.pk]),
        tender_form(agency_entity=agency.entity, tenderee=tenderee, lots=1, title="改名后的项目"),
    )

    assert response.status_code == 302
    tender.refresh_from_db()
    assert tender.title == "改名后的项目" and tender.lots.count() == 1


def test_agency_b_cannot_edit_agency_as_tender(client, clock, agency, tenderee):
    tender = draft(agency, tenderee=tenderee)
    client.force_login(AgencyUserFactory())

    page = client.get(reverse("trading:tender_edit", args=[tender.pk]))
    post = client.post(
        reverse("trading:tender_edit", args=[tender.pk]),
        tender_form(agency_entity=agency.entity, tenderee=tenderee, title="被篡改"),
    )

    assert page.status_code == 403 and b"tender_not_yours" in page.content
    assert post.status_code == 403
    tender.refresh_from_db()
    assert tender.title != "被篡改"


def test_agency_b_does_not_see_agency_as_draft(client, agency):
    tender = draft(agency)
    client.force_login(AgencyUserFactory())

    response = client.get(reverse("trading:tender_detail", args=[tender.pk]))

    assert response.status_code == 404
    assert b"tender_not_public" in response.content


def test_a_published_tender_cannot_be_edited(client, agency):
    tender = published(agency)
    client.force_login(agency)

    response = client.get(reverse("trading:tender_edit", args=[tender.pk]))

    assert response.status_code == 409
    assert b"tender_not_draft" in response.content


# --- publication ---------------------------------------------------------------------------------


def test_publishing_with_documents_opens_the_tender(client, clock, agency):
    tender = draft(agency)
    client.force_login(agency)

    response = client.post(
        reverse("trading:tender_publish", args=[tender.pk]),
        {
            "documents": [
                SimpleUploadedFile("招标文件.pdf", b"%PDF-1.7 tender", content_type="application/pdf")
            ]
        },
    )

    assert response.status_code == 302
    tender.refresh_from_db()
    assert tender.state == TenderState.PUBLISHED and tender.published_at == clock()
    announcement = tender.announcements.get(kind=AnnouncementKind.TENDER)
    assert announcement.attachments.get().is_tender_document


def test_publishing_too_close_to_the_deadline_is_refused_with_the_rule_and_its_source(client, clock, agency):
    # given a TB draft whose deadline is only 10 days after the documents are issued (法24: 20 days)
    tender = draft(agency, deadline=dt.datetime(2026, 3, 12, 9, 30, tzinfo=SH))
    client.force_login(agency)

    # when the agency publishes it
    response = client.post(reverse("trading:tender_publish", args=[tender.pk]))

    # then the page names the rule's code and its legal source, and nothing was published
    assert response.status_code == 422
    error = response.context["error"]
    assert error["code"] and error["code"].encode() in response.content
    assert "招标投标法第二十四条" in response.content.decode()
    tender.refresh_from_db()
    assert tender.state == TenderState.DRAFT
    assert not Announcement.objects.filter(tender=tender).exists()


def test_a_regulator_cannot_publish_a_tender(client, clock, agency):
    tender = draft(agency)
    client.force_login(UserFactory(role=Role.REGULATOR))

    response = client.post(reverse("trading:tender_publish", args=[tender.pk]))

    assert response.status_code == 403
    assert b"tender_not_yours" in response.content
    tender.refresh_from_db()
    assert tender.state == TenderState.DRAFT


def test_publish_needs_post(client, agency):
    tender = draft(agency)
    client.force_login(agency)

    assert client.get(reverse("trading:tender_publish", args=[tender.pk])).status_code == 405


# --- amendments -------------------------------------------------------------------------------------


def test_a_late_amendment_moves_the_deadline_and_the_page_says_so(client, clock, agency):
    # given a published tender with its deadline on 25 March and a bidder holding the documents
    tender = published(agency)
    holder = BidderUserFactory()
    DocumentDownload.objects.create(tender=tender, entity=holder.entity, user=holder, first_at=clock())
    clock.set(dt.datetime(2026, 3, 15, 10, 0))
    client.force_login(agency)

    # when an amendment affecting bid preparation comes 10 days before the deadline
    response = client.post(
        reverse("trading:tender_amend", args=[tender.pk]),
        {"title": "澄清公告（一）", "body_html": "<p>工程量清单第3项更正。</p>", "affects_preparation": "1"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    # then the deadline is forced 15 days later (条例21) and the success message shows it
    tender.refresh_from_db()
    assert tender.deadline == dt.datetime(2026, 3, 30, 9, 30, tzinfo=SH)
    body = response.content.decode()
    assert "2026-03-30 09:30" in body and "招标投标法实施条例第二十一条" in body
    assert Notification.objects.filter(entity=holder.entity, kind="tender.amended").exists()


def test_an_early_amendment_keeps_the_deadline(client, clock, agency):
    tender = published(agency)
    client.force_login(agency)

    response = client.post(
        reverse("trading:tender_amend", args=[tender.pk]),
        {"title": "澄清公告", "body_html": "<p>答疑。</p>", "affects_preparation": "1"},
        follow=True,
    )

    tender.refresh_from_db()
    assert tender.deadline == dt.datetime(2026, 3, 25, 9, 30, tzinfo=SH)
    assert "2026-03-25 09:30" in response.content.decode()


def test_an_amendment_with_script_is_refused_next_to_the_text(client, clock, agency):
    tender = published(agency)
    client.force_login(agency)

    response = client.post(
        reverse("trading:tender_amend", args=[tender.pk]),
        {"title": "澄清", "body_html": "<script>alert(1)</script>", "affects_preparation": "1"},
    )

    assert response.status_code == 400
    assert b"html_unsafe" in response.content
    assert next(f for f in response.context["fields"] if f["name"] == "body_html")["error"]
    assert not tender.announcements.exists()


def test_agency_b_cannot_amend_agency_as_tender(client, clock, agency):
    tender = published(agency)
    client.force_login(AgencyUserFactory())

    response = client.post(
        reverse("trading:tender_amend", args=[tender.pk]), {"title": "x", "body_html": "<p>x</p>"}
    )

    assert response.status_code == 403
    assert not tender.announcements.exists()


def test_a_draft_has_no_amendment_form(client, agency):
    tender = draft(agency)
    client.force_login(agency)

    response = client.get(reverse("trading:tender_amend", args=[tender.pk]))

    assert response.status_code == 409
    assert b"tender_not_open" in response.content


# --- suspend, resume, close ------------------------------------------------------------------------


def test_suspend_and_resume(client, clock, agency):
    tender = published(agency)
    client.force_login(agency)

    client.post(reverse("trading:tender_suspend", args=[tender.pk]), {"reason": "收到异议"})
    tender.refresh_from_db()
    assert tender.state == TenderState.SUSPENDED

    client.post(reverse("trading:tender_resume", args=[tender.pk]), {"reason": "已答复"})
    tender.refresh_from_db()
    assert tender.state == TenderState.PUBLISHED


def test_suspending_needs_a_reason(client, clock, agency):
    tender = published(agency)
    client.force_login(agency)

    response = client.post(reverse("trading:tender_suspend", args=[tender.pk]), {"reason": ""})

    assert response.status_code == 400
    assert b"reason_required" in response.content
    tender.refresh_from_db()
    assert tender.state == TenderState.PUBLISHED


def test_a_regulator_may_order_a_suspension(client, clock, agency):
    tender = published(agency)
    client.force_login(UserFactory(role=Role.REGULATOR))

    client.post(reverse("trading:tender_suspend", args=[tender.pk]), {"reason": "投诉处理"})

    tender.refresh_from_db()
    assert tender.state == TenderState.SUSPENDED


def test_a_bidder_cannot_suspend(client, clock, agency):
    tender = published(agency)
    client.force_login(BidderUserFactory())

    response = client.post(reverse("trading:tender_suspend", args=[tender.pk]), {"reason": "x"})

    assert response.status_code == 403
    tender.refresh_from_db()
    assert tender.state == TenderState.PUBLISHED


def test_closing_a_tender_as_terminated_publishes_the_notice(client, clock, agency):
    tender = published(agency)
    client.force_login(agency)

    client.post(
        reverse("trading:tender_close", args=[tender.pk]), {"target": "terminated", "reason": "项目取消"}
    )

    tender.refresh_from_db()
    assert tender.state == TenderState.TERMINATED
    assert tender.announcements.filter(kind=AnnouncementKind.TERMINATION).exists()


def test_closing_to_an_unknown_state_is_refused(client, clock, agency):
    tender = published(agency)
    client.force_login(agency)

    response = client.post(
        reverse("trading:tender_close", args=[tender.pk]), {"target": "awarded", "reason": "x"}
    )

    assert response.status_code == 400
    assert b"invalid_target" in response.content


# --- documents for bidders ------------------------------------------------------------------------


def _with_document(tender: Tender, data: bytes = b"%PDF-1.7 documents"):
    announcement = AnnouncementFactory(tender=tender, author=tender.created_by)
    return AnnouncementAttachmentFactory(announcement=announcement, data=data, is_tender_document=True)


def test_a_bidder_obtains_and_downloads_the_documents(client, clock, agency):
    # given a published tender with its documents
    tender = published(agency)
    attachment = _with_document(tender, b"%PDF-1.7 the tender documents")
    bidder = BidderUserFactory()
    client.force_login(bidder)
    assert (
        reverse("trading:tender_obtain", args=[tender.pk])
        in client.get(reverse("trading:tender_detail", args=[tender.pk])).content.decode()
    )

    # when the bidder obtains them
    response = client.post(reverse("trading:tender_obtain", args=[tender.pk]))

    # then its entity is registered as a holder and it can list and download the files
    assert response["Location"] == reverse("trading:tender_documents", args=[tender.pk])
    assert DocumentDownload.objects.filter(tender=tender, entity=bidder.entity).exists()
    listing = client.get(response["Location"]).content.decode()
    assert attachment.filename in listing and attachment.blob_id in listing
    file = client.get(reverse("trading:tender_document_file", args=[tender.pk, attachment.pk]))
    assert b"".join(file.streaming_content) == b"%PDF-1.7 the tender documents"
    assert file["Content-Disposition"].startswith("attachment")


def test_documents_are_closed_to_bidders_who_did_not_obtain_them(client, clock, agency):
    tender = published(agency)
    attachment = _with_document(tender)
    client.force_login(BidderUserFactory())

    listing = client.get(reverse("trading:tender_documents", args=[tender.pk]))
    file = client.get(reverse("trading:tender_document_file", args=[tender.pk, attachment.pk]))

    assert listing.status_code == 403 and b"documents_not_obtained" in listing.content
    assert file.status_code == 403


def test_a_blacklisted_bidder_cannot_obtain_documents(client, clock, agency):
    tender = published(agency)
    bidder = BidderUserFactory()
    credit_record_create(
        actor=UserFactory(role=Role.REGULATOR),
        entity=bidder.entity,
        kind="disqualification",
        legal_basis="条例67",
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2027, 1, 1),
    )
    client.force_login(bidder)

    response = client.post(reverse("trading:tender_obtain", args=[tender.pk]))

    assert response.status_code == 403
    assert b"entity_blacklisted" in response.content
    assert not DocumentDownload.objects.exists()


def test_documents_cannot_be_obtained_after_the_document_period(client, clock, agency):
    tender = published(agency)
    clock.set(dt.datetime(2026, 3, 10, 9, 0))
    client.force_login(BidderUserFactory())

    response = client.post(reverse("trading:tender_obtain", args=[tender.pk]))

    assert response.status_code == 409
    assert b"documents_closed" in response.content
    assert not DocumentDownload.objects.exists()


def test_an_agency_cannot_obtain_documents_as_a_bidder(client, clock, agency):
    tender = published(agency)
    client.force_login(agency)

    response = client.post(reverse("trading:tender_obtain", args=[tender.pk]))

    assert response.status_code == 403
    assert b"role_forbidden" in response.content


def test_the_detail_page_never_names_who_obtained_the_documents(client, clock, agency):
    tender = published(agency)
    holder = BidderUserFactory()
    DocumentDownload.objects.create(tender=tender, entity=holder.entity, user=holder, first_at=clock())
    client.force_login(agency)

    body = client.get(reverse("trading:tender_detail", args=[tender.pk])).content.decode()

    assert holder.entity.name not in body


# --- lists -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.CENTRE, Role.REGULATOR])
def test_centre_and_regulator_list_every_tender_with_its_state(client, role):
    drafts = draft(AgencyUserFactory())
    live = published(AgencyUserFactory())
    client.force_login(UserFactory(role=role))

    response = client.get(reverse("trading:tender_list"))

    body = response.content.decode()
    assert drafts.title in body and live.title in body
    assert "state-draft" in body and "state-published" in body


def test_an_agency_lists_only_its_own_tenders(client, agency):
    own = draft(agency)
    foreign = published(AgencyUserFactory())
    client.force_login(agency)

    body = client.get(reverse("trading:tender_list")).content.decode()

    assert own.title in body and foreign.title not in body


def test_a_bidder_lists_open_tenders_but_no_drafts(client, agency):
    hidden = draft(agency)
    live = published(AgencyUserFactory())
    client.force_login(BidderUserFactory())

    body = client.get(reverse("trading:tender_list")).content.decode()

    assert live.title in body and hidden.title not in body


def test_the_list_filters_by_state_and_refuses_unknown_states(client, agency):
    own_draft, own_live = draft(agency), published(agency)
    client.force_login(UserFactory(role=Role.CENTRE))

    filtered = client.get(reverse("trading:tender_list"), {"state": "published"}).content.decode()
    refused = client.get(reverse("trading:tender_list"), {"state": "bogus"})

    assert own_live.title in filtered and own_draft.title not in filtered
    assert refused.status_code == 400 and b"invalid_filter" in refused.content


def test_experts_have_no_tender_list(client):
    client.force_login(UserFactory(role=Role.EXPERT))

    response = client.get(reverse("trading:tender_list"))

    assert response.status_code == 403


def test_tender_pages_need_a_login(client, agency):
    tender = published(agency)

    response = client.get(reverse("trading:tender_detail", args=[tender.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("trading:login"))
