"""Small generated PDFs: the tender documents and each bid document (the synthetic market's bid text,
so the monitoring's document similarity reads what the generator wrote, shared passages and typos
included). Deterministic bytes (reportlab's invariant mode), a few kB each."""

from __future__ import annotations

import io
import textwrap

WRAP = 38  # characters per line of Chinese text on an A4 page at 10 pt
LINES_PER_PAGE = 48


def _canvas(buf, *, title: str, author: str = "", creator: str = ""):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    c.setTitle(title)
    if author:
        c.setAuthor(author)
    if creator:
        c.setCreator(creator)
    return c


def text_pdf(title: str, paragraphs: list[str], *, author: str = "", creator: str = "") -> bytes:
    """A PDF with a title and the paragraphs wrapped onto as many pages as they need."""
    lines: list[str] = []
    for p in paragraphs:
        lines += textwrap.wrap(p, WRAP) or [""]
    buf = io.BytesIO()
    c = _canvas(buf, title=title, author=author, creator=creator)
    for start in range(0, max(len(lines), 1), LINES_PER_PAGE):
        c.setFont("STSong-Light", 14)
        c.drawString(50, 800, title)
        c.setFont("STSong-Light", 10)
        for i, line in enumerate(lines[start : start + LINES_PER_PAGE]):
            c.drawString(50, 776 - 15 * i, line)
        c.showPage()
    c.save()
    return buf.getvalue()


def tender_documents(title: str, template: str | None) -> list[tuple[str, bytes, str]]:
    """招标文件: the chapters, and the template passages every bid quotes (when the market has texts)."""
    passages = [p for p in (template or "").split("。") if p]
    body = [
        "第一章 招标公告",
        "第二章 投标人须知",
        "第三章 评标办法",
        "第四章 合同条款及格式",
        "第五章 技术标准和要求",
        "第六章 投标文件格式",
        *(f"{p}。" for p in passages),
    ]
    return [("招标文件.pdf", text_pdf(f"{title} 招标文件", body), "application/pdf")]


def bid_document(
    *, title: str, bidder: str, price: str, text: str | None, author: str, creator: str
) -> bytes:
    """投标文件: the bid letter and the bid's text (the generator's), authored by `author`.

    The heading names the bidder, not "<title> 投标文件": beside the tender documents' "<title> 招标文件"
    that line reads as a typo the bids share (one letter off the template) when only two bids open."""
    paragraphs = [f"项目名称：{title}，标段：全部", f"投标报价：人民币 {price} 元"]
    paragraphs += [f"{p}。" for p in (text or "").split("。") if p] or ["第一章 投标函", "第二章 技术方案"]
    return text_pdf(f"投标文件（{bidder}）", paragraphs, author=author, creator=creator)
