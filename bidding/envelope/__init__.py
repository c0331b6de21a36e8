"""The sealed-bid envelope, format GJ-SEAL v1 (docs/sealed-bid.md): seal, open, wrap, sign, verify.

Pure cryptography (no database, no Django settings needed), shared by the platform, the Python bidder
client and the vectors that bind it to the browser's WebCrypto implementation.
"""

from .codec import (
    ALG,
    CHUNK_MAX,
    CHUNK_MIN,
    MESSAGES,
    EnvelopeError,
    b64u,
    b64u_decode,
    canonical_json,
    chunk_count,
    expected_ciphertext_size,
    key_commitment,
    parse_header,
    public_key_b64u,
    public_key_from_b64u,
    sha256_hex,
)
from .form import check_form
from .keys import (
    Recipient,
    cek_from_b64u,
    check_cek,
    header_sha256,
    sign_statement,
    signature_statement,
    unwrap,
    verify_envelope,
    verify_signature,
    wrap_key,
)
from .stream import DEFAULT_CHUNK, Opened, Sealed, open_stream, seal

__all__ = [
    "ALG",
    "CHUNK_MAX",
    "CHUNK_MIN",
    "DEFAULT_CHUNK",
    "MESSAGES",
    "EnvelopeError",
    "Opened",
    "Recipient",
    "Sealed",
    "b64u",
    "b64u_decode",
    "canonical_json",
    "cek_from_b64u",
    "check_cek",
    "check_form",
    "chunk_count",
    "expected_ciphertext_size",
    "header_sha256",
    "key_commitment",
    "open_stream",
    "parse_header",
    "public_key_b64u",
    "public_key_from_b64u",
    "seal",
    "sha256_hex",
    "sign_statement",
    "signature_statement",
    "unwrap",
    "verify_envelope",
    "verify_signature",
    "wrap_key",
]
