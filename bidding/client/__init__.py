"""The bidder's Python client for sealed bids (docs/sealed-bid.md): log in with the certified key, seal a
bid form and document to a file, upload it resumably, complete, and keep a receipt checked offline.

Standard library (urllib) and `cryptography` only, so a bidder's own scripts need nothing else; the
command line is `python manage.py bid_client ...`. The content key never leaves this process unwrapped
before the opening; the manifest written next to a sealed file holds the header and signature, not it.

The package: http (PlatformClient, Transport, ClientError), keys (the bidder's key, recipients),
metadata (hardware fingerprint, document authoring metadata), sealing (seal, self-check, receipt
check, submit). Every public name is re-exported here.
"""

from __future__ import annotations

# PART_DEFAULT, USER_AGENT, MANIFEST_FORMAT and manifest_write stay importable from here, outside
# __all__, as in the single-module client (`bid_client` uses PART_DEFAULT).
from bidding.client.http import PART_DEFAULT, USER_AGENT, ClientError, PlatformClient, Transport  # noqa: F401
from bidding.client.keys import check_own_key, keyfile_username, load_key, recipients_from
from bidding.client.metadata import file_metadata, hardware_fingerprint
from bidding.client.sealing import (  # noqa: F401
    MANIFEST_FORMAT,
    manifest_read,
    manifest_write,
    receipt_check,
    seal_to_file,
    self_check,
    submit,
    unwrap_content_key,
)

__all__ = [
    "ClientError",
    "PlatformClient",
    "Transport",
    "check_own_key",
    "file_metadata",
    "hardware_fingerprint",
    "keyfile_username",
    "load_key",
    "manifest_read",
    "receipt_check",
    "recipients_from",
    "seal_to_file",
    "self_check",
    "submit",
    "unwrap_content_key",
]
