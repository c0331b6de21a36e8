"""The shared expert pool (first cut: the registry the demo world needs; the pool issue extends it)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Expert(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        REMOVED = "removed", _("Removed")

    user = models.OneToOneField("trading.User", on_delete=models.PROTECT, related_name="expert")
    person = models.ForeignKey("trading.Person", on_delete=models.PROTECT, related_name="expert_profiles")
    region_code = models.CharField(_("region"), max_length=6)
    employer = models.ForeignKey(
        "trading.MarketEntity",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="employed_experts",
    )
    title = models.CharField(_("professional title"), max_length=60, blank=True)
    specialties = models.JSONField(
        _("specialty codes"), default=list, help_text=_("First is the main specialty.")
    )
    birth_year = models.PositiveSmallIntegerField(_("year of birth"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)

    class Meta:
        verbose_name = _("expert")

    def __str__(self) -> str:
        return self.person.name
