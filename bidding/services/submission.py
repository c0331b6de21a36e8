"""Submission of sealed bids: resumable upload, verification at completion, receipt; replace, withdraw.

The server clock decides (DOMAIN B2): a completion is checked against the deadline under the lot's row
lock, and an upload that never completes is never a bid. Only ciphertext is stored; the content key is
never sent before the opening (docs/sealed-bid.md). Evidence of every completed upload (IP, user agent,
client hardware, certificate, digest, authoring metadata) is recorded for monitoring (DOMAIN D2).
"""

from __future__ import annotations

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive.blobs import blob_put
from archive.journal import journal_append
from bidding import envelope, storage
from bidding.lock_objects import bid_lock, bid_lock_active, lot_lock, upload_lock
from bidding.models import Bid, UploadSession
from bidding.receipts import receipt_build, receipt_sign
from bidding.selectors import CustodianKeyMissing, bidder_entity, custodian_key_for, custodian_policy
from bidding.services.security import bid_security_record  # noqa: F401  (part of this module's API)
from core.errors import AccessDenied, Conflict, RuleViolation, ValidationFailed
from trading.models import Certificate, Lot, TenderState
from trading.pki import CertificateRefused, certificate_verify_chain
from trading.selectors import check_entity_may_participate
from trading.services.evidence import evidence_record

# A part stays below DATA_UPLOAD_MAX_MEMORY_SIZE (10 MiB), so a part is one ordinary request body.
PART_MAX = 8 * 1024 * 1024
# Bids are "hundreds of MB" (issue 3); settings may raise the ceiling.
UPLOAD_MAX_DEFAULT = 2 * 1024 * 1024 * 1024
# A bidder may restart an upload a few times; more open uploads than this is a stuck client.
OPEN_UPLOADS_MAX = 5
HEADER_B64U_MAX = 24 * 1024  # the header is at most 16 KiB (docs/sealed-bid.md §2)
SIGNATURE_B64U_MAX = 200

# Client-reported features of the document (DOMAIN D2, data spec 519 投标文件特征码: file name, size,
# MD5, authoring tool and pricing software); anything else is dropped, values are bounded. The MD5
# tells the platform, before the opening, whether two bidders uploaded the same file — the statutory
# "abnormally identical files" signal (条例40) that monitoring is there to catch — but reveals nothing
# of the content, which stays sealed.
FILE_META_KEYS = (
    "file_name",
    "file_md5",
    "file_size",
    "content_type",
    "author",
    "last_modified_by",
    "company",
    "creator_tool",
    "producer",
    "created",
    "modified",
    "template_id",
    "pricing_software",
    "pricing_software_version",
    "pricing_software_id",
    "pricing_file_id",
)
FILE_META_VALUE_MAX = 200

SOURCE_DEADLINE = "招标投标法第二十八条; 政府采购货物和服务招标投标管理办法第三十三条"


def upload_max() -> int:
    return int(getattr(settings, "BID_UPLOAD_MAX_BYTES", UPLOAD_MAX_DEFAULT))


# --- checks ----------------------------------------------------------------------------------------


def _after_deadline(message=None) -> RuleViolation:
    return RuleViolation(
        message or _("The bid deadline has passed: by the server's clock, which decides, this is too late."),
        code="bid_after_deadline",
        source=SOURCE_DEADLINE,
    )


def check_lot_takes_bids(*, lot: Lot, now) -> None:
    """The tender is open for bids, the lot is active, and the deadline has not come (server time)."""
    tender = lot.tender
    if tender.state != TenderState.PUBLISHED:
        raise Conflict(_("This tender is not open for bids."), code="tender_not_open", state=tender.state)
    if lot.status != Lot.Status.ACTIVE:
        raise Conflict(_("This lot no longer takes bids."), code="lot_not_open")
    if now >= tender.deadline:
        raise _after_deadline()


def _check_owner(*, upload: UploadSession, user) -> None:
    entity = bidder_entity(user)
    if entity.pk != upload.entity_id:
        raise AccessDenied(_("This upload belongs to another bidder."), code="upload_not_yours")


def file_meta_clean(meta) -> dict:
    """Keep the whitelisted keys with scalar values, bounded in size; refuse anything but an object."""
    if meta in (None, ""):
        return {}
    if not isinstance(meta, dict):
        raise ValidationFailed(_("file_meta must be a JSON object."), code="file_meta_invalid")
    clean: dict = {}
    for key in FILE_META_KEYS:
        value = meta.get(key)
        if value is None or isinstance(value, (dict, list)):
            continue
        if key == "file_size" and isinstance(value, int) and not isinstance(value, bool):
            clean[key] = value
        else:
            clean[key] = str(value)[:FILE_META_VALUE_MAX]
    return clean


# --- upload sessions -----------------------------------------------------------------------------


def upload_start(*, lot: Lot, user, size: int) -> UploadSession:
    """Open a resumable upload of `size` ciphertext bytes for `lot` (refused after the deadline)."""
    entity = bidder_entity(user)
    if isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= upload_max():
        raise ValidationFailed(
            _("The upload size must be a whole number of bytes between 1 and %(max)s.")
            % {"max": upload_max()},
            code="upload_size_invalid",
        )
    now = timezone.now()
    check_lot_takes_bids(lot=lot, now=now)
    check_entity_may_participate(entity, on=timezone.localdate(now))
    with transaction.atomic():
        lot = lot_lock(lot.pk)
        now = timezone.now()
        check_lot_takes_bids(lot=lot, now=now)
        open_count = UploadSession.objects.filter(
            lot=lot, entity=entity, state=UploadSession.State.OPEN
        ).count()
        if open_count >= OPEN_UPLOADS_MAX:
            raise Conflict(
                _("You have too many unfinished uploads for this lot; finish or cancel one first."),
                code="upload_too_many_open",
            )
        upload = UploadSession.objects.create(
            lot=lot, entity=entity, user=user, expected_size=size, created_at=now, updated_at=now
        )
        journal_append(
            stream=lot.tender.stream,
            action="upload.start",
            actor=user,
            obj=upload,
            payload={"lot": lot.number, "bidder": entity.uscc, "size": size},
        )
    return upload


def upload_append(*, upload: UploadSession, user, offset: int, data: bytes) -> UploadSession:
    """Store the next part. `offset` must equal what the server has received (resume from there).

    The part is written to storage before the row is locked, so a slow write never holds a lock; if
    another request appended first, the orphan part is deleted and the caller gets the new offset.
    Parts are not journalled: they are progress of a transfer, not a state of the bid, and a journal
    entry per part would serialise every bidder's upload on the tender's journal lock.
    """
    _check_owner(upload=upload, user=user)
    if upload.state != UploadSession.State.OPEN:
        raise Conflict(_("This upload is closed."), code="upload_not_open", state=upload.state)
    now = timezone.now()
    if now >= upload.lot.tender.deadline:
        upload_abandon(upload=upload, reason="deadline")
        raise _after_deadline()
    if offset != upload.received:
        raise _offset_mismatch(upload)
    size = len(data)
    if size == 0:
        raise ValidationFailed(_("The part is empty."), code="upload_part_empty")
    if size > PART_MAX:
        raise ValidationFailed(
            _("A part may hold at most %(max)s bytes.") % {"max": PART_MAX},
            code="upload_part_too_large",
            status=413,
        )
    if offset + size > upload.expected_size:
        raise ValidationFailed(
            _("The part goes past the announced size of the upload."), code="upload_overflow"
        )
    name = storage.part_save(name=storage.part_name(upload_id=upload.pk, offset=offset), data=data)
    try:
        with transaction.atomic():
            locked = upload_lock(upload.pk)
            if locked.state != UploadSession.State.OPEN:
                raise Conflict(_("This upload is closed."), code="upload_not_open", state=locked.state)
            if locked.received != offset:
                raise _offset_mismatch(locked)
            locked.parts = [*locked.parts, {"offset": offset, "size": size, "name": name}]
            locked.received = offset + size
            locked.updated_at = timezone.now()
            locked.save(update_fields=["parts", "received", "updated_at"])
    except BaseException:
        storage.parts_delete([name])
        raise
    return locked


def _offset_mismatch(upload: UploadSession) -> Conflict:
    return Conflict(
        _("The server has received %(received)s bytes; send the part that starts there.")
        % {"received": upload.received},
        code="upload_offset_mismatch",
        received=upload.received,
    )


def upload_status(*, upload: UploadSession) -> dict:
    """Where a resumable upload stands (what a client asks before resuming)."""
    return {
        "upload_id": str(upload.pk),
        "received": upload.received,
        "expected_size": upload.expected_size,
        "state": upload.state,
        "part_max": PART_MAX,
        "deadline_passed": timezone.now() >= upload.lot.tender.deadline,
    }


def upload_abandon(*, upload: UploadSession, user=None, reason: str = "cancelled") -> UploadSession:
    """Close an unfinished upload for good (bidder's cancel, or the deadline); its parts are deleted."""
    if user is not None:
        _check_owner(upload=upload, user=user)
    with transaction.atomic():
        locked = upload_lock(upload.pk)
        if locked.state != UploadSession.State.OPEN:
            if user is not None:
                raise Conflict(_("This upload is closed."), code="upload_not_open", state=locked.state)
            return locked
        names = [p["name"] for p in locked.parts]
        locked.state = UploadSession.State.ABANDONED
        locked.updated_at = timezone.now()
        locked.save(update_fields=["state", "updated_at"])
        journal_append(
            stream=upload.lot.tender.stream,
            action="upload.abandon",
            actor=user,
            obj=locked,
            payload={"reason": reason, "received": locked.received, "expected_size": locked.expected_size},
        )
        transaction.on_commit(lambda: storage.parts_delete(names))
    return locked


def uploads_abandon_expired(*, lot: Lot) -> int:
    """After the deadline every unfinished upload of the lot is abandoned (an incomplete upload counts
    as not submitted, DOMAIN B2). Idempotent; the opening calls it."""
    if timezone.now() < lot.tender.deadline:
        return 0
    count = 0
    for upload in UploadSession.objects.filter(lot=lot, state=UploadSession.State.OPEN).select_related(
        "lot__tender"
    ):
        if upload_abandon(upload=upload, reason="deadline").state == UploadSession.State.ABANDONED:
            count += 1
    return count


# --- completion ----------------------------------------------------------------------------------


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


def upload_complete(
    *,
    upload: UploadSession,
    user,
    header: str,
    signature: str,
    file_meta: dict | None = None,
    ciphertext_sha256: str | None = None,
    ciphertext_size: int | None = None,
    request=None,
) -> Bid:
    """Turn a fully received upload into the bidder's active bid, or refuse with a stable code.

    Three steps: (1) verify the envelope without any lock (the heavy reads); (2) store the ciphertext in
    the content-addressed store (idempotent, still no lock: a slow write must not make other bidders
    wait past the deadline); (3) under the lot's row lock, check the deadline by the server clock,
    replace the previous bid, journal, sign the receipt. A refusal leaves the upload open so the client
    can fix and retry — or abandoned when the deadline has passed. The ciphertext blob of a completion
    refused in step 3 stays in the store unreferenced (ciphertext only; the same bytes are reused on retry).
    """
    _check_owner(upload=upload, user=user)
    meta = file_meta_clean(file_meta)
    header_bytes = _decode(header, limit=HEADER_B64U_MAX, code="envelope_header_malformed", what="header")
    if not isinstance(signature, str) or not signature or len(signature) > SIGNATURE_B64U_MAX:
        raise ValidationFailed(_("The signature is missing or too long."), code="envelope_signature_invalid")
    if ciphertext_size is not None and (
        isinstance(ciphertext_size, bool) or not isinstance(ciphertext_size, int)
    ):
        raise ValidationFailed(_("ciphertext_size must be an integer."), code="envelope_digest_mismatch")
    if upload.state != UploadSession.State.OPEN:
        raise Conflict(_("This upload is closed."), code="upload_not_open", state=upload.state)
    now = timezone.now()
    if now >= upload.lot.tender.deadline:
        upload_abandon(upload=upload, reason="deadline")
        raise _after_deadline()
    check_lot_takes_bids(lot=upload.lot, now=now)
    check_entity_may_participate(upload.entity, on=timezone.localdate(now))
    if upload.received != upload.expected_size:
        raise Conflict(
            _("The upload is not complete: %(received)s of %(size)s bytes received.")
            % {"received": upload.received, "size": upload.expected_size},
            code="upload_incomplete",
            received=upload.received,
        )

    try:
        # (1) verify
        checked = _verify(
            upload=upload,
            header_bytes=header_bytes,
            signature=signature,
            declared={"ciphertext_sha256": ciphertext_sha256, "ciphertext_size": ciphertext_size},
            now=now,
        )
        # (2) store
        blob = _store(upload.parts)
    except OSError:
        # The parts vanished under us: the upload was cancelled (or swept at the deadline) meanwhile.
        state = UploadSession.objects.filter(pk=upload.pk).values_list("state", flat=True).first()
        if state != UploadSession.State.OPEN:
            raise Conflict(_("This upload is closed."), code="upload_not_open", state=state) from None
        raise
    if blob.sha256 != checked["ciphertext_sha256"]:  # the parts changed under us
        raise ValidationFailed(
            _("The uploaded file changed while it was being checked; upload it again."),
            code="envelope_digest_mismatch",
        )
    # (3) record
    try:
        return _record(
            upload=upload,
            user=user,
            header=header,
            signature=signature,
            blob=blob,
            checked=checked,
            file_meta=meta,
            request=request,
        )
    except RuleViolation as exc:
        if exc.code == "bid_after_deadline":
            upload_abandon(upload=upload, reason="deadline")
        raise


def _store(parts: list[dict]):
    """The ciphertext into the content-addressed store (streamed; concurrent completions of the
    same bytes are safe: blob_put renames a complete file into place)."""
    with storage.PartsReader(parts) as reader:
        return blob_put(data=reader, content_type="application/vnd.gj-seal")


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


# --- withdrawal ----------------------------------------------------------------------------------


def bid_withdraw(*, bid: Bid, user) -> Bid:
    """The bidder withdraws its active bid before the deadline (法29); afterwards it cannot."""
    entity = bidder_entity(user)
    if entity.pk != bid.entity_id:
        raise AccessDenied(_("This bid belongs to another bidder."), code="bid_not_yours")
    with transaction.atomic():
        lot = lot_lock(bid.lot_id)
        locked = bid_lock(bid.pk)
        if locked.status != Bid.Status.ACTIVE:
            raise Conflict(
                _("Only the current bid can be withdrawn."), code="bid_not_active", status=locked.status
            )
        now = timezone.now()
        if now >= lot.tender.deadline:
            raise _after_deadline(_("The bid deadline has passed: a bid can no longer be withdrawn."))
        locked.status = Bid.Status.WITHDRAWN
        locked.withdrawn_at = now
        locked.save(update_fields=["status", "withdrawn_at"])
        journal_append(
            stream=lot.tender.stream,
            action="bid.withdraw",
            actor=user,
            obj=locked,
            payload={"lot": lot.number, "bidder": entity.uscc, "withdrawn_at": now},
        )
    return locked
