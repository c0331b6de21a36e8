"""Bidding's contribution to a project's archival package (一项一档, DOMAIN E1; issue 6 item 1): every
sealed bid of every lot — its ciphertext, the envelope data and the signed receipt, a withdrawal, and
after the opening what the platform then holds (the bid form read out, the document's metadata, the
content key that opens the ciphertext, and the document itself as the committee read it) — the bid securities, the custodian key's public record, and the
opening: the hall's session, sign-ins with powers of attorney, objections with answers, the read-out and
the signed opening record with its PDF.

A bid never opened (withdrawn, replaced, its lot failed before decryption, or its decryption failed)
keeps only its ciphertext, marked `sealed`, beside JSON metadata (bid.json, receipt.json,
withdrawal.json) in its folder: the archive never holds a plaintext the platform did not hold.

Paths (bids numbered per lot in the order they arrived, `n` below):
    custodian.json
    lots/<lot>/bids/<n>/ciphertext.bin   bid.json   receipt.json   withdrawal.json   opened.json
                        document.<ext>   (opened bids: the document as the committee read it)
    lots/<lot>/securities.json
    lots/<lot>/opening/session.json   signins.json   signins/<n>-attorney.<ext>   objections.json
    lots/<lot>/opening/readout.json   record.json   record.pdf
"""

from __future__ import annotations

import logging
import tempfile
import uuid

from django.utils.translation import gettext as _

from archive.blobs import blob_open, blob_put
from archive.models import JournalEntry
from archive.providers import Item
from bidding import envelope
from bidding.models import (
    Attendance,
    Bid,
    BidSecurity,
    CustodianKey,
    Objection,
    OpeningRecord,
    OpeningSession,
)
from bidding.opening.record import record_pdf
from bidding.opening.rules import VALID_DECRYPTIONS
from bidding.opening.selectors import READOUT_KEYS
from core.canonical import digest
from trading.archive import (
    PDF,
    entity_ref,
    extension,
    json_item,
    number,
    published_language,
    tender_id,
    user_ref,
)
from trading.models import Lot, Tender

logger = logging.getLogger(__name__)

# The ciphertext as stored: GJ-SEAL v1 chunks (docs/sealed-bid.md §4), nothing else.
CIPHERTEXT_MEDIA_TYPE = "application/vnd.gj-seal"


def bid_numbers(lot: Lot) -> dict:
    """{bid id: n}: the lot's bids numbered from 1 in the order they arrived (replaced and withdrawn
    ones included), the numbers of the bid folders; experts' provider refers to bids by them too."""
    ids = Bid.objects.filter(lot=lot).order_by("submitted_at", "pk").values_list("pk", flat=True)
    return {pk: n for n, pk in enumerate(ids, start=1)}


def bid_opened(bid: Bid) -> bool:
    """Whether the bid was decrypted at the opening (its key arrived and every chunk verified)."""
    return bid.decryption in VALID_DECRYPTIONS and bool(bid.content_key)


def _certificate(cert) -> dict:
    return {
        "serial": cert.serial,
        "subject": cert.subject,
        "key_algorithm": cert.key_algorithm,
        "public_key_sha256": cert.public_key_sha256,
        "certificate_pem": cert.certificate_pem,
        "not_before": cert.not_before,
        "not_after": cert.not_after,
        "status": cert.status,
        "revoked_at": cert.revoked_at,
    }


def _bid_items(lot: Lot, bid: Bid, n: int, numbers: dict) -> list[Item]:
    folder = f"lots/{lot.number}/bids/{number(n)}"
    opened = bid_opened(bid)
    who = {"lot": lot.number, "n": n, "bidder": bid.entity.name}
    out = [
        Item(
            path=f"{folder}/ciphertext.bin",
            media_type=CIPHERTEXT_MEDIA_TYPE,
            blob=bid.ciphertext_id,
            title=_("Lot %(lot)s, bid %(n)s (%(bidder)s): sealed ciphertext") % who,
            sealed=not opened,
        ),
        json_item(
            f"{folder}/bid.json",
            {
                "v": 1,
                "bid": str(bid.pk),
                "n": n,
                "lot": lot.number,
                "bidder": entity_ref(bid.entity),
                "user": user_ref(bid.user),
                "status": bid.status,
                "submitted_at": bid.submitted_at,
                "upload": str(bid.upload_id) if bid.upload_id else None,
                "replaced_by": numbers.get(bid.replaced_by_id),
                "withdrawn_at": bid.withdrawn_at,
                "decryption": bid.decryption,
                "opened": opened,
                "envelope": {
                    "format": "GJ-SEAL-1",
                    "header": bid.header,
                    "header_sha256": bid.header_sha256,
                    "ciphertext_path": "ciphertext.bin",
                    "ciphertext_sha256": bid.ciphertext_id,
                    "ciphertext_size": bid.ciphertext_size,
                    "signature": bid.signature,
                    "certificate": _certificate(bid.certificate),
                },
            },
            _("Lot %(lot)s, bid %(n)s (%(bidder)s): envelope data") % who,
        ),
    ]
    if bid.receipt:
        # Exactly the signed receipt the bidder holds: its canonical JSON, so the bidder can find it.
        out.append(
            json_item(
                f"{folder}/receipt.json", bid.receipt, _("Lot %(lot)s, bid %(n)s (%(bidder)s): receipt") % who
            )
        )
    if bid.status == Bid.Status.WITHDRAWN:
        entry = (
            JournalEntry.objects.filter(
                stream=lot.tender.stream,
                action="bid.withdraw",
                object_type="bidding.bid",
                object_id=str(bid.pk),
            )
            .order_by("seq")
            .first()
        )
        out.append(
            json_item(
                f"{folder}/withdrawal.json",
                {
                    "v": 1,
                    "bid": str(bid.pk),
                    "n": n,
                    "withdrawn_at": bid.withdrawn_at,
                    "journal": (
                        {
                            "stream": entry.stream,
                            "seq": entry.seq,
                            "hash": entry.hash,
                            "actor": entry.actor_label,
                        }
                        if entry
                        else None
                    ),
                },
                _("Lot %(lot)s, bid %(n)s (%(bidder)s): withdrawal") % who,
            )
        )
    if opened:
        out.append(
            json_item(
                f"{folder}/opened.json",
                {
                    "v": 1,
                    "bid": str(bid.pk),
                    "n": n,
                    "decryption": bid.decryption,
                    "decrypted_at": bid.decrypted_at,
                    # The content key the platform was given at the opening: with it and bid.json's header
                    # the ciphertext opens again (docs/sealed-bid.md §7), the document included.
                    "content_key": bid.content_key,
                    "form": bid.form,
                    "form_sha256": digest(bid.form),
                    "document": bid.document_meta,
                    "confirmed_at": bid.confirmed_at,
                    "confirmation_signature": bid.confirmation_signature,
                },
                _("Lot %(lot)s, bid %(n)s (%(bidder)s): opened bid form") % who,
            )
        )
        document = _opened_document(bid)
        if document is not None:
            ext = extension(
                filename=str(bid.document_meta.get("name", "")), content_type=document.content_type
            )
            out.append(
                Item(
                    path=f"{folder}/document.{ext}",
                    media_type=document.content_type,
                    blob=document.sha256,
                    title=_("Lot %(lot)s, bid %(n)s (%(bidder)s): bid document as opened") % who,
                )
            )
    return out


def _opened_document(bid: Bid):
    """The bid's document as the committee read it: decrypted once more with the content key the
    platform was given at the opening, its digest checked against the sealed one, and stored (content
    addressed) so that the archive keeps a file that opens without the envelope format. None when it
    cannot be opened (then opened.json and the ciphertext are what remains, and the check says so)."""
    with tempfile.TemporaryFile() as out:
        try:
            with blob_open(bid.ciphertext) as fh:
                opened = envelope.open_stream(
                    header_bytes=envelope.b64u_decode(bid.header),
                    cek=envelope.cek_from_b64u(bid.content_key),
                    ciphertext=fh,
                    document_out=out,
                    ciphertext_sha256=bid.ciphertext_id,
                )
        except Exception:  # a bid that no longer opens is archived without its plaintext
            logger.warning("archive: bid %s does not open again", bid.pk, exc_info=True)
            return None
        content_type = str(opened.document_meta.get("content_type") or "application/octet-stream")
        return blob_put(data=out, content_type=content_type[:120])


def _opening_items(lot: Lot, session: OpeningSession, numbers: dict) -> list[Item]:
    folder = f"lots/{lot.number}/opening"
    lot_label = {"lot": lot.number}
    out = [
        json_item(
            f"{folder}/session.json",
            {
                "v": 1,
                "lot": lot.number,
                "phase": session.phase,
                "phase_changed_at": session.phase_changed_at,
                "decryption_ends_at": session.decryption_ends_at,
                "confirmation_ends_at": session.confirmation_ends_at,
                "host": user_ref(session.host),
                "failure_reason": session.failure_reason,
                "version": session.version,
            },
            _("Lot %(lot)s: opening hall") % lot_label,
        )
    ]
    signins, attorneys = [], []
    attendance = Attendance.objects.filter(session=session).select_related("entity", "user", "attorney")
    for i, a in enumerate(attendance.order_by("signed_in_at", "pk"), start=1):
        attorney = None
        if a.attorney_id:
            path = f"signins/{number(i)}-attorney.{extension(content_type=a.attorney.content_type)}"
            attorney = {"path": path, "sha256": a.attorney_id, "content_type": a.attorney.content_type}
            attorneys.append(
                Item(
                    path=f"{folder}/{path}",
                    media_type=a.attorney.content_type.split(";")[0].strip() or "application/octet-stream",
                    blob=a.attorney_id,
                    title=_("Lot %(lot)s: power of attorney of %(bidder)s")
                    % {"lot": lot.number, "bidder": a.entity.name},
                )
            )
        signins.append(
            {
                "n": i,
                "entity": entity_ref(a.entity),
                "user": user_ref(a.user),
                "signed_in_at": a.signed_in_at,
                "attorney": attorney,
            }
        )
    if signins:
        out.append(
            json_item(
                f"{folder}/signins.json",
                {"lot": lot.number, "signins": signins},
                _("Lot %(lot)s: sign-ins") % lot_label,
            )
        )
        out += attorneys
    objections = [
        {
            "id": o.pk,
            "entity": entity_ref(o.entity),
            "user": user_ref(o.user),
            "text": o.text,
            "raised_at": o.raised_at,
            "answer": o.answer,
            "answered_by": user_ref(o.answered_by),
            "answered_at": o.answered_at,
            "withdrawn_at": o.withdrawn_at,
        }
        for o in Objection.objects.filter(session=session)
        .select_related("entity", "user", "answered_by")
        .order_by("raised_at", "pk")
    ]
    if objections:
        out.append(
            json_item(
                f"{folder}/objections.json",
                {"lot": lot.number, "objections": objections},
                _("Lot %(lot)s: objections at the opening and their answers") % lot_label,
            )
        )
    readout = (
        JournalEntry.objects.filter(stream=lot.tender.stream, action="opening.readout", payload__lot=lot.pk)
        .order_by("seq")
        .first()
    )
    if readout is not None:
        bids = {b.pk: b for b in Bid.objects.filter(lot=lot).select_related("entity")}
        rows = []
        for entry in readout.payload.get("bids") or []:
            bid = bids.get(_uuid(entry.get("bid")))
            if bid is None:
                continue
            form = bid.form if bid_opened(bid) else {}
            rows.append(
                {
                    "n": numbers.get(bid.pk),
                    "bid": str(bid.pk),
                    "bidder": entity_ref(bid.entity),
                    "decryption": bid.decryption,
                    **{key: form.get(key) for key in READOUT_KEYS},
                }
            )
        out.append(
            json_item(
                f"{folder}/readout.json",
                {
                    "v": 1,
                    "lot": lot.number,
                    "at": readout.at,
                    "by": readout.actor_label,
                    "read_out_items": lot.read_out_items,
                    "journal": {"stream": readout.stream, "seq": readout.seq, "hash": readout.hash},
                    "bids": rows,
                },
                _("Lot %(lot)s: read-out of the bids (唱标)") % lot_label,
            )
        )
    record = OpeningRecord.objects.filter(session=session).select_related("pdf").first()
    if record is not None:
        title = _("Lot %(lot)s: opening record") % lot_label
        out.append(
            json_item(
                f"{folder}/record.json",
                {
                    "data": record.data,
                    "sha256": record.data_sha256,
                    "signature": record.platform_signature,
                    "created_at": record.created_at,
                },
                title,
            )
        )
        if record.pdf_id:
            out.append(Item(path=f"{folder}/record.pdf", media_type=PDF, blob=record.pdf_id, title=title))
        else:  # put to the bidders but never closed (e.g. suspended): printed now from the signed data
            data = record_pdf(record.data, signature=record.platform_signature)
            out.append(Item(path=f"{folder}/record.pdf", media_type=PDF, data=data, title=title))
    return out


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _security_items(lot: Lot) -> list[Item]:
    rows = [
        {
            "entity": entity_ref(s.entity),
            "amount": s.amount,
            "method": s.method,
            "account": (
                {
                    "id": s.account_id,
                    "bank_name": s.account.bank_name,
                    "account_name": s.account.account_name,
                    "account_number": s.account.account_number,
                }
                if s.account_id
                else None
            ),
            "payer_account_number": s.payer_account_number,
            "reference": s.reference,
            "received_at": s.received_at,
            "verified_at": s.verified_at,
            "refunded_at": s.refunded_at,
            "recorded_by": user_ref(s.recorded_by),
        }
        for s in BidSecurity.objects.filter(lot=lot)
        .select_related("entity", "account", "recorded_by")
        .order_by("received_at", "pk")
    ]
    if not rows:
        return []
    return [
        json_item(
            f"lots/{lot.number}/securities.json",
            {"lot": lot.number, "securities": rows},
            _("Lot %(lot)s: bid securities") % {"lot": lot.number},
        )
    ]


def _custodian_items(tender: Tender) -> list[Item]:
    key = CustodianKey.objects.filter(tender=tender).first()
    if key is None:
        return []
    shares = [
        {
            "index": s.index,
            "holder": user_ref(s.holder),
            "certificate": s.certificate.serial,
            "wrapped": s.wrapped,
            "revealed_at": s.revealed_at,  # the share itself is key material: never archived
        }
        for s in key.shares.select_related("holder", "certificate").order_by("index")
    ]
    record = {
        "v": 1,
        "key_id": key.key_id,
        "public_key": key.public_key,
        "k": key.k,
        "n": key.n,
        "created_at": key.created_at,
        "reconstructed_at": key.reconstructed_at,
        "shares": shares,
    }
    return [json_item("custodian.json", record, _("Custodian opening key (public record)"))]


def items(project: str) -> list[Item]:
    pk = tender_id(project)
    if pk is None:
        return []
    tender = Tender.objects.filter(pk=pk).first()
    if tender is None:
        return []
    with published_language():
        out = _custodian_items(tender)
        for lot in Lot.objects.filter(tender=tender).select_related("tender").order_by("number"):
            numbers = bid_numbers(lot)
            bids = (
                Bid.objects.filter(lot=lot)
                .select_related("entity", "user", "certificate")
                .order_by("submitted_at", "pk")
            )
            for bid in bids:
                out += _bid_items(lot, bid, numbers[bid.pk], numbers)
            out += _security_items(lot)
            session = OpeningSession.objects.filter(lot=lot).select_related("host").first()
            if session is not None:
                out += _opening_items(lot, session, numbers)
    return out
