"""Certificate issuing and revocation, and login by signing a server challenge with a certified key.

Every change journals on the entity's stream (`entity:<id>`, or `platform` for a user without one).
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive.journal import journal_append
from core.errors import AccessDenied, Conflict, DomainError, ValidationFailed
from trading import pki
from trading.keyclient import KeyClientError, challenge_check
from trading.models import (
    ActivityEvidence,
    AuthChallenge,
    Certificate,
    CertificateStatus,
    EntityStatus,
    Role,
    User,
)
from trading.selectors import entity_is_blacklisted
from trading.selectors_pki import REQUESTER_ROLES

DEFAULT_CHALLENGE_SECONDS = 120
# Challenges nobody answered are deleted once they are this old: the table stays small.
CHALLENGE_RETENTION = dt.timedelta(hours=1)
REVOKER_ROLES = frozenset({Role.CENTRE, Role.ADMIN})
# Trading-centre and regulator staff hold certificates too: they are the custodians of tenders' opening
# keys (bidding.custodian), and a share is wrapped to a certified key. They act for the platform or their
# department, never for a market entity, so their certificates name none.
ENTITYLESS_ROLES = frozenset({Role.CENTRE, Role.REGULATOR})
HOLDER_ROLES = REQUESTER_ROLES | ENTITYLESS_ROLES


class KeyLoginRefused(DomainError):
    status = 401


def journal_stream_for(user) -> str:
    return f"entity:{user.entity_id}" if user is not None and user.entity_id else "platform"


def _person_name(user: User) -> str:
    if user.person_id and user.person.name:
        return user.person.name
    return user.get_full_name() or user.username


# --- issuing ------------------------------------------------------------------------------------


def certificate_issue(*, user: User, csr_pem: str | bytes, actor) -> Certificate:
    """Certify the key in `csr_pem` for `user`, who asks for themself.

    The subject comes from the registry (person, entity, USCC, user name), never from the request.
    Only public material is stored: the private key never leaves the bidder's side.
    """
    if actor is None or actor.pk != user.pk:
        raise AccessDenied(
            _("A certificate can only be requested by its holder."), code="certificate_not_own"
        )
    if user.role not in HOLDER_ROLES or not user.is_active:
        raise AccessDenied(
            _("Only bidder, agency, trading-centre and regulator staff hold certificates."),
            code="certificate_role_not_allowed",
        )
    now = timezone.now()
    # Staff of the platform side: any entity on their account is ignored, the certificate binds none.
    entity = None if user.role in ENTITYLESS_ROLES else user.entity
    if user.role not in ENTITYLESS_ROLES:
        if entity is None or entity.status != EntityStatus.VERIFIED:
            raise AccessDenied(
                _("Your market entity must be verified by the trading centre before you get a certificate."),
                code="entity_not_verified",
            )
        if entity_is_blacklisted(entity, on=timezone.localdate(now)):
            raise AccessDenied(
                _("Your market entity is barred from taking part (blacklist)."), code="entity_blacklisted"
            )
    csr = pki.csr_load(csr_pem)
    public_key = csr.public_key()
    fingerprint = pki.public_key_sha256(public_key)

    with transaction.atomic():
        # Serialises one user's requests, so a double submit cannot certify the same key twice.
        User.objects.select_for_update().filter(pk=user.pk).first()
        if Certificate.objects.filter(public_key_sha256=fingerprint).exists():
            # A key certified once (even if since revoked) is never certified again: a revoked key may be
            # compromised, and one key under two identities would make signatures ambiguous.
            raise Conflict(
                _("This key has already been certified; generate a new key."), code="csr_key_reused"
            )
        if entity is not None:
            subject = pki.subject_name(
                person_name=_person_name(user),
                entity_name=entity.name,
                entity_uscc=entity.uscc,
                username=user.username,
            )
        elif user.role == Role.REGULATOR:
            # A regulator acts for its supervising department.
            subject = pki.staff_subject_name(
                person_name=_person_name(user),
                organization=user.department or settings.PLATFORM_NAME,
                username=user.username,
            )
        else:
            subject = pki.staff_subject_name(
                person_name=_person_name(user),
                organization=settings.PLATFORM_NAME,
                unit=user.department,
                username=user.username,
            )
        days = int(getattr(settings, "PKI_CERT_DAYS", pki.DEFAULT_CERT_DAYS))
        x509_cert = pki.certificate_sign(public_key=public_key, subject=subject, now=now, days=days)
        cert = Certificate.objects.create(
            serial=pki.serial_hex(x509_cert.serial_number),
            user=user,
            entity=entity,
            subject=x509_cert.subject.rfc4514_string()[:400],
            key_algorithm=pki.KEY_ALGORITHM,
            public_key_pem=pki.public_key_pem(public_key),
            public_key_sha256=fingerprint,
            certificate_pem=pki.pem(x509_cert),
            not_before=x509_cert.not_valid_before_utc,
            not_after=x509_cert.not_valid_after_utc,
            status=CertificateStatus.ACTIVE,
            issued_at=now,
        )
        journal_append(
            # The stream certificate_revoke uses too: the certified entity's, or the platform's.
            stream=f"entity:{entity.pk}" if entity is not None else "platform",
            action="certificate.issue",
            actor=actor,
            obj=cert,
            payload={
                "serial": cert.serial,
                "user": user.username,
                "entity": entity.uscc if entity is not None else "",
                "subject": cert.subject,
                "public_key_sha256": fingerprint,
                "not_before": cert.not_before,
                "not_after": cert.not_after,
            },
        )
    return cert


def certificate_revoke(*, certificate: Certificate, reason: str, actor) -> Certificate:
    """Centre staff revoke any certificate; a holder revokes its own."""
    if reason not in pki.REVOCATION_REASONS:
        raise ValidationFailed(_("Unknown revocation reason."), code="revocation_reason_invalid")
    if actor is None or not (actor.role in REVOKER_ROLES or actor.pk == certificate.user_id):
        raise AccessDenied(_("You may not revoke this certificate."), code="certificate_revoke_forbidden")
    with transaction.atomic():
        cert = Certificate.objects.select_for_update().select_related("user").get(pk=certificate.pk)
        if cert.status == CertificateStatus.REVOKED:
            raise Conflict(_("This certificate is already revoked."), code="certificate_already_revoked")
        now = timezone.now()
        cert.status = CertificateStatus.REVOKED
        cert.revoked_at = now
        cert.revocation_reason = reason
        cert.save(update_fields=["status", "revoked_at", "revocation_reason"])
        # The stream of the entity the certificate was issued for, even if its holder moved on since.
        stream = f"entity:{cert.entity_id}" if cert.entity_id else "platform"
        journal_append(
            stream=stream,
            action="certificate.revoke",
            actor=actor,
            obj=cert,
            payload={"serial": cert.serial, "reason": reason, "revoked_at": now},
        )
    return cert


# --- key login ----------------------------------------------------------------------------------


def auth_challenge_create(*, user: User | None = None) -> AuthChallenge:
    """A single-use nonce valid for PKI_CHALLENGE_SECONDS (default 2 minutes).

    Not journaled: anyone may ask for a challenge, and a journal entry per anonymous request would let
    them grow the permanent record at will. The login it leads to is journaled.
    """
    now = timezone.now()
    seconds = int(getattr(settings, "PKI_CHALLENGE_SECONDS", DEFAULT_CHALLENGE_SECONDS))
    with transaction.atomic():
        AuthChallenge.objects.filter(expires_at__lt=now - CHALLENGE_RETENTION).delete()
        return AuthChallenge.objects.create(
            user=user,
            nonce=secrets.token_hex(32),
            created_at=now,
            expires_at=now + dt.timedelta(seconds=seconds),
        )


def _challenge_consume(*, nonce: str) -> AuthChallenge:
    """Mark the nonce used before anything is verified, in its own transaction, so a failed attempt
    burns it too: every nonce is answered at most once, right or wrong."""
    with transaction.atomic():
        challenge = AuthChallenge.objects.select_for_update().filter(nonce=nonce).first()
        if challenge is None:
            raise KeyLoginRefused(
                _("Unknown login challenge; ask for a new one."), code="challenge_unknown", status=400
            )
        if challenge.used_at is not None:
            raise KeyLoginRefused(
                _("This login challenge has already been used."), code="challenge_used", status=409
            )
        now = timezone.now()
        if now > challenge.expires_at:
            raise KeyLoginRefused(
                _("This login challenge has expired; ask for a new one."), code="challenge_expired"
            )
        challenge.used_at = now
        challenge.save(update_fields=["used_at"])
    return challenge


def key_login_verify(
    *,
    username: str,
    nonce: str,
    signature_b64: str,
    certificate_serial: str = "",
    ip: str | None = None,
    user_agent: str = "",
) -> User:
    """Check a signed challenge and return the user it proves; the caller logs them in.

    The certificate that verified is attached as `user.key_certificate` (the way `authenticate()` attaches
    `user.backend`). Refusals carry their own code: challenge_unknown / challenge_used /
    challenge_expired / challenge_signature_invalid / certificate_not_found / certificate_revoked /
    certificate_expired / account_locked.
    """
    try:
        challenge_check(nonce=nonce, username=username)
    except KeyClientError as exc:
        raise ValidationFailed(_("The login request is malformed."), code=exc.code) from None
    signature = pki.signature_decode_b64(signature_b64)
    challenge = _challenge_consume(nonce=nonce)

    now = timezone.now()
    user = User.objects.select_related("entity").filter(username=username, is_active=True).first()
    # An unknown user and a user without certificates are refused alike: no account enumeration.
    if user is None:
        raise KeyLoginRefused(_("No usable certificate for this account."), code="certificate_not_found")
    if challenge.user_id is not None and challenge.user_id != user.pk:
        raise KeyLoginRefused(
            _("This challenge was issued for another account."), code="challenge_user_mismatch"
        )
    if user.is_locked(now):
        raise KeyLoginRefused(_("This account is temporarily locked."), code="account_locked", status=403)
    certificates = list(Certificate.objects.filter(user=user).order_by("-issued_at"))
    if certificate_serial:
        certificates = [c for c in certificates if c.serial == certificate_serial.strip().lower()]
    if not certificates:
        raise KeyLoginRefused(_("No usable certificate for this account."), code="certificate_not_found")

    message = pki.challenge_message(nonce=nonce, username=username)
    # Active certificates first, so a key that was re-certified is matched to its live certificate.
    certificates.sort(key=lambda c: c.status != CertificateStatus.ACTIVE)
    matched = None
    for cert in certificates:
        # The key is read from the certificate itself, not the convenience column beside it.
        x509_cert = pki.certificate_load(cert.certificate_pem)
        if pki.signature_verify(x509_cert.public_key(), message, signature):
            matched = cert
            break
    if matched is None:
        raise KeyLoginRefused(
            _("The signature does not match a certificate of this account."),
            code="challenge_signature_invalid",
        )
    try:
        pki.certificate_verify_chain(matched.certificate_pem, at=now)
    except DomainError as exc:
        raise KeyLoginRefused(exc.message, code=exc.code) from None

    with transaction.atomic():
        ActivityEvidence.objects.create(
            at=now,
            action=ActivityEvidence.Action.KEY_LOGIN,
            user=user,
            entity=user.entity,
            ip=ip or None,
            user_agent=(user_agent or "")[:400],
            certificate_serial=matched.serial,
        )
        journal_append(
            stream=journal_stream_for(user),
            action="auth.key_login",
            actor=user,
            obj=user,
            payload={
                "user": user.username,
                "certificate_serial": matched.serial,
                "ip": ip or "",
            },
        )
    user.key_certificate = matched
    return user


def session_has_key_proof(request) -> bool:
    """True if this session signed a challenge with a certificate of its user that is still usable.

    For the step-up rule: a user with `require_key_login` set needs this on top of the password.
    """
    user = getattr(request, "user", None)
    serial = request.session.get("key_verified") if hasattr(request, "session") else None
    if not serial or user is None or not user.is_authenticated:
        return False
    cert = Certificate.objects.filter(user=user, serial=serial).first()
    return cert is not None and cert.is_usable(timezone.now())


def key_proof_missing(request) -> bool:
    """The logged-in user must still sign a challenge before going on."""
    user = getattr(request, "user", None)
    return bool(
        user is not None
        and user.is_authenticated
        and user.require_key_login
        and not session_has_key_proof(request)
    )
