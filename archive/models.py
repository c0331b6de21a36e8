"""Journal (全程留痕) and content-addressed documents.

One hash chain per stream (`tender:<id>`, `entity:<id>`, `platform`, ...); the `global`
stream anchors the heads of the others, so appends to different streams never wait on
each other, yet truncating a stream is caught by its anchor.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

GLOBAL_STREAM = "global"
GENESIS_HASH = "0" * 64


class JournalStream(models.Model):
    """The head of one chain; its row is the lock that orders appends to the stream."""

    name = models.CharField(max_length=120, unique=True)
    head_seq = models.PositiveBigIntegerField(default=0)
    head_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    anchored_seq = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("journal stream")

    def __str__(self) -> str:
        return f"{self.name}@{self.head_seq}"


class JournalEntry(models.Model):
    stream = models.CharField(max_length=120, db_index=True)
    seq = models.PositiveBigIntegerField()
    at = models.DateTimeField()
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(default=dict)
    payload_digest = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        constraints = [models.UniqueConstraint(fields=["stream", "seq"], name="journal_stream_seq_unique")]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        ordering = ["stream", "seq"]

    def __str__(self) -> str:
        return f"{self.stream}#{self.seq} {self.action}"


class Blob(models.Model):
    """A stored file, named by the SHA-256 of its bytes (content addressing)."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=120, default="application/octet-stream")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("stored document")

    @property
    def storage_name(self) -> str:
        return f"blobs/{self.sha256[:2]}/{self.sha256[2:4]}/{self.sha256}"

    def __str__(self) -> str:
        return self.sha256
