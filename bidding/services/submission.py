"""Submission of sealed bids: resumable upload, verification at completion, receipt; replace, withdraw.

The server clock decides (DOMAIN B2): a completion is checked against the deadline under the lot's row
lock, and an upload that never completes is never a bid. Only ciphertext is stored; the content key is
never sent before the opening (docs/sealed-bid.md). Evidence of every completed upload (IP, user agent,
client hardware, certificate, digest, authoring metadata) is recorded for monitoring (DOMAIN D2).

This module keeps appending parts, the upload status and upload_complete, and re-exports the rest:
submission_checks (limits, deadline and owner checks), uploads (start, abandon), completion (the
envelope checks and the record under the lot lock), withdrawal (bid_withdraw).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive.blobs import blob_put
from bidding import storage
from bidding.lock_objects import upload_lock
from bidding.models import Bid, UploadSession

# Callers (views, bench, the demo, tests) import submission from here; PART_MAX, blob_put and _verify
# are looked up in this module by the code that uses them, so that tests may patch them here.
from bidding.services.completion import _certificate_for, _check_recipients, _decode, _record, _verify  # noqa: F401
from bidding.services.security import bid_security_record  # noqa: F401
from bidding.services.submission_checks import (  # noqa: F401
    FILE_META_KEYS,
    FILE_META_VALUE_MAX,
    HEADER_B64U_MAX,
    OPEN_UPLOADS_MAX,
    SIGNATURE_B64U_MAX,
    SOURCE_DEADLINE,
    UPLOAD_MAX_DEFAULT,
    _after_deadline,
    _check_owner,
    _offset_mismatch,
    check_lot_takes_bids,
    file_meta_clean,
    upload_max,
)
from bidding.services.uploads import upload_abandon, upload_start, uploads_abandon_expired  # noqa: F401
from bidding.services.withdrawal import bid_withdraw  # noqa: F401
from core.errors import Conflict, RuleViolation, ValidationFailed
from trading.selectors import check_entity_may_participate

# A part stays below DATA_UPLOAD_MAX_MEMORY_SIZE (10 MiB), so a part is one ordinary request body.
PART_MAX = 8 * 1024 * 1024


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
