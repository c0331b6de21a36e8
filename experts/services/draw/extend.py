"""More reserves when a group has run out (条例46: replacements are drawn the same way).

No new randomness is needed: the draw's key already fixes a ranking of the whole recorded pool, and
the recorded order is only its prefix. Extending the prefix ranks the next experts of that same
permutation, so the extension cannot be steered and `verify_draw` re-runs it like the rest. An expert
the longer prefix reaches who already sits in another group of the draw is kept in the order but
listed as `skipped` (one seat per expert). Vacant seats are then called from the new reserves.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from archive.journal import journal_append
from core.errors import AccessDenied, Conflict, RuleViolation, ValidationFailed
from experts import draw as core_draw
from experts.models import Assignment, Draw
from experts.services import conflicts
from experts.services.draw.common import ASSIGNMENT_LIVE, draw_seed, employer_tag, require_drawable
from experts.services.draw.replies import _call_next
from trading.models import Role, User

_DEPARTED = (Assignment.Status.DECLINED, Assignment.Status.NO_REPLY, Assignment.Status.RECUSED)


def draw_extend(*, draw: Draw, actor: User, group: int, more: int) -> list[Assignment]:
    """Rank `more` further experts of group `group`'s pool as reserves, then call one for each vacant
    seat. Returns the reserves called."""
    if actor.role not in (Role.CENTRE, Role.ADMIN):
        raise AccessDenied(_("Only trading-centre staff extend a draw."), code="role_forbidden")
    if not isinstance(more, int) or isinstance(more, bool) or not 1 <= more <= 50:
        raise ValidationFailed(_("Between 1 and 50 more reserves."), code="draw_extend_invalid")
    with transaction.atomic():
        draw = Draw.objects.select_for_update().select_related("lot__tender").get(pk=draw.pk)
        if draw.state != Draw.State.DRAWN:
            raise Conflict(_("Only a performed, unrevealed draw can be extended."), code="draw_state")
        require_drawable(draw)
        if not isinstance(group, int) or not 0 <= group < len(draw.groups):
            raise ValidationFailed(_("No such group in this draw."), code="draw_extend_invalid")
        groups = [dict(g) for g in draw.groups]
        g = groups[group]
        if len(g["order"]) >= len(g["pool"]):
            raise RuleViolation(
                _("Every expert of this group's pool has been ranked; a new draw is needed."),
                code="draw_pool_exhausted",
            )
        length = min(len(g["pool"]), len(g["order"]) + more)
        order = core_draw.draw(
            seed=draw_seed(draw),
            nonce=draw.nonce,
            pool=g["pool"],
            request_digest=g["request_digest"],
            count=g["count"],
            reserves=length - g["count"],
        ).order
        if order[: len(g["order"])] != g["order"]:  # the recorded prefix must be reproduced exactly
            raise Conflict(
                _("The recorded draw does not re-run; verify it first."), code="draw_record_mismatch"
            )
        added = order[len(g["order"]) :]
        keys = conflicts.employer_keys([int(x[1:]) for x in added])
        seated = set(Assignment.objects.filter(draw=draw).values_list("expert_id", flat=True))
        skipped = [x for x in added if int(x[1:]) in seated]
        g["order"] = order
        g["employers"] = g["employers"] + [employer_tag(keys[int(x[1:])]) for x in added]
        g["skipped"] = g.get("skipped", []) + skipped
        groups[group] = g
        draw.groups = groups
        draw.save(update_fields=["groups"])
        start = len(order) - len(added)
        Assignment.objects.bulk_create(
            [
                Assignment(draw=draw, expert_id=int(x[1:]), group=group, position=start + i)
                for i, x in enumerate(added)
                if x not in skipped
            ]
        )
        journal_append(
            stream=draw.lot.tender.stream,
            action="experts.draw_extended",
            actor=actor,
            obj=draw,
            payload={"draw": draw.pk, "group": group, "added": added, "skipped": skipped},
        )
        live = Assignment.objects.filter(draw=draw, group=group, status__in=ASSIGNMENT_LIVE).count()
        vacant = max(0, g["count"] - live)
        departed = list(
            Assignment.objects.filter(draw=draw, group=group, status__in=_DEPARTED, replaced_by__isnull=True)
            .select_related("draw__lot__tender", "expert")
            .order_by("responded_at", "position")
        )
        called = []
        now = timezone.now()
        for leaver in departed[:vacant]:
            reserve = _call_next(leaver, at=now, actor=actor)
            if reserve is None:
                break
            called.append(reserve)
    return called
