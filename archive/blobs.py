"""Content-addressed document store: a file is kept once, named by its SHA-256."""

from __future__ import annotations

import hashlib
import io
from typing import BinaryIO

from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import transaction

from archive.models import Blob

CHUNK = 1024 * 1024


def blob_put(*, data: bytes | BinaryIO, content_type: str = "application/octet-stream") -> Blob:
    """Store bytes (or a file object, streamed) and return its Blob; idempotent by content."""
    stream = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
    h = hashlib.sha256()
    size = 0
    stream.seek(0)
    while chunk := stream.read(CHUNK):
        h.update(chunk)
        size += len(chunk)
    sha = h.hexdigest()
    existing = Blob.objects.filter(sha256=sha).first()
    if existing:
        return existing
    blob = Blob(sha256=sha, size=size, content_type=content_type[:120])
    # A file can sit at the address without its row (a rolled-back transaction, or a crash
    # mid-write). Reuse it only if it really holds these bytes; otherwise replace it.
    if default_storage.exists(blob.storage_name) and not blob_verify(blob):
        default_storage.delete(blob.storage_name)
    if not default_storage.exists(blob.storage_name):
        stream.seek(0)
        saved = default_storage.save(blob.storage_name, File(stream))
        if saved != blob.storage_name:  # the storage chose another name: the address would lie
            default_storage.delete(saved)
            raise RuntimeError(f"storage saved {blob.storage_name} as {saved}")
    with transaction.atomic():
        blob, _ = Blob.objects.get_or_create(
            sha256=sha, defaults={"size": size, "content_type": blob.content_type}
        )
    return blob


def blob_open(blob: Blob) -> BinaryIO:
    return default_storage.open(blob.storage_name, "rb")


def blob_verify(blob: Blob) -> bool:
    """True when the stored bytes still hash to the blob's name."""
    h = hashlib.sha256()
    with blob_open(blob) as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest() == blob.sha256
