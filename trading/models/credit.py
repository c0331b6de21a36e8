"""Credit records (data spec 208: 奖惩类型, 处罚依据, 限制的行为, start and end) and the blacklist."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CreditRecord(models.Model):
    class Kind(models.TextChoices):
        COMMENDATION = "commendation", _("Commendation")
        WARNING = "warning", _("Warning")
        FINE = "fine", _("Fine")
        DISQUALIFICATION = "disqualification", _("Disqualification (blacklist)")
        OTHER_PENALTY = "other_penalty", _("Other penalty")

    entity = models.ForeignKey(
        "trading.MarketEntity", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_records"
    )
    person = models.ForeignKey(
        "trading.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_records",
        help_text=_("For experts and individuals."),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    legal_basis = models.CharField(_("legal basis"), max_length=300)
    restricted_action = models.CharField(_("restricted action"), max_length=200, blank=True)
    blocks_participation = models.BooleanField(
        _("bars participation"),
        default=False,
        help_text=_("A blacklist entry: the subject cannot bid (or evaluate) until it ends."),
    )
    fine_amount = models.DecimalField(
        _("fine (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"), null=True, blank=True, help_text=_("Empty: permanent."))
    description = models.TextField(_("facts"), blank=True)
    source = models.CharField(
        _("source"),
        max_length=120,
        blank=True,
        help_text=_("Where the decision came from, e.g. alert:17 or complaint:3."),
    )
    decided_by = models.ForeignKey("trading.User", on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("credit record")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(entity__isnull=False) | models.Q(person__isnull=False),
                name="credit_record_has_subject",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True) | models.Q(ends_on__gte=models.F("starts_on")),
                name="credit_record_period_ordered",
            ),
        ]

    def active_on(self, day) -> bool:
        return (
            self.revoked_at is None
            and self.starts_on <= day
            and (self.ends_on is None or day <= self.ends_on)
        )
