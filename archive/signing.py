"""Who signs for the archive. `archive` holds no keys: `settings.ARCHIVE_SIGNER` names the function of
the platform's PKI (trading) that hands over its signing key and certificate chain, so the archive signs
packages, roots and PDFs with the same key as every other platform document, and verification needs
only the certificates. Tests may `configure` another source."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.utils.module_loading import import_string

from core.errors import DomainError

ALGORITHM = "ECDSA-SHA256"


@dataclass(frozen=True)
class Signer:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]  # issuers, up to and including the root

    def sign(self, data: bytes) -> str:
        return b64(self.key.sign(data, ec.ECDSA(hashes.SHA256())))

    def pem_chain(self) -> str:
        return "".join(pem(c) for c in (self.certificate, *self.chain))


_source: Callable[[], Signer] | None = None


def configure(source: Callable[[], Signer]) -> None:
    global _source
    _source = source


def signer() -> Signer:
    if _source is not None:
        return _source()
    path = getattr(settings, "ARCHIVE_SIGNER", "")
    if not path:
        raise DomainError("no archive signer is configured", code="archive_signer_missing", status=500)
    return import_string(path)()


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def load_chain(text: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(text.encode("ascii"))


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


def verify(data: bytes, signature: str, certificate: x509.Certificate) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
        key = certificate.public_key()
        if not isinstance(key, ec.EllipticCurvePublicKey):
            return False
        key.verify(raw, data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


def chain_problems(chain: list[x509.Certificate], *, at=None) -> list[str]:
    """What is wrong with a leaf-first chain: each certificate issued (and signed) by the next, the last
    self-signed, all valid at `at` (the sealing time). Empty when the chain holds."""
    problems: list[str] = []
    if not chain:
        return ["no certificate"]
    for child, parent in zip(chain, [*chain[1:], chain[-1]], strict=True):
        try:
            child.verify_directly_issued_by(parent)
        except (ValueError, TypeError, InvalidSignature):
            problems.append(
                f"{child.subject.rfc4514_string()} is not signed by {parent.subject.rfc4514_string()}"
            )
        if at is not None and not (child.not_valid_before_utc <= at <= child.not_valid_after_utc):
            problems.append(f"{child.subject.rfc4514_string()} was not valid at {at.isoformat()}")
    return problems
