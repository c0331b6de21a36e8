"""Trading's items in a project's archival package (issue 6 item 1): the registration data, every
announcement (data, a readable PDF, its stored files; public once published), the register of
document holders and the evidence captured for the tender."""

from __future__ import annotations

import json

import pytest

from archive.blobs import blob_open
from archive.providers import collect
from core.canonical import digest
from tests.experts.test_archive_items import document_pdf, snapshot
from tests.factories import (
    AgencyUserFactory,
    AnnouncementFactory,
    BidderUserFactory,
    LotFactory,
    TenderFactory,
)
from trading import archive
from trading.models import AnnouncementAttachment, AnnouncementKind, TenderState
from trading.services.announcements import announcement_create, announcement_publish, announcement_withdraw
from trading.services.tenders import tender_amend, tender_document_download, tender_publish

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPECTED = [
    "tender.json",
    "announcements/0001-tender.json",
    "announcements/0001-tender.pdf",
    "announcements/0001-tender/01.pdf",
    "announcements/0001-tender/02.xlsx",
    "announcements/0002-amendment.json",
    "announcements/0002-amendment.pdf",
    "announcements/0002-amendment/01.pdf",
    "announcements/0003-amendment.json",
    "announcements/0003-amendment.pdf",
    "announcements/0004-contract.json",
    "announcements/0004-contract.pdf",
    "downloads.json",
    "evidence.json",
]
PUBLIC = {p for p in EXPECTED if p.startswith(("announcements/0001", "announcements/0002"))}


def published_tender(clock):
    """A tender published with two documents, a clarification with a file, an announcement published
    then withdrawn, a draft never published, and two bidders holding the documents."""
    tender = TenderFactory(state=TenderState.DRAFT, title="南宁市某道路改造工程施工招标（登记）")
    LotFactory(tender=tender, number=1)
    LotFactory(
        tender=tender,
        number=2,
        title="第二标段",
        budget="3000000.00",
        ceiling_price=None,
        bid_security="50000.00",
    )
    agency = AgencyUserFactory(entity=tender.agency)
    tender_publish(
        tender=tender,
        actor=agency,
        documents=[
            ("招标文件.pdf", document_pdf("招标文件"), "application/pdf"),
            ("工程量清单.XLSX", b"PK\x03\x04", XLSX),
        ],
    )
    clock.advance(days=1)
    tender_amend(
        tender=tender,
        actor=agency,
        title="澄清公告",
        body_html="<p>工期澄清。</p>",
        affects_preparation=False,
        attachments=[("澄清.pdf", document_pdf("澄清"), "application/pdf")],
    )
    wrong = announcement_create(
        tender=tender,
        kind=AnnouncementKind.AMENDMENT,
        title="错误公告",
        body_html="<p>误发</p>",
        actor=agency,
    )
    announcement_withdraw(
        announcement=announcement_publish(announcement=wrong, actor=agency), actor=agency, reason="误发"
    )
    announcement_create(
        tender=tender,
        kind=AnnouncementKind.CONTRACT,
        title="合同公示（草稿）",
        body_html="<p>草稿</p>",
        actor=agency,
    )
    tender.refresh_from_db()
    for _ in range(2):
        clock.advance(minutes=5)
        tender_document_download(tender=tender, user=BidderUserFactory())
    tender.refresh_from_db()
    return tender


def test_a_tender_archives_its_registration_announcements_documents_and_holders(clock):
    tender = published_tender(clock)
    other = AnnouncementFactory(title="另一项目招标公告").tender
    project = f"tender:{tender.pk}"

    items = archive.items(project)

    assert [i.path for i in items] == EXPECTED
    assert {i.path for i in items if i.public} == PUBLIC
    by_path = {i.path: i for i in items}
    data = {p: json.loads(i.data) for p, i in by_path.items() if p.endswith(".json")}
    registration = data["tender.json"]
    assert (registration["code"], registration["regime"], registration["method"]) == (
        tender.code,
        tender.regime,
        tender.method,
    )
    assert registration["tenderee"]["uscc"] == tender.tenderee.uscc
    assert registration["agency"]["uscc"] == tender.agency.uscc
    assert [(lot["number"], lot["budget"], lot["ceiling_price"]) for lot in registration["lots"]] == [
        (1, "5000000.00", "4800000.00"),
        (2, "3000000.00", None),
    ]
    assert registration["total_budget"] == "8000000.00"
    # every announcement's digest re-checks over its text and its stored files, which are the blobs
    first = data["announcements/0001-tender.json"]
    assert first["kind"] == "tender" and [f["path"] for f in first["attachments"]] == [
        "announcements/0001-tender/01.pdf",
        "announcements/0001-tender/02.xlsx",
    ]
    for path in ("announcements/0001-tender.json", "announcements/0002-amendment.json"):
        ann = data[path]
        files = sorted(f["sha256"] for f in ann["attachments"])
        assert (
            digest({"title": ann["title"], "body": ann["body_html"], "attachments": files})
            == ann["content_digest"]
        )
    attachment = AnnouncementAttachment.objects.get(filename="澄清.pdf")
    assert by_path["announcements/0002-amendment/01.pdf"].blob == attachment.blob_id
    with blob_open(attachment.blob) as fh:
        assert fh.read() == document_pdf("澄清")
    assert (
        data["announcements/0003-amendment.json"]["state"],
        data["announcements/0004-contract.json"]["state"],
    ) == (
        "withdrawn",
        "draft",
    )
    assert by_path["announcements/0001-tender.pdf"].data.startswith(b"%PDF-")
    # the holders of the documents and the evidence of their downloads
    assert len(data["downloads.json"]["downloads"]) == 2
    assert [e["action"] for e in data["evidence.json"]["evidence"]] == ["download", "download"]

    # the same bytes twice; nothing of the other tender here, nothing of this one there
    assert snapshot(archive.items(project)) == snapshot(items)
    assert not any(other.code.encode() in i.data or "另一项目".encode() in i.data for i in items if i.data)
    theirs = archive.items(f"tender:{other.pk}")
    assert [i.path for i in theirs] == [
        "tender.json",
        "announcements/0001-tender.json",
        "announcements/0001-tender.pdf",
    ]
    assert not any(tender.code.encode() in i.data for i in theirs if i.data)
    assert {p for p, _i in collect(project) if p.startswith("trading/")} == {f"trading/{p}" for p in EXPECTED}
    assert archive.items("entity:1") == archive.items("tender:999999") == []
