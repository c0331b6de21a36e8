"""Announcements: agency HTML is sanitised or refused, attachments are content-addressed,
publication fixes the content digest and is journalled."""

from __future__ import annotations

import hashlib

import pytest

from archive.models import Blob, JournalEntry
from core.canonical import digest
from core.errors import DomainError
from tests.factories import AgencyUserFactory, LotFactory, TenderFactory
from trading import models as m
from trading.services.announcements import (
    announcement_create,
    announcement_publish,
    announcement_withdraw,
    html_sanitize,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def tender():
    return TenderFactory()


@pytest.fixture
def agent(tender):
    return AgencyUserFactory(entity=tender.agency)


def create(tender, agent, **kw):
    args = {
        "tender": tender,
        "kind": m.AnnouncementKind.TENDER,
        "title": "某道路改造工程招标公告",
        "body_html": "<p>招标条件：本项目已批准建设。</p>",
        "actor": agent,
        **kw,
    }
    return announcement_create(**args)


def written() -> tuple[int, int, int, int]:
    return (
        m.Announcement.objects.count(),
        m.AnnouncementAttachment.objects.count(),
        Blob.objects.count(),
        JournalEntry.objects.count(),
    )


# --- HTML -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "html",
    [
        "<p>ok</p><script>alert(1)</script>",
        "<p>ok</p><SCRIPT src=//evil.example/x.js></SCRIPT>",
        '<img src="x" onerror="alert(1)">',
        "<img/onerror=alert(1) src=x>",
        '<p onclick = "steal()">点击</p>',
        '<a href="javascript:alert(1)">link</a>',
        '<a href="JaVaScRiPt :alert(1)">link</a>',
        '<a href="&#106;avascript:alert(1)">entity-encoded</a>',
        '<a href="java\tscript:alert(1)">tab inside</a>',
        '<a href="vbscript:msgbox(1)">vb</a>',
        '<iframe src="https://evil.example/"></iframe>',
        '<svg><circle r="1"/></svg>',
        '<a href="data:text/html;base64,PHNjcmlwdD4=">data</a>',
        '<p style="width: expression(alert(1))">ie</p>',
        '<form action="/x"><input name="a"></form>',
    ],
)
def test_active_content_is_refused_with_html_unsafe(html):
    with pytest.raises(DomainError) as exc:
        html_sanitize(html)
    assert (exc.value.code, exc.value.status) == ("html_unsafe", 400)
    assert str(exc.value.message)


def test_harmless_formatting_is_kept():
    html = (
        "<h2>一、招标条件</h2><p>本项目<strong>已批准</strong>，<em>资金已落实</em>。</p>"
        '<table><tr><th>标段</th><td colspan="2">第一标段</td></tr></table>'
        '<ul><li>工期：180日历天</li></ul><a href="https://www.example.gov.cn/doc">招标文件</a>'
    )
    clean = html_sanitize(html)
    for kept in (
        "<h2>",
        "<strong>已批准</strong>",
        "<em>",
        "<table>",
        '<td colspan="2">',
        "<li>",
        'href="https://www.example.gov.cn/doc"',
    ):
        assert kept in clean
    assert 'rel="noopener noreferrer nofollow"' in clean


def test_unknown_tags_and_attributes_are_stripped_keeping_their_text():
    clean = html_sanitize(
        '<p class="MsoNormal" style="color:red"><font face="宋体">投标截止时间</font>'
        '<img src="logo.png"><!-- word comment --></p>'
    )
    assert clean == "<p>投标截止时间</p>"


def test_text_about_javascript_without_a_scheme_is_allowed():
    assert "JavaScript" in html_sanitize("<p>Pages need JavaScript enabled</p>")


def test_empty_text_is_refused():
    with pytest.raises(DomainError) as exc:
        html_sanitize("<p> &nbsp; </p>")
    assert exc.value.code == "html_empty"


def test_html_at_the_size_limit_is_accepted_and_one_byte_over_refused(settings):
    # given a limit counted in UTF-8 bytes (each Chinese character is 3)
    settings.ANNOUNCEMENT_MAX_HTML_BYTES = 7 + 3 * 10
    at_limit = "<p>" + "标" * 10 + "</p>"
    assert len(at_limit.encode()) == settings.ANNOUNCEMENT_MAX_HTML_BYTES

    # when / then
    assert html_sanitize(at_limit) == at_limit
    with pytest.raises(DomainError) as exc:
        html_sanitize(at_limit + " ")
    assert exc.value.code == "html_too_large"
    assert exc.value.params["max"] == settings.ANNOUNCEMENT_MAX_HTML_BYTES


def test_oversized_announcement_is_refused_and_nothing_is_written(tender, agent, settings):
    # given
    settings.ANNOUNCEMENT_MAX_HTML_BYTES = 100
    before = written()

    # when
    with pytest.raises(DomainError) as exc:
        create(tender, agent, body_html="<p>" + "x" * 200 + "</p>", attachments=[("a.pdf", b"%PDF-1", "")])

    # then
    assert exc.value.code == "html_too_large"
    assert written() == before


def test_script_laden_announcement_is_refused_and_nothing_is_written(tender, agent):
    before = written()
    with pytest.raises(DomainError) as exc:
        create(
            tender, agent, body_html="<p>公告</p><script>x()</script>", attachments=[("a.pdf", b"%PDF-1", "")]
        )
    assert exc.value.code == "html_unsafe"
    assert written() == before


# --- drafting ---------------------------------------------------------------------------------------


def test_draft_is_created_sanitised_and_journalled(tender, agent):
    # when
    ann = create(tender, agent, body_html='<p style="x">正文</p>')

    # then
    assert (ann.state, ann.body_html, ann.author_id) == (m.Announcement.State.DRAFT, "<p>正文</p>", agent.pk)
    entry = JournalEntry.objects.get(action="announcement.drafted")
    assert entry.stream == tender.stream
    assert entry.payload["body_digest"] == digest("<p>正文</p>")


def test_attachments_are_content_addressed(tender, agent):
    # given
    doc = b"%PDF-1.7 tender documents"

    # when the same bytes are attached twice, under two names, to two announcements
    a1 = create(tender, agent, attachments=[("招标文件.pdf", doc, "application/pdf"), ("copy.pdf", doc, "")])
    a2 = create(tender, agent, attachments=[("again.pdf", doc, "application/pdf")])

    # then there is one stored blob, named by the SHA-256
    sha = hashlib.sha256(doc).hexdigest()
    assert Blob.objects.count() == 1
    assert set(m.AnnouncementAttachment.objects.values_list("blob_id", flat=True)) == {sha}
    assert {a.filename for a in a1.attachments.all()} == {"招标文件.pdf", "copy.pdf"}
    assert a2.attachments.get().blob.size == len(doc)


def test_attachment_names_cannot_climb_directories(tender, agent):
    ann = create(tender, agent, attachments=[("../../etc/passwd", b"x", "")])
    name = ann.attachments.get().filename
    assert "/" not in name and not name.startswith(".")


def test_oversized_attachment_is_refused_and_nothing_is_written(tender, agent, settings):
    # given
    settings.ATTACHMENT_MAX_BYTES = 10
    before = written()

    # when one attachment of two is too big
    with pytest.raises(DomainError) as exc:
        create(tender, agent, attachments=[("small.pdf", b"0123456789", ""), ("big.pdf", b"0123456789X", "")])

    # then
    assert exc.value.code == "attachment_too_large"
    assert exc.value.params["filename"] == "big.pdf"
    assert written() == before


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"kind": "gossip"}, "announcement_kind_unknown"),
        ({"title": "  "}, "title_required"),
        ({"title": "长" * 301}, "title_too_long"),
        ({"attachments": [("", b"x", "")]}, "filename_invalid"),
    ],
)
def test_bad_drafts_are_refused_and_nothing_is_written(tender, agent, kw, code):
    before = written()
    with pytest.raises(DomainError) as exc:
        create(tender, agent, **kw)
    assert exc.value.code == code
    assert written() == before


def test_lot_of_another_tender_is_refused(tender, agent):
    with pytest.raises(DomainError) as exc:
        create(tender, agent, lot=LotFactory())
    assert exc.value.code == "lot_mismatch"


def test_other_agency_may_not_draft(tender):
    with pytest.raises(DomainError) as exc:
        create(tender, AgencyUserFactory())
    assert (exc.value.code, exc.value.status) == ("tender_not_yours", 403)
    assert m.Announcement.objects.count() == 0


# --- publishing --------------------------------------------------------------------------------------


def test_publishing_fixes_the_content_digest_and_journals(tender, agent, clock):
    # given
    ann = create(tender, agent, attachments=[("b.pdf", b"bbb", ""), ("a.pdf", b"aaa", "")])

    # when
    ann = announcement_publish(announcement=ann, actor=agent)

    # then
    expected = digest(
        {
            "title": ann.title,
            "body": ann.body_html,
            "attachments": sorted([hashlib.sha256(b"aaa").hexdigest(), hashlib.sha256(b"bbb").hexdigest()]),
        }
    )
    ann.refresh_from_db()
    assert (ann.state, ann.published_at, ann.content_digest) == (
        m.Announcement.State.PUBLISHED,
        clock(),
        expected,
    )
    entry = JournalEntry.objects.get(action="announcement.published")
    assert entry.payload == {"kind": "tender", "content_digest": expected}


def test_digest_changes_with_the_text(tender, agent):
    a = announcement_publish(announcement=create(tender, agent, body_html="<p>一</p>"), actor=agent)
    b = announcement_publish(announcement=create(tender, agent, body_html="<p>二</p>"), actor=agent)
    assert a.content_digest != b.content_digest


def test_published_announcement_cannot_be_published_again(tender, agent):
    ann = announcement_publish(announcement=create(tender, agent), actor=agent)
    with pytest.raises(DomainError) as exc:
        announcement_publish(announcement=ann, actor=agent)
    assert exc.value.code == "announcement_not_draft"


def test_other_announcements_wait_for_the_tender(tender, agent):
    # given a draft tender
    ann = create(tender, agent, kind=m.AnnouncementKind.RESULT)

    # when / then
    with pytest.raises(DomainError) as exc:
        announcement_publish(announcement=ann, actor=agent)
    assert exc.value.code == "tender_not_published"
    ann.refresh_from_db()
    assert ann.state == m.Announcement.State.DRAFT


def test_other_agency_may_not_publish(tender, agent):
    ann = create(tender, agent)
    with pytest.raises(DomainError) as exc:
        announcement_publish(announcement=ann, actor=AgencyUserFactory())
    assert exc.value.code == "tender_not_yours"


def test_withdrawal_of_a_published_announcement_is_journalled(tender, agent):
    ann = announcement_publish(announcement=create(tender, agent), actor=agent)
    announcement_withdraw(announcement=ann, actor=agent, reason="发布错误")
    ann.refresh_from_db()
    assert ann.state == m.Announcement.State.WITHDRAWN
    assert JournalEntry.objects.get(action="announcement.withdrawn").payload == {"reason": "发布错误"}


def test_withdrawal_of_a_draft_or_without_reason_is_refused(tender, agent):
    draft = create(tender, agent)
    with pytest.raises(DomainError) as exc:
        announcement_withdraw(announcement=draft, actor=agent, reason="x")
    assert exc.value.code == "announcement_not_published"
    with pytest.raises(DomainError) as exc:
        announcement_withdraw(announcement=draft, actor=agent, reason=" ")
    assert exc.value.code == "reason_required"
