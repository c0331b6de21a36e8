"""Tenders (招标项目 / 采购项目) and their lots (标段 / 包), with regime, method and timeline.

The legal checks of the timeline live in trading.rules; the state machine's transitions
are in trading.rules.TENDER_TRANSITIONS and applied only by services.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Regime(models.TextChoices):
    TB = "TB", _("Bidding Law (招标投标法)")
    GP = "GP", _("Government Procurement (政府采购法)")


class Category(models.TextChoices):
    WORKS = "works", _("Construction works")
    GOODS = "goods", _("Goods")
    SERVICES = "services", _("Services")
    LAND = "land", _("Land and mining rights")
    PROPERTY = "property", _("State-owned property rights")


class ProcurementMethod(models.TextChoices):
    OPEN = "open", _("Open tendering")
    INVITED = "invited", _("Invited tendering")
    COMPETITIVE_NEGOTIATION = "competitive_negotiation", _("Competitive negotiation")
    COMPETITIVE_CONSULTATION = "competitive_consultation", _("Competitive consultation")
    INQUIRY = "inquiry", _("Request for quotations")
    SINGLE_SOURCE = "single_source", _("Single source")
    AUCTION = "auction", _("Auction / listing")


class TenderState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Open for bids")
    OPENING = "opening", _("Opening")
    EVALUATION = "evaluation", _("Evaluation")
    PUBLICITY = "publicity", _("Candidate publicity")
    AWARDED = "awarded", _("Awarded")
    ARCHIVED = "archived", _("Archived")
    FAILED = "failed", _("Failed (流标)")
    SUSPENDED = "suspended", _("Suspended")
    TERMINATED = "terminated", _("Terminated")


class EvaluationMethod(models.TextChoices):
    SCORING = "scoring", _("Comprehensive scoring (综合评分法)")
    LOWEST_PRICE = "lowest_price", _("Lowest evaluated price (经评审的最低投标价法)")


class DecryptionPolicy(models.TextChoices):
    BIDDER = "bidder", _("Bidder's key only")
    BIDDER_CUSTODIAN = "bidder_custodian", _("Bidder's key plus a k-of-n custodian key")


class Tender(models.Model):
    code = models.CharField(_("unified transaction code"), max_length=33, unique=True)
    title = models.CharField(_("title"), max_length=300)
    regime = models.CharField(_("regime"), max_length=2, choices=Regime.choices)
    category = models.CharField(_("category"), max_length=10, choices=Category.choices)
    method = models.CharField(
        _("procurement method"),
        max_length=30,
        choices=ProcurementMethod.choices,
        default=ProcurementMethod.OPEN,
    )
    tenderee = models.ForeignKey(
        "trading.MarketEntity",
        verbose_name=_("tenderee / purchaser"),
        on_delete=models.PROTECT,
        related_name="tenders_as_tenderee",
    )
    agency = models.ForeignKey(
        "trading.MarketEntity",
        verbose_name=_("agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tenders_as_agency",
    )
    region_code = models.CharField(_("region"), max_length=6, db_index=True)
    description = models.TextField(_("description"), blank=True)
    funding_source = models.CharField(_("funding source"), max_length=120, blank=True)
    state_funded = models.BooleanField(_("state-funded (国有资金占控股或主导)"), default=True)
    prequalification = models.BooleanField(_("prequalification (资格预审)"), default=False)
    large_or_complex = models.BooleanField(
        _("budget ≥ 10M, technically complex or of large social impact (GP committee ≥ 7)"), default=False
    )
    currency = models.CharField(max_length=3, default="CNY")

    state = models.CharField(
        _("state"), max_length=12, choices=TenderState.choices, default=TenderState.DRAFT, db_index=True
    )
    state_before_suspension = models.CharField(max_length=12, choices=TenderState.choices, blank=True)
    state_changed_at = models.DateTimeField(null=True, blank=True)

    # Timeline. The bid deadline is also the opening time (法34 / 87号令39).
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, db_index=True)
    docs_from = models.DateTimeField(_("documents available from"))
    docs_until = models.DateTimeField(_("documents available until"))
    deadline = models.DateTimeField(_("bid deadline and opening time"), db_index=True)
    original_deadline = models.DateTimeField(null=True, blank=True)
    decryption_minutes = models.PositiveSmallIntegerField(_("decryption window (minutes)"), default=30)
    # 签名总时长: how long bidders have to confirm (sign) the opening record [S: DOMAIN B6, per project].
    confirmation_minutes = models.PositiveSmallIntegerField(_("confirmation window (minutes)"), default=30)
    decryption_policy = models.CharField(
        _("decryption policy"),
        max_length=20,
        choices=DecryptionPolicy.choices,
        default=DecryptionPolicy.BIDDER,
    )
    custodian_k = models.PositiveSmallIntegerField(_("custodians needed (k)"), null=True, blank=True)
    custodian_n = models.PositiveSmallIntegerField(_("custodians (n)"), null=True, blank=True)
    bid_validity_days = models.PositiveSmallIntegerField(_("bid validity (days)"), default=90)

    created_by = models.ForeignKey("trading.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("tender")
        ordering = ["-published_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(docs_from__lte=models.F("docs_until")), name="tender_docs_period_ordered"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(decryption_policy="bidder")
                    | models.Q(custodian_k__gte=2, custodian_n__gte=models.F("custodian_k"))
                ),
                name="tender_custodian_k_of_n",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def stream(self) -> str:
        """The tender's journal stream."""
        return f"tender:{self.pk}"

    @property
    def total_budget(self):
        return sum((lot.budget or 0) for lot in self.lots.all())


class Lot(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        FAILED = "failed", _("Failed (流标)")
        AWARDED = "awarded", _("Awarded")
        TERMINATED = "terminated", _("Terminated")

    tender = models.ForeignKey(Tender, on_delete=models.CASCADE, related_name="lots")
    number = models.PositiveSmallIntegerField(_("lot number"))
    title = models.CharField(_("title"), max_length=300)
    classification_code = models.CharField(_("section classification code"), max_length=7)
    budget = models.DecimalField(
        _("budget / estimated contract price (yuan)"), max_digits=16, decimal_places=2
    )
    ceiling_price = models.DecimalField(
        _("ceiling price (yuan)"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    bid_security = models.DecimalField(_("bid security (yuan)"), max_digits=14, decimal_places=2, default=0)
    duration_days = models.PositiveIntegerField(_("duration (days)"), null=True, blank=True)
    evaluation_method = models.CharField(
        _("evaluation method"), max_length=16, choices=EvaluationMethod.choices
    )
    # {"criteria": [{"code","name","group": technical|commercial|price, "max": 30}], "price_formula": {...}}
    evaluation = models.JSONField(_("evaluation criteria"), default=dict, blank=True)
    # {"size": 5, "experts": 4, "tenderee_reps": 1, "specialties": [{"code": "...", "count": 4}]}
    committee = models.JSONField(_("committee composition"), default=dict, blank=True)
    read_out_items = models.JSONField(_("items read out at the opening"), default=list, blank=True)
    min_bidders = models.PositiveSmallIntegerField(_("minimum valid bids"), default=3)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE)
    awarded_to = models.ForeignKey(
        "trading.MarketEntity", null=True, blank=True, on_delete=models.PROTECT, related_name="lots_won"
    )
    award_amount = models.DecimalField(
        _("award amount (yuan)"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    awarded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("lot")
        ordering = ["tender", "number"]
        constraints = [
            models.UniqueConstraint(fields=["tender", "number"], name="lot_number_unique"),
            models.CheckConstraint(condition=models.Q(budget__gt=0), name="lot_budget_positive"),
            models.CheckConstraint(condition=models.Q(bid_security__gte=0), name="lot_bid_security_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.tender.title} — {self.title}"


class DocumentDownload(models.Model):
    """Who obtained the tender documents (获取招标文件): they are notified of every amendment."""

    tender = models.ForeignKey(Tender, on_delete=models.PROTECT, related_name="downloads")
    entity = models.ForeignKey("trading.MarketEntity", on_delete=models.PROTECT, related_name="downloads")
    user = models.ForeignKey("trading.User", on_delete=models.PROTECT, related_name="+")
    first_at = models.DateTimeField()
    count = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("document download")
        constraints = [models.UniqueConstraint(fields=["tender", "entity"], name="download_once_per_entity")]


class CodeSequence(models.Model):
    """Daily sequence for unified transaction codes; the row is locked while a code is taken."""

    day = models.DateField(unique=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("transaction code sequence")
