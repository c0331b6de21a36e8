"""Journal (全程留痕) and content-addressed documents.

One hash chain per stream (`tender:<id>`, `entity:<id>`, `platform`, ...); the `global`
stream anchors the heads of the others, so appends to different streams never wait on
each other, yet truncating a stream is caught by its anchor.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from archive.immutability import check_unlocked

GLOBAL_STREAM = "global"
GENESIS_HASH = "0" * 64


class _SealedQuerySet(models.QuerySet):
    """Bulk writes that would change archived rows are refused unless the disposal procedure (or a
    tamper test) has opened a window (`archive.immutability.unlocked`)."""

    def update(self, **kwargs):
        check_unlocked(self.model, "update")
        return super().update(**kwargs)

    def delete(self):
        check_unlocked(self.model, "delete")
        return super().delete()

    delete.queryset_only = True  # type: ignore[attr-defined]


class _Sealed(models.Model):
    """Rows written once: created, never saved again, never deleted through the application."""

    objects = _SealedQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            check_unlocked(type(self), "update")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        check_unlocked(type(self), "delete")
        return super().delete(*args, **kwargs)


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


class JournalEntry(_Sealed):
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


# --- archival packages (issue 6) --------------------------------------------------------------------


class ArchivePackage(_Sealed):
    """One sealed package of one project (一项一档). A project may have several versions: an interim
    package of a suspended project, then the final one; each stays as it was sealed.

    `seq` is the package's leaf index in the Merkle tree over all packages (RFC 9162); `digest` is the
    SHA-256 of its canonical manifest, which the platform signs."""

    class Status(models.TextChoices):
        SEALED = "sealed", _("Sealed")
        DISPOSED = "disposed", _("Disposed")

    project = models.CharField(_("project"), max_length=120, db_index=True)
    version = models.PositiveIntegerField(_("version"))
    seq = models.PositiveBigIntegerField(_("leaf index"), unique=True)
    title = models.CharField(_("title"), max_length=300)
    code = models.CharField(_("project code"), max_length=64, blank=True, db_index=True)
    regime = models.CharField(_("regime"), max_length=8)
    category = models.CharField(_("category"), max_length=32, blank=True)
    state = models.CharField(_("state at sealing"), max_length=16)
    interim = models.BooleanField(_("interim package"), default=False)
    manifest = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")
    digest = models.CharField(_("package digest"), max_length=64, unique=True)
    signature = models.TextField(_("platform signature"))
    certificates = models.TextField(_("certificate chain (PEM)"))
    file_count = models.PositiveIntegerField(default=0)
    total_size = models.PositiveBigIntegerField(default=0)
    sealed_at = models.DateTimeField(_("sealed at"), db_index=True)
    sealed_by = models.CharField(_("sealed by"), max_length=200)
    retain_until = models.DateField(_("retain until"), null=True, blank=True)
    override = models.JSONField(_("recorded override"), default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SEALED)
    disposed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("archival package")
        constraints = [models.UniqueConstraint(fields=["project", "version"], name="archive_project_version")]
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"{self.project} v{self.version}"


class ArchiveFile(_Sealed):
    package = models.ForeignKey(ArchivePackage, on_delete=models.PROTECT, related_name="files")
    path = models.CharField(max_length=400)
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")
    size = models.PositiveBigIntegerField()
    media_type = models.CharField(max_length=120)
    title = models.CharField(max_length=300, blank=True)
    public = models.BooleanField(default=False)
    sealed = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("archived file")
        constraints = [models.UniqueConstraint(fields=["package", "path"], name="archive_file_path")]
        ordering = ["package", "path"]

    def __str__(self) -> str:
        return self.path


class ArchiveRoot(_Sealed):
    """A signed, published head of the Merkle tree over the first `tree_size` packages."""

    tree_size = models.PositiveBigIntegerField(unique=True)
    root_hash = models.CharField(max_length=64)
    published_at = models.DateTimeField()
    signature = models.TextField()
    certificates = models.TextField()

    class Meta:
        verbose_name = _("published archive root")
        ordering = ["-tree_size"]

    def __str__(self) -> str:
        return f"{self.tree_size}:{self.root_hash[:12]}"


class Disposal(models.Model):
    """Disposal (销毁) of a package whose retention has run out: asked by one person, approved by a
    second one of another role, then carried out; each step journalled."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        REJECTED = "rejected", _("Rejected")
        EXECUTED = "executed", _("Executed")

    package = models.ForeignKey(ArchivePackage, on_delete=models.PROTECT, related_name="disposals")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    reason = models.TextField()
    requested_by_id = models.CharField(max_length=64)
    requested_by = models.CharField(max_length=200)
    requested_role = models.CharField(max_length=16)
    requested_at = models.DateTimeField()
    decided_by_id = models.CharField(max_length=64, blank=True)
    decided_by = models.CharField(max_length=200, blank=True)
    decided_role = models.CharField(max_length=16, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("disposal")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["package"], condition=models.Q(status="requested"), name="archive_one_open_disposal"
            )
        ]
