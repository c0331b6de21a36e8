"""The platform certificate authority and the platform signing key, built on `cryptography.x509`.

Key material lives under settings.KEYS_DIR (created on first use, private keys encrypted, mode 0600) and is
cached per process in `trading.pki_state`. This module signs and verifies; the services decide who may ask.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import fcntl
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError, ValidationFailed
from trading import pki_state
from trading.keyclient import (  # noqa: F401  (re-exported: the server speaks the client's format)
    KEY_ALGORITHM,
    challenge_message,
    public_key_sha256,
    public_key_spki_der,
    signature_verify,
)

CA_CURVE = ec.SECP384R1()  # the root outlives many leaves, so it gets the larger curve
CA_HASH = hashes.SHA384()
CA_YEARS = 20
PLATFORM_CERT_YEARS = 10
DEFAULT_CERT_DAYS = 730
CSR_MAX_BYTES = 16 * 1024
# Backdating the roots by a day lets a verifier whose clock lags a little still accept them.
ROOT_BACKDATE = dt.timedelta(days=1)
CRL_LIFETIME = dt.timedelta(days=1)

CA_KEY_FILE, CA_CERT_FILE = "ca-key.pem", "ca-cert.pem"
PLATFORM_KEY_FILE, PLATFORM_CERT_FILE = "platform-key.pem", "platform-cert.pem"

REVOCATION_REASONS = {
    "unspecified": x509.ReasonFlags.unspecified,
    "key_compromise": x509.ReasonFlags.key_compromise,
    "affiliation_changed": x509.ReasonFlags.affiliation_changed,
    "superseded": x509.ReasonFlags.superseded,
    "cessation_of_operation": x509.ReasonFlags.cessation_of_operation,
}
REVOCATION_REASON_LABELS = {
    "unspecified": _("Unspecified"),
    "key_compromise": _("Key compromised or lost"),
    "affiliation_changed": _("Person left the company"),
    "superseded": _("Replaced by a new certificate"),
    "cessation_of_operation": _("No longer needed"),
}


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


def platform_verify(data: bytes, signature: bytes, *, certificate: x509.Certificate | None = None) -> bool:
    """Check a platform signature (DER or raw r||s), by default against the current platform certificate."""
    cert = certificate or platform_signer()[1]
    return signature_verify(cert.public_key(), data, signature)


# --- requests and issuing ---------------------------------------------------------------------------


def csr_load(data: str | bytes) -> x509.CertificateSigningRequest:
    """Parse a PKCS#10 request (PEM, base64 DER or DER) and check proof of possession and key type."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data or b"")
    text = raw.strip()
    if not text or len(raw) > CSR_MAX_BYTES:
        raise CertificateRefused(_("The certificate request is empty or too large."), code="csr_malformed")
    try:
        if text.startswith(b"-----BEGIN"):
            csr = x509.load_pem_x509_csr(text)
        elif raw.startswith(b"\x30"):
            # Binary DER: taken as it is (stripping "whitespace" would cut bytes off a signature).
            csr = x509.load_der_x509_csr(raw)
        else:
            csr = x509.load_der_x509_csr(base64.b64decode(b"".join(text.split()), validate=True))
    except (ValueError, binascii.Error):
        raise CertificateRefused(
            _("This is not a well-formed PKCS#10 certificate request."), code="csr_malformed"
        ) from None
    try:
        public_key = csr.public_key()
    except (ValueError, UnsupportedAlgorithm):
        public_key = None
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(
        public_key.curve, ec.SECP256R1
    ):
        raise CertificateRefused(
            _("Only EC P-256 keys can be certified (the key also opens sealed bids)."),
            code="csr_key_unsupported",
        )
    try:
        valid = csr.is_signature_valid
    except (ValueError, UnsupportedAlgorithm):
        valid = False
    if not valid:
        raise CertificateRefused(
            _("The request's signature does not verify: it was not signed with its own key."),
            code="csr_signature_invalid",
        )
    return csr


def subject_name(*, person_name: str, entity_name: str, entity_uscc: str, username: str) -> x509.Name:
    """The subject the platform writes (the CSR's own subject is ignored: only the registry is trusted).

    organizationIdentifier (2.5.4.97) carries the bare USCC, so code reading a certificate can compare
    it with MarketEntity.uscc directly.
    """
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, entity_name[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, entity_uscc),
            x509.NameAttribute(NameOID.COMMON_NAME, person_name[:64]),
            x509.NameAttribute(NameOID.USER_ID, username),
        ]
    )


def staff_subject_name(*, person_name: str, organization: str, username: str, unit: str = "") -> x509.Name:
    """The subject of trading-centre or regulator staff (the custodians): no entity, so no USCC.

    Without organizationIdentifier the certificate cannot be read as a market entity's, whatever its O.
    """
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization[:64]),
    ]
    if unit:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit[:64]))
    attributes += [
        x509.NameAttribute(NameOID.COMMON_NAME, person_name[:64]),
        x509.NameAttribute(NameOID.USER_ID, username),
    ]
    return x509.Name(attributes)


def crl_path() -> str:
    from django.urls import reverse

    return reverse("trading:pki-crl")


def crl_url() -> str:
    """Absolute when PUBLIC_BASE_URL is set (production), else the path on this site."""
    return getattr(settings, "PUBLIC_BASE_URL", "").rstrip("/") + crl_path()


def certificate_sign(
    *, public_key: ec.EllipticCurvePublicKey, subject: x509.Name, now: dt.datetime, days: int
) -> x509.Certificate:
    """A bidder certificate: signs (ECDSA) and agrees keys (ECDH), for client authentication."""
    ca_key, ca_cert = ca()
    not_before = now.astimezone(dt.UTC).replace(microsecond=0)
    not_after = min(not_before + dt.timedelta(days=days), ca_cert.not_valid_after_utc)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(_serial())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True, key_agreement=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(_aki(ca_cert), critical=False)
        .add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        full_name=[x509.UniformResourceIdentifier(crl_url())],
                        relative_name=None,
                        reasons=None,
                        crl_issuer=None,
                    )
                ]
            ),
            critical=False,
        )
        .sign(ca_key, CA_HASH)
    )


def serial_hex(serial: int) -> str:
    return format(serial, "032x")


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def public_key_pem(public_key) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


# --- revocation -------------------------------------------------------------------------------------


def crl_build(
    revoked: Iterable[tuple[str, dt.datetime, str]], *, now: dt.datetime | None = None
) -> x509.CertificateRevocationList:
    """A CRL over (hex serial, revoked at, reason) triples, valid for one day from `now`."""
    ca_key, ca_cert = ca()
    now = (now or timezone.now()).astimezone(dt.UTC).replace(microsecond=0)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now)
        .next_update(now + CRL_LIFETIME)
        # Seconds since the epoch: increases with every issue without a counter to keep.
        .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
        .add_extension(_aki(ca_cert), critical=False)
    )
    for serial, revoked_at, reason in revoked:
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(int(serial, 16))
            .revocation_date(revoked_at.astimezone(dt.UTC).replace(microsecond=0))
        )
        flag = REVOCATION_REASONS.get(reason, x509.ReasonFlags.unspecified)
        if (
            flag is not x509.ReasonFlags.unspecified
        ):  # RFC 5280 5.3.1: omit reasonCode rather than say "unspecified"
            entry = entry.add_extension(x509.CRLReason(flag), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(ca_key, CA_HASH)


# --- verification -----------------------------------------------------------------------------------


def certificate_load(cert_pem: str | bytes) -> x509.Certificate:
    raw = cert_pem.encode("ascii", "replace") if isinstance(cert_pem, str) else cert_pem
    try:
        return x509.load_pem_x509_certificate(raw)
    except ValueError:
        raise CertificateRefused(
            _("This is not a well-formed certificate."), code="certificate_malformed"
        ) from None


def _verifier(at: dt.datetime):
    # The web-PKI profile insists on a subjectAltName in the leaf; ours identify people by their subject DN.
    ee_policy = ExtensionPolicy.webpki_defaults_ee().may_be_present(
        x509.SubjectAlternativeName, Criticality.AGNOSTIC, None
    )
    return (
        PolicyBuilder()
        .store(Store([ca_certificate()]))
        .time(at)
        .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ee_policy)
        .build_client_verifier()
    )


def certificate_verify_chain(cert_pem: str | bytes, *, at: dt.datetime | None = None) -> x509.Certificate:
    """Issued by our CA, within its validity at `at`, and not revoked at `at`; else CertificateRefused.

    Revocation is read from the database (the source the CRL is made from). A certificate revoked after
    `at` still counts as good at `at`: a bid signed before the revocation stays signed.
    """
    from trading.models import Certificate, CertificateStatus

    at = at or timezone.now()
    cert = certificate_load(cert_pem)
    ca_cert = ca_certificate()
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        raise CertificateRefused(
            _("This certificate was not issued by the platform CA."), code="certificate_unknown_issuer"
        ) from None
    if at < cert.not_valid_before_utc:
        raise CertificateRefused(_("This certificate is not valid yet."), code="certificate_not_yet_valid")
    if at > cert.not_valid_after_utc:
        raise CertificateRefused(_("This certificate has expired."), code="certificate_expired")
    try:
        _verifier(at).verify(cert, [])
    except VerificationError as exc:
        raise CertificateRefused(
            _("This certificate does not pass path validation."), code="certificate_invalid", detail=str(exc)
        ) from None
    serial = serial_hex(cert.serial_number)
    if serial == serial_hex(platform_signer()[1].serial_number):
        return cert
    row = Certificate.objects.filter(serial=serial).only("status", "revoked_at").first()
    if row is None:
        raise CertificateRefused(
            _("The platform has no record of this certificate."), code="certificate_unknown"
        )
    if row.status == CertificateStatus.REVOKED and (row.revoked_at is None or row.revoked_at <= at):
        raise CertificateRefused(
            _("This certificate has been revoked."), code="certificate_revoked", status=401
        )
    return cert


def signature_decode_b64(value: str) -> bytes:
    if not isinstance(value, str) or not value or len(value) > 256:
        raise ValidationFailed(
            _("The signature is missing or too long."), code="challenge_signature_malformed"
        )
    try:
        # Accept the URL-safe alphabet too: some clients produce it.
        return base64.b64decode(value.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed(
            _("The signature is not valid base64."), code="challenge_signature_malformed"
        ) from None
