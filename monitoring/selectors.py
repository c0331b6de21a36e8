"""Read-side queries of monitoring: the review queue with its filters, similar past cases, the latest
market run, and the labelled history the supervised model learns from (regulators' decisions)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from monitoring.models import Alert, MarketRun
from trading.access import tenders_in_jurisdiction
from trading.models import Role

ORDERS = {
    "-score": ("-score", "-created_at", "-pk"),
    "score": ("score", "created_at", "pk"),
    "-created_at": ("-created_at", "-pk"),
    "created_at": ("created_at", "pk"),
}


def alert_queue(
    *, user, status=None, level=None, node=None, assigned=None, q=None, order="-score"
) -> QuerySet[Alert]:
    """`assigned`: "me" (assigned to `user`), "none" (unassigned) or None (all)."""
    qs = Alert.objects.select_related("tender", "lot", "assigned_to")
    if getattr(user, "role", None) == Role.REGULATOR:  # its departments' tenders and shared ones (issue 7)
        qs = qs.filter(tender__in=tenders_in_jurisdiction(user).values("pk"))
    if status:
        qs = qs.filter(status=status)
    if level:
        qs = qs.filter(level=level)
    if node:
        qs = qs.filter(node=node)
    if assigned == "me":
        qs = qs.filter(assigned_to=user)
    elif assigned == "none":
        qs = qs.filter(assigned_to__isnull=True)
    if q:
        matching = Alert.objects.filter(
            Q(tender__code__icontains=q) | Q(tender__title__icontains=q) | Q(entities__name__icontains=q)
        ).values("pk")
        qs = qs.filter(pk__in=matching)
    return qs.order_by(*ORDERS.get(order, ORDERS["-score"]))


def similar_alerts(alert: Alert, limit: int = 5) -> list[Alert]:
    """Decided alerts most like this one: shared indicator codes (Jaccard) plus shared entities."""
    codes = {f.get("code") for f in alert.indicators or [] if isinstance(f, dict)}
    entities = set(alert.entities.values_list("pk", flat=True))
    candidates = (
        Alert.objects.exclude(pk=alert.pk)
        .exclude(status=Alert.Status.OPEN)
        .select_related("tender")
        .prefetch_related("entities")
        .order_by("-decided_at", "-pk")[:500]
    )
    scored = []
    for other in candidates:
        theirs = {f.get("code") for f in other.indicators or [] if isinstance(f, dict)}
        union = codes | theirs
        score = len(codes & theirs) / len(union) if union else 0.0
        shared = len(entities & {e.pk for e in other.entities.all()})
        if score or shared:
            scored.append((score + shared, other.pk, other))
    scored.sort(key=lambda t: (-t[0], -t[1]))
    return [other for _, _, other in scored[:limit]]


def market_view() -> MarketRun | None:
    return MarketRun.objects.filter(finished_at__isnull=False).order_by("-started_at", "-pk").first()


def labelled_history() -> list[dict]:
    """The bid table of every lot with a decided alert, labelled by the regulators' decisions (the
    `monitoring_eval` format): a bid is 1 when its bidder was named in a confirmed alert of the lot, 0
    otherwise; the lots of dismissed alerts only are all 0. Lots nobody decided are left out: an
    unreviewed lot is not known to be clean."""
    from bidding.models import Bid

    decided = Alert.objects.exclude(status=Alert.Status.OPEN).exclude(lot__isnull=True)
    confirmed: dict[int, set[int]] = {}
    lots: set[int] = set()
    for alert in decided.prefetch_related("entities"):
        lots.add(alert.lot_id)
        if alert.status == Alert.Status.CONFIRMED:
            confirmed.setdefault(alert.lot_id, set()).update(e.pk for e in alert.entities.all())
    rows = []
    bids = (
        Bid.objects.filter(lot_id__in=lots, status=Bid.Status.ACTIVE)
        .exclude(content_key="")
        .select_related("lot")
        .order_by("lot_id", "submitted_at", "pk")
    )
    for bid in bids:
        price = (bid.form or {}).get("price")
        if price in (None, ""):
            continue
        rows.append(
            {
                "tender_id": str(bid.lot_id),
                "bid_amount": str(price),
                "bidder_id": str(bid.entity_id),
                "estimate": str(bid.lot.budget) if bid.lot.budget else "",
                "is_winner": ""
                if bid.lot.awarded_to_id is None
                else int(bid.lot.awarded_to_id == bid.entity_id),
                "label": int(bid.entity_id in confirmed.get(bid.lot_id, set())),
            }
        )
    return rows
