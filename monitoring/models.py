"""Monitoring's data: per-lot analyses, alerts and their review, model versions, market runs and the
monitoring report of a tender (DESIGN §7; DOMAIN D1–D4; docs/monitoring.md)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ModelVersion(models.Model):
    """A trained detector, stored with the digest of its training table and its metrics."""

    class Kind(models.TextChoices):
        UNSUPERVISED = "unsupervised", _("Unsupervised detector")
        SUPERVISED = "supervised", _("Supervised classifier")

    kind = models.CharField(max_length=14, choices=Kind.choices)
    version = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        "trading.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    training_source = models.CharField(
        max_length=200, help_text=_("Where the training table came from: a file, the alerts, a simulation.")
    )
    training_digest = models.CharField(max_length=64, help_text=_("SHA-256 of the canonical training table."))
    training_tenders = models.PositiveIntegerField(default=0)
    training_bids = models.PositiveIntegerField(default=0)
    training_positives = models.PositiveIntegerField(default=0)
    features = models.JSONField(default=list)
    params = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    artifact = models.ForeignKey("archive.Blob", on_delete=models.PROTECT, related_name="+")
    active = models.BooleanField(default=False)
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("model version")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="model_version_unique"),
            models.UniqueConstraint(
                fields=["kind"], condition=models.Q(active=True), name="model_version_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} v{self.version}"


class LotAnalysis(models.Model):
    """The latest analysis of one lot: its features, the indicators measured, the score."""

    class Source(models.TextChoices):
        LIVE = "live", _("At the read-out")
        BATCH = "batch", _("Market batch")
        REPORT = "report", _("Monitoring report")

    lot = models.OneToOneField("trading.Lot", on_delete=models.CASCADE, related_name="monitoring")
    tender = models.ForeignKey("trading.Tender", on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=8, choices=Source.choices)
    analysed_at = models.DateTimeField(db_index=True)
    bids = models.PositiveIntegerField(default=0)
    features = models.JSONField(default=dict, blank=True)
    findings = models.JSONField(default=list, blank=True)
    score = models.FloatField(null=True, blank=True, db_index=True)
    model_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    seconds = models.FloatField(default=0)

    class Meta:
        verbose_name = _("lot analysis")


class Alert(models.Model):
    """A warning of possible collusion (围标串标预警), shaped by data spec 402: 监督节点, 报警等级,
    报警信息, 是否已处理, 处理结果, 是否进入信用平台, 处理人电子签名."""

    class Node(models.TextChoices):  # 监督节点
        OPENING = "opening", _("Bid opening (read-out)")
        EVALUATION = "evaluation", _("Evaluation")
        AWARD = "award", _("Award")
        MARKET = "market", _("Market batch analysis")
        TIPOFF = "tipoff", _("Tip-off")

    class Level(models.IntegerChoices):  # 报警等级
        HIGH = 1, _("Level 1 (red)")
        MEDIUM = 2, _("Level 2 (orange)")
        LOW = 3, _("Level 3 (yellow)")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("alert status", "Open")
        CONFIRMED = "confirmed", _("Confirmed")
        DISMISSED = "dismissed", _("Dismissed")

    tender = models.ForeignKey("trading.Tender", on_delete=models.PROTECT, related_name="alerts")
    lot = models.ForeignKey(
        "trading.Lot", null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    node = models.CharField(max_length=10, choices=Node.choices)
    level = models.PositiveSmallIntegerField(choices=Level.choices, db_index=True)
    score = models.FloatField(db_index=True)
    message = models.TextField(help_text=_("报警信息: what fired, in one paragraph."))
    indicators = models.JSONField(
        default=list, help_text=_("Findings: code, value, threshold, source, parties, paths.")
    )
    graph = models.JSONField(default=dict, blank=True, help_text=_("The evidence subgraph: nodes and edges."))
    features = models.JSONField(default=dict, blank=True)
    entities = models.ManyToManyField("trading.MarketEntity", related_name="alerts", blank=True)
    model_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    fingerprint = models.CharField(max_length=64, help_text=_("Digest of the indicators and parties."))
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    assigned_to = models.ForeignKey(
        "trading.User", null=True, blank=True, on_delete=models.PROTECT, related_name="monitoring_alerts"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        "trading.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)  # 处理结果
    legal_basis = models.CharField(max_length=300, blank=True)
    credit_entered = models.BooleanField(default=False)  # 是否进入信用平台
    credit_records = models.JSONField(
        default=list, blank=True, help_text=_("Ids of the credit records made.")
    )
    decision_digest = models.CharField(max_length=64, blank=True)
    decision_signature = models.CharField(
        max_length=200, blank=True
    )  # 处理人电子签名 (platform-countersigned)

    class Meta:
        verbose_name = _("alert")
        ordering = ["-score", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["lot", "node"],
                condition=models.Q(status="open"),
                name="alert_one_open_per_lot_node",
            ),
        ]

    @property
    def decided(self) -> bool:
        return self.status != self.Status.OPEN


class MarketRun(models.Model):
    """One batch re-scoring of the market: what it covered, how long it took, what it found."""

    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    tenders = models.PositiveIntegerField(default=0)
    lots = models.PositiveIntegerField(default=0)
    bids = models.PositiveIntegerField(default=0)
    alerts_raised = models.PositiveIntegerField(default=0)
    model_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    figures = models.JSONField(default=dict, blank=True, help_text=_("Timings and counts."))
    market = models.JSONField(
        default=dict, blank=True, help_text=_("Communities, co-bidding edges, cover bidding, rotation.")
    )

    class Meta:
        verbose_name = _("market run")
        ordering = ["-started_at"]


class MonitoringReport(models.Model):
    """The monitoring report of a tender, produced before it is sealed into the archive."""

    tender = models.ForeignKey("trading.Tender", on_delete=models.PROTECT, related_name="monitoring_reports")
    revision = models.PositiveIntegerField()
    data = models.JSONField()
    data_sha256 = models.CharField(max_length=64)
    pdf = models.ForeignKey("archive.Blob", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    platform_signature = models.CharField(max_length=200)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("monitoring report")
        ordering = ["-revision"]
        constraints = [
            models.UniqueConstraint(fields=["tender", "revision"], name="monitoring_report_revision")
        ]


class BidText(models.Model):
    """The text of an opened bid document, extracted once when the bid is decrypted (during the
    decryption window) so that the check at the read-out compares texts without re-reading PDFs."""

    bid = models.OneToOneField("bidding.Bid", on_delete=models.CASCADE, related_name="monitoring_text")
    text = models.ForeignKey(
        "archive.Blob",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("UTF-8 text; empty when the document had no extractable text."),
    )
    chars = models.PositiveIntegerField(default=0)
    document_sha256 = models.CharField(max_length=64, blank=True)
    extracted_at = models.DateTimeField()
    seconds = models.FloatField(default=0)
    skipped = models.CharField(
        max_length=40, blank=True, help_text=_("Why no text was taken: too large, unreadable.")
    )

    class Meta:
        verbose_name = _("bid document text")
