"""The complaint and challenge pages through the client: filing with the rule shown first and hashed
evidence, the clocks every party sees, the department's accept / suspend / decide, who may see what (every
role, jurisdiction), bad input refused with a stable code and nothing written, overdue clocks flagged,
challenges answered and then complained of."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import StopUpload
from django.test import Client
from django.urls import URLPattern, reverse

from archive.blobs import blob_put
from archive.models import JournalEntry
from supervision.models import Challenge, Complaint, ComplaintEvidence, TenderSupervision
from supervision.services import complaints as svc
from supervision.services import department_create, member_add
from supervision.views.complaints import EvidenceLimit, urlpatterns
from tests.factories import AgencyUserFactory, BidderUserFactory, LotFactory, TenderFactory, UserFactory
from trading.models import Role, Tender, TenderState
from trading.signals import tender_published

pytestmark = pytest.mark.django_db
MINUTE = dt.timedelta(minutes=1)


# --- the world ------------------------------------------------------------------------------------------


@pytest.fixture
def world(clock):
    """Two departments (Nanning, Liuzhou) with one regulator each; a Nanning tender published after them
    (so Nanning supervises it); its agency; the complaining bidder and another bidder."""
    admin = UserFactory(role=Role.ADMIN)
    nanning = department_create(
        actor=admin, name="南宁市住房和城乡建设局", kind="industry", region_code="450100"
    )
    liuzhou = department_create(
        actor=admin, name="柳州市住房和城乡建设局", kind="industry", region_code="450200"
    )
    regulator, outsider = UserFactory(role=Role.REGULATOR), UserFactory(role=Role.REGULATOR)
    member_add(actor=admin, department=nanning, user=regulator)
    member_add(actor=admin, department=liuzhou, user=outsider)

    def tender(regime="TB") -> Tender:
        t = TenderFactory(state=TenderState.PUBLISHED, published_at=clock(), regime=regime)
        tender_published.send(sender=Tender, tender=t, actor=admin)
        return t

    t = tender()
    return {
        "tender": t,
        "make_tender": tender,
        "lot": LotFactory(tender=t),
        "users": {
            "bidder": BidderUserFactory(),
            "other_bidder": BidderUserFactory(),
            "agency": AgencyUserFactory(entity=t.agency),
            "other_agency": AgencyUserFactory(),
            "regulator": regulator,
            "outsider": outsider,
            "centre": UserFactory(role=Role.CENTRE),
            "admin": admin,
            "expert": UserFactory(role=Role.EXPERT),
        },
    }


def client_for(user) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def page_code(response) -> str:
    """The stable code of a refused request, from the error page or the re-rendered form."""
    found = re.search(r'<code class="error-code">([^<]+)</code>', response.content.decode())
    return found.group(1) if found else ""


def evidence_file(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def complaint_form(clock, **changes) -> dict:
    data = {
        "matter": "process",
        "text": "代理机构在开标前泄露了投标人名单。",
        "request": "责令改正，重新组织招标。",
        "known_at": clock().date().isoformat(),
        "lot": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def file_complaint(world, clock, **changes) -> Complaint:
    """A complaint filed through the page by the world's bidder; returns it."""
    response = client_for(world["users"]["bidder"]).post(
        reverse("supervision:complaint_new", args=[world["tender"].pk]), complaint_form(clock, **changes)
    )
    assert response.status_code == 302, page_code(response)
    return Complaint.objects.order_by("-pk").first()


def detail(user, complaint: Complaint):
    return client_for(user).get(reverse("supervision:complaint_detail", args=[complaint.pk]))


def clock_attrs(body: str, name: str) -> tuple[str, str]:
    """(state, overdue) of the clock row `name` on a page."""
    found = re.search(rf'<tr data-clock="{name}" data-state="(\w+)" data-overdue="(\d)"', body)
    assert found, name
    return found.group(1), found.group(2)


# --- the whole flow --------------------------------------------------------------------------------------------


def test_file_with_evidence_then_accept_suspend_decide_and_every_party_sees_it(world, clock):
    users, tender = world["users"], world["tender"]
    bidder, regulator = users["bidder"], users["regulator"]
    files = [evidence_file("名单截图.pdf", b"%PDF-1.4 screenshot"), evidence_file("录音.txt", b"recording")]
    new = reverse("supervision:complaint_new", args=[tender.pk])

    # Given the form, which states the rule first
    form = client_for(bidder).get(new).content.decode()
    assert 'id="filing-rules"' in form and 'data-source="招标投标法实施条例第六十条"' in form

    # When the bidder files with two evidence files
    response = client_for(bidder).post(new, {**complaint_form(clock), "evidence": files})
    complaint = Complaint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("supervision:complaint_detail", args=[complaint.pk])

    # Then the page shows each file's SHA-256 and the three clocks, the acceptance one running
    body = detail(bidder, complaint).content.decode()
    assert f'data-complaint="{complaint.pk}" data-status="filed"' in body
    for content in (b"%PDF-1.4 screenshot", b"recording"):
        assert hashlib.sha256(content).hexdigest() in body
    assert clock_attrs(body, "filing") == ("met", "0")
    assert clock_attrs(body, "accept") == ("running", "0")
    assert clock_attrs(body, "decision") == ("pending", "0")  # TB: runs from the acceptance
    assert 'id="accept-form"' not in body  # the complainant does not handle it

    # and the evidence downloads for a party
    item = complaint.evidence.order_by("pk").first()
    download = client_for(users["agency"]).get(
        reverse("supervision:complaint_evidence", args=[complaint.pk, item.pk])
    )
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 screenshot"
    assert download["Content-Disposition"].startswith("attachment")

    # When the supervising regulator accepts
    page = detail(regulator, complaint).content.decode()
    assert 'id="accept-form"' in page and 'id="refuse-form"' in page and 'id="suspend-form"' not in page
    clock.advance(hours=2)
    client_for(regulator).post(reverse("supervision:complaint_accept", args=[complaint.pk]))
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.ACCEPTED
    page = detail(regulator, complaint).content.decode()
    assert clock_attrs(page, "accept") == ("met", "0") and clock_attrs(page, "decision") == ("running", "0")
    assert 'id="suspend-form"' in page and 'id="decide-form"' in page

    # and suspends the tender
    client_for(regulator).post(
        reverse("supervision:complaint_suspend", args=[complaint.pk]), {"reason": "投诉调查期间暂停"}
    )
    tender.refresh_from_db()
    assert tender.state == TenderState.SUSPENDED
    for role in ("bidder", "agency", "regulator"):
        assert 'data-suspended="1"' in detail(users[role], complaint).content.decode(), role
    assert 'id="suspend-form"' not in detail(regulator, complaint).content.decode()

    # and decides, resuming the tender (the box is ticked by default)
    assert re.search(
        r'name="resume" value="1" id="id-resume" checked', detail(regulator, complaint).content.decode()
    )
    clock.advance(days=3)
    client_for(regulator).post(
        reverse("supervision:complaint_decide", args=[complaint.pk]),
        {
            "outcome": "upheld",
            "legal_basis": "招标投标法实施条例第六十一条",
            "decision": "责令重新组织开标",
            "resume": "1",
        },
    )
    tender.refresh_from_db()
    assert tender.state == TenderState.PUBLISHED

    # Then every party sees the decision with its legal basis, and the tender no longer suspended
    for role in ("bidder", "agency", "regulator", "centre"):
        body = detail(users[role], complaint).content.decode()
        assert 'data-status="decided"' in body and 'data-outcome="upheld"' in body, role
        assert "招标投标法实施条例第六十一条" in body and "责令重新组织开标" in body, role
        assert 'data-suspended="0"' in body, role
        assert clock_attrs(body, "decision") == ("met", "0"), role
    assert 'id="decide-form"' not in detail(regulator, complaint).content.decode()


def test_refusal_is_recorded_with_its_reason_and_closes_the_decision_clock(world, clock):
    complaint = file_complaint(world, clock)
    regulator = world["users"]["regulator"]
    response = client_for(regulator).post(
        reverse("supervision:complaint_refuse", args=[complaint.pk]), {"reason": "不属于本部门受理范围"}
    )
    assert response.status_code == 302
    body = detail(world["users"]["bidder"], complaint).content.decode()
    assert 'data-status="refused"' in body and "不属于本部门受理范围" in body
    assert clock_attrs(body, "accept") == ("met", "0") and clock_attrs(body, "decision") == ("closed", "0")


# --- who may see and act -------------------------------------------------------------------------------


def test_complaint_access_matrix(world, clock):
    complaint = file_complaint(world, clock)
    item = ComplaintEvidence.objects.create(
        complaint=complaint, blob=blob_put(data=b"x"), name="x.bin", added_at=clock()
    )
    users = world["users"]
    expected = {
        "bidder": (200, ""),
        "agency": (200, ""),
        "regulator": (200, ""),
        "centre": (200, ""),
        "admin": (200, ""),
        "other_bidder": (403, "forbidden"),
        "other_agency": (403, "forbidden"),
        "outsider": (403, "outside_jurisdiction"),
        "expert": (403, "forbidden"),
    }
    addresses = [
        reverse("supervision:complaint_detail", args=[complaint.pk]),
        reverse("supervision:complaint_evidence", args=[complaint.pk, item.pk]),
    ]
    for address in addresses:
        for role, (status, code) in expected.items():
            response = client_for(users[role]).get(address)
            assert (response.status_code, page_code(response) if status != 200 else "") == (status, code), (
                role,
                address,
            )
        anonymous = client_for(None).get(address)
        assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


def test_the_list_shows_each_role_its_own_complaints(world, clock):
    mine = file_complaint(world, clock)
    elsewhere_tender = world["make_tender"]()
    elsewhere_tender.region_code = "450200"  # not Nanning's: assigned to Liuzhou on publication below
    elsewhere_tender.save(update_fields=["region_code"])
    TenderSupervision.objects.filter(tender=elsewhere_tender).delete()
    tender_published.send(sender=Tender, tender=elsewhere_tender, actor=world["users"]["admin"])
    other = svc.complaint_file(
        actor=world["users"]["other_bidder"],
        tender=elsewhere_tender,
        matter="process",
        text="另一项目的投诉",
        known_at=clock(),
    )
    users = world["users"]

    def listed(role) -> set[int]:
        body = client_for(users[role]).get(reverse("supervision:complaint_list")).content.decode()
        return {int(x) for x in re.findall(r'<tr data-complaint="(\d+)"', body)}

    assert listed("bidder") == {mine.pk}
    assert listed("other_bidder") == {other.pk}
    assert listed("agency") == {mine.pk}
    assert listed("other_agency") == set()
    assert listed("regulator") == {mine.pk}
    assert listed("outsider") == {other.pk}
    assert listed("centre") == {mine.pk, other.pk}
    assert listed("admin") == {mine.pk, other.pk}
    response = client_for(users["expert"]).get(reverse("supervision:complaint_list"))
    assert (response.status_code, page_code(response)) == (403, "role_forbidden")
    anonymous = client_for(None).get(reverse("supervision:complaint_list"))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("action", ["accept", "refuse", "suspend", "decide"])
def test_only_a_supervising_department_handles_and_a_refusal_writes_nothing(world, clock, action):
    complaint = file_complaint(world, clock)
    journal = JournalEntry.objects.count()
    data = {"reason": "x", "outcome": "upheld", "legal_basis": "条例", "decision": "x", "resume": "1"}
    address = reverse(f"supervision:complaint_{action}", args=[complaint.pk])
    refusals = {
        "bidder": "forbidden",
        "agency": "forbidden",
        "centre": "forbidden",
        "other_bidder": "forbidden",
        "outsider": "outside_jurisdiction",
    }
    for role, code in refusals.items():
        response = client_for(world["users"][role]).post(address, data)
        assert (response.status_code, page_code(response)) == (403, code), role
    assert client_for(None).post(address, data).status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.FILED and complaint.handled_by_id is None
    assert JournalEntry.objects.count() == journal


def test_only_bidders_file(world, clock):
    new = reverse("supervision:complaint_new", args=[world["tender"].pk])
    for role in ("agency", "regulator", "centre"):
        response = client_for(world["users"][role]).post(new, complaint_form(clock))
        assert (response.status_code, page_code(response)) == (403, "role_forbidden"), role
    assert client_for(None).get(new).status_code == 302
    assert not Complaint.objects.exists()


# --- bad input ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"text": "   "}, 400, "text_invalid"),
        ({"text": None}, 400, "text_invalid"),
        ({"matter": "weather"}, 400, "matter_invalid"),
        ({"known_at": "2026-03-03"}, 400, "known_at_invalid"),  # tomorrow
        ({"known_at": "yesterday"}, 400, "known_at_invalid"),
        ({"lot": "abc"}, 400, "lot_not_found"),
        ({"lot": "999999"}, 400, "lot_not_found"),
        ({"matter": "documents"}, 422, "objection_required"),
    ],
)
def test_bad_input_gets_its_code_keeps_the_text_and_writes_nothing(world, clock, changes, status, code):
    journal = JournalEntry.objects.count()
    data = complaint_form(clock, **changes)
    response = client_for(world["users"]["bidder"]).post(
        reverse("supervision:complaint_new", args=[world["tender"].pk]), data
    )
    assert (response.status_code, page_code(response)) == (status, code)
    body = response.content.decode()
    if data.get("text", "").strip():
        assert f">{data['text']}</textarea>" in body  # what was typed is kept
    assert 'id="complaint-form"' in body
    assert not Complaint.objects.exists() and not ComplaintEvidence.objects.exists()
    assert JournalEntry.objects.count() == journal


def test_a_rule_refusal_names_its_legal_source(world, clock):
    response = client_for(world["users"]["bidder"]).post(
        reverse("supervision:complaint_new", args=[world["tender"].pk]),
        complaint_form(clock, matter="documents"),
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert '<span class="legal-source">招标投标法实施条例第六十条</span>' in body


def test_too_many_evidence_files_are_refused_while_uploading(world, clock, monkeypatch):
    journal = JournalEntry.objects.count()
    seen = []
    new_file = EvidenceLimit.new_file

    def spy(self, field_name, *args, **kwargs):
        seen.append(field_name)
        return new_file(self, field_name, *args, **kwargs)

    monkeypatch.setattr(EvidenceLimit, "new_file", spy)
    files = [evidence_file(f"{i}.pdf", f"file {i}".encode()) for i in range(svc.EVIDENCE_MAX_FILES + 5)]
    response = client_for(world["users"]["bidder"]).post(
        reverse("supervision:complaint_new", args=[world["tender"].pk]),
        {**complaint_form(clock), "evidence": files},
    )
    assert (response.status_code, page_code(response)) == (400, "evidence_too_large")
    assert "代理机构在开标前泄露了投标人名单。</textarea>" in response.content.decode()
    assert not Complaint.objects.exists() and JournalEntry.objects.count() == journal
    # the parser stopped at the first file too many: the rest of the body was not parsed into files
    assert seen.count("evidence") == svc.EVIDENCE_MAX_FILES + 1


def test_an_oversized_evidence_file_is_refused(world, clock, monkeypatch):
    monkeypatch.setattr(svc, "EVIDENCE_MAX_BYTES", 16)
    response = client_for(world["users"]["bidder"]).post(
        reverse("supervision:complaint_new", args=[world["tender"].pk]),
        {**complaint_form(clock), "evidence": [evidence_file("big.pdf", b"x" * 17)]},
    )
    assert (response.status_code, page_code(response)) == (400, "evidence_too_large")
    assert not Complaint.objects.exists()
    # exactly at the limit is accepted
    response = client_for(world["users"]["bidder"]).post(
        reverse("supervision:complaint_new", args=[world["tender"].pk]),
        {**complaint_form(clock), "evidence": [evidence_file("ok.pdf", b"x" * 16)]},
    )
    assert response.status_code == 302 and Complaint.objects.get().evidence.get().blob.size == 16


def test_a_decision_without_legal_basis_is_refused_and_keeps_the_text(world, clock):
    complaint = file_complaint(world, clock)
    regulator = world["users"]["regulator"]
    client_for(regulator).post(reverse("supervision:complaint_accept", args=[complaint.pk]))
    journal = JournalEntry.objects.count()
    response = client_for(regulator).post(
        reverse("supervision:complaint_decide", args=[complaint.pk]),
        {"outcome": "upheld", "legal_basis": "", "decision": "查实"},
    )
    assert (response.status_code, page_code(response)) == (400, "legal_basis_required")
    assert ">查实</textarea>" in response.content.decode()
    assert 'id="id-resume">' in response.content.decode()  # unticked as posted
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.ACCEPTED and JournalEntry.objects.count() == journal


@pytest.mark.parametrize("params", [{"status": "sideways"}, {"overdue": "yes"}])
def test_a_list_filter_outside_its_choices_is_refused(world, params):
    response = client_for(world["users"]["regulator"]).get(reverse("supervision:complaint_list"), params)
    assert (response.status_code, page_code(response)) == (400, "invalid_filter")


def test_no_endpoint_answers_garbage_with_a_server_error_or_a_write(world, clock):
    complaint = file_complaint(world, clock)
    journal = JournalEntry.objects.count()
    garbage = {
        "matter": "\x00",
        "text": "",
        "known_at": "9999-99-99",
        "lot": "-1",
        "outcome": "death",
        "legal_basis": "",
        "reply": "",
        "reason": "",
        "status": "x",
        "overdue": "2",
        "state": "y",
        "page": "-3",
    }
    failures = []
    for role, user in {**world["users"], "anonymous": None}.items():
        client = client_for(user)
        for p in urlpatterns:
            assert isinstance(p, URLPattern)
            for pk in (complaint.pk, 999_999):
                kwargs = dict.fromkeys(p.pattern.converters, pk)
                if "tender_id" in kwargs:
                    kwargs["tender_id"] = world["tender"].pk if pk != 999_999 else pk
                address = reverse(f"supervision:{p.name}", kwargs=kwargs)
                for method in ("get", "post"):
                    response = getattr(client, method)(address, garbage)
                    if response.status_code >= 500:
                        failures.append((role, method, address, response.status_code))
    assert failures == []
    # acceptance takes no input, so the first handler's POST is a real one; nothing else was written
    written = JournalEntry.objects.order_by("pk")[journal:]
    assert [e.action for e in written] == ["supervision.complaint_accepted"]
    assert Complaint.objects.count() == 1 and not Challenge.objects.exists()


# --- clocks -------------------------------------------------------------------------------------------------


def test_an_overdue_acceptance_clock_is_flagged_and_sorted_first(world, clock):
    late = file_complaint(world, clock)
    clock.advance(days=1)
    fresh = file_complaint(world, clock, text="第二件投诉")
    decided_elsewhere = file_complaint(world, clock, text="第三件投诉")
    regulator = world["users"]["regulator"]
    client_for(regulator).post(
        reverse("supervision:complaint_refuse", args=[decided_elsewhere.pk]), {"reason": "重复投诉"}
    )
    clock.set(late.accept_due_at + MINUTE)
    assert clock() < fresh.accept_due_at

    listing = client_for(regulator).get(reverse("supervision:complaint_list")).content.decode()
    rows = re.findall(r'<tr data-complaint="(\d+)" data-status="(\w+)" data-overdue="(\d)"', listing)
    assert rows == [
        (str(late.pk), "filed", "1"),  # the nearest clock first
        (str(fresh.pk), "filed", "0"),
        (str(decided_elsewhere.pk), "refused", "0"),  # no running clock: last
    ]
    assert listing.count("overdue-badge") == 1
    overdue = (
        client_for(regulator).get(reverse("supervision:complaint_list"), {"overdue": "1"}).content.decode()
    )
    assert re.findall(r'<tr data-complaint="(\d+)"', overdue) == [str(late.pk)]
    refused = client_for(regulator).get(reverse("supervision:complaint_list"), {"status": "refused"})
    assert re.findall(r'<tr data-complaint="(\d+)"', refused.content.decode()) == [str(decided_elsewhere.pk)]

    # every party sees the flag on the complaint's page
    for role in ("bidder", "agency", "regulator"):
        body = detail(world["users"][role], late).content.decode()
        assert clock_attrs(body, "accept") == ("overdue", "1"), role
    # accepting late is still possible, and the clock then shows it was met late
    client_for(regulator).post(reverse("supervision:complaint_accept", args=[late.pk]))
    assert clock_attrs(detail(regulator, late).content.decode(), "accept") == ("late", "0")


def test_a_gp_complaint_shows_its_decision_clock_from_receipt(world, clock):
    tender = world["make_tender"]("GP")
    bidder = world["users"]["bidder"]
    challenge = svc.challenge_file(actor=bidder, tender=tender, text="评分不公", known_at=clock())
    svc.challenge_reply(actor=AgencyUserFactory(entity=tender.agency), challenge=challenge, reply="维持")
    complaint = svc.complaint_file(
        actor=bidder, tender=tender, matter="process", text="评分不公", known_at=clock()
    )
    body = detail(bidder, complaint).content.decode()
    assert clock_attrs(body, "decision") == ("running", "0")
    assert f'data-prior-kind="gp_challenge" data-prior-id="{challenge.pk}"' in body


# --- challenges ---------------------------------------------------------------------------------------------


def test_objection_answered_then_complaint_from_its_page(world, clock):
    users, tender = world["users"], world["tender"]
    bidder, agency = users["bidder"], users["agency"]
    new = reverse("supervision:challenge_new", args=[tender.pk])
    form = client_for(bidder).get(new).content.decode()
    assert 'id="challenge-rules"' in form and "招标投标法实施条例第二十二条" in form

    response = client_for(bidder).post(
        new,
        {
            "text": "资格条件排斥潜在投标人",
            "known_at": clock().date().isoformat(),
            "lot": str(world["lot"].pk),
        },
    )
    challenge = Challenge.objects.get()
    assert response["Location"] == reverse("supervision:challenge_detail", args=[challenge.pk])
    page = reverse("supervision:challenge_detail", args=[challenge.pk])

    body = client_for(bidder).get(page).content.decode()
    assert clock_attrs(body, "reply") == ("running", "0")
    assert 'id="complain-link"' not in body and 'id="reply-form"' not in body
    # complaining before the answer is refused with the rule's code
    response = client_for(bidder).post(
        reverse("supervision:complaint_new", args=[tender.pk]), complaint_form(clock, matter="documents")
    )
    assert (response.status_code, page_code(response)) == (422, "prior_pending")
    assert 'id="error-latest"' in response.content.decode()

    # the bidder cannot answer its own objection; the agency can
    response = client_for(bidder).post(
        reverse("supervision:challenge_reply", args=[challenge.pk]), {"reply": "x"}
    )
    assert (response.status_code, page_code(response)) == (403, "forbidden")
    assert 'id="reply-form"' in client_for(agency).get(page).content.decode()
    response = client_for(agency).post(
        reverse("supervision:challenge_reply", args=[challenge.pk]), {"reply": ""}
    )
    assert (response.status_code, page_code(response)) == (400, "text_invalid")
    clock.advance(days=1)
    client_for(agency).post(
        reverse("supervision:challenge_reply", args=[challenge.pk]), {"reply": "不予修改"}
    )
    challenge.refresh_from_db()
    assert challenge.reply == "不予修改"

    body = client_for(bidder).get(page).content.decode()
    assert clock_attrs(body, "reply") == ("met", "0") and "不予修改" in body
    link = re.search(r'id="complain-link" href="([^"]+)"', body).group(1)
    assert link == reverse("supervision:complaint_new", args=[tender.pk]) + f"?challenge={challenge.pk}"
    form = client_for(bidder).get(link.replace("&amp;", "&")).content.decode()
    assert re.search(r'<option value="documents" selected>', form)
    assert re.search(rf'<option value="{world["lot"].pk}" selected>', form)
    assert f'data-challenge="{challenge.pk}" data-ripe="1"' in form

    response = client_for(bidder).post(
        reverse("supervision:complaint_new", args=[tender.pk]),
        complaint_form(clock, matter="documents", lot=str(world["lot"].pk), known_at="2026-03-02"),
    )
    complaint = Complaint.objects.get()
    assert response.status_code == 302 and complaint.prior["id"] == challenge.pk
    assert f'data-complaint="{complaint.pk}"' in client_for(agency).get(page).content.decode()


def test_challenge_access_and_overdue_reply_clock(world, clock):
    users = world["users"]
    challenge = svc.challenge_file(
        actor=users["bidder"], tender=world["tender"], text="异议", known_at=clock()
    )
    page = reverse("supervision:challenge_detail", args=[challenge.pk])
    expected = {
        "bidder": (200, ""),
        "agency": (200, ""),
        "regulator": (200, ""),
        "centre": (200, ""),
        "admin": (200, ""),
        "other_bidder": (403, "forbidden"),
        "other_agency": (403, "forbidden"),
        "outsider": (403, "outside_jurisdiction"),
    }
    for role, (status, code) in expected.items():
        response = client_for(users[role]).get(page)
        assert (response.status_code, page_code(response) if status != 200 else "") == (status, code), role
    assert client_for(None).get(page).status_code == 302

    def listed(role, **params) -> list[tuple[str, str]]:
        body = client_for(users[role]).get(reverse("supervision:challenge_list"), params).content.decode()
        return re.findall(r'<tr data-challenge="(\d+)" data-state="\w+" data-overdue="(\d)"', body)

    assert listed("bidder") == [(str(challenge.pk), "0")]
    assert listed("other_bidder") == [] and listed("outsider") == [] and listed("other_agency") == []
    assert listed("agency") == [(str(challenge.pk), "0")] and listed("centre") == [(str(challenge.pk), "0")]

    # past the reply deadline, unanswered: overdue for everyone, and the bidder may now complain
    clock.set(challenge.reply_due_at + MINUTE)
    assert listed("regulator") == [(str(challenge.pk), "1")]
    assert listed("regulator", overdue="1") == [(str(challenge.pk), "1")]
    assert listed("regulator", state="answered") == []
    body = client_for(users["bidder"]).get(page).content.decode()
    assert clock_attrs(body, "reply") == ("overdue", "1")
    assert 'id="complain-link"' in body
    assert 'id="complain-link"' not in client_for(users["agency"]).get(page).content.decode()


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"text": ""}, "text_invalid"),
        ({"known_at": "2026-03-09"}, "known_at_invalid"),
        ({"lot": "x"}, "lot_not_found"),
    ],
)
def test_a_bad_challenge_is_refused_with_its_code(world, clock, changes, code):
    data = {"text": "资格条件排斥潜在投标人", "known_at": clock().date().isoformat(), "lot": "", **changes}
    response = client_for(world["users"]["bidder"]).post(
        reverse("supervision:challenge_new", args=[world["tender"].pk]), data
    )
    assert (response.status_code, page_code(response)) == (400, code)
    assert not Challenge.objects.exists()


def test_a_late_objection_is_refused_with_the_rule(world, clock):
    clock.set(world["tender"].deadline - dt.timedelta(days=9))
    response = client_for(world["users"]["bidder"]).post(
        reverse("supervision:challenge_new", args=[world["tender"].pk]),
        {"text": "太晚了", "known_at": clock().date().isoformat()},
    )
    assert (response.status_code, page_code(response)) == (422, "objection_too_late")
    assert "招标投标法实施条例第二十二条" in response.content.decode()
    assert not Challenge.objects.exists()


def test_the_upload_limit_stops_at_the_first_file_too_many_or_byte_too_many(monkeypatch):
    monkeypatch.setattr(svc, "EVIDENCE_MAX_FILES", 2)
    monkeypatch.setattr(svc, "EVIDENCE_MAX_BYTES", 16)
    handler = EvidenceLimit()
    handler.new_file("evidence", "a.pdf", "application/pdf", None)
    assert handler.receive_data_chunk(b"x" * 16, 0) == b"x" * 16  # passed on to the storing handler
    with pytest.raises(StopUpload):
        handler.receive_data_chunk(b"x", 16)
    assert handler.exceeded

    handler = EvidenceLimit()
    handler.new_file("text", "", "text/plain", None)  # other fields do not count
    for name in ("a.pdf", "b.pdf"):
        handler.new_file("evidence", name, "application/pdf", None)
    with pytest.raises(StopUpload):
        handler.new_file("evidence", "c.pdf", "application/pdf", None)
    assert handler.exceeded


def test_filing_still_checks_the_csrf_token(world, clock):
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(world["users"]["bidder"])
    new = reverse("supervision:complaint_new", args=[world["tender"].pk])
    response = client.post(new, complaint_form(clock))
    assert response.status_code == 403 and not Complaint.objects.exists()
    client.get(new)
    token = client.cookies["csrftoken"].value
    response = client.post(new, {**complaint_form(clock), "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and Complaint.objects.count() == 1


def test_the_gp_form_says_every_matter_needs_a_prior_challenge(world, clock):
    tender = world["make_tender"]("GP")
    body = (
        client_for(world["users"]["bidder"])
        .get(reverse("supervision:complaint_new", args=[tender.pk]))
        .content.decode()
    )
    assert 'data-regime="GP"' in body and 'data-source="政府采购质疑和投诉办法第十七条"' in body
    assert set(re.findall(r'data-needs-prior="(\w+)"', body)) == set(Complaint.Matter.values)
