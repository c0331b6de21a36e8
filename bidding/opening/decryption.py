"""Decryption in the opening hall (DOMAIN B5–B7): the bidder's browser unwraps its content key and
sends it; the platform streams the whole ciphertext once with it, so every chunk is verified, and
reads the bid form for 唱标. At the end of the window the custodian key opens what it can; the rest
fails, and the host says whose fault it was (撤销 or 撤回).

The ciphertext is read outside any lock (it may be hundreds of MB); the result is applied under the
hall's lock after re-checking, with the time the key *arrived* deciding whether it was in the window.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive.blobs import blob_open
from bidding import envelope
from bidding.custodian import custodian_unwrap_cek
from bidding.models import Attendance, Bid, OpeningSession
from bidding.opening import rules
from bidding.opening.common import (
    journal,
    refuse,
    require_host,
    require_tender_opening,
    session_bump,
    session_lock,
)
from bidding.opening.events import Event, bid_opened
from core.canonical import digest
from core.errors import AccessDenied, Conflict, DomainError
from trading.models import ActivityEvidence, DecryptionPolicy, Lot, Role, User
from trading.services.evidence import evidence_record


def _open(bid: Bid, cek: bytes) -> envelope.Opened:
    """Decrypt the stored ciphertext with `cek`, verifying every chunk and the signed digest."""
    header_bytes = envelope.b64u_decode(bid.header)
    with blob_open(bid.ciphertext) as fh:
        return envelope.open_stream(
            header_bytes=header_bytes, cek=cek, ciphertext=fh, ciphertext_sha256=bid.ciphertext.sha256
        )


def _cek(value) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if not isinstance(value, str) or not value:
        raise envelope.EnvelopeError("envelope_key_invalid", detail="no content key")
    return envelope.cek_from_b64u(value)


def _apply(session: OpeningSession, bid: Bid, *, outcome: str, cek: bytes, opened, at) -> None:
    bid.decryption = outcome
    bid.content_key = envelope.b64u(cek)
    bid.decrypted_at = at
    bid.form = opened.form
    bid.document_meta = opened.document_meta
    bid.save(update_fields=["decryption", "content_key", "decrypted_at", "form", "document_meta"])
    bid_id = bid.pk
    transaction.on_commit(lambda: bid_opened(bid_id=bid_id))


def bid_decrypt(*, bid: Bid, cek, actor: User, request=None) -> Bid:
    """The bidder hands in its content key (b64u or bytes). A wrong key is refused with
    `envelope_key_invalid` and may be retried until the window closes."""
    arrived = timezone.now()
    bid = Bid.objects.select_related("lot__tender", "entity", "certificate", "ciphertext").get(pk=bid.pk)
    if getattr(actor, "role", None) != Role.BIDDER or actor.entity_id != bid.entity_id:
        raise AccessDenied(_("Only the bidder's own staff decrypt its bid."), code="decrypt_not_yours")
    if bid.status != Bid.Status.ACTIVE:
        raise Conflict(_("Only a submitted bid is opened."), code="bid_not_active")
    session = OpeningSession.objects.filter(lot_id=bid.lot_id).first()
    if session is None:
        raise Conflict(_("The opening hall of this lot is not open yet."), code="opening_not_open")
    refuse(
        rules.check_decrypt(
            phase=session.phase, ends_at=session.decryption_ends_at, now=arrived, decryption=bid.decryption
        )
    )
    if not Attendance.objects.filter(session=session, entity_id=bid.entity_id).exists():
        raise Conflict(_("Sign in to the hall before decrypting."), code="signin_required")
    try:
        key = _cek(cek)
        opened = _open(bid, key)
    except envelope.EnvelopeError as exc:
        with transaction.atomic():
            session.lot = bid.lot
            journal(session, action="decrypt_refused", actor=actor, obj=bid, payload={"code": exc.code})
        raise
    with transaction.atomic():
        session = session_lock(lot_id=bid.lot_id)
        bid = (
            Bid.objects.select_for_update()
            .select_related("certificate", "ciphertext", "entity")
            .get(pk=bid.pk)
        )
        refuse(
            rules.check_decrypt(
                phase=session.phase,
                ends_at=session.decryption_ends_at,
                now=arrived,
                decryption=bid.decryption,
            )
        )
        _apply(session, bid, outcome=rules.OK, cek=key, opened=opened, at=arrived)
        evidence = evidence_record(
            action=ActivityEvidence.Action.DECRYPT,
            request=request,
            user=actor,
            entity=bid.entity,
            tender=session.lot.tender,
            certificate_serial=bid.certificate.serial,
            file_sha256=bid.ciphertext.sha256,
            file_meta={"bid": str(bid.pk), "document": opened.document_meta},
        )
        session_bump(session, event=Event.DECRYPTED)
        journal(
            session,
            action="decrypted",
            actor=actor,
            obj=bid,
            payload={"by": "bidder", "form_sha256": digest(bid.form), "evidence": evidence.pk},
        )
    return bid


def _custodian_open(bid: Bid):
    """(cek, opened) through the custodian key, or the refusal's code."""
    try:
        key = custodian_unwrap_cek(bid=bid)
        return key, _open(bid, key), ""
    except DomainError as exc:
        return None, None, exc.code


def decryption_window_close(*, lot: Lot) -> int:
    """Settle the bids still undecrypted when the window has closed: the custodian key where the
    tender's policy has one and k custodians handed in their shares, otherwise failed as the
    bidder's (B7's usual clause: "未完成视为撤销"); the host may correct that with a reason.
    Returns how many bids it settled. Idempotent."""
    now = timezone.now()
    session = OpeningSession.objects.filter(lot=lot).first()
    if session is None or session.phase != rules.DECRYPTION or not session.decryption_ends_at:
        return 0
    if now < session.decryption_ends_at:
        return 0
    tender = Lot.objects.select_related("tender").get(pk=lot.pk).tender
    settled = 0
    pending = Bid.objects.filter(lot=lot, status=Bid.Status.ACTIVE, decryption=rules.PENDING)
    for bid in pending.select_related("lot__tender", "ciphertext").order_by("submitted_at", "pk"):
        key = opened = None
        refusal = "custodian_policy_off"
        if tender.decryption_policy == DecryptionPolicy.BIDDER_CUSTODIAN:
            key, opened, refusal = _custodian_open(bid)
        with transaction.atomic():
            session = session_lock(lot_id=lot.pk)
            locked = Bid.objects.select_for_update().get(pk=bid.pk)
            if session.phase != rules.DECRYPTION or locked.decryption != rules.PENDING:
                continue
            if opened is not None:
                _apply(session, locked, outcome=rules.CUSTODIAN, cek=key, opened=opened, at=now)
                payload = {"by": "custodian", "form_sha256": digest(locked.form)}
            else:
                locked.decryption = rules.FAILED_BIDDER
                locked.save(update_fields=["decryption"])
                payload = {"by": "window", "outcome": rules.FAILED_BIDDER, "custodian": refusal}
            session_bump(session, event=Event.DECRYPTION_SETTLED)
            journal(session, action="decryption_settled", actor=None, obj=locked, payload=payload)
            settled += 1
    return settled


def bid_decrypt_custodian(*, bid: Bid, actor: User) -> Bid:
    """The host retries the custodian key on a failed bid once more custodians have handed in."""
    require_host(actor)
    bid = Bid.objects.select_related("lot__tender", "ciphertext").get(pk=bid.pk)
    session = OpeningSession.objects.filter(lot_id=bid.lot_id).first()
    if session is None or session.phase != rules.DECRYPTION:
        raise Conflict(_("The decryption phase is over."), code="decryption_window_closed")
    if bid.decryption not in {rules.PENDING, rules.FAILED_BIDDER, rules.FAILED_OTHER}:
        raise Conflict(_("This bid has already been decrypted or settled."), code="decryption_already_done")
    key, opened, refusal = _custodian_open(bid)
    if opened is None:
        raise Conflict(
            _("The custodian key cannot open this bid now."), code=refusal or "custodian_unavailable"
        )
    now = timezone.now()
    with transaction.atomic():
        session = session_lock(lot_id=bid.lot_id)
        require_tender_opening(session)
        bid = Bid.objects.select_for_update().get(pk=bid.pk)
        if session.phase != rules.DECRYPTION or bid.decryption in rules.VALID_DECRYPTIONS:
            raise Conflict(
                _("This bid has already been decrypted or settled."), code="decryption_already_done"
            )
        _apply(session, bid, outcome=rules.CUSTODIAN, cek=key, opened=opened, at=now)
        session_bump(session, event=Event.DECRYPTION_SETTLED)
        journal(
            session,
            action="decryption_settled",
            actor=actor,
            obj=bid,
            payload={"by": "custodian", "form_sha256": digest(bid.form)},
        )
    return bid


def bid_decryption_fault(*, bid: Bid, actor: User, fault: str, reason: str) -> Bid:
    """The host's explicit finding on a bid that could not be decrypted (B5): the bidder's fault →
    撤销 (failed_bidder, the deposit may be kept); any other cause → 撤回 (failed_other)."""
    require_host(actor)
    reason = (reason or "").strip()[: rules.REASON_MAX_CHARS]
    now = timezone.now()
    with transaction.atomic():
        session = session_lock(lot_id=bid.lot_id)
        require_tender_opening(session)
        bid = Bid.objects.select_for_update().get(pk=bid.pk)
        if session.phase != rules.DECRYPTION or bid.status != Bid.Status.ACTIVE:
            raise Conflict(_("The decryption phase is over."), code="decryption_window_closed")
        window_over = session.decryption_ends_at is not None and now >= session.decryption_ends_at
        refuse(
            rules.check_fault(fault=fault, reason=reason, decryption=bid.decryption, window_over=window_over)
        )
        previous = bid.decryption
        bid.decryption = rules.FAULTS[fault]
        bid.save(update_fields=["decryption"])
        session_bump(session, event=Event.DECRYPTION_SETTLED)
        journal(
            session,
            action="decryption_fault",
            actor=actor,
            obj=bid,
            payload={
                "entity": bid.entity_id,
                "fault": fault,
                "outcome": bid.decryption,
                "from": previous,
                "reason": reason,
            },
        )
    return bid
