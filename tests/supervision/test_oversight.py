"""The oversight timeline of a tender (全过程监督): every action mapped to its phase and label (unknown ones
shown by name), the order of the entries, payloads summarised without secrets, bidders sealed until the
opening, each anomaly rule firing and not firing, a real flow (publication, a late amendment, the opening;
an evaluation with an outlier score), the filters, who may read the page, and a query count that does
not grow with the journal."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from archive.journal import journal_append
from monitoring.models import Alert
from supervision.models import Instruction
from supervision.selectors import oversight as sel
from supervision.services import department_create, member_add
from tests.conftest import SHANGHAI
from tests.factories import (
    AgencyUserFactory,
    BidderUserFactory,
    LotFactory,
    MarketEntityFactory,
    TenderFactory,
    UserFactory,
)
from trading import rules
from trading.models import Role, Tender, TenderState
from trading.signals import tender_published

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def at(day: int, hour: int = 9, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def page_code(response) -> str:
    found = re.search(r'<code class="error-code">([^<]+)</code>', response.content.decode())
    return found.group(1) if found else ""


def client_for(user) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def oversight_url(tender) -> str:
    return reverse("supervision:tender_oversight", args=[tender.pk])


def entries_of(body: str) -> list[tuple[str, str, str, str]]:
    """(ref, action, phase, anomalous) of every timeline entry, in the page's order."""
    return re.findall(
        r'<li id="entry-[^"]+" data-ref="([^"]+)" data-action="([^"]+)" data-phase="([^"]+)" '
        r'data-anomalous="([01])"',
        body,
    )


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
    lot = LotFactory(tender__state=TenderState.PUBLISHED, tender__published_at=clock())
    tender = lot.tender
    tender_published.send(sender=Tender, tender=tender, actor=admin)
    return {
        "admin": admin,
        "dept": dept,
        "regulator": regulator,
        "outsider": outsider,
        "tender": tender,
        "lot": lot,
        "centre": UserFactory(role=Role.CENTRE),
        "agency": AgencyUserFactory(entity=tender.agency),
        "bidder": BidderUserFactory(),
    }


def append(tender, action: str, *, actor="system", obj=None, **payload):
    return journal_append(stream=tender.stream, action=action, actor=actor, obj=obj, payload=payload)


# --- mapping (pure) -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "payload", "phase"),
    [
        ("tender.documents_obtained", {}, sel.BEFORE),
        ("tender.deadline_changed", {}, sel.BEFORE),
        ("tender.state_changed", {"from": "draft", "to": "published"}, sel.BEFORE),
        ("announcement.published", {"kind": "amendment"}, sel.BEFORE),
        ("bid.submit", {}, sel.DURING),
        ("bid.withdraw", {}, sel.DURING),
        ("tender.state_changed", {"from": "published", "to": "opening"}, sel.DURING),
        ("opening.readout", {}, sel.DURING),
        ("experts.draw_performed", {}, sel.DURING),
        ("experts.score", {}, sel.DURING),
        ("monitoring.alert_raised", {"node": "evaluation"}, sel.DURING),
        ("experts.publicity_started", {}, sel.AFTER),
        ("experts.objection_raised", {}, sel.AFTER),
        ("supervision.complaint_filed", {"matter": "candidates"}, sel.AFTER),
        ("experts.award_decided", {}, sel.AFTER),
        ("experts.contract_recorded", {}, sel.AFTER),
        ("announcement.published", {"kind": "result"}, sel.AFTER),
        ("archive.sealed", {}, sel.AFTER),
        ("supervision.challenge_filed", {"kind": "tb_objection"}, sel.BEFORE),
    ],
)
def test_each_action_has_its_phase(action, payload, phase):
    got, label, known = sel.classify(action, payload)
    assert (got, known) == (phase, True)
    assert label and label != action


def test_context_actions_and_unknown_actions_take_the_phase_of_the_moment():
    # suspensions, tip-offs, instructions and unknown actions have no phase of their own
    for action, payload in [
        ("tender.state_changed", {"from": "opening", "to": "suspended"}),
        ("supervision.tipoff_received", {}),
        ("supervision.instruction_issued", {}),
        ("supervision.complaint_filed", {"matter": "process"}),
    ]:
        assert sel.classify(action, payload)[0] is None, action
    assert sel.classify("custom.something_new", {}) == (None, "custom.something_new", False)


def test_a_summary_shows_facts_and_never_keys_digests_or_content():
    payload = {
        "key_id": "k-1",
        "public_key": "MIIBIjANBg",
        "shares": [{"index": 1, "commitment": "abc"}],
        "header_sha256": "f" * 64,
        "ciphertext_sha256": "e" * 64,
        "content_key": "secret-cek",
        "body_digest": "d" * 64,
        "lot": 1,
        "bidder": "91450100MA5XXXXXX1",
        "reason": "因故延期",
    }
    facts = dict(
        sel.summarise("bid.submit", payload, entities={"91450100MA5XXXXXX1": "甲公司"}, lots={}, sealed=False)
    )
    flat = repr(facts)
    for secret in ("k-1", "MIIBIjANBg", "abc", "f" * 64, "e" * 64, "secret-cek", "d" * 64):
        assert secret not in flat
    assert set(facts.values()) == {"1", "甲公司", "因故延期"}
    sealed = dict(
        sel.summarise("bid.submit", payload, entities={"91450100MA5XXXXXX1": "甲公司"}, lots={}, sealed=True)
    )
    assert "甲公司" not in repr(sealed)


def test_the_timeline_is_in_time_order_and_grouped_by_phase(world, clock):
    tender, lot, agency = world["tender"], world["lot"], world["agency"]
    bidder = BidderUserFactory()
    clock.advance(hours=1)
    ann = append(tender, "announcement.published", actor=agency, kind="tender", content_digest="0" * 64)
    clock.advance(days=1)
    append(tender, "tender.documents_obtained", actor=bidder, entity=bidder.entity_id)
    clock.advance(days=1)
    append(tender, "supervision.complaint_filed", actor=bidder, matter="process", entity=bidder.entity_id)
    clock.set(tender.deadline - DAY)
    append(tender, "bid.submit", actor=bidder, lot=1, bidder=bidder.entity.uscc, header_sha256="f" * 64)
    clock.set(tender.deadline)
    append(
        tender,
        "tender.state_changed",
        obj=tender,
        **{"from": "published", "to": "opening", "reason": "deadline"},
    )
    clock.advance(minutes=30)
    append(tender, "opening.readout", lot=lot.pk, version=3)
    clock.advance(days=1)
    append(tender, "tender.state_changed", obj=tender, **{"from": "evaluation", "to": "publicity"})
    append(tender, "experts.publicity_started", lot=lot.pk)
    append(tender, "custom.unheard_of", lot=lot.pk)
    clock.advance(days=5)
    append(tender, "experts.award_decided", lot=lot.pk)
    clock.set(tender.deadline + 10 * DAY)

    view = sel.tender_oversight(tender)
    refs = [int(e.ref) for e in view.entries]
    assert refs == sorted(refs) and [e.at for e in view.entries] == sorted(e.at for e in view.entries)
    by_action = {e.action: e for e in view.entries}
    assert by_action["announcement.published"].phase == sel.BEFORE
    assert by_action["tender.documents_obtained"].phase == sel.BEFORE
    assert by_action["supervision.complaint_filed"].phase == sel.BEFORE  # the tender was still before
    assert by_action["bid.submit"].phase == sel.DURING
    assert by_action["opening.readout"].phase == sel.DURING
    assert by_action["experts.publicity_started"].phase == sel.AFTER
    assert by_action["custom.unheard_of"].phase == sel.AFTER and not by_action["custom.unheard_of"].known
    assert by_action["experts.award_decided"].phase == sel.AFTER
    assert ann.seq < int(by_action["experts.award_decided"].ref)

    body = client_for(world["regulator"]).get(oversight_url(tender)).content.decode()
    rows = entries_of(body)
    phases = [phase for _ref, _action, phase, _a in rows]
    assert phases == sorted(phases, key=["before", "during", "after"].index)
    assert [a for _r, a, _p, _x in rows if _p == "after"] == [
        "tender.state_changed",
        "experts.publicity_started",
        "custom.unheard_of",
        "experts.award_decided",
    ]
    assert 'translate="no">custom.unheard_of</span>' in body  # shown with its raw name


def test_a_complaints_later_steps_stay_in_the_phase_of_its_filing(world, clock):
    tender = world["tender"]
    complaint_obj_type = {"object_type": "supervision.complaint", "object_id": "7"}
    journal_append(
        stream=tender.stream,
        action="supervision.complaint_filed",
        payload={"matter": "documents"},
        **complaint_obj_type,
    )
    journal_append(
        stream=tender.stream, action="tender.state_changed", payload={"from": "published", "to": "opening"}
    )
    journal_append(
        stream=tender.stream,
        action="supervision.complaint_accepted",
        payload={"late": False},
        **complaint_obj_type,
    )
    view = sel.tender_oversight(tender)
    phases = {e.action: e.phase for e in view.entries}
    assert phases["supervision.complaint_filed"] == phases["supervision.complaint_accepted"] == sel.BEFORE


def test_the_expert_pools_entries_about_its_lots_join_the_timeline(world, clock):
    tender, lot = world["tender"], world["lot"]
    other = LotFactory()
    append(tender, "tender.state_changed", obj=tender, **{"from": "evaluation", "to": "awarded"})
    clock.advance(days=1)
    journal_append(
        stream="expert:41",
        action="experts.sanction_imposed",
        payload={"lot": lot.pk, "legal_basis": "条例第七十一条"},
    )
    journal_append(stream="expert:42", action="experts.sanction_imposed", payload={"lot": other.pk})
    clock.advance(days=1)
    append(tender, "experts.contract_recorded", lot=lot.pk)
    view = sel.tender_oversight(tender)
    actions = [(e.action, e.phase) for e in view.entries]
    assert actions[-3:] == [
        ("tender.state_changed", sel.AFTER),
        ("experts.sanction_imposed", sel.AFTER),
        ("experts.contract_recorded", sel.AFTER),
    ]
    sanction = view.entries[-2]
    assert sanction.ref.startswith("x")
    assert (str(sel.FACT_LABELS["legal_basis"]), "条例第七十一条") in sanction.facts


def test_bidders_are_sealed_until_the_opening(world, clock):
    tender = world["tender"]
    bidder = BidderUserFactory(entity=MarketEntityFactory(name="广西某某建设有限公司"))
    append(tender, "tender.documents_obtained", actor=bidder, entity=bidder.entity_id)
    regulator = client_for(world["regulator"])
    body = regulator.get(oversight_url(tender)).content.decode()
    assert "广西某某建设有限公司" not in body and bidder.username not in body
    clock.set(tender.deadline + dt.timedelta(minutes=1))
    body = client_for(world["regulator"]).get(oversight_url(tender)).content.decode()  # a fresh session
    assert "广西某某建设有限公司" in body and bidder.username in body


# --- the anomaly rules ---------------------------------------------------------------------------------------


def test_late_amendment_fires_within_the_statutory_15_days_only():
    deadline = at(25, 9, 30)
    assert sel.late_amendment(regime="TB", issued_at=deadline - 16 * DAY, deadline=deadline) is None
    found = sel.late_amendment(regime="TB", issued_at=deadline - 10 * DAY, deadline=deadline)
    assert found.code == "late_amendment" and found.source == "招标投标法实施条例第二十一条"
    assert (
        sel.late_amendment(regime="GP", issued_at=deadline - 10 * DAY, deadline=deadline).source
        == "87号令第二十七条"
    )
    # prequalification documents: 3 days
    assert (
        sel.late_amendment(
            regime="TB", issued_at=deadline - 4 * DAY, deadline=deadline, prequalification=True
        )
        is None
    )
    assert sel.late_amendment(
        regime="TB", issued_at=deadline - 2 * DAY, deadline=deadline, prequalification=True
    )
    # the rule is trading.rules': the limit is exactly where it moves the deadline
    issued = deadline - 10 * DAY
    moved = rules.amendment_deadline(
        regime="TB", issued_at=issued, deadline=deadline, affects_preparation=True
    )
    assert moved > deadline


def test_deadline_extension_fires_when_the_deadline_moves():
    assert sel.deadline_extension({"from": at(25).isoformat(), "to": at(25).isoformat()}) is None
    assert sel.deadline_extension({}) is None
    moved = sel.deadline_extension({"from": at(25).isoformat(), "to": at(30).isoformat(), "forced": False})
    forced = sel.deadline_extension({"from": at(25).isoformat(), "to": at(30).isoformat(), "forced": True})
    assert moved.code == forced.code == "deadline_extended" and moved.reason != forced.reason


def test_repeated_failures_fire_from_two():
    assert sel.repeated_failures(failed=0) is None
    assert sel.repeated_failures(failed=1) is None
    assert sel.repeated_failures(failed=2).code == "repeated_failures"


def test_score_outliers_use_the_committees_median():
    scores = [(1, seat, "b1", "tech", v) for seat, v in ((1, "40"), (2, "42"), (3, "41"), (4, "12"))]
    scores += [(1, seat, "b2", "tech", v) for seat, v in ((1, "40"), (2, "39"), (3, "41"), (4, "38"))]
    found = sel.score_outliers(scores, max_points={(1, "tech"): Decimal("50")})
    assert [(f["seat"], f["bid"], f["criterion"], f["value"]) for f in found] == [
        (4, "b1", "tech", Decimal("12"))
    ]
    assert found[0]["median"] == Decimal("41.00") and found[0]["deviation"] == Decimal("0.5800")
    # close scores, too few scores, or no maximum: nothing
    assert sel.score_outliers(scores[4:], max_points={(1, "tech"): Decimal("50")}) == []
    assert sel.score_outliers(scores[2:4], max_points={(1, "tech"): Decimal("50")}) == []
    assert sel.score_outliers(scores, max_points={}) == []


def test_alert_anomaly_fires_for_level_2_and_above_not_dismissed():
    assert sel.alert_anomaly(level=1, node="opening", alert_id=1).code == "alert"
    assert sel.alert_anomaly(level=2, node="opening", alert_id=1).code == "alert"
    assert sel.alert_anomaly(level=3, node="opening", alert_id=1) is None
    assert sel.alert_anomaly(level=1, node="opening", alert_id=1, status="dismissed") is None


def test_late_replies_complaints_and_suspensions_fire():
    assert sel.late_reply("supervision.complaint_accepted", {"late": True}).code == "late_reply"
    assert sel.late_reply("supervision.complaint_accepted", {"late": False}) is None
    assert sel.late_reply("supervision.complaint_accepted", {"late": "yes"}) is None
    assert sel.complaint_or_suspension("supervision.complaint_filed", {}).code == "complaint"
    assert sel.complaint_or_suspension("tender.state_changed", {"to": "suspended"}).code == "suspended"
    assert sel.complaint_or_suspension("tender.state_changed", {"to": "opening"}) is None
    assert sel.complaint_or_suspension("supervision.challenge_filed", {}) is None


def test_instruction_overdue_only_while_open():
    now = at(10)
    assert sel.instruction_overdue(due_at=now - DAY, status="issued", now=now)
    assert sel.instruction_overdue(due_at=now - DAY, status="acknowledged", now=now)
    assert not sel.instruction_overdue(due_at=now - DAY, status="done", now=now)
    assert not sel.instruction_overdue(due_at=now - DAY, status="withdrawn", now=now)
    assert not sel.instruction_overdue(due_at=now + DAY, status="issued", now=now)
    assert not sel.instruction_overdue(due_at=None, status="issued", now=now)


def codes(view) -> list[str]:
    return sorted(a.code for a in view.findings)


def test_the_page_flags_journalled_anomalies_on_their_entries(world, clock):
    tender = world["tender"]
    append(tender, "supervision.complaint_accepted", late=True)
    append(tender, "supervision.challenge_answered", late=False)
    append(
        tender,
        "tender.state_changed",
        obj=tender,
        **{"from": "published", "to": "suspended", "reason": "投诉"},
    )
    view = sel.tender_oversight(tender)
    flagged = {e.action: [a.code for a in e.anomalies] for e in view.entries}
    assert flagged["supervision.complaint_accepted"] == ["late_reply"]
    assert flagged["supervision.challenge_answered"] == []
    assert flagged["tender.state_changed"] == ["suspended"]
    body = client_for(world["regulator"]).get(oversight_url(tender) + "?anomalies=1").content.decode()
    assert {a for _r, a, _p, _x in entries_of(body)} == {
        "supervision.complaint_accepted",
        "tender.state_changed",
    }
    assert 'data-anomaly="late_reply"' in body and 'data-anomaly="suspended"' in body


def test_repeated_failures_of_the_tenderee_within_a_year(world, clock):
    tender = world["tender"]
    assert "repeated_failures" not in codes(sel.tender_oversight(tender))
    TenderFactory(tenderee=tender.tenderee, state=TenderState.FAILED, state_changed_at=clock() - 400 * DAY)
    TenderFactory(state=TenderState.FAILED, state_changed_at=clock() - DAY)  # another tenderee
    TenderFactory(tenderee=tender.tenderee, state=TenderState.FAILED, state_changed_at=clock() - 30 * DAY)
    assert "repeated_failures" not in codes(sel.tender_oversight(tender))
    # a failure since archived still counts: the journal remembers it
    archived = TenderFactory(tenderee=tender.tenderee, state=TenderState.ARCHIVED, state_changed_at=clock())
    append(archived, "tender.state_changed", **{"from": "opening", "to": "failed"})
    view = sel.tender_oversight(tender)
    assert codes(view).count("repeated_failures") == 1
    assert next(a for a in view.findings if a.code == "repeated_failures").ref == ""  # this one did not fail


def test_alerts_of_level_2_and_above_are_flagged_on_their_entry(world, clock):
    tender, lot = world["tender"], world["lot"]
    now = timezone.now()

    def alert(level, node, status="open"):
        a = Alert.objects.create(
            tender=tender, lot=lot, node=node, level=level, score=0.9, message="m", fingerprint="f" * 64,
            created_at=now, updated_at=now, status=status,
        )  # fmt: skip
        append(tender, "monitoring.alert_raised", obj=a, lot=lot.pk, node=node, level=level)
        return a

    red, orange = alert(1, "opening"), alert(2, "evaluation")
    alert(3, "award")  # yellow: not flagged
    alert(1, "market", "dismissed")  # dismissed: not flagged
    view = sel.tender_oversight(tender)
    flagged = {e.ref: [a.code for a in e.anomalies] for e in view.entries if e.anomalies}
    assert list(flagged.values()) == [["alert"], ["alert"]]
    assert [(a.code, a.ref) for a in view.findings] == [("alert", ref) for ref in flagged]
    assert [a.reason for a in view.findings] == [
        sel.alert_anomaly(level=1, node="opening", alert_id=red.pk).reason,
        sel.alert_anomaly(level=2, node="evaluation", alert_id=orange.pk).reason,
    ]


def test_an_overdue_instruction_is_flagged(world, clock):
    from supervision.services.instructions import instruction_issue

    tender = world["tender"]
    ins = instruction_issue(
        actor=world["regulator"], tender=tender, addressee="centre", text="核查开标记录", due_at=clock() + DAY
    )
    assert "instruction_overdue" not in codes(sel.tender_oversight(tender))
    clock.advance(days=2)
    view = sel.tender_oversight(tender)
    issued = next(e for e in view.entries if e.action == "supervision.instruction_issued")
    assert [a.code for a in issued.anomalies] == ["instruction_overdue"]
    body = client_for(world["regulator"]).get(oversight_url(tender)).content.decode()
    assert f'data-instruction="{ins.pk}" data-status="issued" data-overdue="1"' in body


# --- real flows, built by the services ----------------------------------------------------------------------


def test_a_real_flow_publication_late_amendment_and_opening(clock):
    from tests.trading.test_tenders import tender_form
    from trading.services.tenders import (
        tender_amend,
        tender_create,
        tender_document_download,
        tender_open_at_deadline,
        tender_publish,
    )

    clock.set(at(4))
    admin = UserFactory(role=Role.ADMIN)
    dept = department_create(actor=admin, name="南宁市住建局", kind="industry", region_code="450100")
    regulator = UserFactory(role=Role.REGULATOR)
    member_add(actor=admin, department=dept, user=regulator)
    tenderee = MarketEntityFactory(is_tenderee=True, is_bidder=False)
    agency = MarketEntityFactory(is_agency=True, is_bidder=False, name="广西招标代理有限公司")
    agent = AgencyUserFactory(entity=agency)
    tender = tender_create(actor=agent, data=tender_form({"tenderee": tenderee, "agency": agency}))
    tender_publish(
        tender=tender, actor=agent, documents=[("招标文件.pdf", b"%PDF-1.7 docs", "application/pdf")]
    )
    bidder = BidderUserFactory(entity=MarketEntityFactory(name="广西甲建设有限公司"))
    clock.set(at(5))
    tender_document_download(tender=Tender.objects.get(pk=tender.pk), user=bidder)
    clock.set(at(12, 10))  # 12 days before the deadline of 24 March: the law moves it
    tender_amend(
        tender=tender,
        actor=agent,
        title="澄清与修改（一）",
        body_html="<p>更正</p>",
        affects_preparation=True,
    )
    tender.refresh_from_db()
    assert tender.deadline > at(24, 9, 30)
    body = client_for(regulator).get(oversight_url(tender)).content.decode()
    assert "广西甲建设有限公司" not in body  # sealed until the opening

    clock.set(tender.deadline + dt.timedelta(minutes=1))
    tender_open_at_deadline(tender=tender)
    response = client_for(regulator).get(oversight_url(tender))  # a fresh session, weeks later
    assert response.status_code == 200
    body = response.content.decode()
    rows = entries_of(body)
    actions = [a for _r, a, _p, _x in rows]
    phase_of = {a: p for _r, a, p, _x in rows}
    assert actions.index("announcement.published") < actions.index("tender.documents_obtained")
    assert phase_of["tender.documents_obtained"] == phase_of["tender.deadline_changed"] == "before"
    assert phase_of["supervision.assigned"] == "before"
    assert [p for _r, a, p, _x in rows if a == "tender.state_changed"][-1] == "during"
    assert "广西甲建设有限公司" in body
    view = sel.tender_oversight(tender)
    flagged = {a.code: e.action for e in view.entries for a in e.anomalies}
    assert flagged == {
        "late_amendment": "announcement.published",
        "deadline_extended": "tender.deadline_changed",
    }
    assert 'data-anomaly="late_amendment"' in body and "招标投标法实施条例第二十一条" in body


def test_a_real_evaluation_flags_an_outlier_score(clock):
    from tests.experts.room_world import room_world, score_all, to_detailed

    world = room_world(clock=clock)
    to_detailed(world)
    criteria = [c for c in world.lot.evaluation["criteria"] if c["group"] != "price"]
    code, top = criteria[0]["code"], Decimal(str(criteria[0]["max"]))
    score_all(world, values={(3, 0, code): Decimal("0")}, default=str(top - 2))
    view = sel.tender_oversight(world.tender)
    outliers = [(e, a) for e in view.entries for a in e.anomalies if a.code == "score_outlier"]
    assert len(outliers) == 1
    entry, _anomaly = outliers[0]
    assert entry.action == "experts.score" and entry.phase == sel.DURING
    assert (str(sel.FACT_LABELS["seat"]), "3") in entry.facts
    assert {e.phase for e in view.entries if e.action.startswith("opening.")} == {sel.DURING}
    # no name of the committee on the timeline
    members = world.members()
    assert not any(m.user.username in e.actor for m in members for e in view.entries)


# --- filters and access --------------------------------------------------------------------------------------


def test_the_phase_filter_shows_one_phase(world, clock):
    tender = world["tender"]
    append(tender, "tender.state_changed", obj=tender, **{"from": "published", "to": "opening"})
    append(tender, "opening.readout", lot=world["lot"].pk)
    body = client_for(world["regulator"]).get(oversight_url(tender) + "?phase=during").content.decode()
    assert {p for _r, _a, p, _x in entries_of(body)} == {"during"}
    assert 'data-phase="before"' not in body


@pytest.mark.parametrize("query", ["?phase=later", "?anomalies=yes"])
def test_a_bad_filter_is_refused(world, query):
    response = client_for(world["regulator"]).get(oversight_url(world["tender"]) + query)
    assert (response.status_code, page_code(response)) == (400, "invalid_filter")


def test_who_may_read_the_oversight_page(world):
    address = oversight_url(world["tender"])
    for role in ("regulator", "admin", "centre"):
        assert client_for(world[role]).get(address).status_code == 200, role
    response = client_for(world["outsider"]).get(address)
    assert (response.status_code, page_code(response)) == (403, "outside_jurisdiction")
    for role in ("bidder", "agency"):
        response = client_for(world[role]).get(address)
        assert (response.status_code, page_code(response)) == (403, "role_forbidden"), role
    anonymous = client_for(None).get(address)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    missing = client_for(world["regulator"]).get(reverse("supervision:tender_oversight", args=[999999]))
    assert (missing.status_code, page_code(missing)) == (404, "tender_not_found")


def test_the_issue_form_is_for_the_supervising_department_only(world):
    address = oversight_url(world["tender"])
    assert 'id="instruction-form"' in client_for(world["regulator"]).get(address).content.decode()
    assert 'id="instruction-form"' not in client_for(world["centre"]).get(address).content.decode()


def fill(tender, lot, bidder, n: int) -> None:
    """n rounds of everyday entries, with actors and entities to look up, and instructions."""
    department_id = tender.supervisions.values_list("department_id", flat=True).first()
    for i in range(n):
        append(tender, "tender.documents_obtained", actor=bidder, entity=bidder.entity_id)
        append(tender, "bid.submit", actor=bidder, lot=1, bidder=bidder.entity.uscc)
        append(tender, "opening.readout", actor=bidder, lot=lot.pk)
        append(tender, "supervision.complaint_accepted", late=bool(i % 2))
        Instruction.objects.create(
            tender=tender, department_id=department_id, addressee="centre", text=f"指令{i}",
            issued_by=bidder, issued_at=timezone.now(),
        )  # fmt: skip


def test_the_page_runs_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    tender, lot = world["tender"], world["lot"]
    client = client_for(world["regulator"])
    fill(tender, lot, BidderUserFactory(), 2)
    with CaptureQueriesContext(connection) as few:
        assert client.get(oversight_url(tender)).status_code == 200
    for _ in range(5):
        fill(tender, lot, BidderUserFactory(), 10)
    with CaptureQueriesContext(connection) as many:
        assert client.get(oversight_url(tender)).status_code == 200
    assert len(many) == len(few), [q["sql"][:120] for q in many]
    with django_assert_max_num_queries(20):
        client.get(oversight_url(tender))
