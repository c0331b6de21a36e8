"""Submission receipts signed by the platform, and their offline verification.

`receipt_verify` needs only the standard library and `cryptography` (no Django, no database), so a
bidder can check a receipt on its own machine with the platform CA certificate (/pki/ca.pem):
    python bidding/receipts.py receipt.json ca.pem
The signed receipt carries the platform signing certificate; verification checks that it was issued by
the given CA, that it is the platform's signing certificate (not any certificate of that CA), that it
was valid at `received_at`, and that its ECDSA P-256 signature covers the receipt's canonical JSON.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import sys
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

RECEIPT_VERSION = 1
ALG = "ES256"
RECEIPT_FIELDS = (
    "v",
    "tender",
    "lot",
    "bidder",
    "bid_id",
    "header_sha256",
    "ciphertext_sha256",
    "ciphertext_size",
    "received_at",
    "journal",
)
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class ReceiptInvalid(Exception):
    """A receipt that does not verify. `code` is stable; the message is English on purpose: this
    module runs on the bidder's machine without Django (and so without its translations)."""

    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


# --- encoding helpers (the same rules as the envelope: docs/sealed-bid.md) ---------------------------


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8 (what is signed)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str) -> bytes:
    if not isinstance(text, str) or "=" in text:
        raise ValueError("not unpadded base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def time_format(when: dt.datetime) -> str:
    """UTC with microseconds, e.g. 2026-03-25T01:29:59.123456Z."""
    if when.tzinfo is None:
        raise ValueError("naive datetime")
    return when.astimezone(dt.UTC).strftime(TIME_FORMAT)


def _raw_signature(der: bytes) -> bytes:
    """DER ECDSA → raw r‖s (64 bytes), the form WebCrypto verifies too."""
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


# --- building and signing (server side) ----------------------------------------------------------


def receipt_build(
    *,
    tender: str,
    lot: int,
    bidder: str,
    bid_id: str,
    header_sha256: str,
    ciphertext_sha256: str,
    ciphertext_size: int,
    received_at: dt.datetime,
    journal_stream: str,
    journal_seq: int,
    journal_hash: str,
) -> dict:
    return {
        "v": RECEIPT_VERSION,
        "tender": tender,
        "lot": lot,
        "bidder": bidder,
        "bid_id": str(bid_id),
        "header_sha256": header_sha256,
        "ciphertext_sha256": ciphertext_sha256,
        "ciphertext_size": int(ciphertext_size),
        "received_at": time_format(received_at),
        "journal": {"stream": journal_stream, "seq": int(journal_seq), "hash": journal_hash},
    }


def receipt_sign(receipt: dict) -> dict:
    """{"receipt", "alg", "signature" (b64u raw r‖s), "certificate" (platform signing cert PEM)}."""
    # Imported here so that verification (below) stays importable without Django.
    from trading.pki import pem, platform_sign, platform_signer

    signature = _raw_signature(platform_sign(canonical_json(receipt)))
    return {
        "receipt": receipt,
        "alg": ALG,
        "signature": b64u(signature),
        "certificate": pem(platform_signer()[1]),
    }


# --- verification (offline) ----------------------------------------------------------------------


def _ca_pem_default() -> str:
    try:
        from trading.pki import ca_certificate_pem
    except Exception as exc:  # no Django here: the caller must say which CA it trusts
        raise ReceiptInvalid("receipt_ca_required", "Give the platform CA certificate (ca.pem).") from exc
    return ca_certificate_pem().decode("ascii")


def _is_platform_signer(cert: x509.Certificate) -> bool:
    """The CA marks its signing certificate with non-repudiation (contentCommitment) and no key
    agreement; bidder certificates never get contentCommitment, so a bidder's own certified key
    cannot pass off a receipt it signed itself."""
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False
    return (
        usage.digital_signature
        and usage.content_commitment
        and not usage.key_agreement
        and not constraints.ca
        and isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
        and isinstance(cert.public_key().curve, ec.SECP256R1)
    )


def _check_shape(signed: Any) -> dict:
    if not isinstance(signed, dict) or signed.get("alg") != ALG:
        raise ReceiptInvalid("receipt_malformed", "Not a signed receipt (alg ES256 expected).")
    receipt = signed.get("receipt")
    if not isinstance(receipt, dict) or set(receipt) != set(RECEIPT_FIELDS):
        raise ReceiptInvalid("receipt_malformed", "The receipt's fields are not those of version 1.")
    if receipt["v"] != RECEIPT_VERSION:
        raise ReceiptInvalid("receipt_malformed", "Unknown receipt version.")
    journal = receipt["journal"]
    if not isinstance(journal, dict) or set(journal) != {"stream", "seq", "hash"}:
        raise ReceiptInvalid("receipt_malformed", "The receipt's journal position is malformed.")
    if not isinstance(signed.get("signature"), str) or not isinstance(signed.get("certificate"), str):
        raise ReceiptInvalid("receipt_malformed", "The signature or certificate is missing.")
    return receipt


def receipt_verify(signed: dict, *, ca_pem: str | bytes | None = None) -> dict:
    """Return the receipt if the platform signed it; else raise ReceiptInvalid with a code.

    `ca_pem` is the platform CA certificate the verifier trusts. Omitted, it is read from the running
    platform (server side only: offline, always pass it).
    """
    receipt = _check_shape(signed)
    if ca_pem is None:
        ca_pem = _ca_pem_default()
    try:
        ca = x509.load_pem_x509_certificate(ca_pem.encode("ascii") if isinstance(ca_pem, str) else ca_pem)
    except ValueError:
        raise ReceiptInvalid("receipt_ca_malformed", "The CA certificate is not a PEM certificate.") from None
    try:
        cert = x509.load_pem_x509_certificate(signed["certificate"].encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise ReceiptInvalid(
            "receipt_certificate_untrusted", "The signing certificate is malformed."
        ) from None
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        raise ReceiptInvalid(
            "receipt_certificate_untrusted", "The signing certificate was not issued by this CA."
        ) from None
    if not _is_platform_signer(cert):
        raise ReceiptInvalid(
            "receipt_certificate_untrusted",
            "The signing certificate is not the platform's signing certificate.",
        )
    try:
        received_at = dt.datetime.strptime(receipt["received_at"], TIME_FORMAT).replace(tzinfo=dt.UTC)
    except (TypeError, ValueError):
        raise ReceiptInvalid("receipt_malformed", "received_at is not a UTC timestamp.") from None
    if not cert.not_valid_before_utc <= received_at <= cert.not_valid_after_utc:
        raise ReceiptInvalid(
            "receipt_certificate_expired", "The signing certificate was not valid at received_at."
        )
    try:
        raw = b64u_decode(signed["signature"])
    except (ValueError, binascii.Error):
        raise ReceiptInvalid("receipt_signature_invalid", "The signature is not base64url.") from None
    if len(raw) != 64:
        raise ReceiptInvalid("receipt_signature_invalid", "The signature is not a raw P-256 r‖s.")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        cert.public_key().verify(der, canonical_json(receipt), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise ReceiptInvalid(
            "receipt_signature_invalid", "The signature does not match the receipt."
        ) from None
    return receipt


def certificate_fingerprint(pem_text: str) -> str:
    """SHA-256 of the certificate's DER, to compare with the fingerprint published by the platform."""
    cert = x509.load_pem_x509_certificate(pem_text.encode("ascii"))
    return cert.fingerprint(hashes.SHA256()).hex()


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python receipts.py RECEIPT.json CA.pem", file=sys.stderr)
        return 2
    with open(argv[1], "rb") as fh:
        signed = json.loads(fh.read())
    with open(argv[2], "rb") as fh:
        ca_pem = fh.read()
    try:
        receipt = receipt_verify(signed, ca_pem=ca_pem)
    except ReceiptInvalid as exc:
        print(f"INVALID {exc.code}: {exc.message}")
        return 1
    print("VALID " + canonical_json(receipt).decode("utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
