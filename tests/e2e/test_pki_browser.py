"""In Chromium: the bidder makes its key and CSR with WebCrypto, gets a certificate, then logs in with the key file."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from django.test import Client
from django.urls import reverse

from tests.factories import BidderUserFactory, PersonFactory
from trading import keyclient
from trading.models import ActivityEvidence, Certificate, CertificateStatus
from trading.services.pki import certificate_issue

pytestmark = pytest.mark.django_db(transaction=True)

KEY_PASSWORD = "browser key pass 1"


def _session_cookie(user, live_server) -> dict:
    client = Client()
    client.force_login(user)
    return {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}


def _watch(page, bodies: list, problems: list) -> None:
    page.on("request", lambda request: bodies.append(request.post_data or ""))
    # Script errors and CSP refusals (an inline script or style would show up here); not the favicon's 404.
    page.on(
        "console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None
    )
    page.on("pageerror", lambda exc: problems.append(str(exc)))


def test_browser_key_certificate_and_key_login(live_server, new_context, tmp_path):
    # given a bidder of a verified entity, signed in (by session cookie: there is no browser login here)
    bidder = BidderUserFactory(person=PersonFactory(name="陈浏览"))
    context = new_context(accept_downloads=True)
    context.add_cookies([_session_cookie(bidder, live_server)])
    page = context.new_page()
    bodies: list[str] = []
    problems: list[str] = []
    _watch(page, bodies, problems)

    # when the bidder opens the request page, makes the key in the browser and submits
    page.goto(live_server.url + reverse("trading:pki-request"))
    page.fill("#pki-password", KEY_PASSWORD)
    page.fill("#pki-password2", KEY_PASSWORD)
    with page.expect_download() as download_info:
        page.click("#pki-generate")
    key_file = tmp_path / "bidder-key.json"
    download_info.value.save_as(key_file)
    page.wait_for_selector("#pki-result:not([hidden])")
    serial = page.text_content("#pki-serial").strip()

    # then the certificate is listed for the bidder
    page.click("#pki-to-list")
    page.wait_for_selector(f'tr[data-serial="{serial}"]')
    assert "陈浏览" in page.text_content(f'tr[data-serial="{serial}"]')

    # and the database holds a certificate of that user for exactly the key the browser made
    cert = Certificate.objects.get(serial=serial)
    assert cert.user == bidder and cert.status == CertificateStatus.ACTIVE
    key = keyclient.key_load(key_file.read_bytes(), KEY_PASSWORD)
    assert cert.public_key_sha256 == keyclient.public_key_sha256(key)
    assert keyclient.keyfile_read(key_file.read_bytes())["certificate_serial"] == serial

    # and the private key never left the browser: no request carried it in any form
    private_der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    secret_hex = format(key.private_numbers().private_value, "064x")
    sent = "\n".join(bodies)
    assert "CERTIFICATE REQUEST" in sent
    assert "PRIVATE KEY" not in sent and "encrypted_pkcs8" not in sent
    assert base64.b64encode(private_der).decode()[:40] not in sent and secret_hex not in sent.lower()
    assert not problems, problems

    # when, in a fresh browser with no session, the bidder signs a login challenge with the key file
    fresh = new_context().new_page()
    fresh_problems: list[str] = []
    _watch(fresh, [], fresh_problems)
    fresh.goto(
        live_server.url + reverse("trading:key-login") + "?next=" + reverse("trading:pki-certificates")
    )
    fresh.fill("#pki-username", bidder.username)
    fresh.set_input_files("#pki-keyfile", str(key_file))
    fresh.fill("#pki-login-password", KEY_PASSWORD)
    fresh.click("#pki-login")

    # then the browser is logged in as the bidder and lands on its certificate list
    fresh.wait_for_url("**" + reverse("trading:pki-certificates"))
    fresh.wait_for_selector(f'tr[data-serial="{serial}"]')
    evidence = ActivityEvidence.objects.get(action=ActivityEvidence.Action.KEY_LOGIN)
    assert evidence.user == bidder and evidence.certificate_serial == serial
    assert not fresh_problems, fresh_problems


def _python_key_file(tmp_path):
    """A certified bidder whose key file was written by the Python client, not by the browser."""
    bidder = BidderUserFactory()
    key = keyclient.key_generate()
    cert = certificate_issue(user=bidder, csr_pem=keyclient.csr_build(key), actor=bidder)
    key_file = tmp_path / "k.json"
    key_file.write_bytes(
        keyclient.keyfile_dump(
            key, KEY_PASSWORD, username=bidder.username, certificate_serial=cert.serial, iterations=100_000
        )
    )
    return bidder, cert, key_file


def test_python_key_file_logs_in_from_the_browser(live_server, new_context, tmp_path):
    # given a key file written by the Python client
    bidder, cert, key_file = _python_key_file(tmp_path)
    page = new_context().new_page()
    page.goto(live_server.url + reverse("trading:key-login") + "?next=" + reverse("trading:pki-certificates"))
    # when the browser opens it and signs the challenge
    page.fill("#pki-username", bidder.username)
    page.set_input_files("#pki-keyfile", str(key_file))
    page.fill("#pki-login-password", KEY_PASSWORD)
    page.click("#pki-login")
    # then the two implementations agree: the bidder is logged in
    page.wait_for_url("**" + reverse("trading:pki-certificates"))
    page.wait_for_selector(f'tr[data-serial="{cert.serial}"]')


def test_wrong_key_password_is_refused_in_the_browser(live_server, new_context, tmp_path):
    # given a key file of a certified bidder
    bidder, _cert, key_file = _python_key_file(tmp_path)
    page = new_context().new_page()
    page.goto(live_server.url + reverse("trading:key-login"))
    # when the wrong password is given
    page.fill("#pki-username", bidder.username)
    page.set_input_files("#pki-keyfile", str(key_file))
    page.fill("#pki-login-password", "not the password")
    page.click("#pki-login")
    # then the page says so with the code, and no login happened
    page.wait_for_selector("#pki-status[data-error]")
    assert "key_password_wrong" in page.text_content("#pki-status")
    assert not ActivityEvidence.objects.exists()
