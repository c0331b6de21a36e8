"""In Chromium (issue 7 acceptance): a bidder files a complaint with two evidence files; the supervising
department's regulator accepts it and suspends the tender; the bidder's opening hall shows the suspension,
live; the regulator decides with the legal basis; the bidder and the agency both see the decision, and
the hall no longer shows the suspension.

Assertions use ids and data attributes, never English text: the UI is in Chinese by default.
"""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client

from supervision.models import Complaint
from supervision.services import department_create, member_add
from tests.bidding.opening_world import hall_world
from tests.e2e.test_monitoring_browser import on_server
from tests.factories import UserFactory
from trading.models import Role, Tender, TenderState
from trading.signals import tender_published

pytestmark = pytest.mark.django_db(transaction=True)

EVIDENCE = [
    ("通话记录说明.txt", "代理机构工作人员在截止前透露了潜在投标人名单。".encode()),
    ("截图.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
]


def _build(clock):
    world = hall_world(clock=clock, bids=2, region_code="450102")
    admin = UserFactory(role=Role.ADMIN)
    dept = department_create(
        actor=admin, name="南宁市住房和城乡建设局", kind="industry", region_code="450100"
    )
    regulator = UserFactory(role=Role.REGULATOR, first_name="监管·覃科长")
    member_add(actor=admin, department=dept, user=regulator)
    tender_published.send(sender=Tender, tender=world.tender, actor=admin)  # assigns the department
    world.regulator = regulator
    return world


def _context(new_context, base, user):
    client = Client()
    client.force_login(user)
    context = new_context()
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}])
    return context


def test_a_complaint_suspends_the_tender_in_the_hall_and_every_party_sees_the_decision(
    daphne_url, new_context, clock, tmp_path
):
    base, loop = daphne_url
    world = on_server(loop, _build, clock=clock)
    bidder = world.bidders[0].user
    problems: list[str] = []

    # the bidder files the complaint with its evidence
    page = _context(new_context, base, bidder).new_page()
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(f"{base}/supervision/tenders/{world.tender.pk}/complaints/new")
    page.wait_for_selector('#filing-rules[data-regime="TB"]')
    files = []
    for name, data in EVIDENCE:
        path = tmp_path / name
        path.write_bytes(data)
        files.append(str(path))
    page.select_option("#id-matter", "process")
    page.fill("#id-known-at", clock().date().isoformat())
    page.fill("#id-text", "招标代理机构在投标截止前向部分潜在投标人透露已获取招标文件的单位名称。")
    page.fill("#id-request", "请予调查并依法处理。")
    page.set_input_files("#id-evidence", files)
    page.click("#complaint-submit")
    page.wait_for_selector('#complaint[data-status="filed"]')
    complaint = Complaint.objects.get(tender=world.tender)
    shown = set(
        page.locator("#complaint-evidence tr[data-sha256]").evaluate_all(
            "rs => rs.map(r => r.dataset.sha256)"
        )
    )
    assert shown == {hashlib.sha256(data).hexdigest() for _name, data in EVIDENCE}
    assert page.locator('#complaint-clocks [data-clock="accept"]').count() == 1

    # the regulator of the supervising department accepts it and suspends the tender
    regulator = _context(new_context, base, world.regulator).new_page()
    regulator.on("pageerror", lambda exc: problems.append(str(exc)))
    regulator.goto(f"{base}/supervision/complaints/{complaint.pk}/")
    regulator.click("#accept-submit")
    regulator.wait_for_selector('#complaint[data-status="accepted"]')
    assert regulator.locator('#complaint-clocks [data-clock="decision"]').count() == 1

    # the bidder is in the opening hall when the suspension is ordered: it appears there, live
    hall = _context(new_context, base, bidder).new_page()
    hall.on("pageerror", lambda exc: problems.append(str(exc)))
    hall.goto(f"{base}/bidding/lots/{world.lot.pk}/opening/")
    hall.wait_for_selector('#hall[data-tender-state="published"]')
    assert hall.locator("#hall-suspended").is_hidden()
    regulator.fill("#id-suspend-reason", "投诉调查期间暂停招标投标活动")
    regulator.click("#suspend-submit")
    regulator.wait_for_selector('#tender-state[data-suspended="1"]')
    assert Tender.objects.get(pk=world.tender.pk).state == TenderState.SUSPENDED
    hall.wait_for_selector('#hall[data-tender-state="suspended"]')
    hall.wait_for_selector("#hall-suspended", state="visible")

    # the regulator decides, with the legal basis; the tender resumes
    regulator.select_option("#id-outcome", "dismissed")
    regulator.fill("#id-legal-basis", "招标投标法实施条例第六十一条")
    regulator.fill("#id-decision", "经调查，投诉事项缺乏事实根据，驳回投诉。")
    regulator.click("#decide-submit")
    regulator.wait_for_selector('#complaint[data-status="decided"]')
    hall.wait_for_selector('#hall[data-tender-state="published"]')
    assert hall.locator("#hall-suspended").is_hidden()

    # every party sees the decision: the complainant and the tender's agency
    for user in (bidder, world.agency):
        party = _context(new_context, base, user).new_page()
        party.goto(f"{base}/supervision/complaints/{complaint.pk}/")
        party.wait_for_selector('#complaint-decision[data-outcome="dismissed"]')
        assert party.locator("#decision-basis").inner_text() == "招标投标法实施条例第六十一条"
        assert party.locator('#tender-state[data-suspended="0"]').count() == 1
    assert not problems, problems
