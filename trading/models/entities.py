"""The market-entity registry (市场主体): register once, reuse everywhere (一表申请).

People are global (one row per identity document), so that the same person acting for
two bidders is one node in the monitoring graph. Every approved change of an entity is
kept as an EntityVersion snapshot: history is versioned, never overwritten.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class EntityKind(models.TextChoices):
    COMPANY = "company", _("Enterprise")
    INSTITUTION = "institution", _("Public institution")
    GOVERNMENT = "government", _("Government body")
    SOCIAL_ORG = "social_org", _("Social organisation")
    INDIVIDUAL_BUSINESS = "individual_business", _("Individual business")
    OTHER = "other", _("Other")


class EntityStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting verification")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


class Person(models.Model):
    """A natural person. The ID number is private; `id_digest` (keyed hash) lets us match people."""

    name = models.CharField(_("name"), max_length=100)
    id_type = models.CharField(_("ID type"), max_length=20, default="resident_id")
    id_number = models.CharField(_("ID number"), max_length=40)
    id_digest = models.CharField(max_length=64, unique=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    email = models.EmailField(_("email"), blank=True)

    class Meta:
        verbose_name = _("person")

    def __str__(self) -> str:
        return self.name

    @property
    def id_masked(self) -> str:
        n = self.id_number
        return n[:3] + "*" * max(len(n) - 7, 0) + n[-4:] if len(n) > 7 else "****"


class MarketEntity(models.Model):
    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    name = models.CharField(_("name"), max_length=200, db_index=True)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    kind = models.CharField(_("type"), max_length=24, choices=EntityKind.choices, default=EntityKind.COMPANY)
    is_bidder = models.BooleanField(_("bidder / supplier"), default=True)
    is_tenderee = models.BooleanField(_("tenderee / purchaser"), default=False)
    is_agency = models.BooleanField(_("tendering agency"), default=False)
    legal_rep = models.ForeignKey(
        Person,
        verbose_name=_("legal representative"),
        on_delete=models.PROTECT,
        related_name="represented_entities",
    )
    registered_capital = models.DecimalField(_("registered capital (yuan)"), max_digits=18, decimal_places=2)
    founded_on = models.DateField(_("founded on"), null=True, blank=True)
    region_code = models.CharField(_("region"), max_length=6)
    address = models.CharField(_("address"), max_length=300)
    contact_name = models.CharField(_("contact"), max_length=100)
    contact_phone = models.CharField(_("contact phone"), max_length=20, db_index=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    business_scope = models.TextField(_("business scope"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=EntityStatus.choices, default=EntityStatus.PENDING
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        "trading.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rejection_reason = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("market entity")
        verbose_name_plural = _("market entities")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EntityVersion(models.Model):
    """A frozen snapshot of an entity and its children at one version (also pending change requests)."""

    class State(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    entity = models.ForeignKey(MarketEntity, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField(null=True, blank=True, help_text=_("Set when approved."))
    state = models.CharField(max_length=10, choices=State.choices, default=State.PROPOSED)
    data = models.JSONField()
    digest = models.CharField(max_length=64)
    reason = models.TextField(blank=True)
    submitted_by = models.ForeignKey("trading.User", null=True, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        "trading.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("entity version")
        ordering = ["entity", "submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "version"],
                condition=models.Q(version__isnull=False),
                name="entity_version_unique",
            ),
        ]


class Qualification(models.Model):
    """资质 / 证书 with its validity."""

    entity = models.ForeignKey(MarketEntity, on_delete=models.CASCADE, related_name="qualifications")
    kind = models.CharField(_("kind"), max_length=60)
    name = models.CharField(_("name"), max_length=200)
    level = models.CharField(_("grade"), max_length=40, blank=True)
    number = models.CharField(_("certificate number"), max_length=80)
    issuer = models.CharField(_("issued by"), max_length=200)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("qualification")

    def is_valid_on(self, day) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)


class Shareholder(models.Model):
    entity = models.ForeignKey(MarketEntity, on_delete=models.CASCADE, related_name="shareholders")
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="shareholdings"
    )
    holder_entity = models.ForeignKey(
        MarketEntity, null=True, blank=True, on_delete=models.PROTECT, related_name="holdings"
    )
    share_pct = models.DecimalField(_("share (%)"), max_digits=6, decimal_places=3)
    is_controlling = models.BooleanField(_("controlling shareholder / actual controller"), default=False)

    class Meta:
        verbose_name = _("shareholder")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(person__isnull=False, holder_entity__isnull=True)
                    | models.Q(person__isnull=True, holder_entity__isnull=False)
                ),
                name="shareholder_is_person_xor_entity",
            ),
            models.CheckConstraint(
                condition=models.Q(share_pct__gt=0, share_pct__lte=100), name="share_pct_range"
            ),
        ]


class PositionRole(models.TextChoices):
    LEGAL_REP = "legal_rep", _("Legal representative")
    DIRECTOR = "director", _("Director")
    SUPERVISOR = "supervisor", _("Supervisor")
    MANAGER = "manager", _("Senior manager")
    PROJECT_MANAGER = "project_manager", _("Project manager")
    AGENT = "agent", _("Authorised agent")
    CONTACT = "contact", _("Contact person")
    FINANCE = "finance", _("Finance officer")
    STAFF = "staff", _("Staff")


class Position(models.Model):
    """A person's role in an entity, with the registered-professional number for project managers."""

    entity = models.ForeignKey(MarketEntity, on_delete=models.CASCADE, related_name="positions")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="positions")
    role = models.CharField(_("role"), max_length=20, choices=PositionRole.choices)
    title = models.CharField(_("title"), max_length=100, blank=True)
    professional_reg_no = models.CharField(
        _("registered-professional number"), max_length=60, blank=True, db_index=True
    )
    professional_kind = models.CharField(_("registration kind"), max_length=80, blank=True)
    start_date = models.DateField(_("from"), null=True, blank=True)
    end_date = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("position")


class BankAccount(models.Model):
    entity = models.ForeignKey(MarketEntity, on_delete=models.CASCADE, related_name="bank_accounts")
    bank_name = models.CharField(_("bank"), max_length=120)
    account_name = models.CharField(_("account name"), max_length=200)
    account_number = models.CharField(_("account number"), max_length=40, db_index=True)
    is_basic = models.BooleanField(_("basic account (基本账户)"), default=False)

    class Meta:
        verbose_name = _("bank account")

    @property
    def number_masked(self) -> str:
        n = self.account_number
        return "****" + n[-4:] if len(n) > 4 else "****"
