"""Certificate requests (PKCS#10) in, bidder and staff certificates out."""

from __future__ import annotations

import base64
import binascii
import datetime as dt

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .ca import CA_HASH, CertificateRefused, _aki, _key_usage, _serial, ca

DEFAULT_CERT_DAYS = 730
CSR_MAX_BYTES = 16 * 1024


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
