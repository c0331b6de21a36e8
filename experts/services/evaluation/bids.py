"""Reading a decrypted bid in the room: the bid document is decrypted again from the stored
ciphertext with the content key kept at the opening, verified chunk by chunk and against the
form's digest, into a temporary file (memory stays flat for any size; nothing unverified is ever
served). Every reading is journalled with the reader's evidence (IP, user agent, device).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import BinaryIO

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from archive.blobs import blob_open
from bidding import envelope
from bidding.models import Bid
from core.errors import AccessDenied, Conflict, NotFound
from experts.models import EvaluationRoom, Member
from experts.services.evaluation.common import Phase, journal
from experts.services.evaluation.outcome import evaluated_bids
from trading.models import ActivityEvidence, User
from trading.services.evidence import evidence_record

READING_PHASES = frozenset(
    {Phase.CHAIR, Phase.QUALIFICATION, Phase.PRELIMINARY, Phase.DETAILED, Phase.SUMMARY, Phase.SIGNING}
)
SPOOL_BYTES = 8 * 1024 * 1024


@dataclass
class BidDocument:
    file: BinaryIO
    name: str
    content_type: str
    size: int
    sha256: str


def reader_member(*, room: EvaluationRoom, actor: User) -> Member:
    """The bids are read by the committee's active members who have signed the declaration (C5)."""
    member = Member.objects.filter(room=room, user_id=getattr(actor, "pk", None)).first()
    if member is None or not member.active:
        raise AccessDenied(_("Only the members of the committee read the bids."), code="not_member")
    if member.declared_at is None:
        raise Conflict(_("Sign the integrity and recusal declaration first."), code="declaration_required")
    if room.phase not in READING_PHASES:
        raise Conflict(_("The bids cannot be read at this step."), code="phase_invalid", phase=room.phase)
    return member


def bid_document_open(*, room: EvaluationRoom, bid_id, actor: User, request=None) -> BidDocument:
    room = EvaluationRoom.objects.select_related("lot__tender").get(pk=room.pk)
    member = reader_member(room=room, actor=actor)
    bid = next((b for b in evaluated_bids(room.lot) if str(b.pk) == str(bid_id)), None)
    if bid is None:
        raise NotFound(_("No such bid."), code="bid_not_found")
    bid = Bid.objects.select_related("ciphertext", "entity", "lot__tender").get(pk=bid.pk)
    if not bid.content_key:
        raise Conflict(_("This bid was not decrypted at the opening."), code="bid_not_decrypted")
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (handed to the response)
    try:
        with blob_open(bid.ciphertext) as fh:
            opened = envelope.open_stream(
                header_bytes=envelope.b64u_decode(bid.header),
                cek=envelope.cek_from_b64u(bid.content_key),
                ciphertext=fh,
                document_out=out,
                ciphertext_sha256=bid.ciphertext.sha256,
            )
        out.seek(0)
        meta = opened.document_meta
        with transaction.atomic():
            evidence = evidence_record(
                action=ActivityEvidence.Action.DOWNLOAD,
                request=request,
                user=actor,
                tender=bid.lot.tender,
                file_sha256=meta.get("sha256", ""),
                file_meta={"bid": str(bid.pk), "room": room.pk, "seat": member.seat, "document": meta},
            )
            room.lot = bid.lot
            journal(
                room,
                action="bid_document_read",
                actor=actor,
                obj=bid,
                payload={
                    "seat": member.seat,
                    "bid": str(bid.pk),
                    "sha256": meta.get("sha256"),
                    "evidence": evidence.pk,
                },
            )
    except BaseException:
        out.close()
        raise
    return BidDocument(
        file=out,
        name=str(meta.get("name") or "bid"),
        content_type=str(meta.get("content_type") or "application/octet-stream"),
        size=int(meta.get("size") or 0),
        sha256=str(meta.get("sha256") or ""),
    )
