"""Read-side queries of the draw: what a viewer may see of it, lots waiting for a committee, an
expert's own seats."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from experts.access import roster_names_visible
from experts.models import Assignment, Draw
from experts.services.conflicts import REASON_LABELS
from trading.models import Lot, TenderState, User


def draw_view(*, draw: Draw, user: User) -> dict:
    """The draw for a page: always the public parts (commitment, request, digests); names only for
    those `roster_names_visible` admits, else seat labels."""
    show = roster_names_visible(user=user, draw=draw)
    seats = []
    for a in draw.assignments.select_related("expert__person").order_by("group", "position"):
        seats.append(
            {
                "group": a.group,
                "position": a.position + 1,
                "status": a.status,
                "status_label": a.get_status_display(),
                "public_id": a.expert.public_id,
                "name": a.expert.person.name if show else "",
                "reason": a.reason if show else "",
                "called_at": a.called_at,
                "responded_at": a.responded_at,
            }
        )
    reasons: dict[str, int] = {}
    for rs in (draw.excluded or {}).values():
        for r in rs:
            reasons[r] = reasons.get(r, 0) + 1
    return {
        "draw": draw,
        "evaluation_starts": dt.datetime.fromisoformat(draw.request["evaluation_starts_at"]),
        "evaluation_ends": dt.datetime.fromisoformat(draw.request["evaluation_ends_at"]),
        "names_visible": show,
        "groups": [
            {
                "group": g["group"],
                "specialty": g["specialty"],
                "count": g["count"],
                "pool_size": len(g["pool"]),
                "pool_digest": g["pool_digest"],
                "seats": [
                    s for s in seats if s["group"] == g["group"] and s["status"] != Assignment.Status.RESERVE
                ],
                "reserves_waiting": sum(
                    1 for s in seats if s["group"] == g["group"] and s["status"] == Assignment.Status.RESERVE
                ),
            }
            for g in draw.groups
        ],
        "excluded_by_reason": [
            (code, REASON_LABELS.get(code, code), n) for code, n in sorted(reasons.items())
        ],
        "excluded_detail": sorted((draw.excluded or {}).items()) if show else [],
    }


def lots_awaiting_draw() -> QuerySet[Lot]:
    """Live lots of tenders open or opening that have no live draw yet."""
    return (
        Lot.objects.filter(
            status=Lot.Status.ACTIVE,
            tender__state__in=(TenderState.PUBLISHED, TenderState.OPENING, TenderState.EVALUATION),
        )
        .exclude(draws__state__in=(Draw.State.COMMITTED, Draw.State.DRAWN, Draw.State.REVEALED))
        .select_related("tender")
        .order_by("tender__deadline", "number")
    )


def draws_recent(limit: int = 50) -> QuerySet[Draw]:
    return Draw.objects.select_related("lot__tender").order_by("-requested_at")[:limit]


def my_assignments(*, user: User) -> list[Assignment]:
    """An expert's seats, newest first (what the expert may know: time, status; the project only
    once the room opens). Each carries `evaluation_starts` as a datetime."""
    seats = list(
        Assignment.objects.filter(expert__user=user)
        .exclude(status=Assignment.Status.RESERVE)
        .select_related("draw__lot__tender")
        .order_by("-called_at")[:200]
    )
    for a in seats:
        a.evaluation_starts = dt.datetime.fromisoformat(a.draw.request["evaluation_starts_at"])
    return seats
