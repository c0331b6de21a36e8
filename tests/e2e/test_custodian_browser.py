"""In Chromium: a custodian opens its share of a tender's opening key with its key file and hands it in
(static/bidding/custodian.js must agree with the Python wrap and commitments)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from bidding import custodian_client as cc
from bidding.models import CustodianKey
from tests.bidding.test_custodian import DEADLINE, make_world, publish, shares_of
from trading import keyclient

pytestmark = pytest.mark.django_db(transaction=True)

KEY_PASSWORD = "custodian key pass 1"


def test_a_custodian_hands_in_its_share_from_the_browser(live_server, new_context, clock, tmp_path):
    # given a published custodian tender and, after its deadline, a custodian with its key file
    clock.set(dt.datetime(2026, 3, 4, 9, 0, tzinfo=DEADLINE.tzinfo))
    world = make_world()
    tender = publish(world)
    share = shares_of(tender)[0]
    key_file = tmp_path / "custodian-key.json"
    key_file.write_bytes(
        keyclient.keyfile_dump(world["keys"][share.holder_id], KEY_PASSWORD, iterations=100_000)
    )
    clock.set(DEADLINE + dt.timedelta(minutes=1))
    client = Client()
    client.force_login(share.holder)
    context = new_context()
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    problems: list[str] = []
    bodies: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on(
        "console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None
    )
    page.on("request", lambda request: bodies.append(request.post_data or ""))

    # when it opens its page, chooses the key file, types the password and hands the share in
    page.goto(live_server.url + reverse("bidding:custodian-shares"))
    page.set_input_files("#custodian-keyfile", str(key_file))
    page.fill("#custodian-password", KEY_PASSWORD)
    page.click("button.custodian-reveal")
    page.wait_for_selector("tr.custodian-share:not(:has(button.custodian-reveal))")

    # then the platform holds the share, which matches its commitment, and only the share was sent
    share.refresh_from_db()
    assert share.revealed and share.revealed_at is not None, page.text_content(".custodian-status")
    assert cc.share_matches(cc.scalar_from_b64u(share.revealed), cc.b64u_decode(share.wrapped["commitment"]))
    assert "encrypted_pkcs8" not in "".join(bodies)
    assert CustodianKey.objects.get(tender=tender).reconstructed_at is None  # one of k = 2
    assert not problems, problems
