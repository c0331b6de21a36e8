"""The opening record (开标记录, DOMAIN B9): its data, signed by the platform over the canonical JSON,
and a PDF of it kept as a blob.

Two stages: when the host puts the record to the bidders, its `body` is fixed and bidders sign the
body's digest; at closing the confirmations are added, and the whole is digested, signed and printed.
"""

from __future__ import annotations

import datetime as dt
import io
import json

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from archive.blobs import blob_put
from archive.models import JournalEntry
from bidding.envelope import b64u, b64u_decode
from bidding.models import BidSecurity, OpeningRecord, OpeningSession
from bidding.opening import rules
from bidding.opening.selectors import active_bids
from core.canonical import canonical_json, digest
from trading import pki

PLACE = "不见面开标（线上）"  # the data standard's 地点 of a remote opening (DOMAIN B9)
DECISION_ACTIONS = ("opening.shortfall_decided", "opening.decryption_fault", "opening.failed")


def _plain(value) -> dict:
    """What a JSON column gives back: the digest over stored data must equal the one signed."""
    return json.loads(canonical_json(value))


def _journal(session: OpeningSession, actions) -> list[JournalEntry]:
    return list(
        JournalEntry.objects.filter(
            stream=session.lot.tender.stream, action__in=list(actions), payload__lot=session.lot_id
        ).order_by("seq")
    )


def record_body(*, session: OpeningSession) -> dict:
    """The record's content: what bidders confirm (DOMAIN B9, data standard 506/507)."""
    lot = session.lot
    tender = lot.tender
    bids = list(active_bids(lot))
    securities = {s.entity_id: s for s in BidSecurity.objects.filter(lot=lot)}
    attendance = {a.entity_id: a for a in session.attendance.select_related("user", "entity")}
    participants = []
    if session.host_id:
        participants.append({"role": "host", "name": session.host.display_name})
    participants += [
        {
            "role": "bidder",
            "name": a.user.display_name,
            "entity": a.entity.name,
            "signed_in_at": a.signed_in_at,
        }
        for a in sorted(attendance.values(), key=lambda a: (a.signed_in_at, a.pk))
    ]
    bidders = []
    for i, bid in enumerate(bids, start=1):
        form = bid.form if bid.decryption in rules.VALID_DECRYPTIONS else {}
        items = form.get("items") or {}
        security = securities.get(bid.entity_id)
        bidders.append(
            {
                "order": i,
                "name": bid.entity.name,
                "uscc": bid.entity.uscc,
                "price": form.get("price"),
                "currency": form.get("currency"),
                "duration_days": form.get("duration_days"),
                "quality": form.get("quality"),
                "project_manager": form.get("project_manager"),
                "items": items,
                "consortium": items.get("consortium", ""),
                "deposit": (
                    {
                        "amount": security.amount,
                        "method": security.method,
                        "received_at": security.received_at,
                        "verified": security.verified_at is not None,
                    }
                    if security
                    else None
                ),
                "submitted_at": bid.submitted_at,
                "signed_in": bid.entity_id in attendance,
                "decryption": bid.decryption,
                "decrypted_at": bid.decrypted_at,
            }
        )
    objections = [
        {
            "name": o.entity.name,
            "text": o.text,
            "raised_at": o.raised_at,
            "answer": o.answer,
            "answered_at": o.answered_at,
            "withdrawn_at": o.withdrawn_at,
        }
        for o in session.objections.select_related("entity").order_by("raised_at", "pk")
    ]
    decisions = [
        {"action": e.action.removeprefix("opening."), "at": e.at, "by": e.actor_label, **e.payload}
        for e in _journal(session, DECISION_ACTIONS)
    ]
    return _plain(
        {
            "v": 1,
            "title": f"{tender.title}（{lot.title}）开标记录",
            "tender": {"code": tender.code, "title": tender.title},
            "lot": {"number": lot.number, "title": lot.title},
            "place": PLACE,
            "opened_at": tender.deadline,
            "url": settings.PUBLIC_BASE_URL + reverse("bidding:opening", args=[lot.pk]),
            "participants": participants,
            "bidders": bidders,
            "valid_bids": sum(1 for b in bids if b.decryption in rules.VALID_DECRYPTIONS),
            "minimum": max(lot.min_bidders, rules.MIN_BIDDERS),
            "objections": objections,
            "decisions": decisions,
            "outcome": session.phase,
            "failure_reason": session.failure_reason,
        }
    )


def _sign(data: dict) -> str:
    return b64u(pki.platform_sign(canonical_json(data)))


def record_prepare(*, session: OpeningSession) -> OpeningRecord:
    """Fix the body bidders will confirm. Call while holding the hall's lock."""
    body = record_body(session=session)
    data = _plain({"v": 1, "body": body, "body_sha256": digest(body), "confirmations": [], "closed_at": None})
    record, _created = OpeningRecord.objects.update_or_create(
        session=session,
        defaults={
            "data": data,
            "data_sha256": digest(data),
            "platform_signature": _sign(data),
            "created_at": timezone.now(),
        },
    )
    return record


def confirmations(session: OpeningSession) -> list[dict]:
    return [
        {
            "entity": e.payload.get("entity"),
            "user": e.actor_label,
            "at": e.at,
            "method": e.payload.get("method"),
            "certificate": e.payload.get("certificate", ""),
            "signature": e.payload.get("signature", ""),
        }
        for e in _journal(session, ["opening.confirmed"])
    ]


def record_finalize(*, session: OpeningSession, closed_at) -> OpeningRecord:
    """Add the confirmations, sign the whole and print it. Call while holding the hall's lock."""
    record = OpeningRecord.objects.filter(session=session).first() or record_prepare(session=session)
    names = {c["entity"]: "" for c in confirmations(session)}
    for bidder in session.lot.bids.filter(entity_id__in=names).select_related("entity"):
        names[bidder.entity_id] = bidder.entity.name
    data = dict(record.data)
    data["confirmations"] = [{**c, "name": names.get(c["entity"], "")} for c in confirmations(session)]
    data["closed_at"] = closed_at
    data["platform_certificate"] = pki.serial_hex(pki.platform_signer()[1].serial_number)
    data = _plain(data)
    record.data = data
    record.data_sha256 = digest(data)
    record.platform_signature = _sign(data)
    record.pdf = blob_put(
        data=record_pdf(data, signature=record.platform_signature), content_type="application/pdf"
    )
    record.save(update_fields=["data", "data_sha256", "platform_signature", "pdf"])
    return record


def record_verify(record: OpeningRecord) -> bool:
    """True when the stored data is what the platform signed."""
    if digest(record.data) != record.data_sha256:
        return False
    return pki.platform_verify(canonical_json(record.data), b64u_decode(record.platform_signature))


# --- the PDF ---------------------------------------------------------------------------------------

FONT = "STSong-Light"


def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _when(value) -> str:
    if not value:
        return ""
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return timezone.localtime(parsed).strftime("%Y-%m-%d %H:%M:%S")


def _decryption_label(value: str) -> str:
    from bidding.models import Bid

    return str(Bid.Decryption(value).label) if value in Bid.Decryption.values else value


def _method_label(value: str) -> str:
    if value in BidSecurity.Method.values:
        return str(BidSecurity.Method(value).label)
    return {"signature": _("Signed with the certified key"), "click": _("Confirmed without a key")}.get(
        value, value or ""
    )


def record_pdf(data: dict, *, signature: str) -> bytes:
    """The record as a PDF in the platform's language (Chinese by default), deterministic bytes."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _font()
    text = ParagraphStyle("t", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    head = ParagraphStyle("h", parent=text, fontSize=15, leading=20, spaceAfter=6)
    small = ParagraphStyle("s", parent=text, fontSize=7, leading=9)
    body = data["body"]

    def p(value, style=text):
        return Paragraph(
            str(value if value is not None else "").replace("&", "&amp;").replace("<", "&lt;"), style
        )

    def table(rows, widths):
        t = Table(rows, colWidths=widths, repeatRows=1)
        t.setStyle(
            TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")])
        )
        return t

    with translation.override(settings.LANGUAGE_CODE):
        story = [p(body["title"], head)]
        meta = [
            (_("Transaction code"), body["tender"]["code"]),
            (_("Place"), body["place"]),
            (_("Opening time"), _when(body["opened_at"])),
            (
                _("Participants"),
                "；".join(f"{x.get('entity', '')} {x['name']}".strip() for x in body["participants"]),
            ),
            (_("Valid bids / minimum"), f"{body['valid_bids']} / {body['minimum']}"),
            (
                _("Outcome"),
                body["outcome"] + (f"：{body['failure_reason']}" if body["failure_reason"] else ""),
            ),
            (_("Closed at"), _when(data.get("closed_at"))),
        ]
        story += [table([[p(k), p(v)] for k, v in meta], [40 * mm, 220 * mm]), Spacer(1, 6 * mm)]
        header = [_("No."), _("Bidder"), _("Bid price"), _("Duration (days)"), _("Project manager"),
                  _("Bid security"), _("Submitted at"), _("Decryption")]  # fmt: skip
        rows = [[p(h) for h in header]]
        for b in body["bidders"]:
            pm = b.get("project_manager") or {}
            deposit = b.get("deposit") or {}
            rows.append(
                [
                    p(b["order"]),
                    p(b["name"]),
                    p(f"{b['price']} {b['currency']}" if b.get("price") else ""),
                    p(b.get("duration_days") if b.get("duration_days") is not None else ""),
                    p(f"{pm.get('name', '')} {pm.get('reg_no', '')}".strip()),
                    p(f"{deposit.get('amount', '')} {_method_label(deposit.get('method', ''))}".strip()),
                    p(_when(b["submitted_at"])),
                    p(_decryption_label(b["decryption"])),
                ]
            )
        widths = [w * mm for w in (10, 55, 35, 20, 45, 35, 35, 30)]
        story += [table(rows, widths), Spacer(1, 6 * mm)]
        if body["objections"]:
            story.append(p(_("Objections"), head))
            rows = [[p(_("Bidder")), p(_("Objection")), p(_("Answer"))]]
            rows += [[p(o["name"]), p(o["text"]), p(o["answer"] or ("—" if not o["withdrawn_at"] else _("Withdrawn")))]
                     for o in body["objections"]]  # fmt: skip
            story += [table(rows, [55 * mm, 105 * mm, 105 * mm]), Spacer(1, 6 * mm)]
        story.append(p(_("Confirmations"), head))
        rows = [[p(_("Bidder")), p(_("Confirmed by")), p(_("Time")), p(_("Method")), p(_("Certificate"))]]
        rows += [[p(c["name"]), p(c["user"]), p(_when(c["at"])), p(_method_label(c["method"])), p(c["certificate"])]
                 for c in data.get("confirmations", [])]  # fmt: skip
        story += [table(rows, [60 * mm, 50 * mm, 45 * mm, 30 * mm, 80 * mm]), Spacer(1, 6 * mm)]
        story.append(p(_("Record digest (SHA-256): %(d)s") % {"d": digest(data)}, small))
        story.append(
            p(
                _("Platform signature (%(serial)s): %(s)s")
                % {"serial": data.get("platform_certificate", ""), "s": signature},
                small,
            )
        )
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=landscape(A4), title=body["title"], invariant=1,
                            leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm, bottomMargin=12 * mm)  # fmt: skip
    doc.build(story)
    return buf.getvalue()
