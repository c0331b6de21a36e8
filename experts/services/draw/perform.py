"""Performing a draw (a supervisor's nonce): eligible pools snapshotted and hashed, ranked, members called."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from archive.journal import journal_append
from core.errors import Conflict, RuleViolation, ValidationFailed
from experts.models import Assignment, Draw
from experts.services import conflicts
from experts.services.draw.common import (
    _call,
    _check_supervisor,
    _rank,
    draw_seed,
    employer_tag,
    group_request_digest,
    public_id,
    require_drawable,
)
from trading.models import User

# --- perform -------------------------------------------------------------------------------------


def draw_perform(*, draw: Draw, nonce: str, actor: User) -> Draw:
    """The supervisor's nonce fixes the key; pools are snapshotted and hashed; members are called."""
    _check_supervisor(actor, draw)
    nonce = (nonce or "").strip()
    if not 6 <= len(nonce) <= 64 or not nonce.isprintable():
        raise ValidationFailed(_("The nonce is 6 to 64 printable characters."), code="draw_nonce_invalid")
    with transaction.atomic():
        draw = Draw.objects.select_for_update().select_related("lot__tender").get(pk=draw.pk)
        if draw.state != Draw.State.COMMITTED:
            raise Conflict(_("This draw has already been performed or cancelled."), code="draw_state")
        require_drawable(draw)
        now = timezone.now()
        request = draw.request
        if dt.datetime.fromisoformat(request["evaluation_starts_at"]) <= now:
            raise RuleViolation(
                _("The evaluation time has passed; request a new draw."), code="draw_too_late"
            )
        lot = draw.lot
        found = [conflicts.candidates(group=g, request=request, lot=lot) for g in request["groups"]]
        excluded = conflicts.exclusions(
            expert_ids={pk for group in found for pk in group}, lot=lot, request=request, at=now
        )
        seed = draw_seed(draw)
        limit = int(request["same_employer_limit"])
        keys: dict[str, str] = {}

        def tag_of(ids: list[str]) -> list[str]:
            missing = [int(x[1:]) for x in ids if x not in keys]
            for pk, key in conflicts.employer_keys(missing).items():
                keys[public_id(pk)] = employer_tag(key)
            return [keys[x] for x in ids]

        taken: dict[str, int] = {}
        used: set[str] = set()
        groups, assignments = [], []
        for i, (group, cands) in enumerate(zip(request["groups"], found, strict=True)):
            # pk order is the canonical order too: public ids are zero-padded.
            pool = [x for x in (public_id(pk) for pk in cands if pk not in excluded) if x not in used]
            if len(pool) < group["count"]:
                raise RuleViolation(
                    _("Only %(n)s eligible experts for specialty %(s)s; %(m)s are needed.")
                    % {"n": len(pool), "s": group["specialty"], "m": group["count"]},
                    code="draw_pool_too_small",
                )
            gdigest = group_request_digest(draw.request_digest, i)
            order, members, digest_of_pool = _rank(
                seed,
                nonce,
                pool,
                tag_of,
                gdigest=gdigest,
                count=group["count"],
                reserves=group["reserves"],
                limit=limit,
                taken=taken,
            )
            if len(members) < group["count"]:
                # The whole pool is ranked and the employer limit still leaves seats empty.
                raise RuleViolation(
                    _(
                        "Only %(n)s experts for specialty %(s)s keep within %(l)s per employer; %(m)s are "
                        "needed. Relax the limit or widen the pool."
                    )
                    % {"n": len(members), "s": group["specialty"], "l": limit, "m": group["count"]},
                    code="draw_pool_too_small",
                )
            used |= set(order)
            groups.append(
                {
                    "group": i,
                    "specialty": group["specialty"],
                    "count": group["count"],
                    "request_digest": gdigest,
                    "pool": pool,
                    "pool_digest": digest_of_pool,
                    "order": order,
                    "employers": tag_of(order),
                    "members": members,
                }
            )
            member_set = set(members)
            for position, pid in enumerate(order):
                assignments.append((i, position, int(pid[1:]), pid in member_set))
        draw.nonce, draw.groups = nonce, groups
        draw.excluded = {public_id(pk): reasons for pk, reasons in sorted(excluded.items())}
        draw.state, draw.drawn_by, draw.drawn_at = Draw.State.DRAWN, actor, now
        draw.save(update_fields=["nonce", "groups", "excluded", "state", "drawn_by", "drawn_at"])
        rows = Assignment.objects.bulk_create(
            [Assignment(draw=draw, expert_id=pk, group=g, position=p) for g, p, pk, _m in assignments]
        )
        for row, (_g, _p, _pk, member) in zip(rows, assignments, strict=True):
            if member:
                row.draw = draw
                _call(row, at=now, replaces=None)
        reasons: dict[str, int] = {}
        for rs in excluded.values():
            for r in rs:
                reasons[r] = reasons.get(r, 0) + 1
        journal_append(
            stream=lot.tender.stream,
            action="experts.draw_performed",
            actor=actor,
            obj=draw,
            payload={
                "draw": draw.pk,
                "nonce": nonce,
                "groups": [
                    {k: g[k] for k in ("group", "specialty", "pool_digest", "order", "members")}
                    | {"pool_size": len(g["pool"])}
                    for g in groups
                ],
                "excluded": reasons,
            },
        )
    return draw
