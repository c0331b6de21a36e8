"""Revocation (the CRL) and verification: certificate chains, validity and revocation, signatures."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Iterable

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import ValidationFailed

from .ca import CA_HASH, CertificateRefused, _aki, ca, ca_certificate, platform_signer, serial_hex

CRL_LIFETIME = dt.timedelta(days=1)

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
