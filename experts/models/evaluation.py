"""The remote evaluation room of one lot (DOMAIN C5–C9).

The room's state lives here, never only in a process: phases follow C7 (组长推选 → 资格审查 →
初步评审 → 详细评审 → 报价得分 → 结果 → 结束); members sign the declaration or recuse; reviews
are pass/fail per criterion with a reason for a fail; scores are per member, bid and criterion,
price scores are computed (never typed) and stored in the report; the report is signed data plus
a PDF, and each member's signature records agreement or a written dissent.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class EvaluationRoom(models.Model):
    class Phase(models.TextChoices):
        DECLARATIONS = "declarations", _("Declarations")
        CHAIR = "chair", _("Electing the chair")
        QUALIFICATION = "qualification", _("Qualification review")
        PRELIMINARY = "preliminary", _("Preliminary review")
        DETAILED = "detailed", _("Detailed scoring")
        SUMMARY = "summary", _("Summary and candidates")
        SIGNING = "signing", _("Signing the report")
        CLOSED = "closed", _("Closed")

    lot = models.OneToOneField("trading.Lot", on_delete=models.PROTECT, related_name="evaluation_room")
    draw = models.ForeignKey("experts.Draw", on_delete=models.PROTECT, related_name="rooms")
    phase = models.CharField(max_length=14, choices=Phase.choices, default=Phase.DECLARATIONS)
    phase_changed_at = models.DateTimeField()
    opens_at = models.DateTimeField()
    chair = models.ForeignKey(
        "experts.Member", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=0)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The scheduled end (from the draw request) and any extension the committee asked for (条例48:
    # more than a third of the members find the time insufficient).
    ends_at = models.DateTimeField(null=True, blank=True)
    extended_until = models.DateTimeField(null=True, blank=True)
    # Members who have not signed by then are deemed to agree (条例53, 87号令61).
    signing_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("evaluation room")

    def __str__(self) -> str:
        return f"evaluation of {self.lot}"

    @property
    def group(self) -> str:
        return f"evaluation.{self.lot_id}"


class Member(models.Model):
    class Kind(models.TextChoices):
        EXPERT = "expert", _("Drawn expert")
        TENDEREE_REP = "tenderee_rep", _("Tenderee's representative")

    room = models.ForeignKey(EvaluationRoom, on_delete=models.PROTECT, related_name="members")
    user = models.ForeignKey("trading.User", on_delete=models.PROTECT, related_name="evaluation_seats")
    kind = models.CharField(max_length=14, choices=Kind.choices, default=Kind.EXPERT)
    assignment = models.OneToOneField(
        "experts.Assignment", null=True, blank=True, on_delete=models.PROTECT, related_name="member"
    )
    seat = models.PositiveSmallIntegerField(
        help_text=_("Seat number shown instead of the name where sealed.")
    )
    joined_at = models.DateTimeField(null=True, blank=True)
    declared_at = models.DateTimeField(null=True, blank=True)
    declaration = models.JSONField(default=dict, blank=True)
    recused_at = models.DateTimeField(null=True, blank=True)
    recusal_reason = models.TextField(blank=True)
    voided = models.BooleanField(
        default=False, help_text=_("Replaced: the member's opinions are void (条例48).")
    )
    chair_vote = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    time_insufficient = models.BooleanField(
        default=False, help_text=_("The member finds the evaluation time insufficient (条例48).")
    )

    class Meta:
        verbose_name = _("committee member")
        ordering = ["room", "seat"]
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="member_user_once"),
            models.UniqueConstraint(fields=["room", "seat"], name="member_seat_once"),
        ]

    @property
    def active(self) -> bool:
        return self.recused_at is None and not self.voided


class Review(models.Model):
    """Pass/fail of one criterion of the qualification or preliminary review, by one member."""

    class Stage(models.TextChoices):
        QUALIFICATION = "qualification", _("Qualification review")
        PRELIMINARY = "preliminary", _("Preliminary review")

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="reviews")
    bid = models.ForeignKey("bidding.Bid", on_delete=models.PROTECT, related_name="reviews")
    stage = models.CharField(max_length=14, choices=Stage.choices)
    criterion = models.CharField(max_length=40)
    passed = models.BooleanField()
    reason = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("review verdict")
        constraints = [
            models.UniqueConstraint(fields=["member", "bid", "stage", "criterion"], name="review_once"),
        ]


class Score(models.Model):
    """One member's score of one bid on one non-price criterion."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="scores")
    bid = models.ForeignKey("bidding.Bid", on_delete=models.PROTECT, related_name="scores")
    criterion = models.CharField(max_length=40)
    value = models.DecimalField(max_digits=7, decimal_places=2)
    comment = models.TextField(blank=True)
    at = models.DateTimeField()
    # A change after the summary is allowed only in the cases of 87号令64 (arithmetic error, a score
    # out of range, …): the case and the previous value are kept.
    corrected_from = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    correction_case = models.CharField(max_length=30, blank=True)

    class Meta:
        verbose_name = _("score")
        constraints = [
            models.UniqueConstraint(fields=["member", "bid", "criterion"], name="score_once"),
        ]


class Outlier(models.Model):
    """A score far from the rest of the committee on a criterion (shown, and kept for monitoring)."""

    room = models.ForeignKey(EvaluationRoom, on_delete=models.PROTECT, related_name="outliers")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    bid = models.ForeignKey("bidding.Bid", on_delete=models.PROTECT, related_name="+")
    criterion = models.CharField(max_length=40)
    value = models.DecimalField(max_digits=7, decimal_places=2)
    median = models.DecimalField(max_digits=7, decimal_places=2)
    deviation = models.DecimalField(
        max_digits=9, decimal_places=4, help_text=_("|value − median| / max score")
    )
    threshold = models.DecimalField(max_digits=9, decimal_places=4)
    detected_at = models.DateTimeField()

    class Meta:
        verbose_name = _("scoring outlier")
        constraints = [
            models.UniqueConstraint(fields=["member", "bid", "criterion"], name="outlier_once"),
        ]


class Clarification(models.Model):
    """A written clarification request to a bidder and its answer (条例52: in writing, within scope)."""

    room = models.ForeignKey(EvaluationRoom, on_delete=models.PROTECT, related_name="clarifications")
    bid = models.ForeignKey("bidding.Bid", on_delete=models.PROTECT, related_name="clarifications")
    asked_by = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    question = models.TextField()
    asked_at = models.DateTimeField()
    due_at = models.DateTimeField()
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        "trading.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("clarification")
        ordering = ["asked_at"]


class LowPriceJustification(models.Model):
    """An abnormally low price asks the bidder to justify it in writing (87号令60, 条例51)."""

    room = models.ForeignKey(EvaluationRoom, on_delete=models.PROTECT, related_name="low_prices")
    bid = models.OneToOneField("bidding.Bid", on_delete=models.PROTECT, related_name="low_price")
    ratio = models.DecimalField(max_digits=9, decimal_places=4, help_text=_("price / reference"))
    requested_at = models.DateTimeField()
    due_at = models.DateTimeField()
    text = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    accepted = models.BooleanField(null=True, help_text=_("The committee's verdict on the explanation."))
    decided_by = models.ForeignKey(
        "trading.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("low-price justification")


class Report(models.Model):
    """The evaluation report: canonical data (totals, ranks, candidates, members), its digest, the
    platform's signature and the PDF; final once every active member has signed."""

    room = models.OneToOneField(EvaluationRoom, on_delete=models.PROTECT, related_name="report")
    data = models.JSONField()
    data_sha256 = models.CharField(max_length=64)
    body_sha256 = models.CharField(
        max_length=64, blank=True, help_text=_("Digest of the report as built, which members sign.")
    )
    revision = models.PositiveSmallIntegerField(default=1)
    platform_signature = models.CharField(max_length=200, blank=True)
    pdf = models.ForeignKey("archive.Blob", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    finalized_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("evaluation report")


class ReportRevision(models.Model):
    """A report superseded by a re-evaluation (条例54/71: an upheld objection): kept whole — data,
    digest, signature, PDF — with why and when it was superseded."""

    room = models.ForeignKey(EvaluationRoom, on_delete=models.PROTECT, related_name="revisions")
    revision = models.PositiveSmallIntegerField()
    data = models.JSONField()
    data_sha256 = models.CharField(max_length=64)
    platform_signature = models.CharField(max_length=200, blank=True)
    pdf = models.ForeignKey("archive.Blob", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    finalized_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField()
    reason = models.TextField()

    class Meta:
        verbose_name = _("superseded evaluation report")
        constraints = [models.UniqueConstraint(fields=["room", "revision"], name="report_revision_once")]


class ReportSignature(models.Model):
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="signatures")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    agrees = models.BooleanField()
    dissent = models.TextField(blank=True)
    data_sha256 = models.CharField(max_length=64, help_text=_("The report digest the member signed."))
    signature = models.CharField(max_length=200, blank=True, help_text=_("Optional: by the member's key."))
    signed_at = models.DateTimeField()
    deemed = models.BooleanField(
        default=False, help_text=_("Did not sign by the deadline: deemed to agree (条例53, 87号令61).")
    )

    class Meta:
        verbose_name = _("report signature")
        constraints = [models.UniqueConstraint(fields=["report", "member"], name="report_signed_once")]
