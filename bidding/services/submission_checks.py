"""Limits and checks shared by the submission services (bidding/services/submission.py): the lot takes
bids by the server clock, the upload is the caller's, the client-reported file metadata is bounded.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from bidding.models import UploadSession
from bidding.selectors import bidder_entity
from core.errors import AccessDenied, Conflict, RuleViolation, ValidationFailed
from trading.models import Lot, TenderState

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


def _offset_mismatch(upload: UploadSession) -> Conflict:
    return Conflict(
        _("The server has received %(received)s bytes; send the part that starts there.")
        % {"received": upload.received},
        code="upload_offset_mismatch",
        received=upload.received,
    )
