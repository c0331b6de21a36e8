"""GJ-SEAL v1 encodings: the refusal error, b64u, canonical JSON, P-256 points and the header rules.

Pure (stdlib + cryptography + core.errors): the bidder's own scripts import it without Django settings.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from core.errors import ValidationFailed

ALG = "GJ-SEAL-1"
VERSION = 1
TAG = 16
NP_BYTES = 7
CHUNK_MIN, CHUNK_MAX = 4096, 4 * 1024 * 1024
MAX_CHUNKS = 2**32
HEADER_MAX = 16 * 1024
FRAMING = 10  # "GJPT1\n" + uint32 form length
LOT_MAX = 10_000
KC_PREFIX = b"GJ-SEAL-1 key"

_BINDING_RE = re.compile(r"^[0-9A-Za-z*_.-]{1,64}$")
_KID_RE = re.compile(r"^[0-9A-Za-z_.-]{1,64}$")
CERT_RE = re.compile(r"^[0-9a-f]{1,64}$")
_B64U_RE = re.compile(r"^[A-Za-z0-9_-]*$")
_HEADER_KEYS = {"alg", "v", "tender", "lot", "bidder", "cert", "chunk", "size", "np", "kc", "wraps"}
_WRAP_KEYS = {"to", "kid", "epk", "iv", "ct"}


class _Text:
    """A message translated when shown, if Django is configured; English otherwise.

    gettext_lazy would raise without settings, and this module must work in a bidder's plain script.
    """

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __str__(self) -> str:
        try:
            from django.conf import settings
            from django.utils.translation import gettext

            if settings.configured:
                return gettext(self.text)
        except ImportError:  # pragma: no cover - Django is always there in this project
            pass
        return self.text

    def __repr__(self) -> str:
        return repr(self.text)


_ = _Text

MESSAGES = {
    "envelope_header_malformed": _("The envelope header is malformed."),
    "envelope_binding_mismatch": _("The envelope is sealed for another tender, lot or bidder."),
    "envelope_certificate_invalid": _(
        "The envelope's certificate is unknown, revoked, expired or not yours."
    ),
    "envelope_signature_invalid": _("The envelope's signature does not verify."),
    "envelope_digest_mismatch": _("The ciphertext's digest or size differs from the declared one."),
    "envelope_size_invalid": _("The ciphertext's length does not match the envelope header."),
    "envelope_chunk_invalid": _("A chunk of the ciphertext fails authentication."),
    "envelope_truncated": _("The ciphertext ends before its final chunk."),
    "envelope_trailing_data": _("There are bytes after the ciphertext's final chunk."),
    "envelope_key_invalid": _("This key does not open the envelope."),
    "envelope_plaintext_malformed": _("The sealed bid form or document is malformed."),
}


class EnvelopeError(ValidationFailed):
    """A refused envelope; `code` is one of docs/sealed-bid.md's refusal codes."""

    def __init__(self, code: str, *, detail: str = "", **params: Any):
        if code not in MESSAGES:
            raise ValueError(f"unknown envelope code {code!r}")
        if detail:
            # Technical English for logs and for the bidder's own tools; the message stays generic.
            params["detail"] = detail
        super().__init__(MESSAGES[code], code=code, **params)


def _fail(code: str, detail: str = "", **params: Any) -> EnvelopeError:
    return EnvelopeError(code, detail=detail, **params)


# --- encodings ---------------------------------------------------------------------------------------


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str, *, code: str = "envelope_header_malformed", what: str = "value") -> bytes:
    """Strict base64url without padding: anything else (padding, other alphabets, non-zero spare bits)
    is refused, so that one value has one encoding and digests over JSON stay unambiguous."""
    if not isinstance(text, str) or not _B64U_RE.match(text) or len(text) % 4 == 1:
        raise _fail(code, f"{what} is not base64url without padding")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):  # pragma: no cover - the regex already excludes these
        raise _fail(code, f"{what} is not base64url") from None
    if b64u(data) != text:
        raise _fail(code, f"{what} is not canonical base64url")
    return data


def canonical_json(obj: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8, ensure_ascii=False; no floats or NaN (JS and Python print them
    differently), and no lone surrogates (they are not UTF-8)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def public_key_b64u(public_key) -> str:
    if isinstance(public_key, ec.EllipticCurvePrivateKey):
        public_key = public_key.public_key()
    return b64u(
        public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )


def point_decode(data: bytes, *, code: str = "envelope_header_malformed") -> ec.EllipticCurvePublicKey:
    if len(data) != 65 or data[0] != 4:
        raise _fail(code, "a P-256 public key is a 65-byte uncompressed point")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), data)
    except ValueError:
        raise _fail(code, "the point is not on P-256") from None


def public_key_from_b64u(text: str, *, code: str = "envelope_header_malformed") -> ec.EllipticCurvePublicKey:
    return point_decode(b64u_decode(text, code=code, what="public key"), code=code)


def key_commitment(cek: bytes) -> bytes:
    return hashlib.sha256(KC_PREFIX + cek).digest()


# --- the header --------------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def chunk_count(size: int, chunk: int) -> int:
    return max(1, -(-size // chunk))


def binding_check(*, tender: Any, lot: Any, bidder: Any, code: str = "envelope_header_malformed") -> None:
    if not isinstance(tender, str) or not _BINDING_RE.match(tender):
        raise _fail(code, "tender must be 1-64 characters of [0-9A-Za-z*_.-]")
    if not isinstance(bidder, str) or not _BINDING_RE.match(bidder):
        raise _fail(code, "bidder must be 1-64 characters of [0-9A-Za-z*_.-]")
    if not _is_int(lot) or not 1 <= lot <= LOT_MAX:
        raise _fail(code, f"lot must be an integer 1..{LOT_MAX}")


def chunk_check(chunk: Any, *, code: str = "envelope_header_malformed") -> None:
    if not _is_int(chunk) or not CHUNK_MIN <= chunk <= CHUNK_MAX or chunk & (chunk - 1):
        raise _fail(code, "chunk must be a power of two from 4096 to 4194304")


def _wrap_check(wrap: Any, position: int, cert: str, points: bool) -> None:
    if not isinstance(wrap, dict) or set(wrap) != _WRAP_KEYS:
        raise _fail("envelope_header_malformed", f"wrap {position} must have exactly {sorted(_WRAP_KEYS)}")
    expected_to = "bidder" if position == 0 else "custodian"
    if wrap["to"] != expected_to:
        raise _fail("envelope_header_malformed", f"wrap {position} must be addressed to {expected_to}")
    kid = wrap["kid"]
    if not isinstance(kid, str) or not _KID_RE.match(kid) or (position == 0 and kid != cert):
        raise _fail("envelope_header_malformed", f"wrap {position} has an invalid kid")
    epk = b64u_decode(wrap["epk"], what="epk")
    if points:
        point_decode(epk)
    elif len(epk) != 65 or epk[0] != 4:
        raise _fail("envelope_header_malformed", f"wrap {position}: epk is a 65-byte uncompressed point")
    if len(b64u_decode(wrap["iv"], what="iv")) != 12 or len(b64u_decode(wrap["ct"], what="ct")) != 48:
        raise _fail("envelope_header_malformed", f"wrap {position}: iv is 12 bytes, ct 48 bytes")


def parse_header(header_bytes: bytes, *, points: bool = True) -> dict:
    """The header as a dict, after every rule of docs/sealed-bid.md §2–3; `envelope_header_malformed`.

    `points=False` skips the on-curve check of the wraps' ephemeral keys (16 µs each): for readers
    that never unwrap, like `open_stream`; `unwrap` checks the point it uses.
    """
    if not isinstance(header_bytes, (bytes, bytearray)) or not 0 < len(header_bytes) <= HEADER_MAX:
        raise _fail("envelope_header_malformed", "the header is empty or longer than 16 KiB")
    try:
        header = json.loads(bytes(header_bytes).decode("utf-8"))
        canonical = canonical_json(header)
    except (UnicodeError, ValueError):
        raise _fail("envelope_header_malformed", "the header is not UTF-8 JSON") from None
    if not isinstance(header, dict) or canonical != header_bytes:
        raise _fail("envelope_header_malformed", "the header is not canonical JSON")
    if set(header) != _HEADER_KEYS:
        raise _fail("envelope_header_malformed", f"the header must have exactly {sorted(_HEADER_KEYS)}")
    if header["alg"] != ALG or not _is_int(header["v"]) or header["v"] != VERSION:
        raise _fail("envelope_header_malformed", "unsupported alg or version")
    binding_check(tender=header["tender"], lot=header["lot"], bidder=header["bidder"])
    if not isinstance(header["cert"], str) or not CERT_RE.match(header["cert"]):
        raise _fail("envelope_header_malformed", "cert must be lower-case hex")
    chunk_check(header["chunk"])
    size = header["size"]
    if not _is_int(size) or size < FRAMING or chunk_count(size, header["chunk"]) > MAX_CHUNKS:
        raise _fail("envelope_header_malformed", "size is out of range")
    if len(b64u_decode(header["np"], what="np")) != NP_BYTES:
        raise _fail("envelope_header_malformed", "np must be 7 bytes")
    if len(b64u_decode(header["kc"], what="kc")) != 32:
        raise _fail("envelope_header_malformed", "kc must be 32 bytes")
    wraps = header["wraps"]
    if not isinstance(wraps, list) or not 1 <= len(wraps) <= 2:
        raise _fail("envelope_header_malformed", "one or two wraps")
    for position, wrap in enumerate(wraps):
        _wrap_check(wrap, position, header["cert"], points)
    return header


def expected_ciphertext_size(header: dict) -> int:
    return header["size"] + TAG * chunk_count(header["size"], header["chunk"])
