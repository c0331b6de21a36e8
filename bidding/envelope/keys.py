"""GJ-SEAL v1 key handling: wrapping the content key to recipients (ECDH P-256 + HKDF + AES-GCM),
unwrapping it, the bidder's ECDSA signature over the header and ciphertext digests, and the
submission checks built on them (`verify_envelope`)."""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .codec import (
    ALG,
    VERSION,
    _fail,
    b64u,
    b64u_decode,
    canonical_json,
    expected_ciphertext_size,
    key_commitment,
    parse_header,
    point_decode,
    public_key_b64u,
    sha256_hex,
)

WRAP_AAD = b"GJ-SEAL-1 wrap"
_CURVE_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@dataclass
class Recipient:
    to: str  # "bidder" | "custodian"
    kid: str  # certificate serial (hex) | custodian key id
    public_key: ec.EllipticCurvePublicKey


def _kek(*, shared: bytes, epk: bytes, to: str, kid: str, tender: str, lot: int, bidder: str) -> bytes:
    info = f"{ALG} wrap|{to}|{kid}|{tender}|{lot}|{bidder}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=epk, info=info).derive(shared)


def wrap_key(
    *,
    cek: bytes,
    recipient: Recipient,
    tender: str,
    lot: int,
    bidder: str,
    ephemeral: ec.EllipticCurvePrivateKey | None = None,
    iv: bytes | None = None,
) -> dict:
    """One wrap (§3). `ephemeral` and `iv` are fixed only by the known-answer vectors."""
    ephemeral = ephemeral or ec.generate_private_key(ec.SECP256R1())
    iv = iv if iv is not None else os.urandom(12)
    epk_text = public_key_b64u(ephemeral)
    epk = b64u_decode(epk_text)
    shared = ephemeral.exchange(ec.ECDH(), recipient.public_key)
    kek = _kek(
        shared=shared, epk=epk, to=recipient.to, kid=recipient.kid, tender=tender, lot=lot, bidder=bidder
    )
    ct = AESGCM(kek).encrypt(iv, cek, WRAP_AAD)
    return {"to": recipient.to, "kid": recipient.kid, "epk": epk_text, "iv": b64u(iv), "ct": b64u(ct)}


def check_cek(header: dict, cek: bytes) -> None:
    """`envelope_key_invalid` unless `cek` is the content key the header commits to (§2 `kc`)."""
    if not isinstance(cek, (bytes, bytearray)) or len(cek) != 32:
        raise _fail("envelope_key_invalid", "a content key is 32 bytes")
    if not hmac.compare_digest(key_commitment(bytes(cek)), b64u_decode(header["kc"], what="kc")):
        raise _fail("envelope_key_invalid", "the content key does not match the header's commitment")


def cek_from_b64u(text: str) -> bytes:
    """The content key a bidder sends in the decryption window (b64u), decoded; `envelope_key_invalid`."""
    cek = b64u_decode(text, code="envelope_key_invalid", what="content key")
    if len(cek) != 32:
        raise _fail("envelope_key_invalid", "a content key is 32 bytes")
    return cek


def unwrap(*, header: dict, to: str, private_key: ec.EllipticCurvePrivateKey) -> bytes:
    """The content key from the wrap addressed to `to`, checked against `kc`; `envelope_key_invalid`."""
    wrap = next((w for w in header["wraps"] if w["to"] == to), None)
    if wrap is None:
        raise _fail("envelope_key_invalid", f"the envelope has no wrap for {to}")
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or not isinstance(
        private_key.curve, ec.SECP256R1
    ):
        raise _fail("envelope_key_invalid", "only P-256 keys unwrap")
    epk = b64u_decode(wrap["epk"], what="epk")
    shared = private_key.exchange(ec.ECDH(), point_decode(epk))
    kek = _kek(
        shared=shared,
        epk=epk,
        to=wrap["to"],
        kid=wrap["kid"],
        tender=header["tender"],
        lot=header["lot"],
        bidder=header["bidder"],
    )
    try:
        cek = AESGCM(kek).decrypt(b64u_decode(wrap["iv"]), b64u_decode(wrap["ct"]), WRAP_AAD)
    except InvalidTag:
        raise _fail("envelope_key_invalid", f"the {to} wrap does not open with this key") from None
    # A wrap that opens but carries another key is the sender's doing (e.g. a custodian wrap that
    # differs from the bidder's); refusing it here keeps "one envelope, one plaintext".
    check_cek(header, cek)
    return cek


# --- signature ---------------------------------------------------------------------------------------


def signature_statement(*, header_bytes: bytes, ciphertext_sha256: str, ciphertext_size: int) -> bytes:
    return canonical_json(
        {
            "ciphertext_sha256": ciphertext_sha256,
            "ciphertext_size": ciphertext_size,
            "header_sha256": sha256_hex(header_bytes),
            "v": VERSION,
        }
    )


def sign_statement(
    signing_key: ec.EllipticCurvePrivateKey, statement: bytes, *, deterministic: bool = False
) -> str:
    """b64u raw r‖s, as WebCrypto produces; `deterministic` (RFC 6979) only for reproducible vectors."""
    der = signing_key.sign(statement, ec.ECDSA(hashes.SHA256(), deterministic_signing=deterministic))
    r, s = decode_dss_signature(der)
    return b64u(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def verify_signature(
    *, public_key, header_bytes: bytes, ciphertext_sha256: str, ciphertext_size: int, signature: str
) -> None:
    """`envelope_signature_invalid` unless `signature` (b64u raw r‖s) signs the statement."""
    raw = b64u_decode(signature, code="envelope_signature_invalid", what="signature")
    if len(raw) != 64:
        raise _fail("envelope_signature_invalid", "a signature is 64 bytes r‖s")
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    if not (0 < r < _CURVE_ORDER and 0 < s < _CURVE_ORDER):
        raise _fail("envelope_signature_invalid", "r or s out of range")
    statement = signature_statement(
        header_bytes=header_bytes, ciphertext_sha256=ciphertext_sha256, ciphertext_size=ciphertext_size
    )
    try:
        public_key.verify(encode_dss_signature(r, s), statement, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise _fail("envelope_signature_invalid", "the signature does not verify") from None


def header_sha256(header_bytes: bytes) -> str:
    return hashlib.sha256(header_bytes).hexdigest()


def verify_envelope(
    *,
    header_bytes: bytes,
    signature: str,
    ciphertext_sha256: str,
    ciphertext_size: int,
    public_key,
    tender: str,
    lot: int,
    bidder: str,
    declared_sha256: str | None = None,
    declared_size: int | None = None,
) -> dict:
    """The submission checks of §5, in order; returns the parsed header.

    `ciphertext_sha256`/`ciphertext_size` are what the platform received; `declared_*` what the client
    said it sent. `public_key` is the key or a callable `header -> key` that looks the certificate up
    (raising `envelope_certificate_invalid`), so the certificate is checked at its place in the order.
    """
    header = parse_header(header_bytes)
    if (header["tender"], header["lot"], header["bidder"]) != (tender, lot, bidder):
        raise _fail("envelope_binding_mismatch", "the header names another tender, lot or bidder")
    if (declared_sha256 is not None and declared_sha256 != ciphertext_sha256) or (
        declared_size is not None and declared_size != ciphertext_size
    ):
        raise _fail("envelope_digest_mismatch", "the received ciphertext differs from the declared one")
    if ciphertext_size != expected_ciphertext_size(header):
        raise _fail("envelope_size_invalid", "the ciphertext length does not match size and chunk")
    key = public_key(header) if callable(public_key) else public_key
    verify_signature(
        public_key=key,
        header_bytes=header_bytes,
        ciphertext_sha256=ciphertext_sha256,
        ciphertext_size=ciphertext_size,
        signature=signature,
    )
    return header
