"""Key storage, the platform CA and the platform signing key (created on first use, cached per process)."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from core.errors import DomainError
from trading import pki_state
from trading.keyclient import signature_verify

CA_CURVE = ec.SECP384R1()  # the root outlives many leaves, so it gets the larger curve
CA_HASH = hashes.SHA384()
CA_YEARS = 20
PLATFORM_CERT_YEARS = 10
# Backdating the roots by a day lets a verifier whose clock lags a little still accept them.
ROOT_BACKDATE = dt.timedelta(days=1)

CA_KEY_FILE, CA_CERT_FILE = "ca-key.pem", "ca-cert.pem"
PLATFORM_KEY_FILE, PLATFORM_CERT_FILE = "platform-key.pem", "platform-cert.pem"


class CertificateRefused(DomainError):
    """A certificate or request the CA will not accept (code says why)."""

    status = 400


# --- key storage --------------------------------------------------------------------------------


def _keys_dir() -> Path:
    path = Path(settings.KEYS_DIR)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _passphrase() -> bytes:
    """CA_KEY_PASSPHRASE in production; in embedded mode a key derived from SECRET_KEY.

    The derived passphrase means a copied keys/ directory alone does not give the CA away; it also means
    rotating SECRET_KEY in embedded mode requires setting CA_KEY_PASSPHRASE to the old derived value.
    """
    explicit = os.environ.get("CA_KEY_PASSPHRASE", "")
    if explicit:
        return explicit.encode("utf-8")
    return (
        hmac.new(settings.SECRET_KEY.encode("utf-8"), b"gongjiao/ca-key-passphrase", hashlib.sha256)
        .hexdigest()
        .encode()
    )


def _write_new(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(_passphrase()),
    )


def _load_pair(directory: Path, key_name: str, cert_name: str):
    try:
        key = serialization.load_pem_private_key((directory / key_name).read_bytes(), password=_passphrase())
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(
            f"Cannot decrypt {directory / key_name}: set CA_KEY_PASSPHRASE to the passphrase it was made with."
        ) from exc
    cert = x509.load_pem_x509_certificate((directory / cert_name).read_bytes())
    return key, cert


@contextlib.contextmanager
def _creation_lock(directory: Path):
    """Several Daphne processes may start at once; only one creates the keys, the others load them."""
    with open(directory / ".lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, settings.PLATFORM_NAME[:64]),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
        ]
    )


def _key_usage(**flags) -> x509.KeyUsage:
    names = (
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    )
    return x509.KeyUsage(**{n: flags.get(n, False) for n in names})


def _serial() -> int:
    # 128 random bits (RFC 5280 allows up to 20 octets; CA/B asks for at least 64 bits of entropy).
    return secrets.randbits(128) or 1


def _create_ca(now: dt.datetime):
    key = ec.generate_private_key(CA_CURVE)
    name = _name(f"{settings.PLATFORM_NAME} CA")
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(_serial())
        .not_valid_before(now - ROOT_BACKDATE)
        .not_valid_after(now + dt.timedelta(days=365 * CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, CA_HASH)
    )
    return key, cert


def _create_platform_signer(now: dt.datetime, ca_key, ca_cert):
    """The key that signs receipts, opening records and archive manifests (P-256: browsers verify it too)."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{settings.PLATFORM_NAME} signing"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(_serial())
        .not_valid_before(now - ROOT_BACKDATE)
        .not_valid_after(now + dt.timedelta(days=365 * PLATFORM_CERT_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True, content_commitment=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(_aki(ca_cert), critical=False)
        .sign(ca_key, CA_HASH)
    )
    return key, cert


def _aki(ca_cert: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _ensure_keys():
    directory = _keys_dir()
    cache_key = f"keys:{directory}"
    cached = pki_state.get(cache_key)
    if cached is not None:
        return cached
    with _creation_lock(directory):
        if not (directory / CA_KEY_FILE).exists():
            now = timezone.now()
            ca_key, ca_cert = _create_ca(now)
            _write_new(directory / CA_KEY_FILE, _key_pem(ca_key), 0o600)
            _write_new(directory / CA_CERT_FILE, ca_cert.public_bytes(serialization.Encoding.PEM), 0o644)
        ca_key, ca_cert = _load_pair(directory, CA_KEY_FILE, CA_CERT_FILE)
        if not (directory / PLATFORM_KEY_FILE).exists():
            key, cert = _create_platform_signer(timezone.now(), ca_key, ca_cert)
            _write_new(directory / PLATFORM_KEY_FILE, _key_pem(key), 0o600)
            _write_new(directory / PLATFORM_CERT_FILE, cert.public_bytes(serialization.Encoding.PEM), 0o644)
        platform = _load_pair(directory, PLATFORM_KEY_FILE, PLATFORM_CERT_FILE)
    value = {"ca": (ca_key, ca_cert), "platform": platform}
    pki_state.put(cache_key, value)
    return value


def ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    return _ensure_keys()["ca"]


def ca_certificate() -> x509.Certificate:
    return ca()[1]


def ca_certificate_pem() -> bytes:
    return ca_certificate().public_bytes(serialization.Encoding.PEM)


def platform_signer() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    return _ensure_keys()["platform"]


def platform_sign(data: bytes) -> bytes:
    """DER ECDSA-SHA256 signature of `data` by the platform signing key."""
    key, _cert = platform_signer()
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def archive_signer():
    """The platform key and its chain, for the archive (settings.ARCHIVE_SIGNER points here)."""
    from archive.signing import Signer

    key, cert = platform_signer()
    return Signer(key=key, certificate=cert, chain=(ca_certificate(),))


def platform_verify(data: bytes, signature: bytes, *, certificate: x509.Certificate | None = None) -> bool:
    """Check a platform signature (DER or raw r||s), by default against the current platform certificate."""
    cert = certificate or platform_signer()[1]
    return signature_verify(cert.public_key(), data, signature)


def serial_hex(serial: int) -> str:
    return format(serial, "032x")


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def public_key_pem(public_key) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")
