"""Certificates issued by the platform CA to bidder staff. Only public material is stored."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CertificateStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    REVOKED = "revoked", _("Revoked")


class Certificate(models.Model):
    serial = models.CharField(max_length=64, unique=True, help_text=_("Hex serial number"))
    user = models.ForeignKey("trading.User", on_delete=models.PROTECT, related_name="certificates")
    entity = models.ForeignKey(
        "trading.MarketEntity", null=True, blank=True, on_delete=models.PROTECT, related_name="certificates"
    )
    subject = models.CharField(max_length=400)
    key_algorithm = models.CharField(max_length=40)
    public_key_pem = models.TextField()
    public_key_sha256 = models.CharField(max_length=64, db_index=True)
    certificate_pem = models.TextField()
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=CertificateStatus.choices, default=CertificateStatus.ACTIVE
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.CharField(max_length=40, blank=True)
    issued_at = models.DateTimeField()

    class Meta:
        verbose_name = _("certificate")
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return f"{self.subject} ({self.serial})"

    def is_usable(self, now) -> bool:
        return self.status == CertificateStatus.ACTIVE and self.not_before <= now <= self.not_after


class AuthChallenge(models.Model):
    """A one-time nonce the user signs with a certified key to log in (or step up)."""

    user = models.ForeignKey(
        "trading.User", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    nonce = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("login challenge")
