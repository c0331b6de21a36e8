"""Reads of the PKI: whose certificates a user may see, the revocation list, key-login lookups."""

from __future__ import annotations

import re

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from core.errors import AccessDenied, NotFound
from trading.models import Certificate, CertificateStatus, Role, User

# Roles that see every certificate (centre staff manage them, regulators and admins read everything).
STAFF_ROLES = frozenset({Role.CENTRE, Role.REGULATOR, Role.ADMIN})
# Centre and regulator staff hold certificates too: they are the custodians of k-of-n opening keys.
REQUESTER_ROLES = frozenset({Role.BIDDER, Role.AGENCY, Role.CENTRE, Role.REGULATOR})
SERIAL_RE = re.compile(r"^[0-9a-f]{1,64}$")


def user_may_request_certificate(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.role in REQUESTER_ROLES


def certificate_list_for(*, user: User) -> QuerySet[Certificate]:
    """Staff see every certificate; bidder and agency staff see the ones issued to themselves."""
    qs = Certificate.objects.select_related("user", "entity").order_by("-issued_at", "-id")
    if user.role in STAFF_ROLES:
        return qs
    return qs.filter(user=user)


def certificate_get(*, serial: str) -> Certificate:
    """By serial, whoever asks (serials are public: the CRL lists them); access is checked by the caller."""
    serial = (serial or "").strip().lower()
    if not SERIAL_RE.match(serial):
        raise NotFound(_("No such certificate."), code="certificate_not_found")
    try:
        return Certificate.objects.select_related("user", "entity").get(serial=serial)
    except Certificate.DoesNotExist:
        raise NotFound(_("No such certificate."), code="certificate_not_found") from None


def certificate_get_for_download(*, user: User, serial: str) -> Certificate:
    cert = certificate_get(serial=serial)
    if cert.user_id != user.pk and user.role not in STAFF_ROLES:
        raise AccessDenied(_("This certificate belongs to someone else."), code="certificate_not_yours")
    return cert


def certificates_revoked() -> QuerySet[Certificate]:
    return Certificate.objects.filter(status=CertificateStatus.REVOKED).order_by("revoked_at", "id")


def user_for_key_login(*, username: str) -> User | None:
    """The active account a key-login challenge is for, or None (the caller does not say which)."""
    if not username:
        return None
    return User.objects.filter(username=username, is_active=True).first()
