"""The submission HTTP API: recipients, resumable upload, completion with evidence, receipts, withdraw,
bid security; JSON errors with stable codes; access between bidders."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.urls import reverse

from bidding import envelope
from bidding.receipts import receipt_verify
from bidding.services import submission
from tests.bidding import submission_world as w
from tests.factories import BidderUserFactory, UserFactory
from trading import pki
from trading.models import ActivityEvidence, Role

pytestmark = pytest.mark.django_db

HARDWARE = {"cpu_id": "BFEBFBFF000906EA", "disk_serial": "S3Z8NB0K", "mac": "00-1A-2B-3C-4D-5E", "junk": "x"}


@pytest.fixture
def lot(clock):
    return w.published_lot()


@pytest.fixture
def alice(clock):
    return w.bidder()


@pytest.fixture
def bob(clock):
    return w.bidder()


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post_json(client, url, body=None, **extra):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json", **extra)


def error_code(response) -> str:
    return response.json()["error"]["code"]


def start(client, lot, size):
    return post_json(client, reverse("bidding:upload-start", args=[lot.pk]), {"size": size})


def put_part(client, upload_id, offset, data):
    url = reverse("bidding:upload", args=[upload_id]) + f"?offset={offset}"
    return client.put(url, data=data, content_type="application/octet-stream")


def upload_all(client, lot, data, part=w.PART) -> str:
    response = start(client, lot, len(data))
    assert response.status_code == 201
    upload_id = response.json()["upload_id"]
    for offset in range(0, len(data), part):
        assert put_part(client, upload_id, offset, data[offset : offset + part]).status_code == 200
    return upload_id


def complete(client, upload_id, env, **extra_body):
    body = {"header": env.header, "signature": env.sealed.signature, **extra_body}
    return post_json(
        client,
        reverse("bidding:upload-complete", args=[upload_id]),
        body,
        headers={"X-Client-Hardware": json.dumps(HARDWARE), "User-Agent": "GJSeal-test/1.0"},
        REMOTE_ADDR="203.0.113.7",
    )


# --- recipients -------------------------------------------------------------------------------------


def test_recipients_name_the_binding_the_bidders_key_and_the_server_clock(clock, lot, alice):
    response = client_for(alice.user).get(reverse("bidding:recipients", args=[lot.pk]))
    assert response.status_code == 200
    data = response.json()
    assert (data["tender"], data["lot"], data["bidder"], data["cert"]) == (
        lot.tender.code,
        1,
        alice.entity.uscc,
        alice.certificate.serial,
    )
    assert data["recipients"] == [
        {
            "to": "bidder",
            "kid": alice.certificate.serial,
            "public_key": envelope.public_key_b64u(alice.key.public_key()),
        }
    ]
    assert data["chunk"] == 1024 * 1024
    assert dt.datetime.fromisoformat(data["server_time"]) == clock()
    assert dt.datetime.fromisoformat(data["deadline"]) == w.DEADLINE
    assert data["read_out_items"] == ["工期", "质量"]


def test_recipients_need_an_active_certificate(lot):
    user = BidderUserFactory()
    response = client_for(user).get(reverse("bidding:recipients", args=[lot.pk]))
    assert response.status_code == 403
    assert error_code(response) == "certificate_required"


def test_recipients_under_the_custodian_policy(clock, alice):
    lot = w.published_lot(policy="bidder_custodian")
    client = client_for(alice.user)
    url = reverse("bidding:recipients", args=[lot.pk])
    missing = client.get(url)
    assert (missing.status_code, error_code(missing)) == (409, "custodian_key_missing")
    key, _private = w.custodian_key(lot.tender)
    recipients = client.get(url).json()["recipients"]
    assert recipients[1] == {"to": "custodian", "kid": key.key_id, "public_key": key.public_key}


# --- the whole flow over HTTP -------------------------------------------------------------------------


def test_upload_resume_complete_receipt_and_withdraw_over_http(clock, lot, alice):
    client = client_for(alice.user)
    env = w.seal(lot, alice)
    data = env.ciphertext
    # start
    started = start(client, lot, len(data))
    assert started.status_code == 201
    body = started.json()
    assert body["received"] == 0 and body["part_max"] == submission.PART_MAX
    upload_id = body["upload_id"]
    # first part, then a stale resend is told where to resume
    assert put_part(client, upload_id, 0, data[:6000]).json() == {"received": 6000}
    stale = put_part(client, upload_id, 0, data[:6000])
    assert (stale.status_code, error_code(stale)) == (409, "upload_offset_mismatch")
    status = client.get(reverse("bidding:upload", args=[upload_id])).json()
    assert (status["received"], status["expected_size"], status["state"]) == (6000, len(data), "open")
    assert put_part(client, upload_id, 6000, data[6000:]).json() == {"received": len(data)}
    # complete
    done = complete(client, upload_id, env, file_meta={"author": "李四", "pricing_software": "广联达"})
    assert done.status_code == 201
    bid_id = done.json()["bid_id"]
    receipt = receipt_verify(done.json()["receipt"], ca_pem=pki.ca_certificate_pem())
    assert receipt["bid_id"] == bid_id
    # the evidence of the upload: address, agent, hardware (known keys only), metadata
    evidence = ActivityEvidence.objects.get(action="upload")
    assert str(evidence.ip) == "203.0.113.7" and evidence.user_agent == "GJSeal-test/1.0"
    assert evidence.hardware == {k: v for k, v in HARDWARE.items() if k != "junk"}
    assert evidence.file_meta == {"author": "李四", "pricing_software": "广联达"}
    # the receipt can be fetched again, and the bid appears in the bidder's list
    again = client.get(reverse("bidding:bid-receipt", args=[bid_id]))
    assert again.json() == done.json()["receipt"]
    mine = client.get(reverse("bidding:bids-mine", args=[lot.pk])).json()["bids"]
    assert [(b["bid_id"], b["status"]) for b in mine] == [(bid_id, "active")]
    # withdraw
    withdrawn = post_json(client, reverse("bidding:bid-withdraw", args=[bid_id]))
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"


def test_a_late_completion_is_refused_over_http(clock, lot, alice):
    client = client_for(alice.user)
    env = w.seal(lot, alice)
    upload_id = upload_all(client, lot, env.ciphertext)
    clock.set(w.DEADLINE + dt.timedelta(milliseconds=1))
    client.force_login(alice.user)  # the session from weeks ago has expired meanwhile
    response = complete(client, upload_id, env)
    assert (response.status_code, error_code(response)) == (422, "bid_after_deadline")
    status = client.get(reverse("bidding:upload", args=[upload_id])).json()
    assert status["state"] == "abandoned" and status["deadline_passed"] is True


def test_a_refused_envelope_is_reported_with_its_code(lot, alice, bob):
    client = client_for(alice.user)
    env = w.seal(lot, alice, signing_key=bob.key)
    upload_id = upload_all(client, lot, env.ciphertext)
    response = complete(client, upload_id, env)
    assert (response.status_code, error_code(response)) == (400, "envelope_signature_invalid")


def test_cancel_an_upload(lot, alice):
    client = client_for(alice.user)
    upload_id = start(client, lot, 100).json()["upload_id"]
    response = client.delete(reverse("bidding:upload", args=[upload_id]))
    assert response.status_code == 200 and response.json()["state"] == "abandoned"


# --- request checks and access ------------------------------------------------------------------------


def test_anonymous_requests_are_told_to_log_in(lot):
    response = Client().post(
        reverse("bidding:upload-start", args=[lot.pk]), data="{}", content_type="application/json"
    )
    assert (response.status_code, error_code(response)) == (401, "not_authenticated")


def test_another_bidders_upload_and_bid_look_missing(lot, alice, bob):
    alice_client, bob_client = client_for(alice.user), client_for(bob.user)
    env = w.seal(lot, alice)
    upload_id = upload_all(alice_client, lot, env.ciphertext)
    bid_id = complete(alice_client, upload_id, env).json()["bid_id"]
    response = bob_client.get(reverse("bidding:upload", args=[upload_id]))
    assert (response.status_code, error_code(response)) == (404, "upload_not_found")
    for name in ("bidding:bid-receipt",):
        response = bob_client.get(reverse(name, args=[bid_id]))
        assert (response.status_code, error_code(response)) == (404, "bid_not_found")
    response = post_json(bob_client, reverse("bidding:bid-withdraw", args=[bid_id]))
    assert (response.status_code, error_code(response)) == (404, "bid_not_found")


def test_a_draft_tenders_lot_is_not_found(clock, alice):
    lot = w.published_lot(state="draft", published_at=None)
    response = start(client_for(alice.user), lot, 10)
    assert (response.status_code, error_code(response)) == (404, "lot_not_found")


def test_wrong_method_and_bad_offset_and_bad_json(lot, alice):
    client = client_for(alice.user)
    wrong = client.get(reverse("bidding:upload-start", args=[lot.pk]))
    assert (wrong.status_code, error_code(wrong)) == (405, "method_not_allowed")
    upload_id = start(client, lot, 100).json()["upload_id"]
    bad = client.put(
        reverse("bidding:upload", args=[upload_id]) + "?offset=x",
        data=b"abc",
        content_type="application/octet-stream",
    )
    assert (bad.status_code, error_code(bad)) == (400, "upload_offset_invalid")
    garbled = client.post(
        reverse("bidding:upload-start", args=[lot.pk]), data="{", content_type="application/json"
    )
    assert (garbled.status_code, error_code(garbled)) == (400, "json_malformed")


def test_an_oversized_part_is_refused_whole(monkeypatch, lot, alice):
    monkeypatch.setattr(submission, "PART_MAX", 1000)
    client = client_for(alice.user)
    upload_id = start(client, lot, 5000).json()["upload_id"]
    response = put_part(client, upload_id, 0, b"x" * 1001)
    assert (response.status_code, error_code(response)) == (413, "upload_part_too_large")
    assert client.get(reverse("bidding:upload", args=[upload_id])).json()["received"] == 0


def test_posts_need_the_csrf_token(lot, alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice.user)
    response = start(client, lot, 10)
    assert response.status_code == 403


# --- bid security ---------------------------------------------------------------------------------------


def test_bidder_declares_and_centre_records_bid_security(lot, alice):
    url = reverse("bidding:security-record", args=[lot.pk])
    account = w.basic_account(alice.entity)
    declared = post_json(
        client_for(alice.user),
        url,
        {"amount": "80000.00", "method": "transfer", "account": account.pk, "reference": "TX1"},
    )
    assert declared.status_code == 201 and declared.json()["verified"] is False
    recorded = post_json(
        client_for(UserFactory(role=Role.CENTRE)),
        url,
        {
            "entity": alice.entity.uscc,
            "amount": "80000.00",
            "method": "transfer",
            "payer_account_number": account.account_number,
            "reference": "TX1-BANK",
        },
    )
    assert recorded.status_code == 201
    assert recorded.json()["verified"] is True and recorded.json()["account"] == account.pk


def test_bid_security_from_a_non_basic_account_is_refused_over_http(lot, alice):
    account = w.basic_account(alice.entity, "6222000011112222", basic=False)
    response = post_json(
        client_for(alice.user),
        reverse("bidding:security-record", args=[lot.pk]),
        {"amount": "80000.00", "method": "transfer", "account": account.pk, "reference": "TX1"},
    )
    assert (response.status_code, error_code(response)) == (422, "security_not_from_basic_account")
