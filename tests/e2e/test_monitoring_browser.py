"""In Chromium: a regulator follows the alert queue live, a new alert arrives without a reload; they open
it, see the evidence picture (an inline <svg> with its nodes) and the indicators, confirm it with a
two-year disqualification, and the entity's credit record page shows the record made from the alert.

The queue needs its websocket, so the server is Daphne in a thread of this process, sharing the test
database and the clock (as tests/e2e/test_evaluation_room.py). Assertions use ids and data attributes,
never English text: the UI is in Chinese by default.
"""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from monitoring.models import Alert
from monitoring.services import alerts as svc
from tests.factories import LotFactory
from tests.monitoring.test_views import DEPOSIT_SOURCE, build_world, evidence_graph, finding
from trading.models import CreditRecord

pytestmark = pytest.mark.django_db(transaction=True)


def on_server(loop, fn, **kwargs):
    """Run on the server's event loop, as a consumer would, so events reach the sockets through the
    same (in-memory) channel layer."""
    return asyncio.run_coroutine_threadsafe(database_sync_to_async(fn)(**kwargs), loop).result(60)


def raise_alert(world):
    """The pipeline's way in: a statutory finding (deposits from one account) and the same IP."""
    lot = LotFactory(tender__state="published", tender__title="南宁市某道路改造工程监理")
    keys = (str(world.a.pk), str(world.b.pk))
    alert, outcome = svc.alert_raise(
        lot=lot,
        node=Alert.Node.OPENING,
        score=0.97,
        level=Alert.Level.HIGH,
        message="两家投标人的投标保证金从同一账户转出。",
        indicators=[
            finding(
                "same_deposit_account",
                keys,
                statutory=True,
                legal_source=DEPOSIT_SOURCE,
                value="6222****0001",
                paths=[(f"entity:{keys[0]}", "account:6222020001", f"entity:{keys[1]}")],
            ),
            finding("same_ip", keys, statutory=False, value=2, threshold=2, weight=0.35),
        ],
        graph=evidence_graph(world.a, world.b),
        features={},
        entity_ids=[world.a.pk, world.b.pk],
    )
    assert outcome == "raised"
    return alert


def test_a_regulator_sees_a_new_alert_live_opens_it_and_confirms_it_into_the_credit_record(
    daphne_url, new_context, clock
):
    base, loop = daphne_url
    world = on_server(loop, build_world)
    regulator = world.users["regulator"]
    client = Client()
    client.force_login(regulator)
    context = new_context()
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}])
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)

    # given the queue, live
    page.goto(f"{base}/monitoring/alerts/")
    page.wait_for_selector('#alert-queue[data-connected="1"]')
    page.wait_for_selector(f'#alert-table tr[data-alert-id="{world.alert.pk}"]')
    page.evaluate("window.__notReloaded = true")

    # when the read-out raises a new alert, it appears at the top of the queue without a reload
    alert = on_server(loop, raise_alert, world=world)
    row = page.wait_for_selector(f'#alert-table tr[data-alert-id="{alert.pk}"][data-status="open"]')
    assert page.evaluate("window.__notReloaded") is True
    assert page.locator("#alert-table tbody tr").first.get_attribute("data-alert-id") == str(alert.pk)

    # the regulator opens it: the picture is an inline svg with the four nodes, the indicators are there
    row.query_selector("a.alert-link").click()
    page.wait_for_selector(f'#alert[data-alert-id="{alert.pk}"][data-status="open"]')
    nodes = page.locator("#alert-graph svg g[data-node]")
    assert nodes.count() == 4
    assert sorted(nodes.evaluate_all("els => els.map(e => e.dataset.node)")) == sorted(
        [f"entity:{world.a.pk}", f"entity:{world.b.pk}", "account:6222020001", "ip:10.0.0.7"]
    )
    assert (
        page.locator(
            '#alert-indicators tr[data-indicator="same_deposit_account"][data-statutory="1"]'
        ).count()
        == 1
    )
    assert page.locator('#alert-indicators tr[data-indicator="same_ip"][data-statutory="0"]').count() == 1
    assert page.locator("#id-legal-basis").input_value() == DEPOSIT_SOURCE
    assert page.locator(f'#confirm-form input[data-entity="{world.a.pk}"]').is_checked()

    # and confirms it with a two-year disqualification of the first bidder only
    page.locator(f'#confirm-form input[data-entity="{world.b.pk}"]').uncheck()
    page.select_option("#id-sanction", "disqualification")
    page.select_option("#id-years", "2")
    page.fill("#id-reason", "经查，两家投标保证金由同一账户转出，构成串通投标。")
    page.click("#confirm-submit")
    page.wait_for_selector(f'#alert[data-alert-id="{alert.pk}"][data-status="confirmed"]')
    assert page.locator("#alert-credit").get_attribute("data-credit") == "1"
    assert page.locator("#confirm-form").count() == 0

    # then the entity's credit record page shows the disqualification made from the alert
    page.goto(f"{base}/registry/entities/{world.a.pk}/credit/")
    record = page.locator("tr.credit-disqualification")
    assert record.count() == 1
    assert f"alert:{alert.pk}" in record.inner_text()
    assert CreditRecord.objects.filter(entity=world.b).count() == 0
    assert problems == []
