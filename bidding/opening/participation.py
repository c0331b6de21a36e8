"""What bidders do in the opening hall besides decrypting: sign in (identity, power of attorney),
raise and withdraw objections (answered by the host, 条例44), and confirm the opening record with
their certified key or, without one, a click (87号令42).
"""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive.blobs import blob_put
from bidding.models import Attendance, Bid, Objection, OpeningRecord, OpeningSession
from bidding.opening import rules
from bidding.opening.common import journal, refuse, require_host, session_bump, session_lock
from bidding.opening.events import Event
from core.errors import AccessDenied, Conflict, ValidationFailed
from trading.access import require_role
from trading.keyclient import signature_verify
from trading.models import Certificate, CertificateStatus, Lot, Role, User

ATTORNEY_MAX_BYTES = 10 * 1024 * 1024
ATTORNEY_TYPES = {"application/pdf", "image/jpeg", "image/png"}


def _bid_of(*, lot: Lot, user: User) -> Bid:
    """The active bid of the user's entity in this lot: a bidder's ticket into the hall."""
    require_role(user, Role.BIDDER)
    bid = Bid.objects.filter(lot=lot, entity_id=user.entity_id, status=Bid.Status.ACTIVE).first()
    if bid is None:
        raise AccessDenied(_("Your company has no bid in this lot."), code="signin_no_bid")
    return bid


def opening_signin(
    *, lot: Lot, user: User, attorney: bytes | None = None, attorney_type: str = "", request=None
) -> Attendance:
    """签到: a logged-in bidder staff member of an entity with an active bid; idempotent. A power of
    attorney (授权委托书) may be uploaded and is kept as a blob. Before the deadline nothing is
    broadcast: that someone signed in would tell how many bid (法22)."""
    _bid_of(lot=lot, user=user)
    if attorney is not None and (len(attorney) > ATTORNEY_MAX_BYTES or attorney_type not in ATTORNEY_TYPES):
        raise ValidationFailed(
            _("The power of attorney is a PDF, JPEG or PNG file of at most 10 MB."), code="attorney_invalid"
        )
    now = timezone.now()
    session = OpeningSession.objects.filter(lot=lot).select_related("lot__tender").first()
    if session is None:
        refuse(rules.check_signin(phase=rules.SIGNIN, now=now, deadline=lot.tender.deadline))
        raise Conflict(_("The opening hall of this lot is not open yet."), code="opening_not_open")
    refuse(rules.check_signin(phase=session.phase, now=now, deadline=session.lot.tender.deadline))
    existing = Attendance.objects.filter(session=session, entity_id=user.entity_id).first()
    if existing is not None:
        return existing
    blob = blob_put(data=attorney, content_type=attorney_type) if attorney is not None else None
    try:
        with transaction.atomic():
            session = session_lock(lot_id=lot.pk)
            refuse(rules.check_signin(phase=session.phase, now=now, deadline=session.lot.tender.deadline))
            attendance = Attendance.objects.create(
                session=session, entity_id=user.entity_id, user=user, signed_in_at=now, attorney=blob
            )
            if now >= session.lot.tender.deadline:
                session_bump(session, event=Event.SIGNIN)
            journal(
                session,
                action="signed_in",
                actor=user,
                obj=attendance,
                payload={"entity": user.entity_id, "attorney_sha256": blob.sha256 if blob else ""},
            )
    except IntegrityError:  # a colleague signed the entity in at the same moment
        return Attendance.objects.get(session__lot=lot, entity_id=user.entity_id)
    return attendance


# --- objections ------------------------------------------------------------------------------------


def objection_raise(*, lot: Lot, user: User, text: str) -> Objection:
    _bid_of(lot=lot, user=user)
    text = (text or "").strip()
    now = timezone.now()
    with transaction.atomic():
        session = session_lock(lot_id=lot.pk)
        refuse(rules.check_objection(phase=session.phase, text=text))
        objection = Objection.objects.create(
            session=session, entity_id=user.entity_id, user=user, text=text, raised_at=now
        )
        session_bump(session, event=Event.OBJECTION)
        journal(session, action="objection_raised", actor=user, obj=objection, payload={"text": text})
    return objection


def objection_withdraw(*, objection: Objection, user: User) -> Objection:
    require_role(user, Role.BIDDER)
    now = timezone.now()
    with transaction.atomic():
        session = session_lock(lot_id=objection.session.lot_id)
        objection = Objection.objects.select_for_update().get(pk=objection.pk)
        if objection.entity_id != user.entity_id:
            raise AccessDenied(_("This is another bidder's objection."), code="objection_not_yours")
        if objection.answered_at or objection.withdrawn_at:
            raise Conflict(
                _("The objection has already been answered or withdrawn."), code="objection_settled"
            )
        refuse(rules.check_objection(phase=session.phase, text=objection.text))
        objection.withdrawn_at = now
        objection.save(update_fields=["withdrawn_at"])
        session_bump(session, event=Event.OBJECTION)
        journal(session, action="objection_withdrawn", actor=user, obj=objection)
    return objection


def objection_answer(*, objection: Objection, actor: User, answer: str) -> Objection:
    """The host answers on the spot; the answer is part of the record (条例44)."""
    require_host(actor)
    answer = (answer or "").strip()
    if not answer or len(answer) > rules.OBJECTION_MAX_CHARS:
        raise ValidationFailed(_("Write the answer."), code="answer_text_invalid")
    now = timezone.now()
    with transaction.atomic():
        session = session_lock(lot_id=objection.session.lot_id)
        objection = Objection.objects.select_for_update().get(pk=objection.pk)
        if objection.answered_at or objection.withdrawn_at:
            raise Conflict(
                _("The objection has already been answered or withdrawn."), code="objection_settled"
            )
        refuse(rules.check_objection(phase=session.phase, text=objection.text))
        objection.answer = answer
        objection.answered_by = actor
        objection.answered_at = now
        objection.save(update_fields=["answer", "answered_by", "answered_at"])
        session_bump(session, event=Event.OBJECTION)
        journal(session, action="objection_answered", actor=actor, obj=objection, payload={"answer": answer})
    return objection


# --- confirmation ----------------------------------------------------------------------------------


def _signature_bytes(value: str) -> bytes:
    text = (value or "").strip()
    if len(text) > 200:  # the column's width; a P-256 signature in base64 is at most 96 characters
        raise ValidationFailed(_("The signature is too long."), code="confirmation_signature_invalid")
    try:
        return base64.urlsafe_b64decode(text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValidationFailed(
            _("The signature is not base64."), code="confirmation_signature_invalid"
        ) from None


def _verify(*, user: User, message: bytes, signature: str, serial: str) -> Certificate:
    """The user's usable certificate whose key made `signature` over `message`."""
    raw = _signature_bytes(signature)
    now = timezone.now()
    certificates = Certificate.objects.filter(user=user, status=CertificateStatus.ACTIVE)
    if serial:
        certificates = certificates.filter(serial=serial)
    for cert in certificates.order_by("-issued_at")[:10]:
        if cert.is_usable(now) and signature_verify(
            load_pem_public_key(cert.public_key_pem.encode()), message, raw
        ):
            return cert
    raise ValidationFailed(
        _("The signature does not verify with your certificate."), code="confirmation_signature_invalid"
    )


def bid_confirm_record(*, lot: Lot, user: User, signature: str = "", serial: str = "") -> Bid:
    """签名确认: a bidder whose bid was decrypted confirms the record — an ECDSA signature over
    rules.confirmation_message(body digest) with its certified key, or a click without one."""
    bid = _bid_of(lot=lot, user=user)
    now = timezone.now()
    session = OpeningSession.objects.filter(lot=lot).first()
    if session is None or session.phase != rules.CONFIRMATION:
        raise Conflict(_("The record is not open for confirmation."), code="confirmation_not_open")
    record = OpeningRecord.objects.get(session=session)
    message = rules.confirmation_message(body_sha256=record.data["body_sha256"])
    cert = _verify(user=user, message=message, signature=signature, serial=serial) if signature else None
    with transaction.atomic():
        session = session_lock(lot_id=lot.pk)
        bid = Bid.objects.select_for_update().get(pk=bid.pk)
        if session.phase != rules.CONFIRMATION:
            raise Conflict(_("The record is not open for confirmation."), code="confirmation_not_open")
        if bid.decryption not in rules.VALID_DECRYPTIONS:
            # FT offers the signature step only to bidders who decrypted (DOMAIN B6).
            raise Conflict(
                _("Only bidders whose bid was opened confirm the record."), code="confirmation_not_offered"
            )
        if bid.confirmed_at:
            raise Conflict(_("You have already confirmed the record."), code="already_confirmed")
        bid.confirmed_at = now
        bid.confirmation_signature = signature.strip() if cert else ""
        bid.save(update_fields=["confirmed_at", "confirmation_signature"])
        session_bump(session, event=Event.CONFIRMED)
        journal(
            session,
            action="confirmed",
            actor=user,
            obj=bid,
            payload={
                "entity": bid.entity_id,
                "body_sha256": record.data["body_sha256"],
                "method": "signature" if cert else "click",
                "certificate": cert.serial if cert else "",
                "signature": bid.confirmation_signature,
            },
        )
    return bid
