"""Small Chinese PDFs for the demo's documents (tender documents, bid documents)."""

from __future__ import annotations

import io


def small_pdf(title: str, lines: list[str]) -> bytes:
    """A one-page PDF with reportlab's built-in CID font (a few kB, deterministic)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    c.setTitle(title)
    c.setFont("STSong-Light", 16)
    c.drawString(60, 780, title)
    c.setFont("STSong-Light", 11)
    for i, line in enumerate(lines):
        c.drawString(60, 750 - 18 * i, line)
    c.showPage()
    c.save()
    return buf.getvalue()
