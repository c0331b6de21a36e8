"""In Chromium: the opening hall with the host and two bidders in three browser contexts. The bidders
sign in and decrypt in their browsers with their key files; the host runs the steps; both bidders
see the same read-out at the same moment; a reload mid-opening resumes the same phase and data.

The hall needs websockets, so the server here is Daphne, run in a thread of this process: it then
shares the test database (SQLite in memory) and the clock fixture with the test.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from bidding.opening import services
from tests.bidding.opening_world import DEADLINE, hall_world
from trading import keyclient

pytestmark = pytest.mark.django_db(transaction=True)

KEY_PASSWORD = "hall key pass 1"


def on_server(loop, fn, **kwargs):
    """Run a service on the server's event loop, as a consumer would, so its events reach the
    sockets through the same (in-memory) channel layer."""
    return asyncio.run_coroutine_threadsafe(database_sync_to_async(fn)(**kwargs), loop).result(30)


def open_hall(new_context, base, user, lot_id):
    client = Client()
    client.force_login(user)
    context = new_context()
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}])
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{base}/bidding/lots/{lot_id}/opening/")
    page.wait_for_selector("#hall[data-version]")
    return page, problems


def phase_is(page, phase, timeout=20_000):
    page.wait_for_selector(f'#hall[data-phase="{phase}"]', timeout=timeout)


def test_two_bidders_see_the_same_readout_and_a_reload_resumes(daphne_url, new_context, clock, tmp_path):
    base, loop = daphne_url
    # given a tender with three sealed bids, the evening before its deadline
    world = hall_world(clock=clock, bids=3)
    clock.set(DEADLINE - dt.timedelta(hours=1))
    on_server(loop, services.opening_tick, lot=world.lot)
    pages, problems = [], []
    for b in world.bidders[:2]:
        page, found = open_hall(new_context, base, b.user, world.lot.pk)
        pages.append(page)
        problems.append(found)
    host, host_problems = open_hall(new_context, base, world.host, world.lot.pk)

    # when two bidders sign in on their pages (the third through the service)
    for page in pages:
        page.click("#hall-signin")
        page.wait_for_selector("#hall-signin-form", state="hidden")
    on_server(loop, services.opening_signin, lot=world.lot, user=world.bidders[2].user)

    # and at the deadline the host publishes the bidder list and opens decryption
    clock.set(DEADLINE)
    host.click("#host-publish")  # shown once the server's clock says the deadline passed
    phase_is(host, "bidders")
    host.click("#host-start-decryption")
    for page in pages:
        phase_is(page, "decryption")

    # a reload in the middle of the opening resumes the same phase and bidder list
    before = pages[0].inner_text("#hall-bidders tbody")
    pages[0].reload()
    phase_is(pages[0], "decryption")
    assert pages[0].inner_text("#hall-bidders tbody") == before

    # and each bidder decrypts in its browser with its key file
    for page, b in zip(pages, world.bidders, strict=False):
        key_file = tmp_path / f"key-{b.user.pk}.json"
        key_file.write_bytes(
            keyclient.keyfile_dump(
                b.key, KEY_PASSWORD, username=b.user.username, certificate_serial=b.cert.serial
            )
        )
        page.set_input_files("#hall-keyfile", str(key_file))
        page.fill("#hall-key-password", KEY_PASSWORD)
        page.click("#hall-decrypt")
        page.wait_for_selector(f'#hall-bidders tr[data-entity="{b.entity.pk}"][data-decryption="ok"]')
    on_server(
        loop,
        services.bid_decrypt,
        bid=world.bidders[2].bid,
        cek=world.bidders[2].cek,
        actor=world.bidders[2].user,
    )

    # when the host reads out the bids
    host.wait_for_selector('#hall-bidders tr[data-decryption="ok"] >> nth=2')
    host.click("#host-start-readout")

    # then both bidders show the same read-out, at the same moment
    for page in pages:
        page.wait_for_selector("#hall-readout:not([hidden])")
    shown = [page.inner_text("#hall-readout tbody") for page in pages]
    moments = [int(page.get_attribute("#hall-readout", "data-rendered-at")) for page in pages]
    assert shown[0] == shown[1]
    assert "4000000.00 CNY" in shown[0] and "4020000.00 CNY" in shown[0]
    assert abs(moments[0] - moments[1]) < 1000, moments

    # and a reload during the read-out resumes it, with the same data
    pages[1].reload()
    phase_is(pages[1], "readout")
    pages[1].wait_for_selector("#hall-readout:not([hidden])")
    assert pages[1].inner_text("#hall-readout tbody") == shown[1]
    assert problems == [[], []] and host_problems == []
