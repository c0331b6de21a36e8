"""A verifiable draw of a lot's committee (DESIGN §6, DOMAIN C4) and the experts it called.

One Draw per attempt (a cancelled draw stays, for the record). The request is canonical JSON and
its digest is bound into the key; each specialty group is drawn from its own eligible pool, whose
ids are stored with their digest so `verify_draw` can re-run the draw after the seed is revealed.
The seed is kept sealed (encrypted under the server's secret) until the reveal.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Draw(models.Model):
    class State(models.TextChoices):
        COMMITTED = "committed", _("Seed committed, awaiting the supervisor")
        DRAWN = "drawn", _("Drawn")
        REVEALED = "revealed", _("Seed revealed")
        CANCELLED = "cancelled", _("Cancelled")

    lot = models.ForeignKey("trading.Lot", on_delete=models.PROTECT, related_name="draws")
    state = models.CharField(max_length=10, choices=State.choices, default=State.COMMITTED)
    # Canonical request: {"v":1, "lot":…, "groups":[{"specialty":"A010101","count":4,"reserves":3,
    # "main_only":true}], "region_include":[…], "region_exclude":[…], "evaluation_starts_at":…,
    # "evaluation_ends_at":…, "same_employer_limit":1, "tenderee_limit":…, "tenderee_window_days":…}
    request = models.JSONField()
    request_digest = models.CharField(max_length=64)
    seed_commitment = models.CharField(max_length=64)
    seed_sealed = models.TextField(
        help_text=_("The seed, encrypted under the server's secret until revealed.")
    )
    seed = models.CharField(max_length=64, blank=True, help_text=_("Hex; empty until revealed."))
    nonce = models.CharField(max_length=64, blank=True)
    # [{"group": 0, "pool": ["E00000012", …], "pool_digest": "…", "order": ["E…", …]}]
    groups = models.JSONField(default=list, blank=True)
    # {"E00000012": ["employee_of_bidder", …]} — who was left out and why (sealed like the names)
    excluded = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey("trading.User", on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    drawn_by = models.ForeignKey(
        "trading.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    drawn_at = models.DateTimeField(null=True, blank=True)
    revealed_at = models.DateTimeField(null=True, blank=True)
    cancelled_reason = models.TextField(blank=True)

    class Meta:
        verbose_name = _("expert draw")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["lot"], condition=~Q(state="cancelled"), name="draw_one_live_per_lot"
            )
        ]

    def __str__(self) -> str:
        return f"draw {self.pk} ({self.lot_id})"


class Assignment(models.Model):
    """One expert in a draw's order: a member, a reserve waiting, or one who left."""

    class Status(models.TextChoices):
        RESERVE = "reserve", _("Reserve (not called)")
        NOTIFIED = "notified", _("Notified, awaiting reply")
        CONFIRMED = "confirmed", _("Confirmed")
        DECLINED = "declined", _("Declined")
        NO_REPLY = "no_reply", _("Did not reply in time")
        RECUSED = "recused", _("Recused")
        REPLACED = "replaced", _("Replaced")

    draw = models.ForeignKey(Draw, on_delete=models.PROTECT, related_name="assignments")
    expert = models.ForeignKey("experts.Expert", on_delete=models.PROTECT, related_name="assignments")
    group = models.PositiveSmallIntegerField()
    position = models.PositiveSmallIntegerField(help_text=_("Place in the group's drawn order, from 0."))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RESERVE)
    called_at = models.DateTimeField(null=True, blank=True)
    reply_due_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )

    class Meta:
        verbose_name = _("draw assignment")
        ordering = ["draw", "group", "position"]
        constraints = [
            models.UniqueConstraint(fields=["draw", "expert"], name="assignment_expert_once"),
            models.UniqueConstraint(fields=["draw", "group", "position"], name="assignment_position_once"),
        ]

    @property
    def is_member(self) -> bool:
        return self.status in (self.Status.NOTIFIED, self.Status.CONFIRMED)
