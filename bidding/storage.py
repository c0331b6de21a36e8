"""Where the parts of a resumable upload live until completion: one storage object per part.

Storage-agnostic by design: the code only uses Django's `default_storage` (save, open, delete), which is
the local disk in the embedded mode and an S3-compatible bucket in production (django-storages,
configured in settings.STORAGES). A remote object cannot be appended to, so every part is its own
object `uploads/<upload id>/<offset>-<token>`; resuming means asking which offset comes next, and at
completion `PartsReader` streams the parts back-to-back into `archive.blobs.blob_put`, which hashes
while it reads and keeps the ciphertext under its digest. Only ciphertext ever passes through here.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import secrets
from collections.abc import Iterable

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

READ_CHUNK = 1024 * 1024


def part_name(*, upload_id, offset: int) -> str:
    """A fresh name for a part: the random token keeps two racing writers of one offset apart."""
    return f"uploads/{upload_id}/{offset:016d}-{secrets.token_hex(8)}"


def part_save(*, name: str, data: bytes) -> str:
    """Store one part under exactly `name` (a storage that picks another name would break the list)."""
    saved = default_storage.save(name, ContentFile(data))
    if saved != name:
        default_storage.delete(saved)
        raise RuntimeError(f"storage saved {name} as {saved}")
    return saved


def parts_delete(names: Iterable[str]) -> None:
    """Best effort: a part left behind holds only ciphertext and is swept with its upload's prefix."""
    for name in names:
        with contextlib.suppress(OSError):
            default_storage.delete(name)


class PartsReader(io.RawIOBase):
    """The parts read as one file, without copying them: readable, seekable, memory flat.

    `parts` is the upload's list of {"offset", "size", "name"}; offsets must be contiguous from 0.
    """

    def __init__(self, parts: list[dict]):
        super().__init__()
        expected = 0
        for part in parts:
            if part["offset"] != expected:
                raise ValueError(f"parts are not contiguous at {expected}")
            expected += part["size"]
        self._parts = list(parts)
        self._size = expected
        self._pos = 0
        self._index = 0
        self._fh = None
        self.name = "ciphertext"

    @property
    def size(self) -> int:
        return self._size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        target = max(0, min(base + offset, self._size))
        self._close_part()
        self._pos = target
        self._index = 0
        while self._index < len(self._parts) and (
            self._parts[self._index]["offset"] + self._parts[self._index]["size"] <= target
        ):
            self._index += 1
        return self._pos

    def _close_part(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def _open_part(self) -> None:
        part = self._parts[self._index]
        self._fh = default_storage.open(part["name"], "rb")
        inside = self._pos - part["offset"]
        if inside:
            self._fh.seek(inside)

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        while self._index < len(self._parts):
            if self._fh is None:
                self._open_part()
            part = self._parts[self._index]
            want = min(len(view), part["offset"] + part["size"] - self._pos)
            data = self._fh.read(want) if want else b""
            if data:
                view[: len(data)] = data
                self._pos += len(data)
                return len(data)
            if self._pos < part["offset"] + part["size"]:
                raise OSError(f"part {part['name']} is shorter than recorded")
            self._close_part()
            self._index += 1
        return 0

    def close(self) -> None:
        self._close_part()
        super().close()


def parts_digest(parts: list[dict]) -> tuple[str, int]:
    """SHA-256 (hex) and length of the parts read in order."""
    h = hashlib.sha256()
    size = 0
    with PartsReader(parts) as reader:
        while chunk := reader.read(READ_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size
