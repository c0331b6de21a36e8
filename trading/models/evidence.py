"""Evidence captured at every download, upload, decryption and key login (DOMAIN D2), and notifications."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ActivityEvidence(models.Model):
    class Action(models.TextChoices):
        LOGIN = "login", _("Login")
        KEY_LOGIN = "key_login", _("Certificate login")
        DOWNLOAD = "download", _("Document download")
        UPLOAD = "upload", _("Bid upload")
        DECRYPT = "decrypt", _("Decryption")

    at = models.DateTimeField(db_index=True)
    action = models.CharField(max_length=12, choices=Action.choices)
    user = models.ForeignKey("trading.User", null=True, on_delete=models.PROTECT, related_name="+")
    entity = models.ForeignKey(
        "trading.MarketEntity", null=True, blank=True, on_delete=models.PROTECT, related_name="evidence"
    )
    tender = models.ForeignKey(
        "trading.Tender", null=True, blank=True, on_delete=models.PROTECT, related_name="evidence"
    )
    ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    user_agent = models.CharField(max_length=400, blank=True)
    # Client-reported hardware fingerprint: cpu_id, disk_serial, memory_serial, mac, machine_code.
    hardware = models.JSONField(default=dict, blank=True)
    hardware_digest = models.CharField(max_length=64, blank=True, db_index=True)
    certificate_serial = models.CharField(max_length=64, blank=True, db_index=True)
    # Document evidence: file digests and authoring metadata (author, tool, pricing-software XML ids).
    file_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    file_meta = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("activity evidence")
        indexes = [models.Index(fields=["tender", "action"])]


class Notification(models.Model):
    """A message to one user (or to every user of an entity) shown on the workbench."""

    user = models.ForeignKey(
        "trading.User", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    entity = models.ForeignKey(
        "trading.MarketEntity", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=40)
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        ordering = ["-created_at"]
