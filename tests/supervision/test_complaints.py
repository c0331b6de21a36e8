"""Challenges and complaints with their statutory clocks (issue 7 item 2): the objection or 质疑 that must
come first, the filing limits at their boundaries (TB days with the objection's waiting time excluded;
GP working days after the reply period), the department's acceptance and decision clocks, jurisdiction,
the suspension of the tender and the parties' notifications."""

from __future__ import annotations

import datetime as dt

import pytest

from archive.models import JournalEntry
from core.errors import AccessDenied, Conflict, RuleViolation, ValidationFailed
from supervision.models import Complaint
from supervision.services import department_create, member_add
from supervision.services.complaints import (
    challenge_file,
    challenge_reply,
    complaint_accept,
    complaint_decide,
    complaint_file,
    complaint_refuse,
    complaint_suspend_tender,
)
from tests.factories import AgencyUserFactory, BidderUserFactory, TenderFactory, UserFactory
from trading import rules
from trading.models import Notification, Tender, TenderState
from trading.services.tenders import tender_open_at_deadline
from trading.signals import tender_published

pytestmark = pytest.mark.django_db
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def setup(clock):
    admin = UserFactory(role="admin")
    dept = department_create(
        actor=admin, name="南宁市住房和城乡建设局", kind="industry", region_code="450100"
    )
    other = department_create(
        actor=admin, name="柳州市住房和城乡建设局", kind="industry", region_code="450200"
    )
    regulator, outsider = UserFactory(role="regulator"), UserFactory(role="regulator")
    member_add(actor=admin, department=dept, user=regulator)
    member_add(actor=admin, department=other, user=outsider)

    def tender(regime="TB"):
        t = TenderFactory(state=TenderState.PUBLISHED, published_at=clock(), regime=regime)
        tender_published.send(sender=Tender, tender=t, actor=admin)
        return t, AgencyUserFactory(entity=t.agency)

    return {"regulator": regulator, "outsider": outsider, "tender": tender, "bidder": BidderUserFactory()}


def test_tb_documents_complaint_needs_the_objection_first_and_excludes_its_waiting_days(setup, clock):
    tender, agency = setup["tender"]("TB")
    bidder = setup["bidder"]
    known = clock()
    with pytest.raises(RuleViolation) as exc:
        complaint_file(
            actor=bidder, tender=tender, matter="documents", text="资格条件排斥潜在投标人", known_at=known
        )
    assert exc.value.code == "objection_required"
    objection = challenge_file(actor=bidder, tender=tender, text="资格条件排斥潜在投标人", known_at=known)
    assert objection.reply_due_at == rules.objection_reply_deadline(received_at=clock(), regime="TB")
    clock.advance(days=2)
    challenge_reply(actor=agency, challenge=objection, reply="不予修改")
    # 10 days from knowing, plus the 2 days spent waiting for the answer (条例60)
    limit = rules.tb_complaint_deadline(known_at=known, objection_reply_days_excluded=2)
    assert limit > rules.tb_complaint_deadline(known_at=known)
    clock.set(limit - MINUTE)
    complaint = complaint_file(
        actor=bidder,
        tender=tender,
        matter="documents",
        text="答复不成立",
        known_at=known,
        evidence=[("答复.pdf", b"%PDF-1.4 x")],
    )
    assert complaint.filing_deadline == limit and complaint.prior["kind"] == "tb_objection"
    assert complaint.evidence.get().blob.size == 10
    assert complaint.accept_due_at == rules.complaint_acceptance_deadline(regime="TB", received_at=clock())
    clock.set(limit + MINUTE)
    with pytest.raises(RuleViolation) as exc:
        complaint_file(actor=bidder, tender=tender, matter="documents", text="再次投诉", known_at=known)
    assert exc.value.code == "complaint_too_late"


def test_a_late_objection_to_the_documents_is_refused(setup, clock):
    tender, _agency = setup["tender"]("TB")
    clock.set(tender.deadline - dt.timedelta(days=10) + MINUTE)
    with pytest.raises(RuleViolation) as exc:
        challenge_file(actor=setup["bidder"], tender=tender, text="太晚了", known_at=clock() - MINUTE)
    assert exc.value.code == "objection_too_late"


def test_gp_challenge_then_complaint_on_working_days(setup, clock):
    tender, _agency = setup["tender"]("GP")
    bidder = setup["bidder"]
    known = clock()
    with pytest.raises(RuleViolation) as exc:
        complaint_file(actor=bidder, tender=tender, matter="process", text="评分不公", known_at=known)
    assert exc.value.code == "challenge_required"
    clock.set(rules.gp_challenge_deadline(start=known) + MINUTE)
    with pytest.raises(RuleViolation) as exc:
        challenge_file(actor=bidder, tender=tender, text="评分不公", known_at=known)
    assert exc.value.code == "challenge_too_late"
    clock.set(rules.gp_challenge_deadline(start=known) - MINUTE)
    challenge = challenge_file(actor=bidder, tender=tender, text="评分不公", known_at=known)
    assert challenge.reply_due_at == rules.gp_challenge_reply_deadline(received_at=clock())
    with pytest.raises(RuleViolation) as exc:  # not before the answer or the end of the time to answer
        complaint_file(actor=bidder, tender=tender, matter="process", text="评分不公", known_at=known)
    assert exc.value.code == "prior_pending"
    with pytest.raises(AccessDenied):
        challenge_reply(actor=BidderUserFactory(), challenge=challenge, reply="x")
    limit = rules.gp_complaint_deadline(reply_deadline=challenge.reply_due_at)
    clock.set(limit + MINUTE)
    with pytest.raises(RuleViolation) as exc:
        complaint_file(actor=bidder, tender=tender, matter="process", text="评分不公", known_at=known)
    assert exc.value.code == "complaint_too_late"
    clock.set(limit - MINUTE)
    complaint = complaint_file(actor=bidder, tender=tender, matter="process", text="评分不公", known_at=known)
    assert complaint.accept_due_at == rules.complaint_acceptance_deadline(regime="GP", received_at=clock())


def test_the_department_accepts_suspends_and_decides_and_every_party_hears(setup, clock):
    tender, _agency = setup["tender"]("TB")
    bidder, regulator = setup["bidder"], setup["regulator"]
    complaint = complaint_file(
        actor=bidder, tender=tender, matter="process", text="代理机构泄露投标人名单", known_at=clock()
    )
    with pytest.raises(AccessDenied):
        complaint_accept(actor=setup["outsider"], complaint=complaint)  # another city's department
    clock.advance(days=1)
    complaint = complaint_accept(actor=regulator, complaint=complaint)
    assert complaint.decision_due_at == rules.complaint_decision_deadline(
        regime="TB", received_at=complaint.filed_at, accepted_at=clock()
    )
    complaint_suspend_tender(actor=regulator, complaint=complaint, reason="投诉调查期间暂停")
    tender.refresh_from_db()
    assert tender.state == TenderState.SUSPENDED
    clock.set(tender.deadline + MINUTE)
    assert tender_open_at_deadline(tender=tender).state == TenderState.SUSPENDED  # no opening while suspended
    with pytest.raises(ValidationFailed) as exc:
        complaint_decide(actor=regulator, complaint=complaint, outcome="upheld", legal_basis="", decision="x")
    assert exc.value.code == "legal_basis_required"
    complaint = complaint_decide(
        actor=regulator,
        complaint=complaint,
        outcome="dismissed",
        legal_basis="招标投标法实施条例第六十一条",
        decision="查无实据",
    )
    tender.refresh_from_db()
    assert complaint.status == Complaint.Status.DECIDED and tender.state == TenderState.PUBLISHED
    with pytest.raises(Conflict):
        complaint_refuse(actor=regulator, complaint=complaint, reason="x")
    told = set(Notification.objects.filter(kind="complaint").values_list("entity_id", flat=True))
    assert {bidder.entity_id, tender.agency_id, tender.tenderee_id} <= told
    actions = list(
        JournalEntry.objects.filter(
            stream=tender.stream, action__startswith="supervision.complaint"
        ).values_list("action", flat=True)
    )
    assert actions == [
        "supervision.complaint_filed",
        "supervision.complaint_accepted",
        "supervision.complaint_suspension",
        "supervision.complaint_decided",
    ]


def test_bad_input_is_refused_with_a_code_and_writes_nothing(setup, clock):
    tender, _agency = setup["tender"]("TB")
    bidder = setup["bidder"]
    cases = [
        ({"matter": "weather"}, "matter_invalid"),
        ({"text": "  "}, "text_invalid"),
        ({"known_at": clock() + dt.timedelta(days=1)}, "known_at_invalid"),
        ({"evidence": [("", b"x")]}, "evidence_invalid"),
        ({"lot_id": 999999}, "lot_not_found"),
    ]
    for override, code in cases:
        kwargs = {
            "actor": bidder,
            "tender": tender,
            "matter": "process",
            "text": "问题",
            "known_at": clock(),
            **override,
        }
        with pytest.raises(ValidationFailed) as exc:
            complaint_file(**kwargs)
        assert exc.value.code == code
    with pytest.raises(AccessDenied):
        complaint_file(
            actor=UserFactory(role="centre"), tender=tender, matter="process", text="x", known_at=clock()
        )
    assert not Complaint.objects.exists()


def test_complaints_and_challenges_are_archived_and_verify(setup, clock):
    from archive.services import ProjectInfo, package_seal
    from archive.verify import verify_package

    tender, agency = setup["tender"]("TB")
    bidder = setup["bidder"]
    objection = challenge_file(actor=bidder, tender=tender, text="资格条件排斥潜在投标人", known_at=clock())
    challenge_reply(actor=agency, challenge=objection, reply="不予修改")
    complaint = complaint_file(
        actor=bidder,
        tender=tender,
        matter="documents",
        text="答复不成立",
        known_at=clock(),
        evidence=[("答复.pdf", b"%PDF-1.4 x")],
    )
    info = ProjectInfo(
        project=tender.stream,
        title=tender.title,
        code=tender.code,
        regime="TB",
        category="works",
        state="suspended",
        ended_on=clock().date(),
        interim=True,
    )
    package = package_seal(info=info, actor="tester")
    paths = set(package.files.values_list("path", flat=True))
    folder = f"supervision/complaints/{complaint.pk:04d}"
    assert {
        "supervision/supervisors.json",
        "supervision/challenges.json",
        f"{folder}/complaint.json",
        f"{folder}/evidence/01.bin",
    } <= paths
    report = verify_package(package)
    assert report.ok, report.lines()
