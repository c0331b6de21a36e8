"""Supervising departments, their members, the tenders they supervise, and the pool of social
supervisors (issue 7 item 1)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


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


# --- challenges and complaints (issue 7 item 2) ----------------------------------------------------------


class Challenge(models.Model):
    """What must come before a complaint, raised with the tenderee or its agency: a TB objection to the
    tender documents (异议, 条例22) or a GP 质疑 (质疑和投诉办法10). Objections at the opening and to the
    candidates live with their hall and publicity (bidding.Objection, experts.PublicityObjection)."""

    class Kind(models.TextChoices):
        TB_OBJECTION = "tb_objection", _("Objection to the tender documents (异议)")
        GP_CHALLENGE = "gp_challenge", _("Challenge (质疑)")

    kind = models.CharField(max_length=14, choices=Kind.choices)
    tender = models.ForeignKey("trading.Tender", on_delete=models.PROTECT, related_name="challenges")
    lot = models.ForeignKey("trading.Lot", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    entity = models.ForeignKey("trading.MarketEntity", on_delete=models.PROTECT, related_name="+")
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    known_at = models.DateTimeField()
    filed_at = models.DateTimeField()
    reply_due_at = models.DateTimeField()
    reply = models.TextField(blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    replied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("challenge")
        ordering = ["filed_at"]


class Complaint(models.Model):
    """投诉 to the supervising department, with its statutory clocks."""

    class Matter(models.TextChoices):
        DOCUMENTS = "documents", _("The tender documents (条例22)")
        OPENING = "opening", _("The opening (条例44)")
        CANDIDATES = "candidates", _("The evaluation result and candidates (条例54)")
        PROCESS = "process", _("Another part of the process")

    class Status(models.TextChoices):
        FILED = "filed", pgettext_lazy("complaint", "Filed")
        ACCEPTED = "accepted", pgettext_lazy("complaint", "Accepted")
        REFUSED = "refused", pgettext_lazy("complaint", "Not accepted")
        DECIDED = "decided", pgettext_lazy("complaint", "Decided")
        WITHDRAWN = "withdrawn", pgettext_lazy("complaint", "Withdrawn")

    class Outcome(models.TextChoices):
        UPHELD = "upheld", pgettext_lazy("complaint", "Upheld")
        PARTLY = "partly", pgettext_lazy("complaint", "Partly upheld")
        DISMISSED = "dismissed", pgettext_lazy("complaint", "Dismissed")

    tender = models.ForeignKey("trading.Tender", on_delete=models.PROTECT, related_name="complaints")
    lot = models.ForeignKey("trading.Lot", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    entity = models.ForeignKey("trading.MarketEntity", on_delete=models.PROTECT, related_name="+")
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    matter = models.CharField(max_length=12, choices=Matter.choices)
    text = models.TextField()
    request = models.TextField(_("what is asked"), blank=True)
    known_at = models.DateTimeField()
    filed_at = models.DateTimeField()
    filing_deadline = models.DateTimeField()
    prior = models.JSONField(default=dict, blank=True)  # {"kind": ..., "id": ..., "replied_at": ...}
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.FILED)
    accept_due_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    decision_due_at = models.DateTimeField(null=True, blank=True)
    excluded_working_days = models.PositiveSmallIntegerField(default=0)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    refusal_reason = models.TextField(blank=True)
    suspended_tender = models.BooleanField(default=False)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    legal_basis = models.CharField(max_length=300, blank=True)
    decision = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("complaint")
        ordering = ["-filed_at"]


class ComplaintEvidence(models.Model):
    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="evidence")
    blob = models.ForeignKey("archive.Blob", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    added_at = models.DateTimeField()

    class Meta:
        verbose_name = _("complaint evidence")
        ordering = ["added_at", "pk"]


# --- tip-offs (issue 7 item 3) ------------------------------------------------------------------------------


class TipOff(models.Model):
    """举报 from anyone, anonymous allowed. The reporter keeps a receipt code to follow it up; the
    platform keeps only the code's SHA-256, so the code itself is shown once."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        INVESTIGATING = "investigating", _("Under investigation")
        ALERT = "alert", _("Passed to collusion monitoring")
        DISMISSED = "dismissed", _("Not pursued")
        CLOSED = "closed", pgettext_lazy("tip-off", "Closed")

    code_sha256 = models.CharField(max_length=64, unique=True)
    tender = models.ForeignKey(
        "trading.Tender", null=True, blank=True, on_delete=models.PROTECT, related_name="tipoffs"
    )
    entities = models.ManyToManyField("trading.MarketEntity", blank=True, related_name="+")
    text = models.TextField()
    contact = models.CharField(max_length=200, blank=True)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField()
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.RECEIVED)
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    triaged_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)  # internal
    reply = models.TextField(blank=True)  # what the reporter sees with the code
    alert = models.ForeignKey(
        "monitoring.Alert", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    evidence = models.ManyToManyField("archive.Blob", blank=True, related_name="+")

    class Meta:
        verbose_name = _("tip-off")
        ordering = ["-received_at"]


# --- oversight: invitations, instructions, sanctions (issue 7 items 1, 4, 5) --------------------------------


class Invitation(models.Model):
    """A social supervisor invited to watch a tender's opening or evaluation, read-only."""

    class Stage(models.TextChoices):
        OPENING = "opening", _("Bid opening")
        EVALUATION = "evaluation", _("Evaluation")

    tender = models.ForeignKey("trading.Tender", on_delete=models.PROTECT, related_name="invitations")
    supervisor = models.ForeignKey(SocialSupervisor, on_delete=models.PROTECT, related_name="invitations")
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    invited_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("invitation to watch")
        ordering = ["invited_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tender", "supervisor", "stage"],
                condition=models.Q(revoked_at__isnull=True),
                name="supervision_invitation_live_unique",
            )
        ]


class Instruction(models.Model):
    """An instruction a supervising department gives online to the trading centre or the tender's agency
    (在线下达指令); the addressee acknowledges it and reports what was done. Journalled both ways."""

    class Addressee(models.TextChoices):
        CENTRE = "centre", _("Trading centre")
        AGENCY = "agency", _("Agency / tenderee")

    class Status(models.TextChoices):
        ISSUED = "issued", _("Issued")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        DONE = "done", _("Carried out")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    tender = models.ForeignKey("trading.Tender", on_delete=models.PROTECT, related_name="instructions")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="instructions")
    addressee = models.CharField(_("addressee"), max_length=8, choices=Addressee.choices)
    text = models.TextField(_("instruction"))
    due_at = models.DateTimeField(_("to be carried out by"), null=True, blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ISSUED)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    response = models.TextField(_("what was done"), blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("instruction")
        ordering = ["-issued_at", "-pk"]


class Sanction(models.Model):
    """A sanction a supervising department decides: a disqualification period or a fine on an entity
    (written to its credit records; a disqualification blacklists it), or an expert's suspension (written
    to the expert pool). Tied to the complaint, tip-off or tender it arose from."""

    class Kind(models.TextChoices):
        DISQUALIFICATION = "disqualification", _("Disqualification from bidding (取消投标资格)")
        FINE = "fine", _("Fine (罚款)")
        WARNING = "warning", _("Warning (警告)")
        EXPERT_SUSPENSION = "expert_suspension", _("Suspension of an expert (暂停评标资格)")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    tender = models.ForeignKey(
        "trading.Tender", null=True, blank=True, on_delete=models.PROTECT, related_name="sanctions"
    )
    complaint = models.ForeignKey(
        Complaint, null=True, blank=True, on_delete=models.PROTECT, related_name="sanctions"
    )
    tipoff = models.ForeignKey(
        TipOff, null=True, blank=True, on_delete=models.PROTECT, related_name="sanctions"
    )
    entity = models.ForeignKey(
        "trading.MarketEntity", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    expert = models.ForeignKey(
        "experts.Expert", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    fine_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    legal_basis = models.CharField(_("legal basis"), max_length=300)
    reason = models.TextField(_("reason"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()
    credit_record = models.ForeignKey(
        "trading.CreditRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("sanction")
        ordering = ["-decided_at", "-pk"]
