"""Submission services: resumable upload, verification at completion, receipts, replace and withdraw,
the server clock at the deadline, evidence, and bid security with its source account."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.storage import default_storage

from archive.blobs import blob_open
from archive.models import JournalEntry
from bidding.models import Bid, BidSecurity, UploadSession
from bidding.receipts import receipt_verify
from bidding.services import submission
from bidding.services.submission import bid_security_record
from core.errors import DomainError
from tests.bidding import submission_world as w
from tests.factories import UserFactory
from trading import pki
from trading.models import ActivityEvidence, EntityStatus, Regime, Role, TenderState
from trading.services.pki import certificate_revoke

pytestmark = pytest.mark.django_db


@pytest.fixture
def lot(clock):
    return w.published_lot()


@pytest.fixture
def alice(clock):
    return w.bidder()


@pytest.fixture
def bob(clock):
    return w.bidder()


def code_of(excinfo) -> str:
    assert isinstance(excinfo.value, DomainError)
    return excinfo.value.code


def stored_parts(session) -> list[str]:
    prefix = f"uploads/{session.pk}"
    if not default_storage.exists(prefix):
        return []
    return default_storage.listdir(prefix)[1]


# --- the whole path -----------------------------------------------------------------------------------


def test_a_completed_upload_becomes_the_active_bid_with_a_verifiable_receipt(
    clock, lot, alice, django_capture_on_commit_callbacks
):
    # given a bid sealed by alice and uploaded in several parts
    env = w.seal(lot, alice)
    session = w.upload(lot, alice, env.ciphertext)
    assert len(session.parts) > 1

    # when she completes the upload
    clock.set(dt.datetime(2026, 3, 20, 10, 0, 0, 250000))
    with django_capture_on_commit_callbacks(execute=True):
        bid = w.complete_upload(session, alice, env)

    # then the bid holds exactly her ciphertext, header and signature, and is active
    bid.refresh_from_db()
    assert bid.status == Bid.Status.ACTIVE
    assert bid.entity == alice.entity and bid.certificate == alice.certificate
    with blob_open(bid.ciphertext) as fh:
        assert fh.read() == env.ciphertext
    assert bid.header == env.header and bid.signature == env.sealed.signature
    assert bid.header_sha256 == env.sealed.header_sha256
    assert bid.submitted_at == clock()
    # and the receipt verifies with the CA and names its place in the tender's journal
    receipt = receipt_verify(bid.receipt, ca_pem=pki.ca_certificate_pem())
    entry = JournalEntry.objects.get(stream=lot.tender.stream, action="bid.submit")
    assert receipt["journal"] == {"stream": entry.stream, "seq": entry.seq, "hash": entry.hash}
    assert receipt["received_at"] == "2026-03-20T02:00:00.250000Z"
    assert receipt["ciphertext_sha256"] == env.sealed.ciphertext_sha256
    assert (receipt["tender"], receipt["lot"], receipt["bidder"]) == (lot.tender.code, 1, alice.entity.uscc)
    # and the upload is closed, its parts gone
    session.refresh_from_db()
    assert session.state == UploadSession.State.COMPLETED
    assert bid.upload == session
    assert stored_parts(session) == []


def test_completion_records_upload_evidence_with_the_whitelisted_authoring_metadata(lot, alice):
    # given a client reporting the document's features (DOMAIN D2: name, MD5, authoring metadata),
    # with an unknown key and a long value
    meta = {
        "author": "张三",
        "creator_tool": "WPS" * 200,
        "pricing_software_id": "GLD-123",
        "secret": "x",
        "file_name": "投标文件.pdf",
        "file_md5": "0" * 32,
    }
    # when the bid is completed
    bid = w.submit(lot, alice, file_meta=meta)
    # then one upload evidence row keeps the digest, certificate and the whitelisted, bounded metadata
    evidence = ActivityEvidence.objects.get(action=ActivityEvidence.Action.UPLOAD)
    assert evidence.file_sha256 == bid.ciphertext_id
    assert evidence.certificate_serial == alice.certificate.serial
    assert evidence.entity == alice.entity and evidence.tender == lot.tender
    assert set(evidence.file_meta) == {
        "author",
        "creator_tool",
        "pricing_software_id",
        "file_name",
        "file_md5",
    }
    assert len(evidence.file_meta["creator_tool"]) == submission.FILE_META_VALUE_MAX


def test_file_meta_that_is_not_an_object_is_refused(lot, alice):
    env = w.seal(lot, alice)
    session = w.upload(lot, alice, env.ciphertext)
    with pytest.raises(DomainError) as exc:
        w.complete_upload(session, alice, env, file_meta=["author"])
    assert code_of(exc) == "file_meta_invalid"


# --- resumable upload ---------------------------------------------------------------------------------


def test_an_interrupted_upload_resumes_from_the_received_offset(lot, alice):
    # given an upload of which the first part arrived
    env = w.seal(lot, alice)
    data = env.ciphertext
    session = submission.upload_start(lot=lot, user=alice.user, size=len(data))
    session = submission.upload_append(upload=session, user=alice.user, offset=0, data=data[:3000])

    # when the client resends from a stale offset, it is told where the server is
    with pytest.raises(DomainError) as exc:
        submission.upload_append(upload=session, user=alice.user, offset=0, data=data[:3000])
    assert code_of(exc) == "upload_offset_mismatch"
    assert exc.value.params["received"] == 3000
    assert submission.upload_status(upload=session)["received"] == 3000

    # then it continues from there and the bid completes with the exact bytes
    session = submission.upload_append(upload=session, user=alice.user, offset=3000, data=data[3000:])
    bid = w.complete_upload(session, alice, env)
    with blob_open(bid.ciphertext) as fh:
        assert fh.read() == data


@pytest.mark.parametrize(
    "offset,data,code",
    [
        (0, b"", "upload_part_empty"),
        (0, b"x" * 101, "upload_overflow"),
    ],
)
def test_bad_parts_are_refused(lot, alice, offset, data, code):
    session = submission.upload_start(lot=lot, user=alice.user, size=100)
    with pytest.raises(DomainError) as exc:
        submission.upload_append(upload=session, user=alice.user, offset=offset, data=data)
    assert code_of(exc) == code
    session.refresh_from_db()
    assert session.received == 0 and stored_parts(session) == []


def test_a_part_larger_than_the_maximum_is_refused(monkeypatch, lot, alice):
    monkeypatch.setattr(submission, "PART_MAX", 1000)
    session = submission.upload_start(lot=lot, user=alice.user, size=5000)
    with pytest.raises(DomainError) as exc:
        submission.upload_append(upload=session, user=alice.user, offset=0, data=b"x" * 1001)
    assert code_of(exc) == "upload_part_too_large"
    assert exc.value.status == 413


@pytest.mark.parametrize("size", [0, -1, "100", None, True])
def test_upload_size_must_be_a_positive_integer(lot, alice, size):
    with pytest.raises(DomainError) as exc:
        submission.upload_start(lot=lot, user=alice.user, size=size)
    assert code_of(exc) == "upload_size_invalid"


def test_upload_size_above_the_ceiling_is_refused(settings, lot, alice):
    settings.BID_UPLOAD_MAX_BYTES = 1000
    with pytest.raises(DomainError) as exc:
        submission.upload_start(lot=lot, user=alice.user, size=1001)
    assert code_of(exc) == "upload_size_invalid"


def test_completing_an_unfinished_upload_is_refused_and_leaves_it_open(lot, alice):
    env = w.seal(lot, alice)
    session = submission.upload_start(lot=lot, user=alice.user, size=len(env.ciphertext))
    submission.upload_append(upload=session, user=alice.user, offset=0, data=env.ciphertext[:100])
    with pytest.raises(DomainError) as exc:
        w.complete_upload(session, alice, env)
    assert code_of(exc) == "upload_incomplete"
    session.refresh_from_db()
    assert session.state == UploadSession.State.OPEN
    assert not Bid.objects.exists()


def test_another_bidder_cannot_append_to_or_complete_an_upload(lot, alice, bob):
    env = w.seal(lot, alice)
    session = w.upload(lot, alice, env.ciphertext)
    with pytest.raises(DomainError) as exc:
        submission.upload_append(upload=session, user=bob.user, offset=session.received, data=b"x")
    assert code_of(exc) == "upload_not_yours"
    with pytest.raises(DomainError) as exc:
        w.complete_upload(session, bob, env)
    assert code_of(exc) == "upload_not_yours"


def test_staff_cannot_start_an_upload(lot):
    with pytest.raises(DomainError) as exc:
        submission.upload_start(lot=lot, user=UserFactory(role=Role.CENTRE), size=10)
    assert code_of(exc) == "bidder_required"


def test_too_many_unfinished_uploads_are_refused(lot, alice):
    for _ in range(submission.OPEN_UPLOADS_MAX):
        submission.upload_start(lot=lot, user=alice.user, size=10)
    with pytest.raises(DomainError) as exc:
        submission.upload_start(lot=lot, user=alice.user, size=10)
    assert code_of(exc) == "upload_too_many_open"


def test_a_cancelled_upload_is_closed_and_its_parts_deleted(lot, alice, django_capture_on_commit_callbacks):
    session = w.upload(lot, alice, b"y" * 12000)
    assert stored_parts(session)
    with django_capture_on_commit_callbacks(execute=True):
        submission.upload_abandon(upload=session, user=alice.user)
    session.refresh_from_db()
    assert session.state == UploadSession.State.ABANDONED
    assert stored_parts(session) == []


@pytest.mark.parametrize(
    "entity_fields,code",
    [({"status": EntityStatus.PENDING}, "entity_not_verified")],
)
def test_an_entity_that_may_not_participate_cannot_start(lot, entity_fields, code):
    # given a bidder whose entity was verified when it got its certificate, but is not now
    who = w.bidder()
    type(who.entity).objects.filter(pk=who.entity.pk).update(**entity_fields)
    who.user.refresh_from_db()
    with pytest.raises(DomainError) as exc:
        submission.upload_start(lot=lot, user=who.user, size=10)
    assert code_of(exc) == code


def test_an_entity_no_longer_verified_cannot_complete_and_keeps_its_upload(lot, alice):
    # given a fully uploaded bid, and then the entity's registration is no longer verified
    env = w.seal(lot, alice)
    session = w.upload(lot, alice, env.ciphertext)
    type(alice.entity).objects.filter(pk=alice.entity.pk).update(status=EntityStatus.PENDING)
    session = UploadSession.objects.select_related("lot__tender", "entity").get(pk=session.pk)
    # when it completes, then it is refused and no bid exists; the upload waits for a retry
    with pytest.raises(DomainError) as exc:
        submission.upload_complete(
            upload=session, user=alice.user, header=env.header, signature=env.sealed.signature
        )
    assert code_of(exc) == "entity_not_verified"
    assert not Bid.objects.exists()
    session.refresh_from_db()
    assert session.state == UploadSession.State.OPEN


def test_a_tender_that_is_not_open_takes_no_uploads(lot, alice):
    type(lot.tender).objects.filter(pk=lot.tender.pk).update(state=TenderState.SUSPENDED)
    lot.tender.refresh_from_db()
    with pytest.raises(DomainError) as exc:
        submission.upload_start(lot=lot, user=alice.user, size=10)
    assert code_of(exc) == "tender_not_open"


# --- the deadline: the server clock decides ---------------------------------------------------------


def test_upload_start_after_the_deadline_is_refused(clock, lot, alice):
    clock.set(w.DEADLINE)
    with pytest.raises(DomainError) as exc:
        submission.upload_start(lot=lot, user=alice.user, size=10)
    assert code_of(exc) == "bid_after_deadline"


def test_a_completion_one_microsecond_before_the_deadline_is_accepted(clock, lot, alice):
    env = w.seal(lot, alice)
    session = w.upload(lot, alice, env.ciphertext)
    clock.set(w.DEADLINE - dt.timedelta(microseconds=1))
    bid = w.complete_upload(session, alice, env)
    assert bid.status == Bid.Status.ACTIVE
    assert bid.submitted_at == w.DEADLINE - dt.timedelta(microseconds=1)


def test_a_completion_at_the_deadline_is_refused_and_the_upload_abandoned(
    clock, lot, alice, django_capture_on_commit_callbacks
):
    # given a fully uploaded envelope
    env = w.seal(lot, alice)
    session = w.upload(lot, alice, env.ciphertext)
    # when the completion arrives at the deadline by the server's clock
    clock.set(w.DEADLINE)
    with pytest.raises(DomainError) as exc, django_capture_on_commit_callbacks(execute=True):
        w.complete_upload(session, alice, env)
    # then it is refused, no bid exists, and the unfinished upload is abandoned with its parts
    assert code_of(exc) == "bid_after_deadline"
    assert not Bid.objects.exists()
    session.refresh_from_db()
    assert session.state == UploadSession.State.ABANDONED
    assert stored_parts(session) == []


def test_the_deadline_is_checked_again_under_the_lock(monkeypatch, clock, lot, alice):
    # given a completion whose checks start before the deadline, but the clock passes it during storage
    env = w.seal(lot, alice)
    session = w.upload(lot, alice, env.ciphertext)
    clock.set(w.DEADLINE - dt.timedelta(milliseconds=5))
    real_put = submission.blob_put

    def slow_put(**kwargs):
        blob = real_put(**kwargs)
        clock.set(w.DEADLINE)
        return blob

    monkeypatch.setattr(submission, "blob_put", slow_put)
    # when it is recorded, then the time read under the lot lock decides: refused
    with pytest.raises(DomainError) as exc:
        w.complete_upload(session, alice, env)
    assert code_of(exc) == "bid_after_deadline"
    assert not Bid.objects.exists()
    session.refresh_from_db()
    assert session.state == UploadSession.State.ABANDONED


def test_appending_after_the_deadline_is_refused(clock, lot, alice):
    session = submission.upload_start(lot=lot, user=alice.user, size=100)
    clock.set(w.DEADLINE + dt.timedelta(seconds=1))
    with pytest.raises(DomainError) as exc:
        submission.upload_append(upload=session, user=alice.user, offset=0, data=b"x" * 10)
    assert code_of(exc) == "bid_after_deadline"
    session.refresh_from_db()
    assert session.state == UploadSession.State.ABANDONED


def test_unfinished_uploads_are_abandoned_after_the_deadline_never_bids(clock, lot, alice, bob):
    # given one finished bid and one unfinished upload
    w.submit(lot, alice)
    unfinished = w.upload(lot, bob, b"z" * 7000, size=9000)
    # when the deadline passes and the sweep runs (twice: it is idempotent)
    clock.set(w.DEADLINE)
    first = submission.uploads_abandon_expired(lot=lot)
    second = submission.uploads_abandon_expired(lot=lot)
    # then the unfinished upload is abandoned and only alice has a bid
    assert (first, second) == (1, 0)
    unfinished.refresh_from_db()
    assert unfinished.state == UploadSession.State.ABANDONED
    assert list(Bid.objects.values_list("entity", flat=True)) == [alice.entity.pk]


# --- replace and withdraw -----------------------------------------------------------------------------


def test_a_second_bid_replaces_the_first(clock, lot, alice):
    first = w.submit(lot, alice, w.seal(lot, alice, price="4500000.00"))
    clock.advance(hours=1)
    second = w.submit(lot, alice, w.seal(lot, alice, price="4400000.00"))
    first.refresh_from_db()
    assert first.status == Bid.Status.REPLACED and first.replaced_by == second
    assert list(Bid.objects.filter(status=Bid.Status.ACTIVE)) == [second]
    payload = JournalEntry.objects.filter(action="bid.submit").order_by("seq").last().payload
    assert payload["replaces"] == str(first.pk)


def test_withdrawal_before_the_deadline(clock, lot, alice):
    bid = w.submit(lot, alice)
    clock.advance(hours=1)
    bid = submission.bid_withdraw(bid=bid, user=alice.user)
    assert bid.status == Bid.Status.WITHDRAWN and bid.withdrawn_at == clock()
    assert JournalEntry.objects.filter(stream=lot.tender.stream, action="bid.withdraw").count() == 1
    assert not Bid.objects.filter(status=Bid.Status.ACTIVE).exists()


def test_withdrawal_after_the_deadline_is_refused(clock, lot, alice):
    bid = w.submit(lot, alice)
    clock.set(w.DEADLINE)
    with pytest.raises(DomainError) as exc:
        submission.bid_withdraw(bid=bid, user=alice.user)
    assert code_of(exc) == "bid_after_deadline"
    bid.refresh_from_db()
    assert bid.status == Bid.Status.ACTIVE


def test_only_the_current_bid_of_ones_own_entity_can_be_withdrawn(clock, lot, alice, bob):
    first = w.submit(lot, alice)
    second = w.submit(lot, alice)
    with pytest.raises(DomainError) as exc:
        submission.bid_withdraw(bid=first, user=alice.user)
    assert code_of(exc) == "bid_not_active"
    with pytest.raises(DomainError) as exc:
        submission.bid_withdraw(bid=second, user=bob.user)
    assert code_of(exc) == "bid_not_yours"


def test_completing_the_same_upload_twice_gives_one_bid(lot, alice):
    env = w.seal(lot, alice)
    session = w.upload(lot, alice, env.ciphertext)
    stale = UploadSession.objects.get(pk=session.pk)
    w.complete_upload(session, alice, env)
    with pytest.raises(DomainError) as exc:
        submission.upload_complete(
            upload=stale, user=alice.user, header=env.header, signature=env.sealed.signature
        )
    assert code_of(exc) == "upload_not_open"
    assert Bid.objects.count() == 1


def test_an_upload_cancelled_while_it_is_being_completed_is_not_a_bid(
    monkeypatch, lot, alice, django_capture_on_commit_callbacks
):
    # given a completion during which the bidder cancels the same upload (its parts are deleted)
    env = w.seal(lot, alice)
    session = w.upload(lot, alice, env.ciphertext)
    real_verify = submission._verify

    def cancelled_meanwhile(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            submission.upload_abandon(upload=UploadSession.objects.get(pk=session.pk), user=alice.user)
        return real_verify(**kwargs)

    monkeypatch.setattr(submission, "_verify", cancelled_meanwhile)
    # when the completion goes on, then it is refused cleanly and nothing became a bid
    with pytest.raises(DomainError) as exc:
        w.complete_upload(session, alice, env)
    assert code_of(exc) == "upload_not_open"
    assert not Bid.objects.exists()


# --- verification refusals (the upload stays open to fix and retry) ---------------------------------


def _refused(lot, who, env, **complete):
    session = w.upload(lot, who, env.ciphertext)
    with pytest.raises(DomainError) as exc:
        w.complete_upload(session, who, env, **complete)
    session.refresh_from_db()
    assert session.state == UploadSession.State.OPEN
    assert not Bid.objects.exists()
    return code_of(exc)


def test_an_envelope_for_another_lot_is_refused(lot, alice):
    env = w.seal(lot, alice, lot_number=2)
    assert _refused(lot, alice, env) == "envelope_binding_mismatch"


def test_an_envelope_for_another_tender_is_refused(lot, alice):
    other = w.published_lot()
    env = w.seal(other, alice)
    assert _refused(lot, alice, env) == "envelope_binding_mismatch"


def test_an_envelope_naming_another_bidder_is_refused(lot, alice, bob):
    env = w.seal(lot, alice, bidder_uscc=bob.entity.uscc)
    assert _refused(lot, alice, env) == "envelope_binding_mismatch"


def test_another_entitys_certificate_is_refused(lot, alice, bob):
    # alice's envelope names bob's certificate (and is signed with bob's key)
    env = w.seal(lot, alice, cert_serial=bob.certificate.serial, signing_key=bob.key)
    assert _refused(lot, alice, env) == "envelope_certificate_invalid"


def test_a_revoked_certificate_is_refused(lot, alice):
    env = w.seal(lot, alice)
    certificate_revoke(certificate=alice.certificate, reason="key_compromise", actor=alice.user)
    assert _refused(lot, alice, env) == "envelope_certificate_invalid"


def test_a_signature_by_another_key_is_refused(lot, alice, bob):
    env = w.seal(lot, alice, signing_key=bob.key)
    assert _refused(lot, alice, env) == "envelope_signature_invalid"


def test_a_flipped_ciphertext_byte_is_refused(lot, alice):
    env = w.seal(lot, alice)
    damaged = bytearray(env.ciphertext)
    damaged[len(damaged) // 2] ^= 0x01
    env.ciphertext = bytes(damaged)
    assert _refused(lot, alice, env) == "envelope_signature_invalid"


def test_a_damaged_upload_with_declared_digest_is_a_digest_mismatch(lot, alice):
    env = w.seal(lot, alice)
    declared = {
        "ciphertext_sha256": env.sealed.ciphertext_sha256,
        "ciphertext_size": env.sealed.ciphertext_size,
    }
    damaged = bytearray(env.ciphertext)
    damaged[0] ^= 0x80
    env.ciphertext = bytes(damaged)
    assert _refused(lot, alice, env, **declared) == "envelope_digest_mismatch"


def test_a_ciphertext_of_the_wrong_length_is_refused(lot, alice):
    env = w.seal(lot, alice)
    env.ciphertext = env.ciphertext + b"\x00"
    assert _refused(lot, alice, env) == "envelope_size_invalid"


def test_a_malformed_header_is_refused(lot, alice):
    env = w.seal(lot, alice)
    assert _refused(lot, alice, env, header="e30") == "envelope_header_malformed"  # b64u("{}")


def test_a_refused_completion_can_be_retried_on_the_same_upload(lot, alice, bob):
    # given an upload whose first completion carried a wrong signature
    env = w.seal(lot, alice)
    session = w.upload(lot, alice, env.ciphertext)
    wrong = w.seal(lot, alice, signing_key=bob.key).sealed.signature
    with pytest.raises(DomainError):
        w.complete_upload(session, alice, env, signature=wrong)
    # when the client retries with the right one, then the same upload becomes the bid
    bid = w.complete_upload(session, alice, env)
    assert bid.upload_id == session.pk and bid.status == Bid.Status.ACTIVE


# --- the custodian wrap follows the tender's decryption policy ---------------------------------------


@pytest.fixture
def custodian_lot(clock):
    return w.published_lot(policy="bidder_custodian")


def test_custodian_policy_without_a_custodian_key_is_refused(custodian_lot, alice):
    env = w.seal(custodian_lot, alice)
    assert _refused(custodian_lot, alice, env) == "custodian_key_missing"


def test_custodian_policy_needs_the_custodian_wrap(custodian_lot, alice):
    w.custodian_key(custodian_lot.tender)
    env = w.seal(custodian_lot, alice)
    assert _refused(custodian_lot, alice, env) == "envelope_recipients_mismatch"


def test_custodian_wrap_to_the_tenders_key_is_accepted(custodian_lot, alice):
    from bidding import envelope

    key, private = w.custodian_key(custodian_lot.tender)
    recipient = envelope.Recipient(to="custodian", kid=key.key_id, public_key=private.public_key())
    bid = w.submit(custodian_lot, alice, w.seal(custodian_lot, alice, extra_recipients=(recipient,)))
    assert bid.status == Bid.Status.ACTIVE


def test_a_custodian_wrap_to_another_key_id_is_refused(custodian_lot, alice):
    from bidding import envelope

    _key, private = w.custodian_key(custodian_lot.tender)
    recipient = envelope.Recipient(to="custodian", kid="someone-else", public_key=private.public_key())
    env = w.seal(custodian_lot, alice, extra_recipients=(recipient,))
    assert _refused(custodian_lot, alice, env) == "envelope_recipients_mismatch"


def test_a_custodian_wrap_under_the_bidder_only_policy_is_refused(lot, alice):
    from bidding import envelope

    other = w.published_lot(policy="bidder_custodian")
    key, private = w.custodian_key(other.tender)
    recipient = envelope.Recipient(to="custodian", kid=key.key_id, public_key=private.public_key())
    env = w.seal(lot, alice, extra_recipients=(recipient,))
    assert _refused(lot, alice, env) == "envelope_recipients_mismatch"


# --- bid security with its source account (DOMAIN A6) -------------------------------------------------


@pytest.fixture
def centre():
    return UserFactory(role=Role.CENTRE)


def test_tb_transfer_from_the_basic_account_is_recorded_with_the_account(lot, alice, centre):
    account = w.basic_account(alice.entity)
    security = bid_security_record(
        lot=lot,
        entity=alice.entity,
        amount="80000",
        method="transfer",
        account=account,
        reference="BANK-2026-0001",
        actor=centre,
    )
    assert security.account == account and security.payer_account_number == account.account_number
    assert security.amount == w.money("80000.00") and security.verified_at is not None
    entry = JournalEntry.objects.get(action="bid_security.record")
    assert account.account_number not in str(entry.payload)


def test_tb_transfer_from_another_account_is_refused(lot, alice, centre):
    other = w.basic_account(alice.entity, "6222000011112222", basic=False)
    with pytest.raises(DomainError) as exc:
        bid_security_record(
            lot=lot,
            entity=alice.entity,
            amount="80000",
            method="transfer",
            account=other,
            reference="r",
            actor=centre,
        )
    assert code_of(exc) == "security_not_from_basic_account"
    assert not BidSecurity.objects.exists()


def test_tb_cash_from_an_unregistered_payer_number_is_refused(lot, alice, centre):
    w.basic_account(alice.entity)
    with pytest.raises(DomainError) as exc:
        bid_security_record(
            lot=lot,
            entity=alice.entity,
            amount="80000",
            method="cash",
            payer_account_number="6222999999999999",
            reference="",
            actor=centre,
        )
    assert code_of(exc) == "security_not_from_basic_account"


def test_a_typed_payer_number_is_linked_to_the_registered_basic_account(lot, alice, centre):
    account = w.basic_account(alice.entity)
    security = bid_security_record(
        lot=lot,
        entity=alice.entity,
        amount="80000",
        method="transfer",
        payer_account_number=account.account_number,
        reference="r",
        actor=centre,
    )
    assert security.account == account


def test_gp_takes_no_cash(clock, alice, centre):
    lot = w.published_lot(regime=Regime.GP)
    w.basic_account(alice.entity)
    with pytest.raises(DomainError) as exc:
        bid_security_record(
            lot=lot,
            entity=alice.entity,
            amount="80000",
            method="cash",
            payer_account_number="6222020200112233445",
            reference="",
            actor=centre,
        )
    assert code_of(exc) == "security_cash_not_allowed"


def test_a_guarantee_needs_its_number(lot, alice, centre):
    with pytest.raises(DomainError) as exc:
        bid_security_record(
            lot=lot, entity=alice.entity, amount="80000", method="guarantee", reference=" ", actor=centre
        )
    assert code_of(exc) == "security_reference_required"


def test_an_amount_below_the_lots_security_is_refused(lot, alice, centre):
    with pytest.raises(DomainError) as exc:
        bid_security_record(
            lot=lot, entity=alice.entity, amount="79999.99", method="guarantee", reference="G1", actor=centre
        )
    assert code_of(exc) == "security_amount_short"


def test_a_bidders_declaration_is_confirmed_by_the_centre_and_then_final(lot, alice, centre):
    # given alice declares her guarantee
    declared = bid_security_record(
        lot=lot, entity=alice.entity, amount="80000", method="guarantee", reference="G1", actor=alice.user
    )
    assert declared.verified_at is None
    # when the centre records what the bank shows, it replaces the declaration and is verified
    recorded = bid_security_record(
        lot=lot, entity=alice.entity, amount="80000", method="guarantee", reference="G1-BANK", actor=centre
    )
    assert recorded.pk == declared.pk and recorded.verified_at is not None and recorded.reference == "G1-BANK"
    # then a further record is refused
    with pytest.raises(DomainError) as exc:
        bid_security_record(
            lot=lot, entity=alice.entity, amount="80000", method="guarantee", reference="G2", actor=alice.user
        )
    assert code_of(exc) == "security_already_recorded"


def test_a_bidder_cannot_record_anothers_security(lot, alice, bob):
    with pytest.raises(DomainError) as exc:
        bid_security_record(
            lot=lot, entity=bob.entity, amount="80000", method="guarantee", reference="G", actor=alice.user
        )
    assert code_of(exc) == "security_not_allowed"


def test_a_bidder_declaration_after_the_deadline_is_refused(clock, lot, alice):
    clock.set(w.DEADLINE)
    with pytest.raises(DomainError) as exc:
        bid_security_record(
            lot=lot, entity=alice.entity, amount="80000", method="guarantee", reference="G", actor=alice.user
        )
    assert code_of(exc) == "security_after_deadline"


def test_the_centre_records_after_the_deadline_a_payment_received_before_it(clock, lot, alice, centre):
    clock.set(w.DEADLINE + dt.timedelta(hours=1))
    security = bid_security_record(
        lot=lot,
        entity=alice.entity,
        amount="80000",
        method="guarantee",
        reference="G",
        actor=centre,
        received_at=w.DEADLINE - dt.timedelta(days=1),
    )
    assert security.received_at == w.DEADLINE - dt.timedelta(days=1)
