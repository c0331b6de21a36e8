"""Content-addressed document store: a file is kept once, named by its SHA-256."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from django.core.files.base import File
from django.core.files.storage import FileSystemStorage, default_storage
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
    stream.seek(0)
    _write_at_address(blob, stream)
    with transaction.atomic():
        blob, _ = Blob.objects.get_or_create(
            sha256=sha, defaults={"size": size, "content_type": blob.content_type}
        )
    return blob


def _write_at_address(blob: Blob, stream: BinaryIO) -> None:
    """Put the bytes at the blob's address so that a reader never sees a partial file.

    Local disk: write a uniquely named temporary file beside it and rename it into place
    (atomic; two writers of the same bytes both succeed, the last rename wins with identical
    content). Object stores (S3) make a PUT visible only when complete, so saving is enough.
    A file already at the address without its row (a rolled-back transaction, a crash) is
    reused only if it really holds these bytes.
    """
    if default_storage.exists(blob.storage_name) and blob_verify(blob):
        return
    if not isinstance(default_storage, FileSystemStorage):
        default_storage.delete(blob.storage_name)
        saved = default_storage.save(blob.storage_name, File(stream))
        if saved != blob.storage_name:  # the storage chose another name: the address would lie
            default_storage.delete(saved)
            raise RuntimeError(f"storage saved {blob.storage_name} as {saved}") from None
        return
    final = Path(default_storage.path(blob.storage_name))
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=f".{blob.sha256[:16]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(stream, out, CHUNK)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def blob_open(blob: Blob) -> BinaryIO:
    return default_storage.open(blob.storage_name, "rb")


def blob_verify(blob: Blob) -> bool:
    """True when the stored bytes still hash to the blob's name."""
    h = hashlib.sha256()
    with blob_open(blob) as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest() == blob.sha256
