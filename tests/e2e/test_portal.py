"""The public portal in a real browser: Chinese first, search, an announcement with its
attachment, the switch to English, and the statistics page.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.factories import AnnouncementAttachmentFactory, AnnouncementFactory, LotFactory, TenderFactory
from trading import models as m

SH = ZoneInfo("Asia/Shanghai")
PDF = b"%PDF-1.7\n% tender documents of the Qingxiu road project\n"


@pytest.fixture
def world(transactional_db):
    """Three public tenders with announcements; one carries the tender documents."""
    road = TenderFactory(
        title="南宁市青秀区民族大道改造工程",
        state=m.TenderState.PUBLISHED,
        published_at=dt.datetime(2026, 3, 2, 9, tzinfo=SH),
    )
    LotFactory(tender=road, budget=Decimal("5000000.00"))
    notice = AnnouncementFactory(
        tender=road,
        title="南宁市青秀区民族大道改造工程施工招标公告",
        body_html="<h3>一、招标条件</h3><p>本项目已由南宁市发展和改革委员会批准建设，现进行公开招标。</p>",
        published_at=dt.datetime(2026, 3, 2, 9, tzinfo=SH),
    )
    AnnouncementAttachmentFactory(announcement=notice, filename="招标文件.pdf", data=PDF)
    school = TenderFactory(
        title="柳州市某中学教学设备采购",
        category=m.Category.GOODS,
        regime=m.Regime.GP,
        region_code="450200",
        state=m.TenderState.AWARDED,
        published_at=dt.datetime(2026, 2, 10, 9, tzinfo=SH),
    )
    LotFactory(
        tender=school,
        budget=Decimal("1200000.00"),
        status=m.Lot.Status.AWARDED,
        award_amount=Decimal("1080000.00"),
        awarded_at=dt.datetime(2026, 3, 1, 10, tzinfo=SH),
    )
    AnnouncementFactory(
        tender=school,
        title="柳州市某中学教学设备采购结果公告",
        kind=m.AnnouncementKind.RESULT,
        published_at=dt.datetime(2026, 3, 1, 10, tzinfo=SH),
    )
    AnnouncementFactory(
        title="桂林市某地块国有建设用地使用权挂牌出让公告",
        tender__category=m.Category.LAND,
        tender__title="桂林市某地块国有建设用地使用权出让",
        tender__region_code="450300",
    )
    return notice


def test_portal_in_chinese_search_open_download_then_english(live_server, new_context, world):
    # given a reader whose browser asks for Chinese
    context = new_context(locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.goto(live_server.url + "/")
    # then the portal speaks Chinese
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav.get_by_role("link", name="交易公告")).to_be_visible()
    expect(page.get_by_role("heading", name="最新公告")).to_be_visible()

    # when searching for a word of the road project
    page.locator("#site-q").fill("民族大道")
    page.locator("#site-q").press("Enter")
    # then the list shows that announcement and not the others
    expect(page).to_have_url(re.compile(r"/announcements/\?q=%E6%B0%91"))
    results = page.locator(".ann-list .ann-title")
    expect(results).to_have_count(1)
    expect(results.first).to_have_text(world.title)

    # when opening it
    results.first.click()
    # then its title, text, and attachment with the SHA-256 are shown, and the file downloads intact
    expect(page.get_by_role("heading", level=1)).to_have_text(world.title)
    expect(page.locator(".doc-body")).to_contain_text("现进行公开招标")
    expect(page.get_by_role("link", name="招标文件.pdf")).to_be_visible()
    expect(page.locator(".attachments")).to_contain_text(hashlib.sha256(PDF).hexdigest())
    with page.expect_download() as download_info:
        page.get_by_role("link", name="招标文件.pdf").click()
    download = download_info.value
    assert download.suggested_filename == "招标文件.pdf"
    with open(download.path(), "rb") as fh:
        assert fh.read() == PDF
    detail_url = page.url

    # when switching to English with the language switcher
    page.get_by_role("button", name="English").click()
    # then the same page comes back in English
    expect(page).to_have_url(detail_url)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(
        page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Announcements")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Attachments")).to_be_visible()

    # and the statistics page shows its charts and figures
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Trading statistics"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Trading statistics")
    expect(page.locator("svg.chart-svg")).to_have_count(3)
    expect(page.locator(".kpis")).to_contain_text("¥1,080,000")
    expect(page.locator("table.data").first).to_contain_text("1,080,000.00")


def test_portal_switches_back_to_chinese(live_server, new_context, world):
    # given a reader who chose English
    page = new_context(locale="en-US").new_page()
    page.goto(live_server.url + "/announcements/")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    # when choosing 中文
    page.get_by_role("button", name="中文").click()
    # then the page is Chinese, statistics included
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="交易统计").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("交易统计")
    expect(page.locator(".kpis")).to_contain_text("108.00 万元")
