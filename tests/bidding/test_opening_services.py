"""The opening hall's services against the database: the clock's tick, sign-in, the host's steps,
decryption with real sealed bids, B4/B5 decisions, objections, confirmation and the record."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from archive.journal import verify_stream
from archive.models import JournalEntry
from bidding import envelope
from bidding.models import Attendance, Bid, OpeningSession
from bidding.opening import events, rules, services
from bidding.opening.record import record_verify
from tests.bidding.opening_world import (
    DEADLINE,
    decrypt_all,
    hall_world,
    refused,
    to_deadline,
    to_decryption,
    to_readout,
)
from trading.models import ActivityEvidence, DecryptionPolicy, Lot, TenderState

pytestmark = pytest.mark.django_db


def b64u(data: bytes) -> str:
    return envelope.b64u(data)


def actions(tender, prefix="opening.") -> list[str]:
    return list(
        JournalEntry.objects.filter(stream=tender.stream, action__startswith=prefix).values_list(
            "action", flat=True
        )
    )


@pytest.fixture
def world(clock):
    return hall_world(clock=clock)


# --- the clock -------------------------------------------------------------------------------------
def test_no_hall_before_signin_opens(world, clock):
    clock.set(DEADLINE - dt.timedelta(minutes=1441))
    assert services.opening_tick(lot=world.lot) is None
    assert not OpeningSession.objects.exists()


def test_the_hall_opens_for_signin_a_day_before_and_a_second_tick_changes_nothing(world, clock):
    # given sign-in time has come
    clock.set(DEADLINE - dt.timedelta(minutes=1440))

    # when two ticks notice it
    first = services.opening_tick(lot=world.lot)
    second = services.opening_tick(lot=world.lot)

    # then one hall exists, in sign-in, journaled once; the tender still takes bids
    assert first.pk == second.pk and second.phase == rules.SIGNIN and second.version == 0
    assert actions(world.tender) == ["opening.session_opened"]
    world.tender.refresh_from_db()
    assert world.tender.state == TenderState.PUBLISHED


def test_at_the_deadline_the_system_opens_the_tender_once(world, clock):
    clock.set(DEADLINE - dt.timedelta(hours=2))
    services.opening_tick(lot=world.lot)
    clock.set(DEADLINE)

    services.opening_tick(lot=world.lot)
    session = services.opening_tick(lot=world.lot)

    world.tender.refresh_from_db()
    assert world.tender.state == TenderState.OPENING
    opened = JournalEntry.objects.filter(stream=world.tender.stream, action="tender.state_changed")
    assert [(e.actor_label, e.payload["to"]) for e in opened] == [("system", "opening")]
    assert session.version == 1
    assert verify_stream(world.tender.stream) is None


def test_a_suspended_tender_does_not_open_at_its_deadline(world, clock):
    clock.set(DEADLINE - dt.timedelta(hours=2))
    services.opening_tick(lot=world.lot)
    type(world.tender).objects.filter(pk=world.tender.pk).update(state=TenderState.SUSPENDED)
    clock.set(DEADLINE)

    services.opening_tick(lot=world.lot)

    world.tender.refresh_from_db()
    assert world.tender.state == TenderState.SUSPENDED


# --- sign-in --------------------------------------------------------------------------------------
def test_signin_needs_a_bid_and_the_signin_window(world, clock):
    outsider = hall_world(clock=clock, bids=1).bidders[0].user  # a bidder of another tender
    clock.set(DEADLINE - dt.timedelta(hours=2))
    assert refused(services.opening_signin, lot=world.lot, user=world.bidders[0].user) == "opening_not_open"
    services.opening_tick(lot=world.lot)

    assert refused(services.opening_signin, lot=world.lot, user=outsider) == "signin_no_bid"
    assert refused(services.opening_signin, lot=world.lot, user=world.host) == "role_forbidden"
    attendance = services.opening_signin(lot=world.lot, user=world.bidders[0].user)
    again = services.opening_signin(lot=world.lot, user=world.bidders[0].user)
    assert attendance.pk == again.pk and Attendance.objects.count() == 1


def test_signin_before_the_deadline_is_not_announced(world, clock):
    # given the hall before the deadline
    clock.set(DEADLINE - dt.timedelta(hours=2))
    session = services.opening_tick(lot=world.lot)

    # when a bidder signs in
    services.opening_signin(lot=world.lot, user=world.bidders[0].user)

    # then the hall's version (which every participant sees) does not move: it would count bidders
    session.refresh_from_db()
    assert session.version == 0


# --- publishing the bidder list (B4 at sign-in close) ------------------------------------------------
def test_the_bidder_list_is_published_by_the_host_after_the_deadline(world, clock):
    clock.set(DEADLINE - dt.timedelta(hours=1))
    services.opening_tick(lot=world.lot)
    assert refused(services.opening_publish_bidders, lot=world.lot, actor=world.host) == "tender_not_opening"
    clock.set(DEADLINE)

    assert refused(services.opening_publish_bidders, lot=world.lot, actor=world.regulator) == "hall_read_only"
    session = services.opening_publish_bidders(lot=world.lot, actor=world.host)

    assert session.phase == rules.BIDDERS and session.host == world.host
    entry = JournalEntry.objects.get(stream=world.tender.stream, action="opening.bidders_published")
    assert [b["entity"] for b in entry.payload["bidders"]] == [b.entity.pk for b in world.bidders]


def test_two_bids_cannot_be_opened_and_the_host_fails_the_lot(clock):
    # given only two bids at the deadline
    world = hall_world(clock=clock, bids=2)
    to_deadline(world, clock)

    # when the host closes sign-in without a decision, or tries to go on
    assert (
        refused(services.opening_publish_bidders, lot=world.lot, actor=world.host)
        == "shortfall_decision_required"
    )
    assert (
        refused(
            services.opening_publish_bidders, lot=world.lot, actor=world.host, decision="continue", reason="x"
        )
        == "shortfall_continue_forbidden"
    )
    session = services.opening_publish_bidders(
        lot=world.lot, actor=world.host, decision="fail", reason="投标人不足3家"
    )

    # then the lot and the tender fail (流标) with the reason, and a record says so
    assert session.phase == rules.FAILED and session.failure_reason == "投标人不足3家"
    world.tender.refresh_from_db()
    assert world.tender.state == TenderState.FAILED
    assert Lot.objects.get(pk=world.lot.pk).status == Lot.Status.FAILED
    record = session.record
    assert record.data["body"]["outcome"] == "failed"
    decision = record.data["body"]["decisions"][0]
    assert (decision["action"], decision["decision"], decision["count"]) == ("shortfall_decided", "fail", 2)
    assert record_verify(record)


# --- decryption ---------------------------------------------------------------------------------------
def test_the_right_content_key_opens_the_bid_and_is_evidenced(world, clock):
    to_decryption(world, clock)
    b = world.bidders[0]

    class Request:
        META = {"REMOTE_ADDR": "203.0.113.7"}
        headers = {"User-Agent": "Chromium", "X-Client-Hardware": '{"mac": "00:11:22:33:44:55"}'}

    bid = services.bid_decrypt(bid=b.bid, cek=b64u(b.cek), actor=b.user, request=Request())

    assert bid.decryption == "ok" and bid.content_key == b64u(b.cek)
    assert bid.form["price"] == "4000000.00" and bid.document_meta["name"] == "投标文件.pdf"
    evidence = ActivityEvidence.objects.get(action="decrypt")
    assert (evidence.ip, evidence.user_agent, evidence.hardware) == (
        "203.0.113.7",
        "Chromium",
        {"mac": "00:11:22:33:44:55"},
    )
    assert evidence.file_sha256 == bid.ciphertext.sha256


def test_a_wrong_content_key_is_refused_and_the_bidder_may_retry(world, clock):
    to_decryption(world, clock)
    b = world.bidders[0]

    code = refused(services.bid_decrypt, bid=b.bid, cek=b64u(bytes(32)), actor=b.user)
    assert code == "envelope_key_invalid"
    assert Bid.objects.get(pk=b.bid.pk).decryption == "pending"

    clock.advance(minutes=29, seconds=59)
    assert services.bid_decrypt(bid=b.bid, cek=b64u(b.cek), actor=b.user).decryption == "ok"
    assert "opening.decrypt_refused" in actions(world.tender)


def test_only_the_bidders_own_staff_decrypt_within_the_window(world, clock):
    to_decryption(world, clock)
    b, other = world.bidders[0], world.bidders[1]

    assert refused(services.bid_decrypt, bid=b.bid, cek=b64u(b.cek), actor=other.user) == "decrypt_not_yours"
    clock.advance(minutes=30)
    assert (
        refused(services.bid_decrypt, bid=b.bid, cek=b64u(b.cek), actor=b.user) == "decryption_window_closed"
    )


def test_at_the_end_of_the_window_an_undecrypted_bid_fails_as_the_bidders_and_the_host_may_correct_it(
    world, clock
):
    # given two bidders decrypt and one does not
    to_decryption(world, clock)
    decrypt_all(world, world.bidders[:2])
    late = world.bidders[2]
    assert refused(services.opening_start_readout, lot=world.lot, actor=world.host) == "decryption_still_open"

    # when the window closes
    clock.advance(minutes=30)
    services.opening_tick(lot=world.lot)

    # then the bid is revoked (撤销) by default; the host finds it was not the bidder's fault (撤回)
    assert Bid.objects.get(pk=late.bid.pk).decryption == "failed_bidder"
    assert (
        refused(services.bid_decryption_fault, bid=late.bid, actor=world.host, fault="other", reason="")
        == "reason_required"
    )
    services.bid_decryption_fault(bid=late.bid, actor=world.host, fault="other", reason="平台证书服务中断")
    assert Bid.objects.get(pk=late.bid.pk).decryption == "failed_other"
    entry = JournalEntry.objects.get(stream=world.tender.stream, action="opening.decryption_fault")
    assert entry.payload["reason"] == "平台证书服务中断"


def test_the_custodian_key_opens_what_the_bidder_did_not(clock, monkeypatch):
    world = hall_world(
        clock=clock, decryption_policy=DecryptionPolicy.BIDDER_CUSTODIAN, custodian_k=2, custodian_n=3
    )
    late = world.bidders[2]
    # k custodians have handed in their shares (bidding.custodian reassembles the key and unwraps)
    monkeypatch.setattr(
        "bidding.opening.decryption.custodian_unwrap_cek",
        lambda *, bid: late.cek if bid.pk == late.bid.pk else None,
    )
    to_decryption(world, clock)
    decrypt_all(world, world.bidders[:2])

    clock.advance(minutes=30)
    services.opening_tick(lot=world.lot)

    bid = Bid.objects.get(pk=late.bid.pk)
    assert bid.decryption == "custodian" and bid.form["price"] == "4020000.00"


def test_too_few_valid_bids_after_decryption_fail_the_lot(world, clock):
    to_decryption(world, clock)
    decrypt_all(world, world.bidders[:2])
    clock.advance(minutes=30)

    assert (
        refused(services.opening_start_readout, lot=world.lot, actor=world.host)
        == "shortfall_decision_required"
    )
    session = services.opening_start_readout(
        lot=world.lot, actor=world.host, decision="fail", reason="有效投标不足3家"
    )

    assert session.phase == rules.FAILED
    assert actions(world.tender)[-1] == "opening.failed"


# --- read-out and its events ---------------------------------------------------------------------------
def test_readout_broadcasts_every_form_in_submission_order_and_feeds_monitoring(
    world, clock, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(events, "_group_send", lambda group, message: sent.append((group, message)))
    to_decryption(world, clock)
    decrypt_all(world)

    with django_capture_on_commit_callbacks(execute=True):
        services.opening_start_readout(lot=world.lot, actor=world.host)

    readout = [json.loads(m["text"]) for g, m in sent if g == events.opening_group(world.lot.pk)]
    assert [m["event"] for m in readout] == ["readout"]
    forms = readout[0]["hall"]["readout"]
    assert [f["form"]["price"] for f in forms] == ["4000000.00", "4010000.00", "4020000.00"]
    monitoring = [m for g, m in sent if g == events.MONITORING_READOUT_GROUP]
    decrypt_evidence = set(ActivityEvidence.objects.filter(action="decrypt").values_list("pk", flat=True))
    assert monitoring[0]["lot"] == world.lot.pk
    assert {e for b in monitoring[0]["bids"] for e in b["evidence"]} == decrypt_evidence


# --- objections, confirmation, closing ------------------------------------------------------------------
def test_objections_are_answered_before_the_record_goes_to_signature(world, clock):
    to_readout(world, clock)
    b = world.bidders[1]
    objection = services.objection_raise(lot=world.lot, user=b.user, text="第一名的工期与招标文件不符")

    assert (
        refused(services.opening_start_confirmation, lot=world.lot, actor=world.host)
        == "objections_unanswered"
    )
    assert (
        refused(services.objection_answer, objection=objection, actor=world.regulator, answer="x")
        == "hall_read_only"
    )
    services.objection_answer(objection=objection, actor=world.host, answer="已记录，提交评标委员会评审")
    session = services.opening_start_confirmation(lot=world.lot, actor=world.host)

    body = session.record.data["body"]
    assert body["objections"][0]["answer"] == "已记录，提交评标委员会评审"


def test_a_bidder_confirms_with_a_signature_over_the_record_digest(world, clock):
    to_readout(world, clock)
    services.opening_start_confirmation(lot=world.lot, actor=world.host)
    record = OpeningSession.objects.get(lot=world.lot).record
    message = rules.confirmation_message(body_sha256=record.data["body_sha256"])
    b, other = world.bidders[0], world.bidders[1]

    forged = b64u(other.key.sign(message, ec.ECDSA(hashes.SHA256())))
    assert (
        refused(services.bid_confirm_record, lot=world.lot, user=b.user, signature=forged)
        == "confirmation_signature_invalid"
    )
    signature = b64u(b.key.sign(message, ec.ECDSA(hashes.SHA256())))
    bid = services.bid_confirm_record(lot=world.lot, user=b.user, signature=signature, serial=b.cert.serial)

    assert bid.confirmed_at is not None and bid.confirmation_signature == signature
    assert refused(services.bid_confirm_record, lot=world.lot, user=b.user) == "already_confirmed"


def test_only_bidders_whose_bid_was_opened_confirm(clock):
    # given four bids of which one was not decrypted in time
    world = hall_world(clock=clock, bids=4)
    to_decryption(world, clock)
    decrypt_all(world, world.bidders[:3])
    clock.advance(minutes=30)
    services.opening_start_readout(lot=world.lot, actor=world.host)
    services.opening_start_confirmation(lot=world.lot, actor=world.host)

    # when its bidder tries to confirm, then it is not offered the step (FT, DOMAIN B6)
    code = refused(services.bid_confirm_record, lot=world.lot, user=world.bidders[3].user)
    assert code == "confirmation_not_offered"


def test_the_clock_closes_the_hall_when_the_confirmation_window_ends(world, clock):
    to_readout(world, clock)
    services.opening_start_confirmation(lot=world.lot, actor=world.host)
    services.bid_confirm_record(lot=world.lot, user=world.bidders[0].user)

    clock.advance(minutes=rules.CONFIRMATION_MINUTES)
    session = services.opening_tick(lot=world.lot)

    assert session.phase == rules.CLOSED
    closed = JournalEntry.objects.get(stream=world.tender.stream, action="opening.closed")
    assert (closed.actor_label, closed.payload["unconfirmed"]) == ("system", 2)


def test_the_confirmation_window_is_the_tenders_own_setting(world, clock):
    # given a tender that gives bidders 10 minutes to confirm the record (签名总时长, DOMAIN B6)
    type(world.tender).objects.filter(pk=world.tender.pk).update(confirmation_minutes=10)
    world.lot.tender.refresh_from_db()
    to_readout(world, clock)
    services.opening_start_confirmation(lot=world.lot, actor=world.host)

    # when 9 minutes pass the hall is still confirming; at 10 it closes
    clock.advance(minutes=9)
    assert services.opening_tick(lot=world.lot).phase == rules.CONFIRMATION
    clock.advance(minutes=1)
    assert services.opening_tick(lot=world.lot).phase == rules.CLOSED
