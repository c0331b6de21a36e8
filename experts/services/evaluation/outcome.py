"""The committee's findings, computed from the members' verdicts every time (nothing is cached):
which bids are still in the evaluation at each stage, what is missing before a stage can be closed,
and the progress matrix (members × bids × criteria).

The rule for a review stage (qualification, preliminary): a bid fails the stage when, on any one
criterion, strictly more than half of the ACTIVE members failed it (条例51 rejections are decided by
the committee, which decides by majority). A recused or replaced member's verdicts do not count
(条例48); with an even number of active members a tie passes. Each member's own verdicts are kept
(Review rows) and shown in the report with the seats that failed the bid.

Because results are computed from the active members only, a replacement member joining late must
give verdicts for every stage up to the current one before the current stage can be closed, and the
outcome of an earlier stage can change with those verdicts — the replacement re-evaluates, as the
law expects of a new member.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from bidding.models import Bid
from experts import rules
from experts.models import EvaluationRoom, LowPriceJustification, Member, Review, Score
from experts.services.evaluation.common import (
    REVIEW_STAGES,
    Phase,
    phase_index,
    review_criteria,
    scored_criteria,
)

VALID_DECRYPTIONS = (Bid.Decryption.OK, Bid.Decryption.CUSTODIAN)
# A bid declares itself a small or micro enterprise (财库〔2020〕46号) with this item of its form.
SMALL_ENTERPRISE_ITEM = "small_enterprise"
TRUTHY = frozenset({"1", "true", "yes", "y", "是"})


def evaluated_bids(lot) -> list[Bid]:
    """The bids the committee evaluates: submitted and opened (decrypted) at the opening."""
    return list(
        Bid.objects.filter(lot=lot, status=Bid.Status.ACTIVE, decryption__in=VALID_DECRYPTIONS)
        .select_related("entity")
        .order_by("submitted_at", "pk")
    )


def bid_price(bid: Bid) -> Decimal | None:
    try:
        return Decimal(str((bid.form or {}).get("price")))
    except (InvalidOperation, ValueError):
        return None


def discount_pct(lot, bid: Bid) -> Decimal:
    """The policy discount of a bid (C8), kept simple: the tender sets
    lot.evaluation["discounts"] = {"small_enterprise_pct": "10"} and a bid that declares
    items["small_enterprise"] = "是"/"yes"/"true"/"1" in its sealed form gets that discount."""
    pct = ((lot.evaluation or {}).get("discounts") or {}).get("small_enterprise_pct")
    if not pct:
        return Decimal(0)
    flag = str(((bid.form or {}).get("items") or {}).get(SMALL_ENTERPRISE_ITEM, "")).strip().lower()
    return Decimal(str(pct)) if flag in TRUTHY else Decimal(0)


def evaluated_price(lot, bid: Bid) -> Decimal | None:
    price = bid_price(bid)
    if price is None or price <= 0:
        return None
    return rules.evaluated_price(price, discount_pct(lot, bid))


@dataclass
class Snapshot:
    room: EvaluationRoom
    lot: object
    members: list[Member]
    active: list[Member]
    bids: list[Bid]
    reviews: dict[tuple, Review] = field(default_factory=dict)
    scores: dict[tuple, Score] = field(default_factory=dict)
    justifications: dict[str, LowPriceJustification] = field(default_factory=dict)

    @classmethod
    def load(cls, room: EvaluationRoom) -> Snapshot:
        lot = room.lot
        members = list(room.members.select_related("user").order_by("seat"))
        active = [m for m in members if m.active]
        ids = [m.pk for m in active]
        snap = cls(room=room, lot=lot, members=members, active=active, bids=evaluated_bids(lot))
        for r in Review.objects.filter(member_id__in=ids):
            snap.reviews[(r.member_id, str(r.bid_id), r.stage, r.criterion)] = r
        for s in Score.objects.filter(member_id__in=ids):
            snap.scores[(s.member_id, str(s.bid_id), s.criterion)] = s
        for j in LowPriceJustification.objects.filter(room=room):
            snap.justifications[str(j.bid_id)] = j
        return snap

    def seat(self, member_id: int) -> int:
        return next(m.seat for m in self.members if m.pk == member_id)

    # --- review stages -------------------------------------------------------------------------------

    def rejections(self, bid: Bid, stage: str) -> list[dict]:
        """The criteria of `stage` a majority of the active members failed `bid` on."""
        out = []
        for criterion in review_criteria(self.lot, stage):
            failed = [
                (m.seat, r.reason)
                for m in self.active
                if (r := self.reviews.get((m.pk, str(bid.pk), stage, criterion["code"]))) and not r.passed
            ]
            if 2 * len(failed) > len(self.active):
                out.append(
                    {
                        "stage": stage,
                        "criterion": criterion["code"],
                        "seats": [seat for seat, _ in failed],
                        "reasons": [reason for _, reason in failed],
                    }
                )
        return out

    def low_price_rejected(self, bid: Bid) -> bool:
        j = self.justifications.get(str(bid.pk))
        return j is not None and j.accepted is False

    def in_play(self, stage: str) -> list[Bid]:
        """The bids evaluated at `stage`: all opened bids at qualification; those that passed every
        earlier review stage after it; at detailed scoring also not rejected for a low price."""
        bids = self.bids
        for earlier in REVIEW_STAGES:
            if phase_index(earlier) >= phase_index(stage):
                break
            bids = [b for b in bids if not self.rejections(b, earlier)]
        if phase_index(stage) >= phase_index(Phase.DETAILED):
            bids = [b for b in bids if not self.low_price_rejected(b)]
        return bids

    def qualified(self) -> list[Bid]:
        """The bids that passed qualification and preliminary review (the base of price scores)."""
        return [b for b in self.in_play(Phase.PRELIMINARY) if not self.rejections(b, Phase.PRELIMINARY)]

    # --- what is missing -----------------------------------------------------------------------------

    def stage_cells(self, stage: str) -> tuple[list[Bid], list[dict]]:
        """(bids, criteria) a member must cover at `stage` (a review stage or detailed scoring)."""
        if stage in REVIEW_STAGES:
            return self.in_play(stage), review_criteria(self.lot, stage)
        return self.in_play(Phase.DETAILED), scored_criteria(self.lot)

    def done(self, member: Member, stage: str, bid: Bid, criterion: str) -> bool:
        if stage in REVIEW_STAGES:
            return (member.pk, str(bid.pk), stage, criterion) in self.reviews
        return (member.pk, str(bid.pk), criterion) in self.scores

    def missing(self, upto: str) -> list[dict]:
        """Every verdict or score still missing for the stages up to `upto` (a phase)."""
        stages = [s for s in REVIEW_STAGES if phase_index(s) <= phase_index(upto)]
        if phase_index(upto) >= phase_index(Phase.DETAILED):
            stages.append(Phase.DETAILED.value)
        out = []
        for stage in stages:
            bids, criteria = self.stage_cells(stage)
            for m in self.active:
                for bid in bids:
                    for c in criteria:
                        if not self.done(m, stage, bid, c["code"]):
                            out.append(
                                {"seat": m.seat, "bid": str(bid.pk), "stage": stage, "criterion": c["code"]}
                            )
        return out

    def progress(self) -> dict | None:
        """The matrix of the room's current working stage: member → bid → criterion → done."""
        phase = self.room.phase
        if phase in REVIEW_STAGES:
            stage = phase
        elif phase in (Phase.DETAILED, Phase.SUMMARY):
            stage = Phase.DETAILED.value
        else:
            return None
        bids, criteria = self.stage_cells(stage)
        rows = []
        for m in self.active:
            cells = {
                str(b.pk): {c["code"]: self.done(m, stage, b, c["code"]) for c in criteria} for b in bids
            }
            done = sum(v for per_bid in cells.values() for v in per_bid.values())
            rows.append(
                {
                    "seat": m.seat,
                    "member": m.pk,
                    "done": done,
                    "total": len(bids) * len(criteria),
                    "cells": cells,
                }
            )
        return {
            "stage": stage,
            "bids": [str(b.pk) for b in bids],
            "criteria": [c["code"] for c in criteria],
            "members": rows,
            "missing": len(self.missing(phase)),
        }
