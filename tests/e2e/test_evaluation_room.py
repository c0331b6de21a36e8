"""In Chromium: the evaluation room with two experts in two browser contexts. They score in their
browsers; the chair (the first of them) sees the other's progress arrive live, without a reload; the
far-off score is flagged to the committee; the chair closes the scoring and draws up the report;
both sign in their browsers, the third member through the service; the signed PDF is downloaded.

The room needs websockets, so the server is Daphne in a thread of this process, sharing the test
database and the clock (tests/e2e/test_opening_hall.py does the same for the opening hall).
"""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from experts.models import Member
from experts.services import evaluation as ev
from tests.experts.room_world import room_world, to_detailed

pytestmark = pytest.mark.django_db(transaction=True)


def on_server(loop, fn, **kwargs):
    """Run on the server's event loop, as a consumer would, so events reach the sockets through the
    same (in-memory) channel layer."""
    return asyncio.run_coroutine_threadsafe(database_sync_to_async(fn)(**kwargs), loop).result(60)


def open_room(new_context, base, user, lot_id):
    client = Client()
    client.force_login(user)
    context = new_context(accept_downloads=True)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}])
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{base}/experts/evaluation/lots/{lot_id}/")
    page.wait_for_selector("#room[data-version]")
    return page, problems


def score_in_browser(page, bids, values):
    for bid in bids:
        for criterion in ("tech", "biz"):
            field = page.locator(f'#room-scores input[data-bid="{bid}"][data-criterion="{criterion}"]')
            field.fill(values.get((bid, criterion), "18"))
            field.press("Tab")
            page.wait_for_selector(f'#room-scores td.given[data-bid="{bid}"][data-criterion="{criterion}"]')


def build(clock):
    world = room_world(clock=clock, experts=3, reserves=0)
    to_detailed(world)
    return world


def test_two_experts_score_the_chair_sees_progress_live_and_the_report_pdf_is_signed(
    daphne_url, new_context, clock, tmp_path
):
    base, loop = daphne_url
    # given a room at detailed scoring, chaired by seat 1, with three bids and two scored criteria
    world = on_server(loop, build, clock=clock)
    chair, second, third = (
        Member.objects.select_related("user").get(room=world.room, seat=s) for s in (1, 2, 3)
    )
    bids = [str(b.bid.pk) for b in world.bidders]
    chair_page, chair_problems = open_room(new_context, base, chair.user, world.lot.pk)
    second_page, second_problems = open_room(new_context, base, second.user, world.lot.pk)
    for page in (chair_page, second_page):
        page.wait_for_selector('#room[data-phase="detailed"]')
    chair_page.wait_for_selector('#room-progress tr[data-seat="2"][data-done="0"]')
    chair_page.evaluate("window.__notReloaded = true")

    # when the second expert scores every bid in its browser (one technical score far off)
    score_in_browser(second_page, bids, {(bids[0], "tech"): "5"})

    # then the chair's progress shows it, live
    chair_page.wait_for_selector('#room-progress tr[data-seat="2"][data-done="6"]')
    assert chair_page.evaluate("window.__notReloaded") is True
    assert second_page.locator("#room-progress-panel").is_hidden()  # progress is the chair's

    # when the chair scores in its browser and the third member through the service
    score_in_browser(chair_page, bids, {})
    for bid in world.bidders:
        for criterion in ("tech", "biz"):
            on_server(
                loop,
                ev.score_submit,
                member=third,
                actor=third.user,
                bid=bid.bid,
                criterion=criterion,
                value="18",
            )

    # then the far-off score is flagged to the committee
    chair_page.wait_for_selector('#room-progress tr[data-seat="3"][data-done="6"]')
    chair_page.wait_for_selector(f'#room-outliers li[data-seat="2"][data-bid="{bids[0]}"]')
    second_page.wait_for_selector(f'#room-scores td.outlier[data-bid="{bids[0]}"][data-criterion="tech"]')

    # when the chair closes the scoring and draws up the report
    chair_page.click("#room-complete")
    chair_page.wait_for_selector('#room[data-phase="summary"]')
    chair_page.wait_for_selector('#room-summary tbody tr[data-rank="1"]')
    chair_page.click("#room-build-report")
    for page in (chair_page, second_page):
        page.wait_for_selector('#room[data-phase="signing"]')

    # and both sign in their browsers, the third member through the service
    for page in (chair_page, second_page):
        page.click("#room-sign-agree")
        page.wait_for_selector("#room-sign", state="hidden")
    on_server(loop, ev.report_sign, member=third, actor=third.user, agrees=True)

    # then the room is closed and the signed PDF is there to download
    chair_page.wait_for_selector('#room[data-phase="closed"]')
    chair_page.wait_for_selector('#room-report-panel[data-final="true"] #room-report-pdf:not([hidden])')
    with chair_page.expect_download() as download:
        chair_page.click("#room-report-pdf")
    path = tmp_path / "report.pdf"
    download.value.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
    assert chair_problems == [] and second_problems == []


def build_scored(clock):
    from tests.experts.room_world import score_all

    world = room_world(clock=clock, experts=3, reserves=0)
    to_detailed(world)
    score_all(world)
    return world


def to_signing(world):
    from tests.experts.room_world import chair_user, complete

    complete(world)
    ev.report_build(room=world.refresh(), actor=chair_user(world))


def rebuild(world):
    from tests.experts.room_world import chair_user

    ev.report_build(room=world.refresh(), actor=chair_user(world))


def test_time_extension_a_correction_while_signing_and_deemed_agreement_in_the_browser(
    daphne_url, new_context, clock
):
    base, loop = daphne_url
    # given three experts at detailed scoring, every score given; seats 1 (chair) and 2 in browsers
    world = on_server(loop, build_scored, clock=clock)
    chair, second = (Member.objects.select_related("user").get(room=world.room, seat=s) for s in (1, 2))
    bid = str(world.bidders[1].bid.pk)
    chair_page, chair_problems = open_room(new_context, base, chair.user, world.lot.pk)
    second_page, second_problems = open_room(new_context, base, second.user, world.lot.pk)
    second_page.wait_for_selector('#room-end[data-extended="false"]')

    # when seat 2 finds the time insufficient (1 of 3: not more than a third), then the chair too
    second_page.click("#room-time-flag")
    second_page.wait_for_selector('#room-time-flag[aria-pressed="true"]')
    chair_page.wait_for_selector("#room-time-count:has-text('1/3')")
    chair_page.click("#room-time-flag")

    # then both see the evaluation extended, and the flags cleared
    for page in (chair_page, second_page):
        page.wait_for_selector('#room-end[data-extended="true"]')
    second_page.wait_for_selector('#room-time-flag[aria-pressed="false"]')

    # when the scoring is closed and the report built, seat 2 corrects a score from its browser
    on_server(loop, to_signing, world=world)
    second_page.wait_for_selector('#room[data-phase="signing"]')
    second_page.wait_for_selector("#room-correct-panel:not([hidden])")
    assert second_page.locator(f'#room-scores input[data-bid="{bid}"][data-criterion="tech"]').is_disabled()
    second_page.select_option("#room-correct-bid", bid)
    second_page.select_option("#room-correct-criterion", "tech")
    second_page.fill("#room-correct-value", "25")
    second_page.select_option("#room-correct-case", "sum_error")
    second_page.fill("#room-correct-reason", "汇总时误录")
    second_page.click("#room-correct")

    # then the report is discarded: both are back at the summary and see the correction
    for page in (chair_page, second_page):
        page.wait_for_selector('#room[data-phase="summary"]')
        page.wait_for_selector(f'#room-corrections li[data-seat="2"][data-bid="{bid}"]')
    second_page.wait_for_selector(f'#room-scores td.corrected[data-bid="{bid}"][data-criterion="tech"]')

    # when the report is built again, the chair signs in its browser and the others stay silent
    # past the signing deadline, and the tick runs
    on_server(loop, rebuild, world=world)
    chair_page.wait_for_selector(
        '#room[data-phase="signing"] ~ #room-report-panel #room-report-due-line:not([hidden])'
    )
    chair_page.click("#room-sign-agree")
    chair_page.wait_for_selector("#room-sign", state="hidden")
    clock.advance(hours=3)
    assert on_server(loop, ev.room_tick) == 1

    # then the report is final and shows seats 2 and 3 as deemed to agree
    for page in (chair_page, second_page):
        page.wait_for_selector('#room[data-phase="closed"]')
        page.wait_for_selector('#room-report-panel[data-final="true"]')
    signed = chair_page.locator("#room-report-signed").text_content()
    assert signed.startswith("1, 2 (") and ", 3 (" in signed
    assert chair_problems == [] and second_problems == []
