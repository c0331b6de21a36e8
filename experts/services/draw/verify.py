"""Revealing the seed once the names may be known, the public record, and re-running a draw from it."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from archive.journal import journal_append
from core.canonical import digest
from core.errors import Conflict, RuleViolation
from experts import draw as core_draw
from experts import rules
from experts.models import Draw
from experts.services.draw.common import (
    draw_seed,
    group_request_digest,
    select_members,
)
from trading.models import Lot

# --- reveal and verify ---------------------------------------------------------------------------


def draw_reveal(*, draw: Draw, actor=None) -> Draw:
    """Publish the seed once the names may be known (C4); anyone can then re-run the draw."""
    with transaction.atomic():
        draw = Draw.objects.select_for_update().select_related("lot__tender").get(pk=draw.pk)
        if draw.state == Draw.State.REVEALED:
            return draw
        if draw.state != Draw.State.DRAWN:
            raise Conflict(_("Only a performed draw can be revealed."), code="draw_state")
        lot, tender = draw.lot, draw.lot.tender
        if not rules.names_unsealed(
            regime=tender.regime, tender_state=tender.state, lot_awarded=lot.status == Lot.Status.AWARDED
        ):
            raise RuleViolation(
                _("The committee stays sealed until the result is decided."), code="draw_sealed"
            )
        draw.seed = draw_seed(draw).hex()
        draw.state, draw.revealed_at = Draw.State.REVEALED, timezone.now()
        draw.save(update_fields=["seed", "state", "revealed_at"])
        journal_append(
            stream=tender.stream,
            action="experts.draw_revealed",
            actor=actor,
            obj=draw,
            payload={"draw": draw.pk, "seed": draw.seed, "commitment": draw.seed_commitment},
        )
    return draw


def draw_record(draw: Draw) -> dict:
    """The public record a third party re-runs (docs/expert-draw.md); the seed only once revealed."""
    return {
        "version": core_draw.VERSION.decode(),
        "draw": draw.pk,
        "request": draw.request,
        "request_digest": draw.request_digest,
        "commitment": draw.seed_commitment,
        "nonce": draw.nonce,
        "seed": draw.seed or None,
        "groups": draw.groups,
    }


@dataclass(frozen=True)
class GroupCheck:
    group: int
    ok: bool
    reason: str


def record_verify(record: dict, *, seed: bytes | None = None) -> list[GroupCheck]:
    """Re-run every group of a draw record; pure (no database), so it runs on an exported record.

    Checks, per group: the request digest (recomputed from the request) and the group's digest;
    then experts.draw.verify (commitment, pool digest, order); then the members re-derived from the
    order and the employer tags under the recorded limit."""
    if seed is None:
        seed = bytes.fromhex(record["seed"]) if record.get("seed") else b""
    request_ok = digest(record["request"]) == record["request_digest"]
    limit = int(record["request"].get("same_employer_limit") or 0)
    taken: dict[str, int] = {}
    out = []
    for g in record["groups"]:
        i = g["group"]
        if not request_ok or g["request_digest"] != group_request_digest(record["request_digest"], i):
            out.append(GroupCheck(i, False, "request_mismatch"))
            continue
        result = core_draw.verify(
            revealed_seed=seed,
            commitment=record["commitment"],
            nonce=record["nonce"],
            pool=g["pool"],
            request_digest=g["request_digest"],
            count=g["count"],
            recorded_order=g["order"],
            recorded_pool_digest=g["pool_digest"],
        )
        if not result.ok:
            out.append(GroupCheck(i, False, result.reason))
            continue
        members = select_members(g["order"], g["employers"], count=g["count"], limit=limit, taken=taken)
        out.append(
            GroupCheck(
                i, members == g["members"], core_draw.OK if members == g["members"] else "members_mismatch"
            )
        )
    return out


def draw_verify(draw: Draw, *, use_sealed: bool = False) -> list[GroupCheck]:
    """Verify a draw from its stored record and its assignments. Before the reveal only the system
    can (`use_sealed`, for regulators): the public check needs the revealed seed."""
    if draw.state not in (Draw.State.DRAWN, Draw.State.REVEALED):
        raise Conflict(_("The draw has not been performed."), code="draw_state")
    if not draw.seed and not use_sealed:
        raise RuleViolation(_("The seed has not been revealed yet."), code="draw_not_revealed")
    record = draw_record(draw)
    checks = record_verify(record, seed=draw_seed(draw))
    # The assignments must be the recorded order: same experts, same places (an extension's experts
    # already seated in another group are recorded as skipped and get no second seat).
    stored = {(a.group, a.position): a.expert.public_id for a in draw.assignments.select_related("expert")}
    recorded = {
        (g["group"], p): x
        for g in draw.groups
        for p, x in enumerate(g["order"])
        if x not in set(g.get("skipped", ()))
    }
    if stored != recorded:
        checks = [GroupCheck(c.group, False, "assignments_mismatch") if c.ok else c for c in checks]
    return checks


def draw_for_lot(lot: Lot) -> Draw | None:
    return Draw.objects.filter(lot=lot).filter(~Q(state=Draw.State.CANCELLED)).first()
