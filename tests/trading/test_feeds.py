"""RSS and Atom feeds of published announcements, with the list's filters."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from tests.factories import AnnouncementFactory
from trading import models as m

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
ATOM = "{http://www.w3.org/2005/Atom}"


def rss_items(response) -> list[ET.Element]:
    root = ET.fromstring(response.content)
    assert root.tag == "rss" and root.get("version") == "2.0"
    return root.findall("./channel/item")


def test_rss_feed_parses_and_carries_the_announcement(client):
    # given a published announcement
    a = AnnouncementFactory(
        title="南宁市某道路工程招标公告 & 附件", published_at=dt.datetime(2026, 3, 2, 9, tzinfo=SH)
    )
    # when the RSS feed is fetched
    response = client.get(reverse("portal:feed_rss"))
    # then it is RSS 2.0 with the item's title, absolute link, date and text
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    items = rss_items(response)
    assert len(items) == 1
    item = items[0]
    assert item.findtext("title") == "南宁市某道路工程招标公告 & 附件"
    assert item.findtext("link") == f"http://testserver/announcements/{a.pk}/"
    assert item.findtext("pubDate") == "Mon, 02 Mar 2026 09:00:00 +0800"
    assert "本项目已具备招标条件" in item.findtext("description")


def test_atom_feed_parses_and_carries_the_announcement(client):
    a = AnnouncementFactory(title="货物采购公告")
    response = client.get(reverse("portal:feed_atom"))
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["货物采购公告"]
    link = entries[0].find(f"{ATOM}link")
    assert link.get("href") == f"http://testserver/announcements/{a.pk}/"
    assert entries[0].findtext(f"{ATOM}updated").startswith("2026-03-02T09:00:00+08:00")


def test_feed_leaves_out_drafts_and_withdrawn(client):
    AnnouncementFactory(title="已发布")
    AnnouncementFactory(title="草稿", state=m.Announcement.State.DRAFT, published_at=None)
    AnnouncementFactory(title="已撤回", state=m.Announcement.State.WITHDRAWN)
    items = rss_items(client.get(reverse("portal:feed_rss")))
    assert [i.findtext("title") for i in items] == ["已发布"]


def test_feed_applies_the_list_filters(client):
    # given a works tender and a goods procurement
    AnnouncementFactory(title="工程公告")
    AnnouncementFactory(title="货物公告", tender__category=m.Category.GOODS, tender__regime=m.Regime.GP)
    # when subscribing to goods only
    response = client.get(reverse("portal:feed_rss"), {"category": "goods"})
    # then only the goods announcement is in the feed, and the channel links to the same search
    items = rss_items(response)
    assert [i.findtext("title") for i in items] == ["货物公告"]
    channel_link = ET.fromstring(response.content).findtext("./channel/link")
    assert channel_link == "http://testserver/announcements/?category=goods"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"colour": "red"}, "unknown_filter"),
        ({"page": "2"}, "unknown_filter"),
        ({"date_from": "02/03/2026"}, "invalid_filter"),
    ],
)
def test_feed_refuses_bad_filters_with_a_code(client, params, code):
    response = client.get(reverse("portal:feed_atom"), params)
    assert response.status_code == 400
    assert code in response.content.decode()
