"""Public announcements (公告) of every kind, with content-addressed attachments."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AnnouncementKind(models.TextChoices):
    TENDER = "tender", _("Tender announcement")
    AMENDMENT = "amendment", _("Amendment / clarification")
    QUALIFICATION = "qualification", _("Qualification result")
    CANDIDATES = "candidates", _("Candidate publicity")
    RESULT = "result", _("Result announcement")
    CONTRACT = "contract", _("Contract / performance")
    TERMINATION = "termination", _("Termination / failure")


class Announcement(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    tender = models.ForeignKey("trading.Tender", on_delete=models.PROTECT, related_name="announcements")
    lot = models.ForeignKey(
        "trading.Lot", null=True, blank=True, on_delete=models.PROTECT, related_name="announcements"
    )
    kind = models.CharField(_("type"), max_length=16, choices=AnnouncementKind.choices)
    title = models.CharField(_("title"), max_length=300)
    body_html = models.TextField(_("text"), help_text=_("Sanitised HTML."))
    body_text = models.TextField(
        _("plain text"), blank=True, help_text=_("The text without markup, for search.")
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.DRAFT, db_index=True
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, db_index=True)
    open_until = models.DateTimeField(
        _("open until"), null=True, blank=True, help_text=_("End of a publicity or notice period.")
    )
    content_digest = models.CharField(
        max_length=64,
        blank=True,
        help_text=_("SHA-256 of the published text: the same notice reads identically everywhere."),
    )
    # Amendments: does it affect bid preparation, and the deadline it set (after any forced extension).
    affects_preparation = models.BooleanField(default=False)
    new_deadline = models.DateTimeField(null=True, blank=True)
    author = models.ForeignKey("trading.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("announcement")
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return self.title


class AnnouncementAttachment(models.Model):
    announcement = models.ForeignKey(Announcement, on_delete=models.PROTECT, related_name="attachments")
    filename = models.CharField(max_length=200)
    blob = models.ForeignKey("archive.Blob", on_delete=models.PROTECT, related_name="+")
    is_tender_document = models.BooleanField(
        default=False, help_text=_("Download registers the bidder as a document holder.")
    )

    class Meta:
        verbose_name = _("attachment")
