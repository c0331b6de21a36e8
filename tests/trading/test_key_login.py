"""Login by signing a server challenge with a certified key: success, replay, expiry, revocation, step-up."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from django.test import Client
from django.test.client import RequestFactory
from django.urls import reverse

from archive.models import JournalEntry
from tests.factories import BidderUserFactory
from trading import keyclient
from trading.models import ActivityEvidence, AuthChallenge
from trading.services.pki import (
    auth_challenge_create,
    certificate_issue,
    certificate_revoke,
    key_login_verify,
    key_proof_missing,
    session_has_key_proof,
)

pytestmark = pytest.mark.django_db

CHALLENGE_URL = reverse("trading:key-login-challenge")
LOGIN_URL = reverse("trading:key-login")


@pytest.fixture
def bidder():
    return BidderUserFactory()


@pytest.fixture
def key():
    return keyclient.key_generate()


@pytest.fixture
def certificate(clock, bidder, key):
    return certificate_issue(user=bidder, csr_pem=keyclient.csr_build(key), actor=bidder)


def challenge(client, username) -> str:
    response = client.get(CHALLENGE_URL, {"username": username})
    assert response.status_code == 200
    return response.json()["nonce"]


def answer(client, *, username, key, nonce, serial="", sign_as=None, **extra):
    signature = keyclient.challenge_sign(key, nonce=nonce, username=sign_as or username)
    body = {"username": username, "nonce": nonce, "signature": signature, "certificate_serial": serial}
    return client.post(
        LOGIN_URL,
        data=json.dumps(body),
        content_type="application/json",
        headers={"user-agent": "pytest-browser/1.0"},
        **extra,
    )


def error_code(response) -> str:
    return response.json()["error"]["code"]


def logged_in_as(client) -> str | None:
    return client.session.get("_auth_user_id")


# --- success ------------------------------------------------------------------------------------


def test_signed_challenge_logs_the_user_in_and_records_evidence(client, bidder, key, certificate):
    # given a challenge for the bidder
    nonce = challenge(client, bidder.username)
    # when the bidder answers it with the certified key
    response = answer(client, username=bidder.username, key=key, nonce=nonce)
    # then the session belongs to the bidder and remembers the certificate
    assert response.status_code == 200, response.content
    assert response.json()["certificate_serial"] == certificate.serial
    assert logged_in_as(client) == str(bidder.pk)
    assert client.session["key_verified"] == certificate.serial
    # and the login left evidence and a journal entry
    evidence = ActivityEvidence.objects.get(action=ActivityEvidence.Action.KEY_LOGIN)
    assert (evidence.user, evidence.entity, evidence.certificate_serial) == (
        bidder,
        bidder.entity,
        certificate.serial,
    )
    assert evidence.ip == "127.0.0.1" and evidence.user_agent == "pytest-browser/1.0"
    assert (
        JournalEntry.objects.filter(action="auth.key_login", stream=f"entity:{bidder.entity_id}").count() == 1
    )


def test_webcrypto_raw_signature_is_accepted(client, bidder, key, certificate):
    # given the challenge signed and sent as WebCrypto does: raw r||s, 64 bytes
    nonce = challenge(client, bidder.username)
    der = base64.b64decode(keyclient.challenge_sign(key, nonce=nonce, username=bidder.username))
    r, s = decode_dss_signature(der)
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    body = {"username": bidder.username, "nonce": nonce, "signature": base64.b64encode(raw).decode()}
    # when posted
    response = client.post(LOGIN_URL, data=body, content_type="application/json")
    # then it logs in
    assert response.status_code == 200 and logged_in_as(client) == str(bidder.pk)


def test_challenge_says_when_it_expires(clock, client, bidder):
    response = client.get(CHALLENGE_URL, {"username": bidder.username})
    body = response.json()
    assert len(body["nonce"]) == 64 and int(body["nonce"], 16) >= 0
    assert body["server_time"] == clock().isoformat()
    assert body["expires_at"] == clock.advance(seconds=120).isoformat()
    assert AuthChallenge.objects.get(nonce=body["nonce"]).user == bidder


def test_challenge_without_a_username_is_refused(client):
    response = client.get(CHALLENGE_URL)
    assert response.status_code == 400 and error_code(response) == "username_required"


def test_scripted_client_takes_its_csrf_cookie_from_the_challenge(bidder, key, certificate):
    # given a client that enforces CSRF, as a real browser session would be
    client = Client(enforce_csrf_checks=True)
    nonce = challenge(client, bidder.username)
    # when it answers without the token, it is refused; with the cookie's token, it passes
    assert answer(client, username=bidder.username, key=key, nonce=nonce).status_code == 403
    token = client.cookies["csrftoken"].value
    response = answer(client, username=bidder.username, key=key, nonce=nonce, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200 and logged_in_as(client) == str(bidder.pk)


# --- refusals -----------------------------------------------------------------------------------


def test_replayed_nonce_is_refused(client, bidder, key, certificate):
    # given a challenge already answered once
    nonce = challenge(client, bidder.username)
    assert answer(client, username=bidder.username, key=key, nonce=nonce).status_code == 200
    # when the same answer is sent again from another client
    replay = answer(Client(), username=bidder.username, key=key, nonce=nonce)
    # then it is refused
    assert replay.status_code == 409 and error_code(replay) == "challenge_used"


def test_a_failed_answer_burns_the_nonce(client, bidder, key, certificate):
    nonce = challenge(client, bidder.username)
    wrong = answer(client, username=bidder.username, key=keyclient.key_generate(), nonce=nonce)
    assert error_code(wrong) == "challenge_signature_invalid"
    retry = answer(client, username=bidder.username, key=key, nonce=nonce)
    assert error_code(retry) == "challenge_used" and logged_in_as(client) is None


@pytest.mark.parametrize(("seconds", "status"), [(120, 200), (121, 401)])
def test_nonce_expires_after_two_minutes(clock, client, bidder, key, certificate, seconds, status):
    nonce = challenge(client, bidder.username)
    clock.advance(seconds=seconds)
    response = answer(client, username=bidder.username, key=key, nonce=nonce)
    assert response.status_code == status
    if status != 200:
        assert error_code(response) == "challenge_expired" and logged_in_as(client) is None


def test_unknown_nonce_is_refused(client, bidder, key, certificate):
    response = answer(client, username=bidder.username, key=key, nonce="0" * 64)
    assert error_code(response) == "challenge_unknown"


def test_malformed_nonce_is_refused(client, bidder, key, certificate):
    body = {"username": bidder.username, "nonce": "../etc", "signature": "AAAA"}
    response = client.post(LOGIN_URL, data=body, content_type="application/json")
    assert response.status_code == 400 and error_code(response) == "challenge_malformed"


def test_malformed_json_is_refused(client):
    response = client.post(LOGIN_URL, data="{not json", content_type="application/json")
    assert response.status_code == 400 and error_code(response) == "json_malformed"


def test_signature_over_another_message_is_refused(client, bidder, key, certificate):
    nonce = challenge(client, bidder.username)
    response = answer(client, username=bidder.username, key=key, nonce=nonce, sign_as=bidder.username + "x")
    assert response.status_code == 401 and error_code(response) == "challenge_signature_invalid"


def test_revoked_certificate_is_refused(client, bidder, key, certificate):
    certificate_revoke(certificate=certificate, reason="key_compromise", actor=bidder)
    nonce = challenge(client, bidder.username)
    response = answer(client, username=bidder.username, key=key, nonce=nonce)
    assert response.status_code == 401 and error_code(response) == "certificate_revoked"
    assert logged_in_as(client) is None


def test_expired_certificate_is_refused(clock, client, bidder, key, certificate):
    clock.set(certificate.not_after)
    clock.advance(seconds=1)
    nonce = challenge(client, bidder.username)
    response = answer(client, username=bidder.username, key=key, nonce=nonce)
    assert error_code(response) == "certificate_expired"


def test_another_users_key_does_not_log_in(clock, client, bidder, certificate):
    # given another bidder with its own certificate
    other = BidderUserFactory()
    other_key = keyclient.key_generate()
    certificate_issue(user=other, csr_pem=keyclient.csr_build(other_key), actor=other)
    # when the other bidder's key answers a challenge for our bidder
    nonce = challenge(client, bidder.username)
    response = answer(client, username=bidder.username, key=other_key, nonce=nonce)
    # then no login
    assert error_code(response) == "challenge_signature_invalid" and logged_in_as(client) is None


def test_another_users_certificate_serial_is_not_found(clock, client, bidder, certificate):
    other = BidderUserFactory()
    other_key = keyclient.key_generate()
    theirs = certificate_issue(user=other, csr_pem=keyclient.csr_build(other_key), actor=other)
    nonce = challenge(client, bidder.username)
    response = answer(client, username=bidder.username, key=other_key, nonce=nonce, serial=theirs.serial)
    assert error_code(response) == "certificate_not_found" and logged_in_as(client) is None


def test_challenge_issued_for_one_account_cannot_log_in_another(clock, client, bidder, certificate):
    other = BidderUserFactory()
    other_key = keyclient.key_generate()
    certificate_issue(user=other, csr_pem=keyclient.csr_build(other_key), actor=other)
    nonce = challenge(client, bidder.username)
    response = answer(client, username=other.username, key=other_key, nonce=nonce)
    assert error_code(response) == "challenge_user_mismatch" and logged_in_as(client) is None


@pytest.mark.parametrize("username", ["nobody-here", "without-certificate"])
def test_unknown_user_and_user_without_certificate_look_the_same(clock, client, username):
    BidderUserFactory(username="without-certificate")
    nonce = challenge(client, username)
    response = answer(client, username=username, key=keyclient.key_generate(), nonce=nonce)
    assert response.status_code == 401 and error_code(response) == "certificate_not_found"


def test_locked_account_is_refused(clock, client, bidder, key, certificate):
    bidder.locked_until = clock.advance(minutes=5)
    bidder.save(update_fields=["locked_until"])
    clock.advance(minutes=-5)
    nonce = challenge(client, bidder.username)
    assert error_code(answer(client, username=bidder.username, key=key, nonce=nonce)) == "account_locked"


# --- step-up ------------------------------------------------------------------------------------


def _request_with(client):
    request = RequestFactory().get("/")
    request.session = client.session
    from django.contrib.auth import get_user

    request.user = get_user(request)
    return request


def test_password_session_has_no_key_proof_until_a_challenge_is_signed(client, bidder, key, certificate):
    # given a bidder logged in with a password, who must also prove the key
    bidder.require_key_login = True
    bidder.save(update_fields=["require_key_login"])
    client.force_login(bidder)
    assert not session_has_key_proof(_request_with(client))
    assert key_proof_missing(_request_with(client))
    # when the same session signs a challenge
    nonce = challenge(client, bidder.username)
    assert answer(client, username=bidder.username, key=key, nonce=nonce).status_code == 200
    # then the session carries the proof, for the same user
    assert logged_in_as(client) == str(bidder.pk)
    assert session_has_key_proof(_request_with(client))
    assert not key_proof_missing(_request_with(client))


def test_key_proof_ends_when_the_certificate_is_revoked(client, bidder, key, certificate):
    nonce = challenge(client, bidder.username)
    answer(client, username=bidder.username, key=key, nonce=nonce)
    certificate_revoke(certificate=certificate, reason="key_compromise", actor=bidder)
    assert not session_has_key_proof(_request_with(client))


def test_service_returns_the_user_with_the_certificate_used(clock, bidder, key, certificate):
    nonce = auth_challenge_create(user=bidder).nonce
    user = key_login_verify(
        username=bidder.username,
        nonce=nonce,
        signature_b64=keyclient.challenge_sign(key, nonce=nonce, username=bidder.username),
    )
    assert user == bidder and user.key_certificate == certificate


def test_key_login_page_renders_with_the_script_and_no_inline_code(client):
    response = client.get(LOGIN_URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'nonce="{response.context["csp_nonce"]}"' in html
    assert "<script>" not in html and "style=" not in html
    assert "csrftoken" in response.cookies


def test_password_only_session_cannot_request_a_certificate_when_key_login_is_required(client, bidder, key):
    # given a bidder who must log in with a key, holding only a password session
    bidder.require_key_login = True
    bidder.save(update_fields=["require_key_login"])
    client.force_login(bidder)
    # when the browser posts a CSR
    response = client.post(
        reverse("trading:pki-request"),
        data={"csr": keyclient.csr_build(key).decode()},
        content_type="application/json",
    )
    # then it is refused until the key is proved
    assert response.status_code == 403 and error_code(response) == "key_login_required"
