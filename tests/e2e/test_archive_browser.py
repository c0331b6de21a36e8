"""In Chromium: a regulator archives a terminated tender whose alert is still open, with a recorded
override, from its monitoring tab; opens the sealed package and runs the four-property check; a bidder,
signed out, checks its receipt on the public page before and after the signed root is published.

Assertions use ids and data attributes, never English text: the UI is in Chinese by default.
"""

from __future__ import annotations

import contextlib
import hashlib

import pytest
from django.test import Client

from archive.models import ArchivePackage
from archive.services import roots_publish
from bidding.models import Bid
from core.canonical import canonical_json
from tests.e2e.test_monitoring_browser import on_server
from tests.experts.test_archive_items import receipted
from tests.monitoring.test_live import COPIED, _read_out, _world
from trading.models import TenderState
from trading.services.tenders import tender_close

pytestmark = pytest.mark.django_db(transaction=True)


def _build(clock):
    world = _world(clock, ["4012345.00", "4188000.00", "3950500.00"], [COPIED, COPIED, ["独立编制。"]])
    for bid in Bid.objects.filter(lot=world.lot):
        receipted(bid)  # each bidder holds its signed receipt
    _read_out(world, clock, lambda execute: contextlib.nullcontext())  # committed: hooks run anyway
    tender_close(tender=world.tender, actor=world.agency, target=TenderState.TERMINATED, reason="项目取消")
    return world


def test_a_regulator_archives_with_an_override_verifies_and_a_bidder_checks_its_receipt(
    daphne_url, new_context, clock
):
    base, loop = daphne_url
    world = on_server(loop, _build, clock=clock)
    client = Client()
    client.force_login(world.regulator)
    context = new_context()
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}])
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    # the open alert blocks the seal; the regulator records why the project is archived anyway
    page.goto(f"{base}/monitoring/tenders/{world.tender.pk}/")
    page.wait_for_selector('#tender-archive[data-open-alerts="1"]')
    page.fill("#id-override-reason", "线索已移交公安机关，项目先行归档")
    page.click("#archive-form button[type=submit]")
    page.wait_for_selector("#tender-packages li[data-package]")
    package = ArchivePackage.objects.get(project=world.tender.stream)
    assert package.override["reason"] == "线索已移交公安机关，项目先行归档"

    # the package page shows the override and passes the four-property check
    page.click(f'#tender-packages li[data-package="{package.pk}"] a')
    page.wait_for_selector('#override[data-override="1"]')
    page.click("#verify-form button[type=submit]")
    page.wait_for_selector('#verification[data-ok="1"]')
    assert page.locator('#verification li[data-property][data-ok="1"]').count() == 4

    # a bidder, signed out, checks its receipt: in the package, the root not yet published
    bid = Bid.objects.filter(lot=world.lot).order_by("submitted_at").first()
    receipt = hashlib.sha256(canonical_json(bid.receipt)).hexdigest()
    public = new_context().new_page()
    public.goto(f"{base}/archive/receipt/")
    public.fill("#id-sha256", receipt)
    public.click("#receipt-form button[type=submit]")
    public.wait_for_selector('#receipt-result[data-found="1"]')
    assert public.locator("#receipt-pending").count() == 1
    on_server(loop, roots_publish)
    public.goto(f"{base}/archive/receipt/")
    public.fill("#id-sha256", receipt)
    public.click("#receipt-form button[type=submit]")
    public.wait_for_selector('#receipt-result[data-found="1"][data-ok="1"]')
    assert problems == []
