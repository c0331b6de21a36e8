"""The checks and the record behind upload_complete (bidding/services/submission.py): decode, verify the
envelope against the bidder's certificate and the tender's recipients, then record the bid under the
lot lock, journal it and sign the receipt.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive.journal import journal_append
from bidding import envelope, storage
from bidding.lock_objects import bid_lock_active, lot_lock, upload_lock
from bidding.models import Bid, UploadSession
from bidding.receipts import receipt_build, receipt_sign
from bidding.selectors import CustodianKeyMissing, custodian_key_for, custodian_policy
from bidding.services.submission_checks import (
    check_lot_takes_bids,
)
from core.errors import Conflict, ValidationFailed
from trading.models import Certificate
from trading.pki import CertificateRefused, certificate_verify_chain
from trading.services.evidence import evidence_record


def _decode(text, *, limit: int, code: str, what: str) -> bytes:
    if not isinstance(text, str) or not text or len(text) > limit:
        raise ValidationFailed(_("A required value is missing or too long."), code=code, field=what)
    return envelope.b64u_decode(text, code=code, what=what)


def _certificate_for(*, serial: str, entity, now) -> Certificate:
    """The certificate named by the header: the platform's, of a user of this entity, good now."""
    cert = Certificate.objects.select_related("user").filter(serial=serial).first()
    if cert is None or cert.entity_id != entity.pk or cert.user.entity_id != entity.pk:
        raise ValidationFailed(
            _("The envelope's certificate is not one of this bidder's certificates."),
            code="envelope_certificate_invalid",
        )
    try:
        certificate_verify_chain(cert.certificate_pem, at=now)
    except CertificateRefused as exc:
        raise ValidationFailed(
            _("The envelope's certificate is not valid: %(reason)s") % {"reason": exc.message},
            code="envelope_certificate_invalid",
            reason=exc.code,
        ) from None
    return cert


def _check_recipients(*, header: dict, tender, cert_serial: str) -> None:
    """The content key is wrapped to the bidder's certified key and, under the custodian policy, to the
    tender's custodian key — and to nothing else (the server cannot check the wraps open; the kids it
    can)."""
    expected = [("bidder", cert_serial)]
    if custodian_policy(tender):
        key = custodian_key_for(tender)
        if key is None:
            raise CustodianKeyMissing()
        expected.append(("custodian", key.key_id))
    actual = [(w.get("to"), w.get("kid")) for w in header.get("wraps", [])]
    if actual != expected:
        raise ValidationFailed(
            _("The content key must be wrapped to exactly the recipients this tender names."),
            code="envelope_recipients_mismatch",
        )


def _verify(*, upload: UploadSession, header_bytes: bytes, signature: str, declared: dict, now) -> dict:
    """All the checks that need no lock, in the order of docs/sealed-bid.md §5 (envelope.verify_envelope);
    returns what the bid row needs. Reads the stored ciphertext once, streaming."""
    lot, tender, entity = upload.lot, upload.lot.tender, upload.entity
    binding = {"tender": tender.code, "lot": lot.number, "bidder": entity.uscc}
    # Header and binding first, as the order says, so that no one's garbage gets hashed.
    header = envelope.parse_header(header_bytes)
    if (header["tender"], header["lot"], header["bidder"]) != tuple(binding.values()):
        raise ValidationFailed(
            _("The envelope was sealed for another tender, lot or bidder."), code="envelope_binding_mismatch"
        )
    ciphertext_sha256, ciphertext_size = storage.parts_digest(upload.parts)
    found: dict = {}

    def certified_key(header: dict):
        cert = _certificate_for(serial=header["cert"], entity=entity, now=now)
        _check_recipients(header=header, tender=tender, cert_serial=cert.serial)
        found["certificate"] = cert
        return load_pem_public_key(cert.public_key_pem.encode())

    envelope.verify_envelope(
        header_bytes=header_bytes,
        signature=signature,
        ciphertext_sha256=ciphertext_sha256,
        ciphertext_size=ciphertext_size,
        public_key=certified_key,
        declared_sha256=declared.get("ciphertext_sha256"),
        declared_size=declared.get("ciphertext_size"),
        **binding,
    )
    return {
        "certificate": found["certificate"],
        "ciphertext_sha256": ciphertext_sha256,
        "ciphertext_size": ciphertext_size,
        "header_sha256": envelope.header_sha256(header_bytes),
    }


@transaction.atomic
def _record(
    *, upload: UploadSession, user, header: str, signature: str, blob, checked: dict, file_meta: dict, request
) -> Bid:
    """Step 3 of upload_complete: everything that must happen at one instant, under the lot lock."""
    lot = lot_lock(upload.lot_id)
    locked = upload_lock(upload.pk)
    if locked.state != UploadSession.State.OPEN:
        raise Conflict(_("This upload is closed."), code="upload_not_open", state=locked.state)
    now = timezone.now()  # read under the lock: this is the moment the bid is received
    check_lot_takes_bids(lot=lot, now=now)
    # The entity's standing and the certificate were checked in step 1, moments ago; the lock is kept
    # for what must be decided at one instant (a revocation now would not unsign a bid signed before).
    entity, cert = upload.entity, checked["certificate"]
    previous = bid_lock_active(lot_id=lot.pk, entity_id=entity.pk)
    if previous is not None:
        # First out of "active", then the new bid in: the one-active-bid constraint never sees two.
        previous.status = Bid.Status.REPLACED
        previous.save(update_fields=["status"])
    bid = Bid.objects.create(
        lot=lot,
        entity=entity,
        user=user,
        certificate=cert,
        status=Bid.Status.ACTIVE,
        header=header,
        header_sha256=checked["header_sha256"],
        ciphertext=blob,
        ciphertext_size=checked["ciphertext_size"],
        signature=signature,
        submitted_at=now,
        upload=locked,
    )
    if previous is not None:
        previous.replaced_by = bid
        previous.save(update_fields=["replaced_by"])
    names = [p["name"] for p in locked.parts]
    locked.state = UploadSession.State.COMPLETED
    locked.updated_at = now
    locked.save(update_fields=["state", "updated_at"])
    tender = lot.tender
    entry = journal_append(
        stream=tender.stream,
        action="bid.submit",
        actor=user,
        obj=bid,
        payload={
            "lot": lot.number,
            "bidder": entity.uscc,
            "certificate": cert.serial,
            "header_sha256": bid.header_sha256,
            "ciphertext_sha256": blob.sha256,
            "ciphertext_size": bid.ciphertext_size,
            "received_at": now,
            "upload": str(locked.pk),
            "replaces": str(previous.pk) if previous else None,
        },
    )
    bid.receipt = receipt_sign(
        receipt_build(
            tender=tender.code,
            lot=lot.number,
            bidder=entity.uscc,
            bid_id=str(bid.pk),
            header_sha256=bid.header_sha256,
            ciphertext_sha256=blob.sha256,
            ciphertext_size=bid.ciphertext_size,
            received_at=now,
            journal_stream=entry.stream,
            journal_seq=entry.seq,
            journal_hash=entry.hash,
        )
    )
    bid.save(update_fields=["receipt"])
    evidence_record(
        action="upload",
        request=request,
        user=user,
        entity=entity,
        tender=tender,
        certificate_serial=cert.serial,
        file_sha256=blob.sha256,
        file_meta=file_meta,
    )
    transaction.on_commit(lambda: storage.parts_delete(names))
    return bid
