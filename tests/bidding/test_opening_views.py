"""The opening hall over HTTP (the page, its state as JSON, sign-in with a power of attorney, the
record as JSON and PDF) and the `run_openings` command."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from bidding import envelope
from bidding.models import Attendance, OpeningSession
from bidding.opening import rules, services
from core.canonical import canonical_json
from tests.bidding.opening_world import DEADLINE, hall_world, to_readout
from tests.factories import BidderUserFactory
from trading.keyclient import signature_candidates
from trading.models import TenderState

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(clock):
    return hall_world(clock=clock)


def logged_in(client, user):
    client.force_login(user)
    return client


def test_the_hall_page_is_for_the_lots_participants(world, client, clock):
    url = reverse("bidding:opening", args=[world.lot.pk])

    assert client.get(url).status_code == 302  # to the login page
    page = logged_in(client, world.bidders[0].user).get(url)
    assert page.status_code == 200
    assert f'data-ws-path="/ws/opening/{world.lot.pk}/"'.encode() in page.content
    stranger = logged_in(client, BidderUserFactory()).get(url, HTTP_ACCEPT="application/json")
    assert stranger.status_code == 403 and stranger.json()["error"]["code"] == "hall_forbidden"


def test_the_state_endpoint_ticks_and_hides_the_bidders_before_the_deadline(world, client, clock):
    clock.set(DEADLINE - dt.timedelta(hours=3))

    state = logged_in(client, world.host).get(reverse("bidding:opening-state", args=[world.lot.pk])).json()

    assert state["hall"]["phase"] == "signin" and state["hall"]["bidders"] == []
    assert state["me"]["role"] == "host" and state["me"]["host"] == {}


def test_signin_over_http_keeps_the_power_of_attorney(world, client, clock):
    clock.set(DEADLINE - dt.timedelta(hours=3))
    attorney = SimpleUploadedFile(
        "授权委托书.pdf", b"%PDF-1.7 power of attorney", content_type="application/pdf"
    )

    response = logged_in(client, world.bidders[0].user).post(
        reverse("bidding:opening-signin", args=[world.lot.pk]), {"attorney": attorney}
    )

    assert response.status_code == 200 and response.json()["me"]["signed_in"] is True
    assert Attendance.objects.get().attorney.size == len(b"%PDF-1.7 power of attorney")


def test_a_power_of_attorney_is_a_pdf_or_an_image(world, client, clock):
    clock.set(DEADLINE - dt.timedelta(hours=3))
    program = SimpleUploadedFile("委托书.exe", b"MZ", content_type="application/x-msdownload")

    response = logged_in(client, world.bidders[0].user).post(
        reverse("bidding:opening-signin", args=[world.lot.pk]),
        {"attorney": program},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 400 and response.json()["error"]["code"] == "attorney_invalid"
    assert not Attendance.objects.exists()


def closed_hall(world, clock):
    to_readout(world, clock)
    services.opening_start_confirmation(lot=world.lot, actor=world.host)
    record = OpeningSession.objects.get(lot=world.lot).record
    message = rules.confirmation_message(body_sha256=record.data["body_sha256"])
    for b in world.bidders:
        signature = envelope.b64u(b.key.sign(message, ec.ECDSA(hashes.SHA256())))
        services.bid_confirm_record(lot=world.lot, user=b.user, signature=signature)
    return services.opening_close(lot=world.lot, actor=world.host)


def test_the_record_is_downloadable_and_verifiable_offline(world, client, clock):
    logged_in(client, world.regulator)
    json_url = reverse("bidding:opening-record", args=[world.lot.pk])
    assert client.get(json_url, HTTP_ACCEPT="application/json").json()["error"]["code"] == "record_not_found"
    closed_hall(world, clock)
    logged_in(client, world.regulator)  # again: the session expired while the clock moved on

    pdf = client.get(reverse("bidding:opening-record-pdf", args=[world.lot.pk]))
    published = client.get(json_url).json()

    assert pdf["Content-Type"] == "application/pdf" and b"".join(pdf.streaming_content).startswith(b"%PDF-")
    # offline: the platform certificate in the answer verifies the signature over the canonical data
    certificate = x509.load_pem_x509_certificate(published["platform_certificate"].encode())
    signature = envelope.b64u_decode(published["platform_signature"], what="signature")
    certificate.public_key().verify(
        signature_candidates(signature)[0], canonical_json(published["data"]), ec.ECDSA(hashes.SHA256())
    )
    assert [c["method"] for c in published["data"]["confirmations"]] == ["signature"] * 3


def test_run_openings_ticks_the_halls_that_are_due(world, clock):
    # given the deadline passed with nobody in the hall
    clock.set(DEADLINE + dt.timedelta(minutes=1))

    call_command("run_openings", "--once")

    world.tender.refresh_from_db()
    assert world.tender.state == TenderState.OPENING
    assert OpeningSession.objects.get(lot=world.lot).version == 1
