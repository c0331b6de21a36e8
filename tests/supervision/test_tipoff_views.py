"""The tip-off pages (issue 7 item 3): the public form (anonymous or signed, CSRF on, rate-limited per
address) that shows the receipt code once on a no-store page, the follow-up by code (the reply, never the
internal note; a wrong code refused with one stable code), and the regulators' list, detail, triage and
evidence, each within jurisdiction."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from archive.models import Blob, JournalEntry
from monitoring.models import Alert
from supervision.models import TipOff
from supervision.services import department_create, member_add
from supervision.services import tipoffs as svc
from supervision.services.tipoffs import tipoff_lookup, tipoff_submit, tipoff_triage
from tests.factories import BidderUserFactory, LotFactory, MarketEntityFactory, TenderFactory, UserFactory
from trading.models import Role, Tender, TenderState
from trading.signals import tender_published

pytestmark = pytest.mark.django_db
CODE_RE = re.compile(r"\b[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}\b")
NEW = "/supervision/tipoffs/new"
FOLLOW = "/supervision/tipoffs/follow"


@pytest.fixture(autouse=True)
def _limits(settings):
    """Generous limits unless a test sets its own (the counters are cleared between tests)."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "tipoff": "50/3600", "tipoff_follow": "50/600"}


@pytest.fixture
def world(clock):
    admin = UserFactory(role=Role.ADMIN)
    dept = department_create(
        actor=admin, name="南宁市住房和城乡建设局", kind="industry", region_code="450100"
    )
    other = department_create(
        actor=admin, name="柳州市住房和城乡建设局", kind="industry", region_code="450200"
    )
    regulator = UserFactory(role=Role.REGULATOR, first_name="监管", last_name="王")
    outsider = UserFactory(role=Role.REGULATOR)
    member_add(actor=admin, department=dept, user=regulator)
    member_add(actor=admin, department=other, user=outsider)

    def published(**fields) -> Tender:
        tender = TenderFactory(state=TenderState.PUBLISHED, published_at=clock(), **fields)
        tender_published.send(sender=Tender, tender=tender, actor=admin)
        return tender

    tender = published()
    lot = LotFactory(tender=tender, number=1)
    return {
        "admin": admin,
        "regulator": regulator,
        "outsider": outsider,
        "tender": tender,
        "lot": lot,
        "elsewhere": published(region_code="450200"),
        "a": MarketEntityFactory(name="广西甲建设有限公司"),
        "b": MarketEntityFactory(name="广西乙建设有限公司"),
        "bidder": BidderUserFactory(),
        "centre": UserFactory(role=Role.CENTRE),
    }


def client_for(user=None, **kwargs) -> Client:
    client = Client(raise_request_exception=False, **kwargs)
    if user is not None:
        client.force_login(user)
    return client


def page_code(response) -> str:
    found = re.search(r'<code class="error-code">([^<]+)</code>', response.content.decode())
    return found.group(1) if found else ""


def report(world, **changes) -> dict:
    data = {
        "tender": world["tender"].code,
        "entities": f"{world['a'].name}\n{world['b'].uscc}",
        "text": "两家公司的投标文件由同一人编制，报价呈规律性差异。",
        "contact": "13800001111",
    }
    data.update(changes)
    return data


def evidence(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def written() -> tuple[int, int, int]:
    return TipOff.objects.count(), Blob.objects.count(), JournalEntry.objects.count()


# --- the public form ------------------------------------------------------------------------------------


def test_anonymous_report_shows_its_code_once_on_a_no_store_page_with_csrf_on(world):
    browser = client_for(enforce_csrf_checks=True)
    form = browser.get(NEW)
    assert form.status_code == 200 and "no-store" in form["Cache-Control"]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.content.decode()).group(1)
    # without the token the report is refused and nothing is written
    before = written()
    assert browser.post(NEW, report(world)).status_code == 403
    assert written() == before

    response = browser.post(
        NEW,
        {
            **report(world),
            "csrfmiddlewaretoken": token,
            "evidence": [evidence("照片.jpg", b"\xff\xd8\xff photo"), evidence("录音.m4a", b"audio bytes")],
        },
    )

    body = response.content.decode()
    assert response.status_code == 200 and 'id="receipt-code"' in body
    assert "no-store" in response["Cache-Control"]
    codes = CODE_RE.findall(body)
    assert len(codes) == 1  # shown once, and only here
    tip = TipOff.objects.get()
    assert tipoff_lookup(codes[0]) == tip
    assert tip.reporter is None and tip.contact == ""  # anonymous: no contact kept
    assert set(tip.entities.values_list("pk", flat=True)) == {world["a"].pk, world["b"].pk}
    assert tip.tender == world["tender"] and tip.evidence.count() == 2
    plain = codes[0].replace("-", "")
    assert plain not in str(TipOff.objects.filter(pk=tip.pk).values().get())
    assert not any(plain in str(e.payload) for e in JournalEntry.objects.all())
    assert plain not in response.get("Location", "") and "code" not in response.request["PATH_INFO"]


def test_a_signed_in_reporter_is_kept_unless_reporting_anonymously(world):
    bidder = world["bidder"]
    client = client_for(bidder)
    assert 'id="id-anonymous"' in client.get(NEW).content.decode()
    assert client.post(NEW, report(world)).status_code == 200
    named = TipOff.objects.get()
    assert named.reporter == bidder and named.contact == "13800001111"
    assert client.post(NEW, report(world, anonymous="1")).status_code == 200
    anonymous = TipOff.objects.exclude(pk=named.pk).get()
    assert anonymous.reporter is None and anonymous.contact == ""


def test_the_tender_code_can_be_prefilled_and_a_report_may_name_nothing(world):
    page = client_for().get(NEW, {"tender": world["tender"].code}).content.decode()
    assert f'value="{world["tender"].code}"' in page
    response = client_for().post(NEW, {"text": "评标专家收受好处费。"})
    assert response.status_code == 200
    tip = TipOff.objects.get()
    assert tip.tender is None and not tip.entities.exists()


@pytest.mark.parametrize(
    "changes, code, field_text",
    [
        ({"tender": "E4501000000000000000000000000999"}, "tender_not_found", 'id="err-tender"'),
        ({"entities": "广西甲建设有限公司\n不存在的公司"}, "entity_not_found", "不存在的公司"),
        ({"text": "   "}, "text_invalid", 'id="err-text"'),
        ({"contact": "x" * 201}, "contact_invalid", 'id="err-contact"'),
    ],
)
def test_bad_input_is_refused_with_its_code_keeps_the_text_and_writes_nothing(
    world, changes, code, field_text
):
    before = written()
    response = client_for().post(NEW, report(world, **changes))
    body = response.content.decode()
    assert (response.status_code, page_code(response)) == (400, code)
    assert field_text in body and not CODE_RE.search(body)
    assert written() == before


def test_every_field_problem_is_shown_at_once(world):
    response = client_for().post(NEW, report(world, tender="NOPE", entities="查无此公司"))
    body = response.content.decode()
    assert page_code(response) == "tender_not_found"
    assert 'id="err-tender"' in body and 'id="err-entities"' in body and "查无此公司" in body
    assert not TipOff.objects.exists()


def test_an_entity_name_shared_by_two_entities_asks_for_the_credit_code(world):
    MarketEntityFactory(name=world["a"].name)
    response = client_for().post(NEW, report(world, entities=world["a"].name))
    assert (response.status_code, page_code(response)) == (400, "entity_ambiguous")
    assert client_for().post(NEW, report(world, entities=world["a"].uscc)).status_code == 200


def test_too_many_or_too_large_evidence_files_are_refused_before_reading(world, monkeypatch):
    before = written()
    files = [evidence(f"{i}.jpg", f"photo {i}".encode()) for i in range(svc.EVIDENCE_MAX_FILES + 1)]
    response = client_for().post(NEW, {**report(world), "evidence": files})
    assert (response.status_code, page_code(response)) == (400, "evidence_too_large")
    monkeypatch.setattr(svc, "EVIDENCE_MAX_BYTES", 8)
    response = client_for().post(NEW, {**report(world), "evidence": [evidence("big.jpg", b"x" * 9)]})
    assert (response.status_code, page_code(response)) == (400, "evidence_too_large")
    assert written() == before
    response = client_for().post(NEW, {**report(world), "evidence": [evidence("ok.jpg", b"x" * 8)]})
    assert response.status_code == 200 and TipOff.objects.get().evidence.get().size == 8


def test_anonymous_reports_are_rate_limited_per_address(world, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "tipoff": "2/3600"}
    client = client_for()
    assert [client.post(NEW, report(world)).status_code for _ in range(2)] == [200, 200]
    refused = client.post(NEW, report(world))
    assert (refused.status_code, page_code(refused)) == (429, "rate_limited")
    assert TipOff.objects.count() == 2
    # another address is counted apart
    assert client_for().post(NEW, report(world), REMOTE_ADDR="10.9.9.9").status_code == 200


# --- the follow-up by code ------------------------------------------------------------------------------


def test_follow_up_by_code_shows_the_reply_and_never_the_internal_note(world):
    tip, code = tipoff_submit(text="线索", tender_id=world["tender"].pk, anonymous=True)
    tipoff_triage(
        actor=world["regulator"],
        tip=tip,
        action="investigate",
        note="内部：调取上传IP记录",
        reply="已受理，正在调查",
    )
    assert client_for().get(FOLLOW).status_code == 200
    response = client_for().post(FOLLOW, {"code": code.lower()})
    body = response.content.decode()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert 'id="tipoff-status" data-status="investigating"' in body
    assert "已受理，正在调查" in body
    assert "调取上传IP记录" not in body and world["regulator"].last_name not in body
    assert code not in body  # not echoed back either


def test_a_wrong_code_is_refused_with_one_stable_code(world):
    tip, code = tipoff_submit(text="线索", tender_id=world["tender"].pk)
    tipoff_triage(actor=world["regulator"], tip=tip, action="dismiss", reply="查无实据")
    near = code[:-1] + ("A" if code[-1] != "A" else "B")
    for wrong in (near, "", "not a code at all", "x" * 500):
        response = client_for().post(FOLLOW, {"code": wrong})
        body = response.content.decode()
        assert (response.status_code, page_code(response)) == (404, "tipoff_not_found")
        assert "查无实据" not in body and 'id="tipoff-status"' not in body


def test_follow_ups_are_rate_limited_even_with_the_right_code(world, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "tipoff_follow": "3/600"}
    _tip, code = tipoff_submit(text="线索")
    client = client_for()
    assert [client.post(FOLLOW, {"code": "WRONG"}).status_code for _ in range(3)] == [404, 404, 404]
    refused = client.post(FOLLOW, {"code": code})
    assert (refused.status_code, page_code(refused)) == (429, "rate_limited")
    assert 'id="tipoff-status"' not in refused.content.decode()


# --- the regulators' pages ------------------------------------------------------------------------------


def listed(user) -> set[int]:
    body = client_for(user).get(reverse("supervision:tipoff_list")).content.decode()
    return {int(pk) for pk in re.findall(r'data-tipoff="(\d+)"', body)}


def test_each_regulator_lists_its_tenders_tipoffs_and_those_naming_no_tender(world):
    mine, _ = tipoff_submit(text="本局项目", tender_id=world["tender"].pk)
    theirs, _ = tipoff_submit(text="柳州项目", tender_id=world["elsewhere"].pk)
    loose, _ = tipoff_submit(text="未指明项目")
    assert listed(world["regulator"]) == {mine.pk, loose.pk}
    assert listed(world["outsider"]) == {theirs.pk, loose.pk}
    assert listed(world["admin"]) == {mine.pk, theirs.pk, loose.pk}


def test_the_regulator_pages_are_refused_to_other_roles(world):
    tip, _ = tipoff_submit(text="线索", tender_id=world["tender"].pk, evidence=[("a", b"evidence")])
    pages = [
        reverse("supervision:tipoff_list"),
        reverse("supervision:tipoff_detail", args=[tip.pk]),
        reverse("supervision:tipoff_evidence", args=[tip.pk, 1]),
    ]
    for address in pages:
        anonymous = client_for().get(address)
        assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
        for user in (world["bidder"], world["centre"]):
            response = client_for(user).get(address)
            assert (response.status_code, page_code(response)) == (403, "role_forbidden"), address


def test_a_regulator_outside_the_jurisdiction_is_refused_and_writes_nothing(world):
    tip, _ = tipoff_submit(text="线索", tender_id=world["tender"].pk, evidence=[("a", b"evidence")])
    outsider = client_for(world["outsider"])
    for address in (
        reverse("supervision:tipoff_detail", args=[tip.pk]),
        reverse("supervision:tipoff_evidence", args=[tip.pk, 1]),
    ):
        response = outsider.get(address)
        assert (response.status_code, page_code(response)) == (403, "outside_jurisdiction")
    journal = JournalEntry.objects.count()
    response = outsider.post(reverse("supervision:tipoff_triage", args=[tip.pk]), {"action": "dismiss"})
    assert (response.status_code, page_code(response)) == (403, "outside_jurisdiction")
    tip.refresh_from_db()
    assert tip.status == TipOff.Status.RECEIVED and JournalEntry.objects.count() == journal


def test_regulator_triages_then_passes_to_monitoring_with_a_link_to_the_alert(world):
    tip, code = tipoff_submit(text="同一人编制", tender_id=world["tender"].pk, entity_ids=[world["a"].pk])
    client = client_for(world["regulator"])
    detail = reverse("supervision:tipoff_detail", args=[tip.pk])
    page = client.get(detail).content.decode()
    assert (
        'id="triage-form"' in page
        and 'data-action="investigate"' in page
        and 'data-action="close"' not in page
    )
    triage = reverse("supervision:tipoff_triage", args=[tip.pk])
    response = client.post(triage, {"action": "investigate", "note": "调取记录", "reply": "已受理"})
    assert response.status_code == 302 and response["Location"] == detail
    tip.refresh_from_db()
    assert (tip.status, tip.note, tip.reply, tip.triaged_by) == (
        "investigating",
        "调取记录",
        "已受理",
        world["regulator"],
    )
    response = client.post(triage, {"action": "alert", "lot": str(world["lot"].pk), "reply": "已转入预警"})
    assert response.status_code == 302
    tip.refresh_from_db()
    alert = Alert.objects.get(pk=tip.alert_id)
    assert alert.lot == world["lot"]
    page = client.get(detail).content.decode()
    assert f'href="{reverse("monitoring:alert", args=[alert.pk])}"' in page
    assert 'id="triage-form"' not in page  # nothing more to decide
    assert "已转入预警" in client_for().post(FOLLOW, {"code": code}).content.decode()


def test_a_triage_out_of_step_or_unknown_is_refused_with_its_code_and_writes_nothing(world):
    tip, _ = tipoff_submit(text="线索", tender_id=world["tender"].pk)
    journal = JournalEntry.objects.count()
    client = client_for(world["regulator"])
    triage = reverse("supervision:tipoff_triage", args=[tip.pk])
    response = client.post(triage, {"action": "alert", "lot": "999999", "note": "再看看"})
    assert (response.status_code, page_code(response)) == (400, "lot_not_found")
    assert "再看看</textarea>" in response.content.decode()  # the note is kept in the form
    response = client.post(triage, {"action": "delete"})
    assert (response.status_code, page_code(response)) == (400, "triage_action_invalid")
    response = client.post(triage, {"action": "close"})
    assert (response.status_code, page_code(response)) == (409, "tipoff_state")
    tip.refresh_from_db()
    assert tip.status == TipOff.Status.RECEIVED and tip.alert_id is None and not Alert.objects.exists()
    assert JournalEntry.objects.count() == journal


def test_a_tipoff_naming_no_tender_is_triaged_by_any_regulator_but_not_into_an_alert(world):
    tip, _ = tipoff_submit(text="未指明项目")
    page = (
        client_for(world["outsider"])
        .get(reverse("supervision:tipoff_detail", args=[tip.pk]))
        .content.decode()
    )
    assert 'data-action="investigate"' in page and 'data-action="alert"' not in page
    response = client_for(world["outsider"]).post(
        reverse("supervision:tipoff_triage", args=[tip.pk]), {"action": "alert"}
    )
    assert (response.status_code, page_code(response)) == (400, "tipoff_no_tender")
    response = client_for(world["outsider"]).post(
        reverse("supervision:tipoff_triage", args=[tip.pk]), {"action": "investigate"}
    )
    assert response.status_code == 302


def test_evidence_is_downloaded_by_its_number_not_cached_and_not_sniffed(world):
    tip, _ = tipoff_submit(
        text="线索",
        tender_id=world["tender"].pk,
        evidence=[("a.jpg", b"first file"), ("b.jpg", b"second file")],
    )
    client = client_for(world["regulator"])
    page = client.get(reverse("supervision:tipoff_detail", args=[tip.pk])).content.decode()
    assert page.count("data-evidence=") == 2
    got = set()
    for n in (1, 2):
        response = client.get(reverse("supervision:tipoff_evidence", args=[tip.pk, n]))
        assert response.status_code == 200 and "no-store" in response["Cache-Control"]
        assert response["X-Content-Type-Options"] == "nosniff"
        got.add(b"".join(response.streaming_content))
    assert got == {b"first file", b"second file"}
    missing = client.get(reverse("supervision:tipoff_evidence", args=[tip.pk, 3]))
    assert (missing.status_code, page_code(missing)) == (404, "evidence_not_found")


def test_the_detail_shows_the_reporter_and_contact_to_the_regulator(world):
    tip, _ = tipoff_submit(
        actor=world["bidder"], text="线索", tender_id=world["tender"].pk, contact="13800001111"
    )
    page = (
        client_for(world["regulator"])
        .get(reverse("supervision:tipoff_detail", args=[tip.pk]))
        .content.decode()
    )
    assert 'id="tipoff-contact">13800001111<' in page
    assert f'href="{reverse("supervision:sanction_new")}?tipoff={tip.pk}"' in page


def test_a_list_filter_outside_its_choices_is_refused(world):
    response = client_for(world["regulator"]).get(reverse("supervision:tipoff_list"), {"status": "bogus"})
    assert (response.status_code, page_code(response)) == (400, "invalid_filter")
