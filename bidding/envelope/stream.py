"""GJ-SEAL v1 sealing and opening: chunked AES-256-GCM (STREAM nonces), streaming both ways with fixed
buffers, so a 200 MB bid is sealed and verified in a few MB of memory."""

from __future__ import annotations

import hashlib
import io
import mmap
import os
import stat
import struct
import threading
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .codec import (
    ALG,
    CERT_RE,
    NP_BYTES,
    TAG,
    VERSION,
    _fail,
    b64u,
    b64u_decode,
    binding_check,
    canonical_json,
    chunk_check,
    chunk_count,
    expected_ciphertext_size,
    key_commitment,
    parse_header,
)
from .form import FormReader, check_form, form_prefix
from .keys import Recipient, check_cek, sign_statement, signature_statement, wrap_key

# 1 MiB: per-chunk cost in Python is ~2 µs, which at 64 KiB chunks costs a third of the throughput
# (bench/bench_envelope.py); the platform announces the chunk, this is only the default.
DEFAULT_CHUNK = 1024 * 1024
AAD_PREFIX = ALG.encode()
# Ciphertext is read this much at a time (anonymous memory), or mapped this much at a time (page
# cache, not copied): big enough to amortise system calls and page faults — 32 MiB windows measured
# ~10% faster than 8 MiB — small enough that memory stays flat.
WINDOW = 8 * 1024 * 1024
MAP_WINDOW = 32 * 1024 * 1024


class _BufferPool:
    """Reuses the plaintext scratch buffers (up to 4 MiB): a fresh one costs ~100 µs of page faults,
    as much as decrypting a 1 MB bid. Keeps at most `keep` buffers, so memory stays bounded."""

    def __init__(self, keep: int = 2):
        self.lock, self.free, self.keep = threading.Lock(), [], keep

    def get(self, size: int) -> bytearray:
        with self.lock:
            for i, buffer in enumerate(self.free):
                if len(buffer) >= size:
                    return self.free.pop(i)
        return bytearray(size)

    def put(self, buffer: bytearray) -> None:
        with self.lock:
            if len(self.free) < self.keep:
                self.free.append(buffer)


_PLAIN_BUFFERS = _BufferPool()


@dataclass
class Sealed:
    header_bytes: bytes
    signature: str
    ciphertext_sha256: str
    ciphertext_size: int
    cek: bytes

    @property
    def header_sha256(self) -> str:
        return hashlib.sha256(self.header_bytes).hexdigest()


@dataclass
class Opened:
    form: dict
    document_meta: dict
    plaintext_size: int
    document_sha256: str | None = None  # computed over the document; None when not verified


def _counter(buffer: bytearray, at: int, index: int, final: bool) -> None:
    struct.pack_into(">IB", buffer, at, index, 1 if final else 0)


# --- sealing -----------------------------------------------------------------------------------------


def _document_source(document) -> tuple[BinaryIO, int, int, str]:
    """(stream, start, size, sha256) — hashed in a first pass because the form, which comes first in
    the plaintext, carries the digest; so a stream must be seekable."""
    if isinstance(document, (bytes, bytearray, memoryview)):
        document = io.BytesIO(bytes(document))
    start = document.tell()
    digest, size = hashlib.sha256(), 0
    while block := document.read(WINDOW):
        digest.update(block)
        size += len(block)
    document.seek(start)
    return document, start, size, digest.hexdigest()


def _recipients_check(recipients: list[Recipient], cert_serial: str) -> None:
    if not 1 <= len(recipients) <= 2 or recipients[0].to != "bidder" or recipients[0].kid != cert_serial:
        raise _fail(
            "envelope_header_malformed", "the first recipient is the bidder, with kid = its certificate"
        )
    if len(recipients) == 2 and recipients[1].to != "custodian":
        raise _fail("envelope_header_malformed", "the second recipient is the custodian key")


def seal(
    *,
    form: dict,
    document: bytes | BinaryIO,
    document_name: str,
    content_type: str,
    tender: str,
    lot: int,
    bidder: str,
    cert_serial: str,
    signing_key,
    recipients: list[Recipient],
    out: BinaryIO,
    chunk: int = DEFAULT_CHUNK,
    _cek: bytes | None = None,
    _nonce_prefix: bytes | None = None,
    _ephemeral: list | None = None,
    _deterministic: bool = False,
) -> Sealed:
    """Seal `form` + `document` for the recipients, writing the ciphertext to `out`.

    `form` holds the bidder's fields (price, currency, …); v, tender, lot, bidder and document are
    filled in. `_cek`, `_nonce_prefix`, `_ephemeral` ([(private key, iv)] per recipient) and
    `_deterministic` (RFC 6979 signature) exist for the known-answer vectors only.
    """
    binding_check(tender=tender, lot=lot, bidder=bidder)
    chunk_check(chunk)
    if not isinstance(cert_serial, str) or not CERT_RE.match(cert_serial):
        raise _fail("envelope_header_malformed", "cert must be lower-case hex")
    _recipients_check(recipients, cert_serial)
    stream, _start, doc_size, doc_sha256 = _document_source(document)
    fields = dict(form)
    meta = {"name": document_name, "size": doc_size, "sha256": doc_sha256, "content_type": content_type}
    for key, value in (("v", 1), ("tender", tender), ("lot", lot), ("bidder", bidder), ("document", meta)):
        if fields.setdefault(key, value) != value:
            raise _fail("envelope_plaintext_malformed", f"the form's {key} differs from the envelope's")
    check_form(fields, tender=tender, lot=lot, bidder=bidder)
    prefix = form_prefix(fields)
    size = len(prefix) + doc_size

    cek = _cek if _cek is not None else os.urandom(32)
    nonce_prefix = _nonce_prefix if _nonce_prefix is not None else os.urandom(NP_BYTES)
    if len(cek) != 32 or len(nonce_prefix) != NP_BYTES:
        raise ValueError("the content key is 32 bytes and the nonce prefix 7")
    ephemeral = _ephemeral or [(None, None)] * len(recipients)
    wraps = [
        wrap_key(cek=cek, recipient=r, tender=tender, lot=lot, bidder=bidder, ephemeral=e, iv=iv)
        for r, (e, iv) in zip(recipients, ephemeral, strict=True)
    ]
    header = {
        "alg": ALG,
        "v": VERSION,
        "tender": tender,
        "lot": lot,
        "bidder": bidder,
        "cert": cert_serial,
        "chunk": chunk,
        "size": size,
        "np": b64u(nonce_prefix),
        "kc": b64u(key_commitment(cek)),
        "wraps": wraps,
    }
    header_bytes = canonical_json(header)
    parse_header(header_bytes)  # what we seal, we must be able to open

    ct_sha256, ct_size = _encrypt(
        cek=cek,
        nonce_prefix=nonce_prefix,
        header_bytes=header_bytes,
        chunk=chunk,
        size=size,
        prefix=prefix,
        document=stream,
        document_sha256=doc_sha256,
        out=out,
    )
    statement = signature_statement(
        header_bytes=header_bytes, ciphertext_sha256=ct_sha256, ciphertext_size=ct_size
    )
    signature = sign_statement(signing_key, statement, deterministic=_deterministic)
    return Sealed(header_bytes, signature, ct_sha256, ct_size, cek)


def _readinto(stream, view: memoryview) -> int:
    readinto = getattr(stream, "readinto", None)
    if readinto is not None:
        return readinto(view) or 0
    data = stream.read(len(view))
    view[: len(data)] = data
    return len(data)


def _encrypt(
    *, cek, nonce_prefix, header_bytes, chunk, size, prefix, document, document_sha256, out
) -> tuple[str, int]:
    aes = AESGCM(cek)
    nonce = bytearray(nonce_prefix + bytes(5))
    aad = bytearray(AAD_PREFIX + hashlib.sha256(header_bytes).digest() + bytes(5))
    plain, sealed = bytearray(chunk), bytearray(chunk + TAG)
    plain_view, sealed_view = memoryview(plain), memoryview(sealed)
    ct_digest, doc_digest = hashlib.sha256(), hashlib.sha256()
    pending, total, n = memoryview(prefix), 0, chunk_count(size, chunk)
    for i in range(n):
        final = i == n - 1
        length = size - chunk * i if final else chunk
        filled = min(len(pending), length)
        plain_view[:filled] = pending[:filled]
        pending = pending[filled:]
        while filled < length:
            got = _readinto(document, plain_view[filled:length])
            if not got:
                raise _fail("envelope_plaintext_malformed", "the document shrank while it was sealed")
            doc_digest.update(plain_view[filled : filled + got])
            filled += got
        _counter(nonce, NP_BYTES, i, final)
        _counter(aad, len(aad) - 5, i, final)
        aes.encrypt_into(nonce, plain_view[:length], aad, sealed_view[: length + TAG])
        out.write(sealed_view[: length + TAG])
        ct_digest.update(sealed_view[: length + TAG])
        total += length + TAG
    if doc_digest.hexdigest() != document_sha256 or document.read(1):
        raise _fail("envelope_plaintext_malformed", "the document changed while it was sealed")
    return ct_digest.hexdigest(), total


# --- opening -----------------------------------------------------------------------------------------


class _MappedSource:
    """A regular file: windows mapped read-only and decrypted in place, without a copy.

    Only for files the platform (or the bidder) owns and nobody truncates meanwhile, which is what
    content-addressed blobs and sealed files are.
    """

    def __init__(self, fileobj, fd: int, start: int, end: int):
        self.file, self.fd, self.pos, self.end = fileobj, fd, start, end
        self.map = self.view = None
        self.map_start = self.map_end = 0

    def take(self, n: int) -> memoryview:
        if self.pos >= self.end:
            return memoryview(b"")
        if self.pos + n > self.map_end:
            self._unmap()
            start = self.pos - self.pos % mmap.ALLOCATIONGRANULARITY
            length = min(self.end, max(self.pos + n, start + MAP_WINDOW)) - start
            self.map = mmap.mmap(self.fd, length, access=mmap.ACCESS_READ, offset=start)
            self.view, self.map_start, self.map_end = memoryview(self.map), start, start + length
        lo = self.pos - self.map_start
        piece = self.view[lo : lo + n]
        self.pos += len(piece)
        return piece

    def more(self) -> bool:
        return self.pos < self.end

    def _unmap(self) -> None:
        if self.map is not None:
            self.view.release()
            self.map.close()
            self.map = self.view = None

    def close(self) -> None:
        self._unmap()
        self.file.seek(self.pos)


class _ReadSource:
    """Any other stream: read into one fixed buffer with readinto."""

    def __init__(self, fileobj, size: int):
        self.file = fileobj
        self.buffer = bytearray(size)
        self.view = memoryview(self.buffer)
        self.lo = self.hi = 0
        self.eof = False

    def _fill(self) -> None:
        left = self.hi - self.lo
        self.view[:left] = self.view[self.lo : self.hi]
        self.lo, self.hi = 0, left
        while self.hi < len(self.buffer):
            got = _readinto(self.file, self.view[self.hi :])
            if not got:
                self.eof = True
                return
            self.hi += got

    def take(self, n: int) -> memoryview:
        if self.hi - self.lo < n and not self.eof:
            self._fill()
        k = min(n, self.hi - self.lo)
        piece = self.view[self.lo : self.lo + k]
        self.lo += k
        return piece

    def more(self) -> bool:
        if self.hi > self.lo:
            return True
        return not self.eof and bool(self.file.read(1))

    def close(self) -> None:
        pass


def _source(fileobj, buffer_size: int):
    try:
        fd = fileobj.fileno()
        status = os.fstat(fd)
        if stat.S_ISREG(status.st_mode):
            return _MappedSource(fileobj, fd, fileobj.tell(), status.st_size)
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        pass
    return _ReadSource(fileobj, buffer_size)


def open_stream(
    *,
    header_bytes: bytes,
    cek: bytes,
    ciphertext: BinaryIO,
    document_out: BinaryIO | None = None,
    verify_document: bool = True,
    ciphertext_sha256: str | None = None,
) -> Opened:
    """Decrypt and verify every chunk in order (§4 "Reading"), writing the document to `document_out`.

    `verify_document` checks the form's document digest (SHA-256 costs more than AES-GCM here);
    `ciphertext_sha256`, when given, is checked too (`envelope_digest_mismatch`).
    """
    header = parse_header(header_bytes, points=False)
    check_cek(header, cek)
    size, chunk = header["size"], header["chunk"]
    n = chunk_count(size, chunk)
    aes = AESGCM(bytes(cek))
    nonce = bytearray(b64u_decode(header["np"]) + bytes(5))
    aad = bytearray(AAD_PREFIX + hashlib.sha256(header_bytes).digest() + bytes(5))
    plain_buffer = _PLAIN_BUFFERS.get(min(chunk, size))
    plain = memoryview(plain_buffer)
    reader = FormReader(size=size, tender=header["tender"], lot=header["lot"], bidder=header["bidder"])
    doc_digest = hashlib.sha256() if verify_document else None
    ct_digest = hashlib.sha256() if ciphertext_sha256 is not None else None
    source = _source(ciphertext, min(max(WINDOW, chunk + TAG), expected_ciphertext_size(header)))
    try:
        for i in range(n):
            final = i == n - 1
            length = size - chunk * i if final else chunk
            piece = source.take(length + TAG)
            try:
                if len(piece) < length + TAG:
                    raise _fail("envelope_truncated", f"the stream ends in chunk {i} of {n}", chunk=i)
                if ct_digest is not None:
                    ct_digest.update(piece)
                _counter(nonce, NP_BYTES, i, final)
                _counter(aad, len(aad) - 5, i, final)
                try:
                    aes.decrypt_into(nonce, piece, aad, plain[:length])
                except InvalidTag:
                    raise _fail(
                        "envelope_chunk_invalid", f"chunk {i} of {n} fails authentication", chunk=i
                    ) from None
            finally:
                piece.release()
            rest = reader.feed(plain[:length])
            if len(rest):
                if doc_digest is not None:
                    doc_digest.update(rest)
                if document_out is not None:
                    document_out.write(rest)
        if source.more():
            raise _fail("envelope_trailing_data", "bytes follow the final chunk")
    finally:
        source.close()
        plain.release()
        _PLAIN_BUFFERS.put(plain_buffer)
    if ct_digest is not None and ct_digest.hexdigest() != ciphertext_sha256:
        raise _fail("envelope_digest_mismatch", "the ciphertext's digest differs")
    form = reader.form
    if form is None:  # pragma: no cover - FormReader bounds the form by `size`
        raise _fail("envelope_plaintext_malformed", "the plaintext ends inside the form")
    document_sha256 = doc_digest.hexdigest() if doc_digest is not None else None
    if document_sha256 is not None and document_sha256 != form["document"]["sha256"]:
        raise _fail("envelope_plaintext_malformed", "the document's digest differs from the form's")
    return Opened(
        form=form, document_meta=form["document"], plaintext_size=size, document_sha256=document_sha256
    )
