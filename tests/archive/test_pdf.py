"""archive.pdf.render_document: a readable PDF of a record (title, key/value tables, paragraphs) in a
CJK font, deterministic bytes for equal input."""

from __future__ import annotations

import io

from pypdf import PdfReader

from archive.pdf import FONT, render_document

SECTIONS = [
    (
        "概况",
        [("项目编号", "E4501000000000000000000000000001"), ("开标时间", "2026-03-25 09:30:00"), ("空", None)],
    ),
    ("说明", "第一段：<b>不是标记</b> & 原样显示。\n\n第二段。"),
    ("空表", []),
]


def _text(pdf: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), "".join(page.extract_text() for page in reader.pages)


def test_the_document_prints_its_title_tables_and_paragraphs_in_a_cjk_font():
    pdf = render_document("开标记录", SECTIONS)

    assert pdf.startswith(b"%PDF-") and FONT.encode() in pdf
    pages, text = _text(pdf)
    assert pages == 1
    for expected in ("开标记录", "概况", "项目编号", "E4501000000000000000000000000001", "第二段"):
        assert expected in text
    assert "<b>不是标记</b> & 原样显示" in text


def test_equal_input_gives_equal_bytes_and_different_input_different_bytes():
    assert render_document("开标记录", SECTIONS) == render_document("开标记录", SECTIONS)
    assert render_document("开标记录", SECTIONS) != render_document("开标记录 ", SECTIONS)


def test_a_value_longer_than_a_page_flows_on_to_the_next():
    pages, text = _text(render_document("长文", [("表", [("正文", "很长的内容。" * 1500)])]))
    assert pages > 1 and text.count("很长的内容") > 100
