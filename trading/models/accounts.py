"""Accounts: one user model for every role; a bidder or agency user belongs to a market entity."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    BIDDER = "bidder", _("Bidder staff")
    AGENCY = "agency", _("Agency / tenderee staff")
    CENTRE = "centre", _("Trading-centre staff")
    EXPERT = "expert", _("Evaluation expert")
    REGULATOR = "regulator", _("Regulator")
    SUPERVISOR = "supervisor", _("Social supervisor")
    ADMIN = "admin", _("Administrator")


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    entity = models.ForeignKey(
        "trading.MarketEntity",
        verbose_name=_("market entity"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        help_text=_("The company a bidder or agency user acts for."),
    )
    person = models.ForeignKey(
        "trading.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    region_code = models.CharField(_("region"), max_length=6, blank=True)
    department = models.CharField(
        _("department"),
        max_length=120,
        blank=True,
        help_text=_("Supervising department of a regulator, or the centre's unit."),
    )
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    failed_logins = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    require_key_login = models.BooleanField(
        _("require certificate login"),
        default=False,
        help_text=_(
            "Password alone is not enough: the user must also sign a challenge with a certified key."
        ),
    )

    class Meta:
        verbose_name = _("user")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="bidder") | models.Q(entity__isnull=False),
                name="bidder_user_has_entity",
            ),
        ]

    def is_locked(self, now=None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or timezone.now())

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username
