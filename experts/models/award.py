"""Candidate publicity, objections, the award and its notices (DOMAIN A7–A9)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Publicity(models.Model):
    """TB candidate publicity (中标候选人公示): at least 3 days, objections suspend it (条例54)."""

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("publicity state", "Open")
        SUSPENDED = "suspended", _("Suspended by an objection")
        ENDED = "ended", _("Ended")

    lot = models.OneToOneField("trading.Lot", on_delete=models.PROTECT, related_name="publicity")
    report = models.ForeignKey("experts.Report", on_delete=models.PROTECT, related_name="+")
    announcement = models.ForeignKey(
        "trading.Announcement", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    candidates = models.JSONField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    late = models.BooleanField(
        default=False, help_text=_("Published later than 3 days after the report (条例54).")
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("candidate publicity")
        verbose_name_plural = _("candidate publicities")


class PublicityObjection(models.Model):
    publicity = models.ForeignKey(Publicity, on_delete=models.PROTECT, related_name="objections")
    raised_by = models.ForeignKey("trading.User", on_delete=models.PROTECT, related_name="+")
    entity = models.ForeignKey(
        "trading.MarketEntity", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField()
    raised_at = models.DateTimeField()
    reply_due_at = models.DateTimeField()
    answer = models.TextField(blank=True)
    upheld = models.BooleanField(null=True)
    answered_by = models.ForeignKey(
        "trading.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("objection to the candidates")
        ordering = ["raised_at"]


class Award(models.Model):
    """The award decision of a lot, the 中标通知书 (signed data + PDF) and the contract deadline."""

    lot = models.OneToOneField("trading.Lot", on_delete=models.PROTECT, related_name="award")
    report = models.ForeignKey("experts.Report", on_delete=models.PROTECT, related_name="+")
    winner = models.ForeignKey("trading.MarketEntity", on_delete=models.PROTECT, related_name="awards")
    bid = models.OneToOneField("bidding.Bid", on_delete=models.PROTECT, related_name="award")
    amount = models.DecimalField(max_digits=16, decimal_places=2)
    rank = models.PositiveSmallIntegerField(default=1)
    decided_by = models.ForeignKey("trading.User", on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()
    reason = models.TextField(blank=True, help_text=_("Why not the first candidate, when it is not."))
    pass_over_ground = models.CharField(max_length=30, blank=True)
    deemed = models.BooleanField(
        default=False,
        help_text=_(
            "GP: the purchaser did not decide in time; the first candidate is deemed chosen (87号令68)."
        ),
    )
    announcement = models.ForeignKey(
        "trading.Announcement", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    notice = models.JSONField(default=dict)
    notice_sha256 = models.CharField(max_length=64, blank=True)
    notice_signature = models.CharField(max_length=200, blank=True)
    notice_pdf = models.ForeignKey(
        "archive.Blob", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    contract_due_on = models.DateField()
    report_due_on = models.DateField(help_text=_("Written report to the supervisor (法47: 15 days)."))
    report_filed_on = models.DateField(null=True, blank=True)
    contract_signed_on = models.DateField(null=True, blank=True)
    contract_amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("award")


class ResultNotice(models.Model):
    """The result notice to a bidder that did not win (法45)."""

    award = models.ForeignKey(Award, on_delete=models.PROTECT, related_name="result_notices")
    entity = models.ForeignKey("trading.MarketEntity", on_delete=models.PROTECT, related_name="+")
    bid = models.OneToOneField("bidding.Bid", on_delete=models.PROTECT, related_name="result_notice")
    data = models.JSONField()
    data_sha256 = models.CharField(max_length=64)
    signature = models.CharField(max_length=200)
    pdf = models.ForeignKey("archive.Blob", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField()

    class Meta:
        verbose_name = _("result notice")
