"""The shared expert pool (DOMAIN C2/C3/C5/C11): one pool for every centre of the province.

An expert is a person (trading.Person, so kinship and registry positions join on the same row) with
a user account, specialties coded by the national classification (发改法规〔2018〕316号) with one
main specialty, an employment history kept three years back (C5), titles and qualifications, a
status with a suspension period, an availability calendar and declared relationships. Profile
changes an expert makes are proposals a centre reviews; ratings and sanctions are kept per
evaluation and a sanction feeds the credit record (C11).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Specialty(models.Model):
    """A node of the 4-level classification (大类 → 二级 → 三级专业 → 四级方向), loaded from
    experts/data/specialties.json by a data migration."""

    code = models.CharField(_("code"), max_length=12, primary_key=True)
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    level = models.PositiveSmallIntegerField(_("level"))
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        verbose_name = _("specialty")
        verbose_name_plural = _("specialties")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Expert(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        REMOVED = "removed", _("Removed")

    class TitleLevel(models.TextChoices):
        SENIOR = "senior", _("Senior (正高级)")
        DEPUTY_SENIOR = "deputy_senior", _("Deputy senior (副高级)")
        INTERMEDIATE = "intermediate", _("Intermediate (中级)")
        NONE = "none", _("None / equivalent")

    class Group(models.TextChoices):
        """For the committee's 2/3 rule (法37): technical and economic experts count towards it."""

        TECHNICAL = "technical", _("Technical")
        ECONOMIC = "economic", _("Economic")
        LEGAL = "legal", _("Legal / other")

    user = models.OneToOneField("trading.User", on_delete=models.PROTECT, related_name="expert")
    person = models.ForeignKey("trading.Person", on_delete=models.PROTECT, related_name="expert_profiles")
    region_code = models.CharField(_("region"), max_length=6, db_index=True)
    employer = models.ForeignKey(
        "trading.MarketEntity",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="employed_experts",
        help_text=_("Current employer when it is in the registry."),
    )
    employer_name = models.CharField(_("employer"), max_length=200, blank=True)
    employer_uscc = models.CharField(_("employer's credit code"), max_length=18, blank=True, db_index=True)
    title = models.CharField(_("professional title"), max_length=60, blank=True)
    title_level = models.CharField(
        _("title level"), max_length=16, choices=TitleLevel.choices, default=TitleLevel.SENIOR
    )
    group = models.CharField(_("expert group"), max_length=10, choices=Group.choices, default=Group.TECHNICAL)
    # [{"name": "一级注册建造师", "number": "...", "issuer": "...", "valid_until": "2028-01-01"}]
    qualifications = models.JSONField(_("qualifications"), default=list, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("year of birth"), null=True, blank=True)
    years_in_field = models.PositiveSmallIntegerField(_("years in the field"), null=True, blank=True)
    remote_ok = models.BooleanField(_("accepts remote cross-region evaluation"), default=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    suspended_from = models.DateField(_("suspended from"), null=True, blank=True)
    suspended_until = models.DateField(_("suspended until"), null=True, blank=True)
    status_reason = models.CharField(_("reason"), max_length=300, blank=True)
    managed_by_region = models.CharField(
        _("managing centre's region"),
        max_length=6,
        blank=True,
        help_text=_("The centre that admitted the expert."),
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("expert")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.person.name

    @property
    def public_id(self) -> str:
        """The id the draw hashes and orders (stable, no personal data): "E" + zero-padded pk."""
        return f"E{self.pk:08d}"


class ExpertSpecialty(models.Model):
    expert = models.ForeignKey(Expert, on_delete=models.CASCADE, related_name="specialty_links")
    specialty = models.ForeignKey(Specialty, on_delete=models.PROTECT, related_name="expert_links")
    is_main = models.BooleanField(_("main specialty"), default=False)

    class Meta:
        verbose_name = _("expert specialty")
        constraints = [
            models.UniqueConstraint(fields=["expert", "specialty"], name="expert_specialty_unique"),
            models.UniqueConstraint(
                fields=["expert"], condition=Q(is_main=True), name="expert_one_main_specialty"
            ),
        ]


class Employment(models.Model):
    """A job, current or past; kept so that recent employers (3 years, C5) are excluded from draws."""

    expert = models.ForeignKey(Expert, on_delete=models.CASCADE, related_name="employments")
    employer = models.ForeignKey(
        "trading.MarketEntity", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    employer_name = models.CharField(_("employer"), max_length=200)
    employer_uscc = models.CharField(_("employer's credit code"), max_length=18, blank=True, db_index=True)
    position = models.CharField(_("position"), max_length=100, blank=True)
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until"), null=True, blank=True, help_text=_("Empty: current."))

    class Meta:
        verbose_name = _("employment")
        ordering = ["-start_date"]


class Unavailability(models.Model):
    """A period the expert cannot evaluate (the availability calendar)."""

    expert = models.ForeignKey(Expert, on_delete=models.CASCADE, related_name="unavailable")
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("unavailability")
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="unavailability_positive"
            )
        ]


class Relationship(models.Model):
    """A relationship the expert declares (C5): a relative, an economic interest, a former post…

    Either an entity (by registry row or credit code) or a person (by registry row or ID digest);
    a relative is matched against the people of bidders and of the tenderee in the registry."""

    class Kind(models.TextChoices):
        KIN = "kin", _("Relative (近亲属)")
        ECONOMIC = "economic", _("Economic interest")
        FORMER_POST = "former_post", _("Former post or office")
        OTHER = "other", _("Other conflict")

    expert = models.ForeignKey(Expert, on_delete=models.CASCADE, related_name="relationships")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    relation = models.CharField(_("relation"), max_length=40, blank=True, help_text=_("e.g. spouse, brother"))
    entity = models.ForeignKey(
        "trading.MarketEntity", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    entity_uscc = models.CharField(_("credit code"), max_length=18, blank=True, db_index=True)
    person = models.ForeignKey(
        "trading.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    person_id_digest = models.CharField(max_length=64, blank=True, db_index=True)
    person_name = models.CharField(_("name"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    declared_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("declared relationship")


class ProfileChange(models.Model):
    """A change the expert proposes to their own profile; applied only when centre staff approve."""

    class State(models.TextChoices):
        PROPOSED = "proposed", _("Awaiting review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    expert = models.ForeignKey(Expert, on_delete=models.CASCADE, related_name="changes")
    data = models.JSONField()
    digest = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PROPOSED)
    submitted_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        "trading.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("profile change")
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["expert"], condition=Q(state="proposed"), name="expert_one_open_change"
            )
        ]


class Rating(models.Model):
    """Performance after an evaluation (C11), by the agency, the tenderee or the centre."""

    expert = models.ForeignKey(Expert, on_delete=models.PROTECT, related_name="ratings")
    lot = models.ForeignKey("trading.Lot", on_delete=models.PROTECT, related_name="expert_ratings")
    score = models.PositiveSmallIntegerField(_("score (0–100)"))
    # {"punctuality": 5, "professionalism": 4, "discipline": 5, ...} each 1–5
    marks = models.JSONField(default=dict, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    rated_by = models.ForeignKey("trading.User", on_delete=models.PROTECT, related_name="+")
    rated_at = models.DateTimeField()
    due_on = models.DateField(null=True, blank=True)
    late = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("expert rating")
        constraints = [
            models.UniqueConstraint(fields=["expert", "lot", "rated_by"], name="rating_once_per_rater"),
            models.CheckConstraint(condition=Q(score__lte=100), name="rating_score_range"),
        ]


class Sanction(models.Model):
    """A penalty on an expert (实施条例75), mirrored in the credit record of the person."""

    class Kind(models.TextChoices):
        WARNING = "warning", _("Warning")
        FINE = "fine", _("Fine")
        SUSPENSION = "suspension", _("Suspension from draws")
        REMOVAL = "removal", _("Removal from the pool")

    expert = models.ForeignKey(Expert, on_delete=models.PROTECT, related_name="sanctions")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    legal_basis = models.CharField(_("legal basis"), max_length=300)
    description = models.TextField(_("facts"), blank=True)
    lot = models.ForeignKey("trading.Lot", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    fine_amount = models.DecimalField(
        _("fine (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"), null=True, blank=True)
    credit_record = models.OneToOneField(
        "trading.CreditRecord",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="expert_sanction",
    )
    decided_by = models.ForeignKey("trading.User", on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()

    class Meta:
        verbose_name = _("expert sanction")
        ordering = ["-decided_at"]
