"""Supervising departments, their members, the tenders they supervise, and the pool of social
supervisors (issue 7 item 1)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Department(models.Model):
    class Kind(models.TextChoices):
        INDUSTRY = "industry", _("Industry department (行业主管部门)")
        SERVICE_OFFICE = "service_office", _("Government-service supervision office (政务服务监管办)")
        FINANCE = "finance", _("Finance department (财政部门)")
        AUDIT = "audit", _("Audit office (审计机关)")
        DISCIPLINE = "discipline", _("Discipline inspection body (纪检监察机关)")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    region_code = models.CharField(_("region"), max_length=6, db_index=True)
    regimes = models.JSONField(_("regimes supervised"), default=list, blank=True)
    categories = models.JSONField(_("categories supervised"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("supervising department")
        ordering = ["region_code", "name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="supervision_memberships"
    )
    since = models.DateTimeField()

    class Meta:
        verbose_name = _("department member")
        constraints = [
            models.UniqueConstraint(fields=["department", "user"], name="supervision_member_unique")
        ]


class TenderSupervision(models.Model):
    """One department supervising one tender, assigned when the tender is published."""

    tender = models.ForeignKey("trading.Tender", on_delete=models.PROTECT, related_name="supervisions")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="supervisions")
    assigned_at = models.DateTimeField()
    basis = models.CharField(_("basis"), max_length=200)

    class Meta:
        verbose_name = _("tender supervision")
        constraints = [
            models.UniqueConstraint(fields=["tender", "department"], name="supervision_tender_department")
        ]


class SocialSupervisor(models.Model):
    """A deputy, committee member or other citizen who may be invited to watch, read-only."""

    class Kind(models.TextChoices):
        DEPUTY = "deputy", _("People's congress deputy (人大代表)")
        COMMITTEE = "committee", _("CPPCC member (政协委员)")
        OTHER = "other", _("Other social supervisor")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    affiliation = models.CharField(_("affiliation"), max_length=200, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="social_supervisor",
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("social supervisor")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
