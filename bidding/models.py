"""Sealed bids (ciphertext only before the opening), resumable uploads, receipts, bid security,
the custodian k-of-n opening key, and the remote opening hall's state (DESIGN §4, §5).

The hall's state lives here, never only in a process: a reconnecting client, a reload or a
restarted server resumes from these rows.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class UploadSession(models.Model):
    """A resumable chunked upload of one envelope's ciphertext; unfinished = not submitted."""

    class State(models.TextChoices):
        OPEN = "open", _("Uploading")
        COMPLETED = "completed", _("Completed")
        ABANDONED = "abandoned", _("Abandoned")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    lot = models.ForeignKey("trading.Lot", on_delete=models.PROTECT, related_name="uploads")
    entity = models.ForeignKey("trading.MarketEntity", on_delete=models.PROTECT, related_name="uploads")
    user = models.ForeignKey("trading.User", on_delete=models.PROTECT, related_name="+")
    expected_size = models.PositiveBigIntegerField()
    received = models.PositiveBigIntegerField(default=0)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    # The stored parts in order, [{"offset": int, "size": int, "name": storage name}], contiguous from 0.
    # Each part is its own storage object (bidding.storage): S3-compatible stores cannot append.
    parts = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("bid upload")
        indexes = [models.Index(fields=["lot", "entity", "state"], name="upload_lot_entity_state")]

    @property
    def part_prefix(self) -> str:
        return f"uploads/{self.id}/"


class Bid(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Submitted")
        REPLACED = "replaced", _("Replaced")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Decryption(models.TextChoices):
        PENDING = "pending", _("Not decrypted")
        OK = "ok", _("Decrypted")
        CUSTODIAN = "custodian", _("Decrypted with the custodian key")
        FAILED_BIDDER = "failed_bidder", _("Failed (bidder's fault: revoked, 撤销)")
        FAILED_OTHER = "failed_other", _("Failed (not the bidder's fault: withdrawn, 撤回)")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    lot = models.ForeignKey("trading.Lot", on_delete=models.PROTECT, related_name="bids")
    entity = models.ForeignKey("trading.MarketEntity", on_delete=models.PROTECT, related_name="bids")
    user = models.ForeignKey("trading.User", on_delete=models.PROTECT, related_name="+")
    certificate = models.ForeignKey("trading.Certificate", on_delete=models.PROTECT, related_name="bids")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    # The envelope as the bidder sent it: header bytes (b64url), the ciphertext (a content-addressed
    # blob) and the signature over both digests. Never the content key before the opening.
    header = models.TextField()
    header_sha256 = models.CharField(max_length=64)
    ciphertext = models.ForeignKey("archive.Blob", on_delete=models.PROTECT, related_name="+")
    ciphertext_size = models.PositiveBigIntegerField()
    signature = models.CharField(max_length=200)
    submitted_at = models.DateTimeField(db_index=True)
    # The upload that became this bid: one bid per upload, even if "complete" is sent twice at once.
    upload = models.OneToOneField(
        UploadSession, null=True, blank=True, on_delete=models.PROTECT, related_name="bid"
    )
    replaced_by = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaces"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # The platform's signed receipt: {receipt JSON, signature, platform certificate}.
    receipt = models.JSONField(default=dict)
    # Opening: the content key arrives only in the decryption window.
    decryption = models.CharField(max_length=16, choices=Decryption.choices, default=Decryption.PENDING)
    content_key = models.CharField(max_length=64, blank=True, help_text=_("b64url; empty until the opening."))
    decrypted_at = models.DateTimeField(null=True, blank=True)
    form = models.JSONField(
        default=dict, blank=True, help_text=_("The bid form (投标函) read out at the opening.")
    )
    document_meta = models.JSONField(default=dict, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmation_signature = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("bid")
        ordering = ["lot", "submitted_at"]
        constraints = [
            # Concurrent submissions never double-count: one active bid per bidder and lot.
            models.UniqueConstraint(
                fields=["lot", "entity"],
                condition=models.Q(status="active"),
                name="one_active_bid_per_bidder_and_lot",
            ),
        ]


class BidSecurity(models.Model):
    """投标保证金, with the account it came from (DOMAIN A6, D1: same-account deposits)."""

    class Method(models.TextChoices):
        CASH = "cash", _("Cash or cheque")
        TRANSFER = "transfer", _("Bank transfer")
        GUARANTEE = "guarantee", _("Bank guarantee")
        INSURANCE = "insurance", _("Guarantee insurance")

    lot = models.ForeignKey("trading.Lot", on_delete=models.PROTECT, related_name="securities")
    entity = models.ForeignKey("trading.MarketEntity", on_delete=models.PROTECT, related_name="securities")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    method = models.CharField(max_length=10, choices=Method.choices)
    account = models.ForeignKey(
        "trading.BankAccount", null=True, blank=True, on_delete=models.PROTECT, related_name="securities"
    )
    payer_account_number = models.CharField(max_length=40, blank=True, db_index=True)
    reference = models.CharField(max_length=80, blank=True)
    received_at = models.DateTimeField()
    refunded_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        "trading.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Null while it is only the bidder's own declaration; set when centre staff record (confirm) it.
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("bid security")
        constraints = [
            models.UniqueConstraint(fields=["lot", "entity"], name="one_security_per_bidder_and_lot")
        ]


class CustodianKey(models.Model):
    """The tender's opening key: public half kept, private half split k-of-n and forgotten."""

    tender = models.OneToOneField("trading.Tender", on_delete=models.PROTECT, related_name="custodian_key")
    key_id = models.CharField(max_length=32, unique=True)
    public_key = models.CharField(max_length=100, help_text=_("b64url uncompressed P-256 point"))
    k = models.PositiveSmallIntegerField()
    n = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField()
    reconstructed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("custodian key")


class CustodianShare(models.Model):
    key = models.ForeignKey(CustodianKey, on_delete=models.PROTECT, related_name="shares")
    holder = models.ForeignKey("trading.User", on_delete=models.PROTECT, related_name="custodian_shares")
    certificate = models.ForeignKey("trading.Certificate", on_delete=models.PROTECT, related_name="+")
    index = models.PositiveSmallIntegerField(help_text=_("Shamir x-coordinate, 1..n"))
    # The share wrapped to the holder's certified key (same wrap as the envelope's).
    wrapped = models.JSONField()
    # After the deadline only: the share the holder unwrapped and handed in.
    revealed = models.CharField(max_length=200, blank=True)
    revealed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("custodian share")
        constraints = [models.UniqueConstraint(fields=["key", "index"], name="custodian_share_index_unique")]


class OpeningSession(models.Model):
    """One remote opening hall per lot (不见面开标)."""

    class Phase(models.TextChoices):
        SIGNIN = "signin", _("Sign-in")
        BIDDERS = "bidders", _("Bidder list published")
        DECRYPTION = "decryption", _("Decryption")
        READOUT = "readout", _("Reading out (唱标)")
        CONFIRMATION = "confirmation", _("Confirmation of the record")
        CLOSED = "closed", _("Closed")
        FAILED = "failed", _("Failed (流标)")

    lot = models.OneToOneField("trading.Lot", on_delete=models.PROTECT, related_name="opening")
    phase = models.CharField(max_length=14, choices=Phase.choices, default=Phase.SIGNIN)
    phase_changed_at = models.DateTimeField()
    decryption_ends_at = models.DateTimeField(null=True, blank=True)
    confirmation_ends_at = models.DateTimeField(null=True, blank=True)
    host = models.ForeignKey(
        "trading.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    failure_reason = models.TextField(blank=True)
    # Monotonic counter bumped on every change: clients drop stale events, ticks stay idempotent.
    version = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("opening session")


class Attendance(models.Model):
    session = models.ForeignKey(OpeningSession, on_delete=models.PROTECT, related_name="attendance")
    entity = models.ForeignKey("trading.MarketEntity", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey("trading.User", on_delete=models.PROTECT, related_name="+")
    signed_in_at = models.DateTimeField()
    attorney = models.ForeignKey(
        "archive.Blob",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Power of attorney (授权委托书)"),
    )

    class Meta:
        verbose_name = _("sign-in")
        constraints = [models.UniqueConstraint(fields=["session", "entity"], name="signin_once_per_entity")]


class Objection(models.Model):
    """异议 raised in the hall, answered by the host on the spot (条例44)."""

    session = models.ForeignKey(OpeningSession, on_delete=models.PROTECT, related_name="objections")
    entity = models.ForeignKey("trading.MarketEntity", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey("trading.User", on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    raised_at = models.DateTimeField()
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        "trading.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("objection")
        ordering = ["raised_at"]


class OpeningRecord(models.Model):
    """开标记录 (DOMAIN B9): data, PDF, the platform's signature; bidders' confirmations are on Bid."""

    session = models.OneToOneField(OpeningSession, on_delete=models.PROTECT, related_name="record")
    data = models.JSONField()
    data_sha256 = models.CharField(max_length=64)
    pdf = models.ForeignKey("archive.Blob", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    platform_signature = models.CharField(max_length=200)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("opening record")
