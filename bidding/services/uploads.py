"""Upload sessions: open one before the deadline, abandon it (bidder's cancel or the deadline).

Appending parts and the status a client resumes from are in bidding/services/submission.py.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive.journal import journal_append
from bidding import storage
from bidding.lock_objects import lot_lock, upload_lock
from bidding.models import UploadSession
from bidding.selectors import bidder_entity
from bidding.services.submission_checks import (
    OPEN_UPLOADS_MAX,
    _check_owner,
    check_lot_takes_bids,
    upload_max,
)
from core.errors import Conflict, ValidationFailed
from trading.models import Lot
from trading.selectors import check_entity_may_participate


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
