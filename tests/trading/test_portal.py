"""The public portal: list, search, filters, details, downloads, statistics, CSP and language."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from tests.factories import (
    AnnouncementAttachmentFactory,
    AnnouncementFactory,
    LotFactory,
    TenderFactory,
)
from trading import models as m

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def ann(**kwargs):
    return AnnouncementFactory(**kwargs)


def titles(response) -> list[str]:
    html = response.content.decode()
    return re.findall(r'class="ann-title" href="/announcements/\d+/">([^<]+)</a>', html)


def at(day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, 0, tzinfo=SH)


# --- list, search, filters ---------------------------------------------------------------


def test_list_shows_published_and_hides_drafts_and_withdrawn(client):
    # given one published, one draft and one withdrawn announcement
    ann(title="公开的公告")
    ann(title="草稿公告", state=m.Announcement.State.DRAFT, published_at=None)
    ann(title="撤回的公告", state=m.Announcement.State.WITHDRAWN)
    # when the public opens the list
    response = client.get(reverse("portal:announcements"))
    # then only the published one is there
    assert response.status_code == 200
    assert titles(response) == ["公开的公告"]


def test_list_is_newest_first(client):
    ann(title="旧公告", published_at=at(2))
    ann(title="新公告", published_at=at(5))
    assert titles(client.get(reverse("portal:announcements"))) == ["新公告", "旧公告"]


def test_search_matches_title_and_body_text(client):
    # given announcements about different things
    ann(title="南宁市道路改造工程招标公告", tender__title="南宁市道路改造工程")
    ann(
        title="某学校设备采购公告",
        tender__title="某学校设备采购",
        body_html="<p>采购内容：多媒体教学设备</p>",
    )
    ann(title="土地使用权出让公告", tender__title="某地块土地使用权出让")
    # when searching a word of the first title, then a word only in the second's text
    by_title = titles(client.get(reverse("portal:announcements"), {"q": "道路"}))
    by_body = titles(client.get(reverse("portal:announcements"), {"q": "多媒体"}))
    # then each search finds exactly its announcement
    assert by_title == ["南宁市道路改造工程招标公告"]
    assert by_body == ["某学校设备采购公告"]


def test_search_by_transaction_code(client):
    target = ann(title="按交易码查找")
    ann(title="其他公告")
    found = titles(client.get(reverse("portal:announcements"), {"q": target.tender.code.lower()}))
    assert found == ["按交易码查找"]


@pytest.mark.parametrize(
    ("param", "value", "expected"),
    [
        ("category", "goods", ["货物公告"]),
        ("regime", "GP", ["货物公告"]),
        ("kind", "result", ["结果公告"]),
        ("state", "awarded", ["结果公告"]),
        ("region", "450200", ["柳州公告"]),
        ("region", "450000", ["货物公告", "结果公告", "柳州公告", "工程公告"]),
    ],
)
def test_filters_narrow_the_list(client, param, value, expected):
    # given four announcements that differ in category, regime, kind, state and region
    ann(title="工程公告", published_at=at(2))
    ann(title="柳州公告", published_at=at(3), tender__region_code="450203")
    ann(
        title="结果公告",
        published_at=at(4),
        kind=m.AnnouncementKind.RESULT,
        tender__state=m.TenderState.AWARDED,
    )
    ann(title="货物公告", published_at=at(5), tender__category=m.Category.GOODS, tender__regime=m.Regime.GP)
    # when one filter is applied
    found = titles(client.get(reverse("portal:announcements"), {param: value}))
    # then exactly the matching ones remain (a province code includes its cities)
    assert found == expected


def test_date_filters_are_inclusive_local_days(client):
    ann(title="三月一日", published_at=dt.datetime(2026, 3, 1, 23, 30, tzinfo=SH))
    ann(title="三月二日", published_at=dt.datetime(2026, 3, 2, 0, 10, tzinfo=SH))
    ann(title="三月三日", published_at=dt.datetime(2026, 3, 3, 23, 59, tzinfo=SH))
    ann(title="三月四日", published_at=dt.datetime(2026, 3, 4, 0, 0, tzinfo=SH))
    found = titles(
        client.get(reverse("portal:announcements"), {"date_from": "2026-03-02", "date_to": "2026-03-03"})
    )
    assert found == ["三月三日", "三月二日"]


def test_empty_filter_values_mean_no_filter(client):
    # a submitted filter form sends every field, most of them empty
    ann(title="任意公告")
    params = dict.fromkeys(("q", "kind", "category", "region", "regime", "date_from", "date_to", "state"), "")
    response = client.get(reverse("portal:announcements"), params)
    assert response.status_code == 200
    assert titles(response) == ["任意公告"]


def test_pagination_splits_the_list(client):
    # given 25 announcements (page size 20)
    for day in range(1, 26):
        ann(title=f"公告{day:02d}", published_at=dt.datetime(2026, 3, day, 9, tzinfo=SH))
    # when reading page 1 and page 2
    first = titles(client.get(reverse("portal:announcements")))
    second = titles(client.get(reverse("portal:announcements"), {"page": "2"}))
    # then the pages hold 20 and 5, newest first, without overlap
    assert len(first) == 20 and len(second) == 5
    assert first[0] == "公告25" and second[-1] == "公告01"


def test_pagination_links_keep_the_filters(client):
    for day in range(1, 23):
        ann(title=f"工程{day}", published_at=dt.datetime(2026, 3, day, 9, tzinfo=SH))
    html = client.get(reverse("portal:announcements"), {"category": "works"}).content.decode()
    assert 'href="?category=works&amp;page=2"' in html


def test_list_query_count_does_not_grow_with_rows(client, django_assert_max_num_queries):
    for _ in range(15):
        ann()
    with django_assert_max_num_queries(6):
        response = client.get(reverse("portal:announcements"))
    assert len(titles(response)) == 15


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"colour": "red"}, "unknown_filter"),
        ({"lang": "en"}, "unknown_filter"),
        ({"date_from": "2026-13-01"}, "invalid_filter"),
        ({"date_to": "yesterday"}, "invalid_filter"),
        ({"category": "spaceships"}, "invalid_filter"),
        ({"regime": "XX"}, "invalid_filter"),
        ({"region": "45"}, "invalid_filter"),
        ({"state": "draft"}, "invalid_filter"),
        ({"q": "x" * 101}, "invalid_filter"),
        ({"date_from": "2026-03-05", "date_to": "2026-03-01"}, "invalid_filter"),
    ],
)
def test_bad_filters_are_refused_with_a_code(client, params, code):
    response = client.get(reverse("portal:announcements"), params)
    html = response.content.decode()
    assert response.status_code == 400
    assert f'<code class="error-code">{code}</code>' in html
    assert 'class="error-message"' in html


def test_bad_filter_as_json_carries_the_code(client):
    response = client.get(reverse("portal:announcements"), {"colour": "red"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_filter"


# --- details and downloads -------------------------------------------------------------


def test_announcement_detail_shows_text_tender_and_attachments_with_hash(client):
    # given a published announcement with an attachment
    attachment = AnnouncementAttachmentFactory(
        data=b"%PDF-1.7 tender documents",
        filename="招标文件.pdf",
        announcement__body_html="<p>投标人资格要求：具备市政公用工程施工总承包三级</p>",
    )
    a = attachment.announcement
    # when the public opens it
    response = client.get(reverse("portal:announcement", kwargs={"pk": a.pk}))
    html = response.content.decode()
    # then title, text, tender code, tenderee and the attachment's name, size, hash and link are shown
    assert response.status_code == 200
    assert a.title in html
    assert "<p>投标人资格要求：具备市政公用工程施工总承包三级</p>" in html
    assert a.tender.code in html
    assert a.tender.tenderee.name in html
    assert "招标文件.pdf" in html
    assert hashlib.sha256(b"%PDF-1.7 tender documents").hexdigest() in html
    assert (
        reverse("portal:attachment", kwargs={"sha256": attachment.blob_id, "filename": "招标文件.pdf"})
        in html
    )


def test_announcement_detail_lists_the_tenders_other_announcements_in_time_order(client):
    first = ann(title="首次公告", published_at=at(2))
    ann(title="变更公告", tender=first.tender, kind=m.AnnouncementKind.AMENDMENT, published_at=at(6))
    ann(
        title="未发布的结果",
        tender=first.tender,
        kind=m.AnnouncementKind.RESULT,
        state=m.Announcement.State.DRAFT,
        published_at=None,
    )
    html = client.get(reverse("portal:announcement", kwargs={"pk": first.pk})).content.decode()
    history = html[html.index('class="timeline"') :]
    assert history.index("首次公告") < history.index("变更公告")
    assert "未发布的结果" not in html


@pytest.mark.parametrize("state", [m.Announcement.State.DRAFT, m.Announcement.State.WITHDRAWN])
def test_unpublished_announcement_is_not_found(client, state):
    a = ann(state=state, published_at=None if state == m.Announcement.State.DRAFT else at(2))
    response = client.get(reverse("portal:announcement", kwargs={"pk": a.pk}))
    assert response.status_code == 404
    assert '<code class="error-code">not_found</code>' in response.content.decode()


def test_tender_detail_shows_lots_money_method_and_timeline(client):
    # given a published tender with one lot
    tender = TenderFactory(state=m.TenderState.PUBLISHED, published_at=at(2))
    LotFactory(
        tender=tender,
        title="第一标段",
        budget=Decimal("5000000.00"),
        ceiling_price=Decimal("4800000.00"),
        bid_security=Decimal("80000.00"),
    )
    # when the public opens it (Chinese by default)
    html = client.get(reverse("portal:tender", kwargs={"pk": tender.pk})).content.decode()
    # then budget, ceiling and security are in 万元, with the method and the dates
    assert "第一标段" in html
    assert "500.00 万元" in html and "480.00 万元" in html and "8.00 万元" in html
    assert "综合评分法" in html  # the lot's evaluation method
    assert "2026-03-25 09:30" in html  # deadline = opening time
    assert "2026-03-09 17:00" in html  # documents until
    assert tender.code in html


def test_tender_detail_in_english_shows_yuan_with_separators(client):
    tender = TenderFactory(state=m.TenderState.PUBLISHED)
    LotFactory(tender=tender, budget=Decimal("5000000.00"))
    client.cookies["django_language"] = "en"
    html = client.get(reverse("portal:tender", kwargs={"pk": tender.pk})).content.decode()
    assert "5,000,000.00 yuan" in html


def test_draft_tender_is_not_found(client):
    tender = TenderFactory(state=m.TenderState.DRAFT)
    assert client.get(reverse("portal:tender", kwargs={"pk": tender.pk})).status_code == 404


def test_attachment_download_streams_the_stored_bytes(client):
    data = b"%PDF-1.7 the real tender documents"
    attachment = AnnouncementAttachmentFactory(data=data, filename="招标文件.pdf")
    url = reverse("portal:attachment", kwargs={"sha256": attachment.blob_id, "filename": "招标文件.pdf"})
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%E6%8B%9B%E6%A0%87%E6%96%87%E4%BB%B6.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["ETag"] == f'"{hashlib.sha256(data).hexdigest()}"'


def test_attachment_download_answers_304_to_a_matching_etag(client):
    attachment = AnnouncementAttachmentFactory(data=b"same bytes")
    url = reverse("portal:attachment", kwargs={"sha256": attachment.blob_id, "filename": attachment.filename})
    response = client.get(url, HTTP_IF_NONE_MATCH=f'"{attachment.blob_id}"')
    assert response.status_code == 304


def test_attachment_of_a_draft_announcement_is_refused(client):
    attachment = AnnouncementAttachmentFactory(
        data=b"secret draft", announcement__state=m.Announcement.State.DRAFT, announcement__published_at=None
    )
    url = reverse("portal:attachment", kwargs={"sha256": attachment.blob_id, "filename": attachment.filename})
    response = client.get(url)
    assert response.status_code == 404
    assert "not_found" in response.content.decode()


def test_attachment_with_an_unknown_hash_is_refused(client):
    AnnouncementAttachmentFactory(data=b"published bytes")
    url = reverse(
        "portal:attachment", kwargs={"sha256": hashlib.sha256(b"other").hexdigest(), "filename": "x.pdf"}
    )
    assert client.get(url).status_code == 404


# --- statistics ---------------------------------------------------------------------------


def test_statistics_page_renders_figures_charts_and_tables(client):
    # given an awarded tender (the figures come from trading.stats)
    tender = TenderFactory(state=m.TenderState.AWARDED, published_at=at(2))
    LotFactory(
        tender=tender,
        budget=Decimal("12345678.00"),
        status=m.Lot.Status.AWARDED,
        award_amount=Decimal("11000000.00"),
        awarded_at=at(20),
    )
    # when the statistics page is opened
    response = client.get(reverse("portal:statistics"))
    html = response.content.decode()
    # then there is one accessible chart per grouping, and the data tables carry the figures in 万元
    assert response.status_code == 200
    assert html.count('<svg class="chart-svg"') == 3
    assert html.count('<title id="chart-') == 3 and html.count('<desc id="chart-') == 3
    assert "1,234.57" in html  # the budget, in 万元
    assert "1,100.00" in html  # the transaction amount


def test_statistics_refuses_unknown_filters(client):
    response = client.get(reverse("portal:statistics"), {"kind": "tender"})
    assert response.status_code == 400
    assert "unknown_filter" in response.content.decode()


# --- security headers, markup and language -----------------------------------------------


def _pages(client):
    attachment = AnnouncementAttachmentFactory(data=b"%PDF csp")
    a = attachment.announcement
    LotFactory(tender=a.tender)
    return [
        reverse("portal:home"),
        reverse("portal:announcements"),
        reverse("portal:announcement", kwargs={"pk": a.pk}),
        reverse("portal:tender", kwargs={"pk": a.tender.pk}),
        reverse("portal:statistics"),
        reverse("portal:open_data"),
        reverse("portal:announcements") + "?colour=red",
    ]


def test_pages_send_a_strict_csp_and_use_no_inline_styles(client):
    for url in _pages(client):
        response = client.get(url)
        html = response.content.decode()
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp, url
        assert "unsafe-inline" not in csp, url
        assert 'style="' not in html, url
        assert "<style" not in html, url
        assert "<script" not in html, url


def test_chinese_is_the_default_language(client):
    html = client.get(reverse("portal:home")).content.decode()
    assert '<html lang="zh-CN">' in html


def test_language_switch_to_english_keeps_the_url(client):
    # when the switcher posts English with the current page as `next`
    url = reverse("portal:announcements") + "?category=works"
    response = client.post("/i18n/setlang/", {"language": "en", "next": url})
    # then the reader returns to the same address and the page is in English
    assert response.status_code == 302 and response["Location"] == url
    html = client.get(url).content.decode()
    assert '<html lang="en">' in html
    assert "Announcements" in html


def test_every_page_has_the_language_switcher_with_csrf(client):
    html = client.get(reverse("portal:home")).content.decode()
    form = html[html.index('class="lang-switch"') :]
    form = form[: form.index("</form>")]
    assert 'action="/i18n/setlang/"' in html
    assert 'name="csrfmiddlewaretoken"' in form
    assert 'value="en"' in form and 'value="zh-hans"' in form


# --- home and charts -------------------------------------------------------------------


def test_home_shows_sector_counts_latest_and_upcoming_openings(client, clock):
    # given (on 2 March 2026) a works tender opening on 25 March and a goods procurement already opened
    works = ann(title="道路工程招标公告", tender__title="道路工程")
    ann(
        title="设备采购公告",
        tender__category=m.Category.GOODS,
        tender__regime=m.Regime.GP,
        tender__title="设备采购",
        tender__deadline=dt.datetime(2026, 3, 1, 9, 30, tzinfo=SH),
    )
    # when the home page is opened
    html = client.get(reverse("portal:home")).content.decode()
    # then the works and GP tiles count one each, both announcements are listed, and only the
    # tender whose deadline is ahead is among the upcoming openings
    assert re.search(
        r'href="/announcements/\?category=works">\s*<span class="sector-name">[^<]+</span>\s*'
        r'<span class="sector-count"><strong>1</strong>',
        html,
    )
    assert re.search(
        r'href="/announcements/\?regime=GP">\s*<span class="sector-name">[^<]+</span>\s*'
        r'<span class="sector-count"><strong>1</strong>',
        html,
    )
    assert titles(client.get(reverse("portal:home"))) == ["设备采购公告", "道路工程招标公告"]
    upcoming = html[html.index('class="upcoming"') :]
    assert f'href="/tenders/{works.tender.pk}/"' in upcoming and "设备采购<" not in upcoming


def test_bar_lengths_are_proportional_to_the_amounts():
    from trading.views.portal import hbar_chart

    rows = [
        {"label": "甲", "budget": Decimal("4000000"), "award_amount": Decimal("1000000")},
        {"label": "乙", "budget": Decimal("2000000"), "award_amount": Decimal("0")},
    ]
    chart = hbar_chart(rows=rows, series=[("budget", "B", "s-budget"), ("award_amount", "A", "s-award")])
    widths = [[bar["w"] for bar in group["bars"]] for group in chart["groups"]]
    assert widths[0][0] == pytest.approx(2 * widths[1][0], abs=0.2)
    assert widths[0][0] == pytest.approx(4 * widths[0][1], abs=0.2)
    assert widths[1][1] == 0
    assert chart["ticks"][0]["label"] == "0"


def test_tender_documents_are_obtained_through_the_workbench_not_downloaded_anonymously(client):
    # given a published announcement whose attachment is the tender documents
    from tests.factories import AnnouncementAttachmentFactory

    att = AnnouncementAttachmentFactory(is_tender_document=True)
    url = f"/files/{att.blob_id}/{att.filename}"
    # when an anonymous visitor follows the download link
    response = client.get(url)
    # then it is sent to the tender's page in the workbench (login, then 获取招标文件), not given the bytes
    assert response.status_code == 302
    assert f"/workbench/tenders/{att.announcement.tender_id}/" in response["Location"]


def test_search_matches_words_not_markup(client):
    # given an announcement whose HTML contains <strong> markup but not the word "strong"
    from tests.factories import AnnouncementFactory
    from trading.services.announcements import html_to_text

    html = "<p><strong>资格要求</strong>：具备市政公用工程施工总承包资质</p>"
    AnnouncementFactory(title="某工程招标公告", body_html=html, body_text=html_to_text(html))
    # when searching for the markup word, nothing is found; for a word of the text, it is
    assert "某工程招标公告" not in client.get("/announcements/", {"q": "strong"}).content.decode()
    assert "某工程招标公告" in client.get("/announcements/", {"q": "市政公用"}).content.decode()
