"""OCDS 1.1 export: releases and packages validate offline against the official 1.1.5 schema,
the mappings follow the codelists, drafts stay private, and broken data is caught."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import socket
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.urls import include, path

from archive.blobs import blob_put
from tests.factories import LotFactory, MarketEntityFactory, TenderFactory, UserFactory
from trading import ocds, portal_urls
from trading.codes import uscc_make
from trading.models import (
    Announcement,
    AnnouncementAttachment,
    AnnouncementKind,
    Category,
    EntityKind,
    EvaluationMethod,
    Lot,
    ProcurementMethod,
    Regime,
    Role,
    TenderState,
)
from trading.views import opendata

SH = ZoneInfo("Asia/Shanghai")

# The opendata views are wired into the portal URLconf by the lead; this module's own URLconf
# makes the tests independent of that step.
urlpatterns = [
    path("", include((list(portal_urls.urlpatterns) + list(opendata.urlpatterns), "portal"))),
    path("api/", include("trading.api_urls")),
]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def at(day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=SH)


def announce(tender, kind, title, *, published_at, attachments=(), new_deadline=None, state="published"):
    a = Announcement.objects.create(
        tender=tender,
        kind=kind,
        title=title,
        body_html=f"<p>{title}</p>",
        state=state,
        published_at=published_at if state == "published" else None,
        content_digest=hashlib.sha256(title.encode()).hexdigest(),
        author=tender.created_by,
        new_deadline=new_deadline,
        affects_preparation=new_deadline is not None,
    )
    for filename, data, is_tender_document in attachments:
        blob = blob_put(data=data, content_type="application/pdf")
        AnnouncementAttachment.objects.create(
            announcement=a, filename=filename, blob=blob, is_tender_document=is_tender_document
        )
    return a


def build_world() -> dict:
    """A small market that exercises every mapping: both regimes, every category, several
    methods and states (draft, open, amended, suspended, failed, terminated, awarded, archived),
    tenders with and without an agency, multi-lot tenders with awarded and failed lots."""
    author = UserFactory(role=Role.AGENCY)
    government = MarketEntityFactory(
        uscc=uscc_make("11450100MB1234567"),
        name="南宁市交通运输局",
        kind=EntityKind.GOVERNMENT,
        is_tenderee=True,
        is_bidder=False,
    )
    agency = MarketEntityFactory(name="广西华信招标代理有限公司", is_agency=True, is_bidder=False)
    supplier_a = MarketEntityFactory(name="广西路桥建设有限公司", region_code="450200")
    supplier_b = MarketEntityFactory(name="柳州市产权经纪有限公司", region_code="450200")

    def tender(**kw):
        defaults = {"tenderee": government, "agency": agency, "created_by": author, "published_at": at(2)}
        defaults.update(kw)
        return TenderFactory(**defaults)

    w: dict = {"government": government, "agency": agency, "supplier_a": supplier_a, "supplier_b": supplier_b}

    w["open_tb"] = t = tender(
        title="南宁市五象大道改造工程施工招标",
        state=TenderState.PUBLISHED,
        description="<p>道路改造，全长 3.2 公里。</p>",
    )
    LotFactory(tender=t, number=1, title="第一标段", budget=Decimal("5000000.00"))
    LotFactory(tender=t, number=2, title="第二标段", budget=Decimal("3000000.50"))
    announce(
        t,
        AnnouncementKind.TENDER,
        "五象大道改造工程招标公告",
        published_at=at(2),
        attachments=[
            ("招标文件.pdf", b"%PDF-1.7 tender documents", True),
            ("图纸.pdf", b"%PDF-1.7 drawings", False),
        ],
    )

    w["amended_gp"] = t = tender(
        title="南宁市教学设备采购",
        regime=Regime.GP,
        category=Category.GOODS,
        agency=None,
        method=ProcurementMethod.COMPETITIVE_NEGOTIATION,
        state=TenderState.EVALUATION,
        state_changed_at=at(26),
    )
    LotFactory(
        tender=t,
        number=1,
        title="教学设备",
        classification_code="B010000",
        budget=Decimal("1200000.00"),
        evaluation_method=EvaluationMethod.LOWEST_PRICE,
    )
    announce(t, AnnouncementKind.TENDER, "教学设备采购公告", published_at=at(2))
    announce(t, AnnouncementKind.AMENDMENT, "教学设备采购更正公告", published_at=at(5), new_deadline=at(27))
    announce(t, AnnouncementKind.AMENDMENT, "未发布的更正公告", published_at=None, state="draft")

    w["awarded_gp"] = t = tender(
        title="南宁市物业管理服务采购",
        regime=Regime.GP,
        category=Category.SERVICES,
        method=ProcurementMethod.INQUIRY,
        state=TenderState.AWARDED,
        state_changed_at=at(20, 15),
    )
    LotFactory(
        tender=t,
        number=1,
        title="A包",
        classification_code="C010000",
        budget=Decimal("5000000.00"),
        status=Lot.Status.AWARDED,
        awarded_to=supplier_a,
        award_amount=Decimal("4500000.00"),
        awarded_at=at(20, 15),
    )
    LotFactory(
        tender=t,
        number=2,
        title="B包",
        classification_code="C010000",
        budget=Decimal("800000.00"),
        status=Lot.Status.FAILED,
    )
    announce(
        t,
        AnnouncementKind.RESULT,
        "物业管理服务采购结果公告",
        published_at=at(20, 15),
        attachments=[("中标通知书.pdf", b"%PDF-1.7 award notice", False)],
    )

    w["failed_tb"] = t = tender(
        title="邕宁区排水工程施工招标", state=TenderState.FAILED, state_changed_at=at(25)
    )
    LotFactory(tender=t, number=1, budget=Decimal("2000000.00"), status=Lot.Status.FAILED)
    announce(t, AnnouncementKind.TERMINATION, "邕宁区排水工程流标公告", published_at=at(25))

    w["terminated_land"] = t = tender(
        title="南宁市某宗国有建设用地使用权挂牌出让",
        category=Category.LAND,
        method=ProcurementMethod.AUCTION,
        state=TenderState.TERMINATED,
        state_changed_at=at(10),
    )
    LotFactory(
        tender=t,
        number=1,
        title="地块一",
        classification_code="E010000",
        budget=Decimal("30000000.00"),
        status=Lot.Status.TERMINATED,
    )

    w["archived_property"] = t = tender(
        title="某国有企业股权转让",
        category=Category.PROPERTY,
        method=ProcurementMethod.AUCTION,
        state=TenderState.ARCHIVED,
        state_changed_at=at(28),
    )
    LotFactory(
        tender=t,
        number=1,
        title="30% 股权",
        classification_code="D010000",
        budget=Decimal("9000000.00"),
        status=Lot.Status.AWARDED,
        awarded_to=supplier_b,
        award_amount=Decimal("9600000.00"),
        awarded_at=at(24),
    )

    w["suspended_tb"] = t = tender(
        title="青秀区学校改扩建工程邀请招标",
        method=ProcurementMethod.INVITED,
        state=TenderState.SUSPENDED,
        state_before_suspension=TenderState.PUBLISHED,
        state_changed_at=at(12),
    )
    LotFactory(tender=t, number=1, budget=Decimal("6000000.00"))

    w["draft"] = t = tender(title="尚未发布的项目", state=TenderState.DRAFT, published_at=None)
    LotFactory(tender=t, number=1, budget=Decimal("100000.00"))
    return w


PUBLIC = [
    "open_tb",
    "amended_gp",
    "awarded_gp",
    "failed_tb",
    "terminated_land",
    "archived_property",
    "suspended_tb",
]


@pytest.fixture
def world(clock):
    clock.set(dt.datetime(2026, 3, 30, 10, 0))
    return build_world()


def release_of(tender) -> dict:
    return ocds.tender_release(ocds.with_release_data(ocds.public_tenders().filter(pk=tender.pk)).get())


# --- validity ---------------------------------------------------------------------------


def test_every_tender_of_a_world_validates(world):
    # given a varied world
    # when every public tender is exported
    packages = {name: ocds.tender_package(world[name]) for name in PUBLIC}
    # then each package passes the official schema, the codelists and the reference checks
    assert {name: ocds.ocds_validate(p) for name, p in packages.items()} == {name: [] for name in PUBLIC}


def test_bulk_package_of_a_day_validates_and_holds_what_changed_that_day(world):
    # given tenders published on 2 March and others that changed later
    # when the bulk package of 20 March is built
    package = ocds.bulk_package(dt.date(2026, 3, 20))
    # then it is valid and holds only the tender awarded that day
    assert ocds.ocds_validate(package) == []
    assert [r["tender"]["id"] for r in package["releases"]] == [world["awarded_gp"].code]


def test_bulk_of_the_publication_day_holds_every_public_tender_but_no_draft(world):
    releases = ocds.bulk_releases(dt.date(2026, 3, 2))
    codes = {r["tender"]["id"] for r in releases}
    assert codes == {world[name].code for name in PUBLIC}
    assert world["draft"].code not in codes


def test_bulk_day_is_the_beijing_calendar_day(world):
    # given a tender published at 00:30 Beijing time on 3 March (16:30 UTC on 2 March)
    t = TenderFactory(published_at=dt.datetime(2026, 3, 3, 0, 30, tzinfo=SH), state=TenderState.PUBLISHED)
    LotFactory(tender=t, number=1)
    # then it belongs to the 3 March bulk, not to 2 March
    assert t.code in {r["tender"]["id"] for r in ocds.bulk_releases(dt.date(2026, 3, 3))}
    assert t.code not in {r["tender"]["id"] for r in ocds.bulk_releases(dt.date(2026, 3, 2))}


def test_bulk_releases_run_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    # given seven public tenders changed on 2 March; when all are exported; then no query per tender
    with django_assert_max_num_queries(4):
        releases = ocds.bulk_releases(dt.date(2026, 3, 2))
    assert len(releases) == len(PUBLIC)


def test_validation_needs_no_network(world, monkeypatch):
    # given a machine where every connection attempt fails
    def refuse(*args, **kwargs):
        raise OSError("network used")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    ocds._validator_for.cache_clear()
    # when a package is validated, then the $ref to the release schema resolves from disk
    assert ocds.ocds_validate(ocds.tender_package(world["open_tb"])) == []


# --- a broken release is caught ----------------------------------------------------------------


def _set(data: dict, dotted: str, value) -> None:
    keys = dotted.split(".")
    for key in keys[:-1]:
        data = data[int(key)] if key.isdigit() else data[key]
    last = keys[-1]
    if value is KeyError:
        del data[last]
    elif last.isdigit():
        data[int(last)] = value
    else:
        data[last] = value


@pytest.mark.parametrize(
    ("dotted", "value", "expected_path"),
    [
        ("releases.0.tender.status", "open", "releases/0/tender/status"),
        ("releases.0.tag", ["tender", "bidOpening"], "releases/0/tag"),
        ("releases.0.date", "2026-03-02 09:00", "releases/0/date"),
        ("releases.0.ocid", KeyError, "releases/0"),
        ("releases.0.tender.procurementMethod", "invited", "releases/0/tender/procurementMethod"),
        ("releases.0.tender.value.currency", "RMB", "releases/0/tender/value/currency"),
        ("releases.0.parties.0.roles", ["buyer", "auditor"], "releases/0/parties/0/roles"),
        ("releases.0.tender.documents.1.url", "/files/not absolute", "releases/0/tender/documents/1/url"),
        (
            "releases.0.tender.documents.0.documentType",
            "tenderAnnouncement",
            "releases/0/tender/documents/0/documentType",
        ),
        ("releases.0.buyer.id", "CN-SAIC-000000000000000000", "releases/0/buyer"),
        ("releases.0.tender.lots.0.status", "awarded", "releases/0/tender/lots/0/status"),
        ("uri", "not a uri", "uri"),
        ("version", "1.1.5", "version"),
    ],
)
def test_a_broken_package_is_caught(world, dotted, value, expected_path):
    # given a valid package
    package = ocds.tender_package(world["open_tb"])
    assert ocds.ocds_validate(package) == []
    # when one field is broken
    broken = copy.deepcopy(package)
    _set(broken, dotted, value)
    # then the validator reports it at that place
    errors = ocds.ocds_validate(broken)
    assert any(e.startswith(expected_path) for e in errors), errors


def test_an_award_for_an_unknown_lot_or_supplier_is_caught(world):
    package = ocds.tender_package(world["awarded_gp"])
    broken = copy.deepcopy(package)
    broken["releases"][0]["awards"][0]["relatedLots"] = ["9"]
    broken["releases"][0]["awards"][0]["suppliers"][0]["id"] = "CN-SAIC-nobody"
    errors = ocds.ocds_validate(broken)
    assert any("relatedLots" in e for e in errors)
    assert any("awards/0/suppliers/0" in e for e in errors)


def test_a_release_twice_in_one_package_is_caught(world):
    release = release_of(world["open_tb"])
    package = ocds.release_package(
        [release, release], uri="https://example.org/p.json", published_date=at(30)
    )
    assert any("appears twice" in e for e in ocds.ocds_validate(package))


# --- mappings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "status", "tags"),
    [
        ("open_tb", "active", ["tender"]),
        ("amended_gp", "active", ["tenderAmendment"]),
        ("suspended_tb", "active", ["tenderUpdate"]),
        ("failed_tb", "unsuccessful", ["tenderUpdate"]),
        ("terminated_land", "cancelled", ["tenderCancellation"]),
        ("awarded_gp", "complete", ["tenderUpdate", "award"]),
        ("archived_property", "complete", ["tenderUpdate", "award"]),
    ],
)
def test_status_and_tag_follow_the_tender_state(world, name, status, tags):
    release = release_of(world[name])
    assert (release["tender"]["status"], release["tag"]) == (status, tags)


@pytest.mark.parametrize(
    ("name", "method", "category"),
    [
        ("open_tb", "open", "works"),
        ("amended_gp", "limited", "goods"),
        ("awarded_gp", "limited", "services"),
        ("suspended_tb", "selective", "works"),
        ("terminated_land", "open", None),
        ("archived_property", "open", None),
    ],
)
def test_method_and_category_map_onto_the_closed_codelists(world, name, method, category):
    tender = release_of(world[name])["tender"]
    assert tender["procurementMethod"] == method
    assert tender.get("mainProcurementCategory") == category


def test_method_details_are_the_chinese_legal_names(world):
    assert release_of(world["amended_gp"])["tender"]["procurementMethodDetails"].startswith("竞争性谈判")
    assert "土地使用权" in release_of(world["terminated_land"])["tender"]["procurementMethodDetails"]


def test_the_ocid_carries_the_prefix_and_the_transaction_code(world, settings):
    settings.OCDS_PREFIX = "ocds-abc123"
    release = release_of(world["open_tb"])
    assert release["ocid"] == f"ocds-abc123-{world['open_tb'].code}"
    assert release["id"].startswith(release["ocid"] + "-")


def test_with_an_agency_the_tenderee_buys_and_the_agency_procures(world):
    release = release_of(world["open_tb"])
    roles = {p["name"]: p["roles"] for p in release["parties"]}
    assert roles == {"南宁市交通运输局": ["buyer"], "广西华信招标代理有限公司": ["procuringEntity"]}
    assert release["buyer"]["name"] == "南宁市交通运输局"
    assert release["tender"]["procuringEntity"]["name"] == "广西华信招标代理有限公司"


def test_without_an_agency_the_tenderee_is_buyer_and_procuring_entity(world):
    release = release_of(world["amended_gp"])
    assert [p["roles"] for p in release["parties"]] == [["buyer", "procuringEntity"]]


def test_identifier_scheme_depends_on_the_registering_authority(world):
    parties = {p["name"]: p for p in release_of(world["awarded_gp"])["parties"]}
    government, supplier = parties["南宁市交通运输局"], parties["广西路桥建设有限公司"]
    # a government body's code (first character 1, 机构编制) is not in the enterprise register
    assert government["identifier"] == {
        "scheme": "CN-USCC",
        "id": world["government"].uscc,
        "legalName": "南宁市交通运输局",
    }
    assert supplier["identifier"]["scheme"] == "CN-SAIC"
    assert supplier["id"] == f"CN-SAIC-{world['supplier_a'].uscc}"
    assert "contactPoint" not in supplier and "contactPoint" in government


def test_awards_cover_awarded_lots_only(world):
    release = release_of(world["awarded_gp"])
    assert release["awards"] == [
        {
            "id": f"{world['awarded_gp'].code}-1",
            "title": "A包 中标（成交）结果",
            "status": "active",
            "value": {"amount": 4500000, "currency": "CNY"},
            "suppliers": [{"id": f"CN-SAIC-{world['supplier_a'].uscc}", "name": "广西路桥建设有限公司"}],
            "relatedLots": ["1"],
            "date": "2026-03-20T15:00:00+08:00",
        }
    ]
    assert [(lot["id"], lot["status"]) for lot in release["tender"]["lots"]] == [
        ("1", "complete"),
        ("2", "unsuccessful"),
    ]


def test_value_is_the_sum_of_lot_budgets_as_a_json_number(world):
    tender = release_of(world["open_tb"])["tender"]
    assert tender["value"] == {"amount": 8000000.5, "currency": "CNY"}
    assert [lot["value"]["amount"] for lot in tender["lots"]] == [5000000, 3000000.5]


def test_periods_come_from_the_timeline(world):
    tb = world["open_tb"]
    tender = release_of(tb)["tender"]
    assert tender["tenderPeriod"] == {"startDate": ocds.iso(tb.docs_from), "endDate": ocds.iso(tb.deadline)}
    # TB: objections to the documents close 10 days before the deadline (条例22)
    assert tender["enquiryPeriod"]["endDate"] == ocds.iso(tb.deadline - dt.timedelta(days=10))


def test_description_is_plain_text(world):
    assert release_of(world["open_tb"])["tender"]["description"] == "道路改造，全长 3.2 公里。"


def test_documents_carry_the_attachment_digest_and_address(world):
    documents = release_of(world["open_tb"])["tender"]["documents"]
    sha = hashlib.sha256(b"%PDF-1.7 tender documents").hexdigest()
    tender_doc = next(d for d in documents if d["title"] == "招标文件.pdf")
    assert tender_doc["documentType"] == "biddingDocuments"
    assert tender_doc["description"] == f"SHA-256: {sha}"
    assert sha in tender_doc["url"] and tender_doc["url"].startswith("http")
    assert [d["documentType"] for d in documents] == ["tenderNotice", "biddingDocuments", "tenderNotice"]


def test_only_published_amendments_appear(world):
    tender = release_of(world["amended_gp"])["tender"]
    assert [a["rationale"] for a in tender["amendments"]] == ["教学设备采购更正公告"]
    assert tender["amendments"][0]["description"] == f"投标截止时间变更为 {ocds.iso(at(27))}"


def test_release_date_is_the_last_change(world):
    assert release_of(world["awarded_gp"])["date"] == "2026-03-20T15:00:00+08:00"
    assert release_of(world["open_tb"])["date"] == "2026-03-02T09:00:00+08:00"


# --- endpoints -----------------------------------------------------------------------------------


def test_tender_endpoint_serves_a_valid_one_release_package(world, client):
    response = client.get(f"/opendata/tenders/{world['awarded_gp'].pk}.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    package = json.loads(response.content)
    assert ocds.ocds_validate(package) == []
    assert package["uri"] == f"http://testserver/opendata/tenders/{world['awarded_gp'].pk}.json"
    assert [r["ocid"] for r in package["releases"]] == [ocds.tender_ocid(world["awarded_gp"])]


def test_a_draft_tender_is_not_found(world, client):
    response = client.get(f"/opendata/tenders/{world['draft'].pk}.json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_an_unknown_tender_is_not_found(world, client):
    response = client.get("/opendata/tenders/999999.json")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")


def test_dated_bulk_endpoint_serves_a_valid_package(world, client):
    response = client.get("/opendata/releases/2026-03-20.json")
    assert response.status_code == 200
    package = response.json()
    assert ocds.ocds_validate(package) == []
    assert len(package["releases"]) == 1


def test_a_day_without_changes_has_no_package(world, client):
    # a release package needs at least one release, so an empty day is not an empty file
    response = client.get("/opendata/releases/2025-01-01.json")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "no_releases")


@pytest.mark.parametrize("day", ["2026-02-30", "20260302", "yesterday", "2026-3-2"])
def test_a_malformed_date_is_refused(world, client, day):
    response = client.get(f"/opendata/releases/{day}.json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_date"


def test_index_links_public_tenders_only(world, client):
    index = client.get("/opendata/").json()
    assert index["version"] == "1.1"
    assert index["tenderPackage"] == "http://testserver/opendata/tenders/{id}.json"
    assert index["bulkPackage"] == "http://testserver/opendata/releases/{YYYY-MM-DD}.json"
    titles = {t["title"] for t in index["latest"]}
    assert world["draft"].title not in titles
    assert world["open_tb"].title in titles


# --- management command -----------------------------------------------------------------------------


def test_ocds_validate_command_passes_on_a_valid_world(world, capsys):
    call_command("ocds_validate", "--all")
    assert "valid" in capsys.readouterr().out


def test_ocds_validate_command_fails_with_the_errors(world, capsys):
    # given a tender whose currency is not an ISO 4217 code
    world["open_tb"].currency = "RMB"
    world["open_tb"].save(update_fields=["currency"])
    # when the command runs, then it exits non-zero and names the tender and the field
    with pytest.raises(CommandError, match="ocds_invalid"):
        call_command("ocds_validate")
    err = capsys.readouterr().err
    assert f"tender {world['open_tb'].pk}" in err
    assert "currency" in err
