"""A plain human-readable PDF of a record that has no PDF of its own (DESIGN §8; issue 6 item 2).

`render_document(title, sections)` prints a title, then each section's heading and either a two-column
key/value table or a paragraph, in A4 portrait with the Adobe CJK font STSong-Light (every PDF reader
carries it; it is referenced, not embedded, so files stay small). The output is deterministic: the
canvas is `invariant` (no creation date, no random document id), so equal input gives equal bytes and
an archived package can be rebuilt and compared byte for byte.

    render_document("开标记录", [("概况", [("项目编号", "E4501…"), ("开标时间", "2026-03-25 09:30")]),
                               ("说明", "第一段。\n\n第二段。")])
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

FONT = "STSong-Light"
_MM = 72 / 25.4
MARGIN = 16 * _MM
KEY_WIDTH = 42 * _MM

Section = tuple[str, Sequence[tuple[Any, Any]] | str]


def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _text(value: Any) -> str:
    """Paragraph markup of any value: escaped, line breaks kept."""
    text = "" if value is None else str(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\r\n", "\n").replace("\n", "<br/>")


def render_document(title: str, sections: Sequence[Section]) -> bytes:
    """The PDF bytes of `title` followed by `sections`: (heading, [(key, value), …]) prints a table,
    (heading, "text") a paragraph (blank lines start new paragraphs). Values are shown as str()."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _font()
    body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=14, wordWrap="CJK")
    cell = ParagraphStyle("cell", parent=body, fontSize=8.5, leading=12)
    h1 = ParagraphStyle("h1", parent=body, fontSize=16, leading=22, alignment=TA_CENTER, spaceAfter=8)
    h2 = ParagraphStyle("h2", parent=body, fontSize=11.5, leading=16, spaceBefore=8, spaceAfter=4)
    width = A4[0] - 2 * MARGIN

    story: list = [Paragraph(_text(title), h1)]
    for heading, content in sections:
        if heading:
            story.append(Paragraph(_text(heading), h2))
        if isinstance(content, str):
            for part in content.replace("\r\n", "\n").split("\n\n"):
                if part.strip():
                    story.append(Paragraph(_text(part.strip()), body))
            continue
        rows = [[Paragraph(_text(k), cell), Paragraph(_text(v), cell)] for k, v in content]
        if not rows:
            continue
        table = Table(rows, colWidths=[KEY_WIDTH, width - KEY_WIDTH], splitInRow=1)
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                    ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f2f2f2")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 3),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ]
            )
        )
        story += [table, Spacer(1, 3 * _MM)]

    def footer(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(font, 7)
        canvas.setFillColor(colors.grey)
        canvas.drawCentredString(A4[0] / 2, 8 * _MM, f"— {doc.page} —")
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        title=str(title),
        author="",
        creator="archive",
        producer="archive",
        invariant=1,  # no timestamp, no random id: equal input, equal bytes
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=16 * _MM,
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()
