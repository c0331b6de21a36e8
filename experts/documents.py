"""Signed documents of the evaluation and award: the evaluation report (评标报告, DOMAIN C9), the award
notice (中标通知书) and the result notice to the other bidders (中标结果通知书, 法45).

Each document is canonical JSON data (core.canonical) signed by the platform key (trading.pki), plus a
PDF printed from that data alone: A4, a Chinese font, the digest and the signature's fingerprint in
the footer of every page. No database access: the services build the data and store the blobs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
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
def report_pdf(data: dict, *, signature: str, language: str | None = None) -> bytes:
    """The evaluation report (C9): cover, committee by seat with names (the report goes to the
    tenderee and the supervisor, and the law wants every member's signature), criteria, review
    results and rejections, every member's score per bid and criterion, price scores, totals, ranking,
    candidates, abnormally low prices, outliers, clarifications, signatures with agreement or dissent."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Spacer

    with translation.override(_language(language)):
        full = landscape(A4)[0] - 2 * MARGIN
        pdf = _Pdf(data, signature, frame_width=full)
        p = pdf.p
        tender, lot = data.get("tender") or {}, data.get("lot") or {}
        method = data.get("method", "scoring")
        scoring = method == "scoring"
        members = sorted(data.get("members") or [], key=lambda m: m.get("seat", 0))
        criteria = data.get("criteria") or []
        bids = data.get("bids") or []
        names = {b.get("bid"): b.get("bidder", "") for b in bids}
        title = _("Evaluation report")

        # cover
        story: list = [Spacer(1, 25 * mm), p(title, pdf.h1), p(tender.get("title", ""), pdf.sub)]
        story.append(
            p(_("Lot %(n)s: %(t)s") % {"n": lot.get("number", ""), "t": lot.get("title", "")}, pdf.sub)
        )
        story.append(Spacer(1, 12 * mm))
        chair = next((m for m in members if m.get("chair")), None)
        cover = [
            (_("Transaction code"), tender.get("code", "")),
            (_("Regime"), _regime_label(tender.get("regime", ""))),
            (_("Budget (yuan)"), money(lot.get("budget"))),
            (_("Ceiling price (yuan)"), money(lot.get("ceiling_price"))),
            (_("Evaluation method"), _method_label(method)),
            (_("Bids opened at"), _when(data.get("opened_at"))),
            (_("Report generated at"), _when(data.get("generated_at"))),
            (_("Bids evaluated"), len(bids)),
            (
                _("Committee"),
                _("%(n)s members, chaired by seat %(s)s")
                % {"n": len(members), "s": chair.get("seat") if chair else "—"},
            ),
            (_("Data digest (SHA-256)"), pdf.digest),
        ]
        supersedes = data.get("supersedes") or {}
        if supersedes:
            cover.append((_("Report revision"), data.get("revision", "")))
            cover.append(
                (
                    _("Supersedes"),
                    _("revision %(n)s (%(sha)s): %(reason)s")
                    % {
                        "n": supersedes.get("revision", ""),
                        "sha": str(supersedes.get("data_sha256", ""))[:16],
                        "reason": supersedes.get("reason", ""),
                    },
                )
            )
        story += [pdf.pairs(cover, [60 * mm, 150 * mm]), PageBreak()]

        # the committee
        story.append(p(_("1. Evaluation committee"), pdf.h2))
        rows = [
            [
                m.get("seat"),
                m.get("name", ""),
                _kind_label(m.get("kind", "")),
                _("Chair") if m.get("chair") else "",
            ]
            for m in members
        ]
        story.append(
            pdf.table(
                [_("Seat"), _("Member name"), _("Member type"), _("Role")],
                rows,
                [20 * mm, 70 * mm, 70 * mm, 40 * mm],
            )
        )

        # criteria
        story.append(p(_("2. Scoring criteria"), pdf.h2))
        rows = [
            [c.get("code", ""), c.get("name", ""), _group_label(c.get("group", "")), c.get("max", "")]
            for c in criteria
        ]
        if scoring:
            rows.append(
                ["", _("Price"), _group_label("price"), data.get("price_points", "") or _("by formula")]
            )
        story.append(
            pdf.table(
                [_("Code"), _("Criterion"), _("Group"), _("Maximum points")],
                rows,
                [35 * mm, 120 * mm, 45 * mm, 35 * mm],
            )
        )

        # the bids and the review
        story.append(p(_("3. Bids, qualification and preliminary review"), pdf.h2))
        rows = [
            [i, b.get("bidder", ""), b.get("uscc", ""), money(b.get("price")), money(b.get("evaluated_price")),
             _("Passed") if b.get("qualified") else _("Did not pass")]
            for i, b in enumerate(bids, start=1)
        ]  # fmt: skip
        header = [_("No."), _("Bidder"), _("Credit code"), _("Bid price"), _("Evaluated price"), _("Review")]
        story.append(pdf.table(header, rows, [12 * mm, 85 * mm, 45 * mm, 40 * mm, 40 * mm, 30 * mm]))
        rejections = [(b, r) for b in bids for r in (b.get("rejections") or [])]
        story.append(p(_("Rejected bids and reasons"), pdf.h2))
        if rejections:
            rows = [
                [b.get("bidder", ""), _stage_label(r.get("stage", "")), r.get("criterion", ""),
                 "、".join(str(s) for s in r.get("seats") or []), "\n".join(str(x) for x in r.get("reasons") or [])]
                for b, r in rejections
            ]  # fmt: skip
            header = [_("Bidder"), _("Stage"), _("Criterion"), _("Seats"), _("Reasons")]
            story.append(pdf.table(header, rows, [60 * mm, 35 * mm, 40 * mm, 25 * mm, 113 * mm]))
        else:
            story.append(p(_("None."), pdf.text))

        qualified = [b for b in bids if b.get("qualified")]

        # scores per seat
        if scoring and criteria:
            story.append(p(_("4. Scores by member"), pdf.h2))
            seats = [m.get("seat") for m in members]
            blocks = [seats[i : i + SEATS_PER_TABLE] for i in range(0, len(seats), SEATS_PER_TABLE)] or [[]]
            for block in blocks:
                fixed = 55 * mm + 45 * mm + 20 * mm
                seat_w = min((full - fixed) / max(len(block), 1), 22 * mm)
                header = (
                    [_("Bidder"), _("Criterion")]
                    + [_("Seat %(n)s") % {"n": s} for s in block]
                    + [_("Average")]
                )
                rows = []
                for b in qualified:
                    for c in criteria:
                        cell = (b.get("scores") or {}).get(c.get("code"), {})
                        by_seat = cell.get("by_seat") or {}
                        rows.append(
                            [b.get("bidder", ""), c.get("name", "")]
                            + [by_seat.get(str(s), "—") for s in block]
                            + [cell.get("average", "")]
                        )
                widths = [55 * mm, 45 * mm] + [seat_w] * len(block) + [20 * mm]
                story += [pdf.table(header, rows, widths), Spacer(1, 3 * mm)]
            corrections = data.get("corrections") or []
            if corrections:
                crit = {c.get("code"): c.get("name", "") for c in criteria}
                story.append(p(_("Scores corrected after the summary (87号令第六十四条)"), pdf.h2))
                rows = [[x.get("seat", ""), x.get("bidder") or names.get(x.get("bid"), ""),
                         crit.get(x.get("criterion"), x.get("criterion", "")), x.get("from", ""), x.get("to", ""),
                         _correction_label(x.get("case", "")), x.get("reason", "")] for x in corrections]  # fmt: skip
                header = [_("Seat"), _("Bidder"), _("Criterion"), _("At the summary"), _("Corrected"),
                          _("Case"), _("Reason")]  # fmt: skip
                widths = [15 * mm, 50 * mm, 40 * mm, 22 * mm, 22 * mm, 55 * mm, 60 * mm]
                story.append(pdf.table(header, rows, widths))

        # results
        story.append(
            p(
                _("5. Price scores, totals and ranking") if scoring else _("5. Ranking by evaluated price"),
                pdf.h2,
            )
        )
        if scoring and data.get("price_base"):
            story.append(p(_("Base price (yuan): %(b)s") % {"b": money(data["price_base"])}, pdf.text))
        ranked = sorted(qualified, key=lambda b: (b.get("rank") is None, b.get("rank") or 0))
        if scoring:
            header = [
                _("Rank"),
                _("Bidder"),
                _("Evaluated price"),
                _("Price score"),
                _("Total score"),
                _("Tie"),
            ]
            rows = [[b.get("rank", ""), b.get("bidder", ""), money(b.get("evaluated_price")), b.get("price_score", ""),
                     b.get("total", ""), _("Yes") if b.get("tie") else ""] for b in ranked]  # fmt: skip
            widths = [18 * mm, 100 * mm, 45 * mm, 35 * mm, 35 * mm, 25 * mm]
        else:
            header = [_("Rank"), _("Bidder"), _("Bid price"), _("Evaluated price"), _("Tie")]
            rows = [[b.get("rank", ""), b.get("bidder", ""), money(b.get("price")), money(b.get("evaluated_price")),
                     _("Yes") if b.get("tie") else ""] for b in ranked]  # fmt: skip
            widths = [18 * mm, 120 * mm, 45 * mm, 45 * mm, 25 * mm]
        story.append(pdf.table(header, rows, widths))
        if any(b.get("tie") for b in ranked):
            story.append(
                p(
                    _(
                        "Bids marked as tied are equal on both score and price; their order follows the rule of the tender documents."
                    ),
                    pdf.small,
                )
            )

        # candidates
        story.append(p(_("6. Recommended candidates"), pdf.h2))
        rows = [[c.get("rank", ""), c.get("bidder") or names.get(c.get("bid"), ""), money(c.get("price")),
                 c.get("total", "") if scoring else ""] for c in data.get("candidates") or []]  # fmt: skip
        story.append(
            pdf.table(
                [_("Rank"), _("Candidate"), _("Bid price"), _("Total score")],
                rows,
                [18 * mm, 140 * mm, 50 * mm, 35 * mm],
            )
        )

        # abnormally low prices
        lows = [b for b in bids if b.get("low_price")]
        story.append(p(_("7. Abnormally low prices"), pdf.h2))
        if lows:
            rows = []
            for b in lows:
                low = b["low_price"]
                accepted = low.get("accepted")
                verdict = (
                    _("Pending") if accepted is None else (_("Accepted") if accepted else _("Not accepted"))
                )
                rows.append([b.get("bidder", ""), low.get("ratio", ""), low.get("text", ""), verdict])
            header = [
                _("Bidder"),
                _("Price / mean of the others"),
                _("Written justification"),
                _("Committee's verdict"),
            ]
            story.append(pdf.table(header, rows, [60 * mm, 35 * mm, 143 * mm, 35 * mm]))
        else:
            story.append(p(_("None."), pdf.text))

        # outliers
        story.append(p(_("8. Scoring outliers"), pdf.h2))
        outliers = data.get("outliers") or []
        if outliers:
            crit_names = {c.get("code"): c.get("name", "") for c in criteria}
            rows = [[o.get("seat", ""), o.get("bidder") or names.get(o.get("bid"), ""),
                     crit_names.get(o.get("criterion"), o.get("criterion", "")), o.get("value", ""), o.get("median", "")]
                    for o in outliers]  # fmt: skip
            header = [_("Seat"), _("Bidder"), _("Criterion"), _("Score"), _("Median of the others")]
            story.append(pdf.table(header, rows, [20 * mm, 90 * mm, 80 * mm, 30 * mm, 45 * mm]))
        else:
            story.append(p(_("None."), pdf.text))

        # clarifications
        story.append(p(_("9. Written clarifications"), pdf.h2))
        clar = data.get("clarifications") or []
        if clar:
            rows = [[c.get("bidder", ""), c.get("question", ""), c.get("answer", "") or "—", _when(c.get("asked_at")),
                     _when(c.get("answered_at"))] for c in clar]  # fmt: skip
            header = [_("Bidder"), _("Question"), _("Answer"), _("Asked at"), _("Answered at")]
            story.append(pdf.table(header, rows, [50 * mm, 80 * mm, 80 * mm, 31 * mm, 31 * mm]))
        else:
            story.append(p(_("None."), pdf.text))

        # signatures
        story.append(p(_("10. Signatures of the committee"), pdf.h2))
        signed = {s.get("seat"): s for s in data.get("signatures") or []}
        rows = []
        for m in members:
            s = signed.get(m.get("seat"))
            if s is None:
                rows.append([m.get("seat"), m.get("name", ""), _("Not signed"), "", ""])
                continue
            opinion = _("Agrees") if s.get("agrees") else _("Dissents")
            if s.get("deemed"):
                opinion = _("Deemed to agree (did not sign in time)")
            rows.append(
                [
                    m.get("seat"),
                    s.get("name") or m.get("name", ""),
                    opinion,
                    s.get("dissent", ""),
                    _when(s.get("signed_at")),
                ]
            )
        header = [_("Seat"), _("Member name"), _("Opinion"), _("Dissent (in writing)"), _("Signed at")]
        story.append(pdf.table(header, rows, [18 * mm, 50 * mm, 30 * mm, 140 * mm, 35 * mm]))
        story.append(
            p(
                _(
                    "A member who neither signs nor states a dissent in writing is deemed to agree with the report (%(source)s)."
                )
                % {"source": "招标投标法实施条例第五十三条；87号令第六十一条"},
                pdf.small,
            )
        )
        story += pdf.verification()
        return pdf.build(story, title=f"{title} {tender.get('code', '')}", pagesize=landscape(A4))


# -- the notices -----------------------------------------------------------------------------------------
_CONTRACT_SOURCE = {"TB": "招标投标法第四十六条", "GP": "87号令第七十一条"}
_RESULT_SOURCE = {"TB": "招标投标法第四十五条", "GP": "87号令第六十九条"}


def _amount_rows(data: dict) -> list[tuple[str, Any]]:
    amount = data.get("amount")
    shown = money(amount) + " " + _("yuan")
    if _dec(amount) is not None and translation.get_language().startswith("zh"):
        shown += f"（{_('in words')}：人民币{rmb_upper(amount)}）"
    return [(_("Amount"), shown)]


def _issuer(pdf: _Pdf, data: dict) -> list:
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    out = [Spacer(1, 12 * mm)]
    if data.get("tenderee"):
        out.append(pdf.p(_("Tenderee: %(n)s (seal)") % {"n": data["tenderee"]}, pdf.right))
    if data.get("agency"):
        out.append(pdf.p(_("Tendering agency: %(n)s (seal)") % {"n": data["agency"]}, pdf.right))
    out.append(pdf.p(_("Date: %(d)s") % {"d": _day(data.get("decided_at"))}, pdf.right))
    return out


def _notice(data: dict, signature: str, language: str | None, *, award: bool) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    with translation.override(_language(language)):
        pdf = _Pdf(data, signature, frame_width=A4[0] - 2 * MARGIN)
        p = pdf.p
        tender, lot = data.get("tender") or {}, data.get("lot") or {}
        winner = data.get("winner") or {}
        regime = tender.get("regime", "TB")
        title = _("Award notice") if award else _("Notice of the award result")
        addressee = winner if award else (data.get("bidder") or {})
        project = _("%(title)s (transaction code %(code)s), lot %(n)s %(lot)s") % {
            "title": tender.get("title", ""),
            "code": tender.get("code", ""),
            "n": lot.get("number", ""),
            "lot": lot.get("title", ""),
        }
        story: list = [
            Spacer(1, 8 * mm),
            p(title, pdf.h1),
            p(_("No. %(n)s") % {"n": data.get("number", "")}, pdf.right),
        ]
        story += [
            Spacer(1, 6 * mm),
            p(_("To: %(n)s") % {"n": addressee.get("name", "")}, pdf.letter),
            Spacer(1, 2 * mm),
        ]
        rows = [
            (_("Project"), project),
            (_("Winning bidder"), winner.get("name", "")),
            (_("Credit code"), winner.get("uscc", "")),
            *_amount_rows(data),
        ]
        if award:
            story.append(
                p(
                    _(
                        "Following the evaluation of %(project)s, your bid has been accepted and you are the winning bidder. The award is as follows."
                    )
                    % {"project": project},
                    pdf.letter,
                )
            )
            if data.get("duration_days") not in (None, ""):
                rows.append((_("Duration"), _("%(n)s days") % {"n": data["duration_days"]}))
            if data.get("quality"):
                rows.append((_("Quality"), data["quality"]))
            if data.get("project_manager"):
                rows.append((_("Project manager"), _person(data["project_manager"])))
        else:
            story.append(
                p(
                    _(
                        "The evaluation of %(project)s is complete and the winning bidder has been determined. Your bid was not successful. Thank you for taking part. The result is as follows."
                    )
                    % {"project": project},
                    pdf.letter,
                )
            )
            # 87号令69: a GP bidder also learns why it failed the review, or its own score and rank.
            own = data.get("bidder") or {}
            if own.get("reason"):
                rows.append((_("Why your bid was not successful"), own["reason"]))
            if own.get("total") not in (None, ""):
                rows.append((_("Your score"), own["total"]))
            if own.get("rank") not in (None, ""):
                rows.append((_("Your rank"), own["rank"]))
        rows.append((_("Decided at"), _when(data.get("decided_at"))))
        story += [Spacer(1, 3 * mm), pdf.pairs(rows, [40 * mm, 142 * mm]), Spacer(1, 4 * mm)]
        if award:
            story.append(
                p(
                    _(
                        "Please sign the written contract with the tenderee on the terms of the tender documents and of your bid by %(due)s, within 30 days of this notice (%(source)s)."
                    )
                    % {
                        "due": _day(data.get("contract_due_on")),
                        "source": _CONTRACT_SOURCE.get(regime, _CONTRACT_SOURCE["TB"]),
                    },
                    pdf.letter,
                )
            )
        else:
            story.append(
                p(
                    _(
                        "This notice is given under %(source)s. Your bid security is refunded as the law and the tender documents provide."
                    )
                    % {"source": _RESULT_SOURCE.get(regime, _RESULT_SOURCE["TB"])},
                    pdf.letter,
                )
            )
        story += _issuer(pdf, data)
        story += pdf.verification()
        return pdf.build(story, title=f"{title} {data.get('number', '')}", pagesize=A4)


def award_notice_pdf(data: dict, *, signature: str, language: str | None = None) -> bytes:
    """The award notice (中标通知书) to the winner (法45): number, parties, amount, duration, quality,
    project manager, the contract deadline (法46 / 87号令71), issuer and date."""
    return _notice(data, signature, language, award=True)


def result_notice_pdf(data: dict, *, signature: str, language: str | None = None) -> bytes:
    """The result notice (中标结果通知书) to a bidder that did not win (法45): the winner and its amount."""
    return _notice(data, signature, language, award=False)


__all__ = [
    "award_notice_pdf",
    "fingerprint",
    "money",
    "report_pdf",
    "result_notice_pdf",
    "rmb_upper",
    "sign",
    "verify",
]
