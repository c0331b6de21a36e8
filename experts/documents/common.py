"""Shared pieces of the signed documents: signing, number and date formatting, labels, the PDF
builder and its Chinese font."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from bidding.envelope import b64u, b64u_decode
from core.canonical import canonical_json, digest
from trading import pki

FONT = "STSong-Light"  # an Adobe CJK font every PDF reader carries; referenced, not embedded
MARGIN = 14 * 72 / 25.4  # 14 mm in points
SEATS_PER_TABLE = 12  # more seats than this and the score table is split in column blocks


# -- signing -------------------------------------------------------------------------------------------
def sign(data: dict) -> tuple[str, str]:
    """(SHA-256 hex of the canonical JSON, the platform's signature over it, base64url)."""
    payload = canonical_json(data)
    return hashlib.sha256(payload).hexdigest(), b64u(pki.platform_sign(payload))


def verify(data: dict, signature: str) -> bool:
    """True when `signature` is the platform's signature over exactly this data."""
    try:
        raw = b64u_decode(signature)
    except Exception:  # a malformed signature is simply not a valid one
        return False
    return pki.platform_verify(canonical_json(data), raw)


def fingerprint(signature: str) -> str:
    """A short, readable handle on a signature: the first 128 bits of SHA-256 over its text."""
    h = hashlib.sha256(signature.encode("ascii", "replace")).hexdigest()[:32].upper()
    return " ".join(h[i : i + 4] for i in range(0, 32, 4))


# -- formatting ----------------------------------------------------------------------------------------
def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def money(value: Any) -> str:
    """ "1234567.8" → "1,234,567.80"; anything not a number is shown as it is."""
    amount = _dec(value)
    if amount is None:
        return "" if value is None else str(value)
    return f"{amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ("仟", "佰", "拾", "")
_SECTIONS = ("", "万", "亿", "万亿")


def _section_upper(n: int) -> str:
    out, zero = "", False
    for unit, digit in zip(_UNITS, f"{n:04d}", strict=True):
        d = int(digit)
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[d] + unit
    return out


def rmb_upper(value: Any) -> str:
    """The amount in Chinese capital numerals as notices and contracts write it (大写金额):
    1005.07 → 壹仟零伍元零柒分; 100 → 壹佰元整 (支付结算办法附一: 到元或角为止的写"整")."""
    amount = _dec(value)
    if amount is None:
        raise ValueError(f"not an amount: {value!r}")
    fen_total = int(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) * 100)
    sign_ = "负" if fen_total < 0 else ""
    yuan, rest = divmod(abs(fen_total), 100)
    jiao, fen = divmod(rest, 10)
    if yuan == 0 and rest == 0:
        return "零元整"
    out = ""
    if yuan:
        sections = []
        while yuan:
            yuan, section = divmod(yuan, 10000)
            sections.append(section)
        zero = False
        for i in range(len(sections) - 1, -1, -1):
            section = sections[i]
            if section == 0:
                zero = bool(out)
                continue
            if out and (zero or section < 1000):
                out += "零"
            zero = False
            out += _section_upper(section) + _SECTIONS[i]
        out += "元"
    if jiao:
        out += _DIGITS[jiao] + "角"
    elif out and fen:
        out += "零"
    if fen:
        out += _DIGITS[fen] + "分"
    else:
        out += "整"
    return sign_ + out


def _when(value: Any, *, seconds: bool = False) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        if timezone.is_naive(value):
            return value.strftime("%Y-%m-%d %H:%M")
        value = timezone.localtime(value, timezone.get_default_timezone())
        return value.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return str(value)


def _day(value: Any) -> str:
    if not value:
        return ""
    if isinstance(value, str) and len(value) == 10:
        return value
    return _when(value)[:10]


def _regime_label(value: str) -> str:
    return {"TB": _("Bidding Law regime"), "GP": _("Government procurement regime")}.get(value, value or "")


def _method_label(value: str) -> str:
    return {
        "scoring": _("Comprehensive scoring method"),
        "lowest_price": _("Lowest evaluated price method"),
    }.get(value, value or "")


def _kind_label(value: str) -> str:
    return {"expert": _("Expert"), "tenderee_rep": _("Tenderee's representative")}.get(value, value or "")


def _stage_label(value: str) -> str:
    return {"qualification": _("Qualification review"), "preliminary": _("Preliminary review")}.get(
        value, value or ""
    )


def _group_label(value: str) -> str:
    return {
        "technical": _("Technical"),
        "business": _("Commercial"),
        "commercial": _("Commercial"),
        "economic": _("Economic"),
        "service": _("Service"),
        "price": _("Price"),
    }.get(value, value or "")


def _correction_label(value: str) -> str:
    """The four cases of 87号令64 in which a score may change after the summary."""
    return {
        "sum_error": _("The scores were added up wrongly"),
        "out_of_range": _("A score is outside the range of the scoring rules"),
        "objective_inconsistent": _("Members scored an objective criterion differently"),
        "extreme": _("The committee found the score extremely high or low"),
    }.get(value, value or "")


def _yes_no(value: Any) -> str:
    return "—" if value is None else (_("Yes") if value else _("No"))


def _person(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(
            str(value.get(k) or "") for k in ("name", "reg_no", "certificate") if value.get(k)
        ).strip()
    return "" if value is None else str(value)


# -- the PDF machinery -----------------------------------------------------------------------------------
class _Pdf:
    """Styles, helpers and the footer shared by the three documents."""

    def __init__(self, data: dict, signature: str, *, frame_width: float):
        from reportlab.lib import colors
        from reportlab.lib.enums import TA_CENTER, TA_RIGHT
        from reportlab.lib.styles import ParagraphStyle

        self.colors = colors
        self.font = _font()
        self.text = ParagraphStyle("t", fontName=self.font, fontSize=9, leading=12.5, wordWrap="CJK")
        self.cell = ParagraphStyle("c", parent=self.text, fontSize=8, leading=10.5)
        self.small = ParagraphStyle("s", parent=self.text, fontSize=7, leading=9)
        self.h1 = ParagraphStyle(
            "h1", parent=self.text, fontSize=20, leading=28, alignment=TA_CENTER, spaceAfter=10
        )
        self.h2 = ParagraphStyle("h2", parent=self.text, fontSize=12, leading=17, spaceBefore=8, spaceAfter=4)
        self.sub = ParagraphStyle("sub", parent=self.text, fontSize=12, leading=18, alignment=TA_CENTER)
        self.right = ParagraphStyle("r", parent=self.text, alignment=TA_RIGHT)
        self.letter = ParagraphStyle("l", parent=self.text, fontSize=11, leading=19, firstLineIndent=22)
        self.digest = digest(data)
        self.signature = signature
        self.fingerprint = fingerprint(signature)
        self.serial = str(data.get("platform_certificate") or "")
        self.frame_width = frame_width

    def p(self, value: Any, style=None):
        from reportlab.platypus import Paragraph

        text = "" if value is None else str(value)
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br/>")
        return Paragraph(text, style or self.cell)

    def table(self, header: list, rows: list[list], widths: list[float], *, head_bg: bool = True):
        """A grid with the header repeated on every page it spans."""
        from reportlab.platypus import Table, TableStyle

        body = [[self.p(h) for h in header]] if header else []
        body += [[c if hasattr(c, "wrap") else self.p(c) for c in row] for row in rows]
        if sum(widths) > self.frame_width:  # never wider than the page: shrink every column alike
            widths = [w * self.frame_width / sum(widths) for w in widths]
        t = Table(body, colWidths=widths, repeatRows=1 if header else 0)
        style = [
            ("GRID", (0, 0), (-1, -1), 0.4, self.colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]
        if header and head_bg:
            style.append(("BACKGROUND", (0, 0), (-1, 0), self.colors.HexColor("#eeeeee")))
        t.setStyle(TableStyle(style))
        return t

    def pairs(self, rows: list[tuple[str, Any]], widths: list[float]):
        return self.table([], [[k, v] for k, v in rows], widths)

    def footer(self, title: str) -> Callable:
        from reportlab.lib.units import mm

        digest_label = _("Data SHA-256")
        fp_label = _("Platform signature fingerprint")
        page_label = _("Page %(n)s")

        def draw(canvas, doc):
            canvas.saveState()
            canvas.setFont(self.font, 6.5)
            width = doc.pagesize[0]
            canvas.setStrokeColor(self.colors.grey)
            canvas.line(doc.leftMargin, 13 * mm, width - doc.rightMargin, 13 * mm)
            canvas.drawString(doc.leftMargin, 9.5 * mm, f"{title}　{digest_label}: {self.digest}")
            line = f"{fp_label}: {self.fingerprint}"
            if self.serial:
                line += f"　({_('certificate')} {self.serial})"
            canvas.drawString(doc.leftMargin, 6 * mm, line)
            canvas.drawRightString(width - doc.rightMargin, 6 * mm, page_label % {"n": doc.page})
            canvas.restoreState()

        return draw

    def verification(self) -> list:
        from reportlab.lib.units import mm
        from reportlab.platypus import Spacer

        return [
            Spacer(1, 4 * mm),
            self.p(_("Data digest (SHA-256 of the canonical JSON): %(d)s") % {"d": self.digest}, self.small),
            self.p(
                _("Platform signature (ECDSA-SHA256, base64url): %(s)s") % {"s": self.signature}, self.small
            ),
        ]

    def build(self, story: list, *, title: str, pagesize) -> bytes:
        from reportlab.lib.units import mm
        from reportlab.platypus import SimpleDocTemplate

        buf = io.BytesIO()
        doc = SimpleDocTemplate(
            buf,
            pagesize=pagesize,
            title=title,
            author=_("Public resource trading platform"),
            invariant=1,  # no timestamp or random id: the same data prints the same bytes
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN,
            bottomMargin=18 * mm,
        )
        footer = self.footer(title)
        doc.build(story, onFirstPage=footer, onLaterPages=footer)
        return buf.getvalue()


def _language(language: str | None) -> str:
    return language or settings.LANGUAGE_CODE


# -- the evaluation report -------------------------------------------------------------------------------
