"""The regulator's review of alerts: the queue (filters, sort, pages, new alerts live), the alert page
that explains itself (data spec 402 fields, indicators with values, thresholds and legal sources, the
evidence picture, similar past cases) with its assign / confirm / dismiss forms, and the JSON of a
lot's alerts for its evaluation committee. Thin: parse, check access, call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from core.errors import AccessDenied, DomainError, NotFound, ValidationFailed
from experts.models import Member
from monitoring import picture
from monitoring.models import Alert
from monitoring.selectors import ORDERS, alert_queue, similar_alerts
from monitoring.services import alerts as svc
from monitoring.views import common
from trading.access import in_jurisdiction
from trading.models import Lot, Role, User
from trading.views.accounts import error_context, signed_in

PAGE_SIZE = 25
Q_LIMIT = 100


def _filters(get) -> dict:
    """The queue's filters from the query string; a value outside its choices is refused (400)."""
    wanted = {
        "status": (get.get("status", ""), {"", *Alert.Status.values}),
        "level": (get.get("level", ""), {"", *(str(v) for v in Alert.Level.values)}),
        "node": (get.get("node", ""), {"", *Alert.Node.values}),
        "assigned": (get.get("assigned", ""), {"", "me", "none"}),
        "order": (get.get("order", "-score"), set(ORDERS)),
    }
    out = {}
    for name, (value, allowed) in wanted.items():
        if value not in allowed:
            raise ValidationFailed(
                _("The value of “%(name)s” is not valid.") % {"name": name},
                code="invalid_filter",
                filter=name,
            )
        out[name] = value
    q = get.get("q", "").strip()
    if len(q) > Q_LIMIT or "\x00" in q:
        raise ValidationFailed(
            _("The value of “%(name)s” is not valid.") % {"name": "q"}, code="invalid_filter", filter="q"
        )
    out["q"] = q
    return out


@never_cache
@require_safe
@signed_in
def queue_page(request):
    common.monitoring_access_read(request.user)
    filters = _filters(request.GET)
    qs = alert_queue(
        user=request.user,
        status=filters["status"] or None,
        level=int(filters["level"]) if filters["level"] else None,
        node=filters["node"] or None,
        assigned=filters["assigned"] or None,
        q=filters["q"] or None,
        order=filters["order"],
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "monitoring/queue.html",
        {
            "page": page,
            "filters": filters,
            "query": query.urlencode(),
            "labels": {
                "level": {str(k): str(v) for k, v in Alert.Level.choices},
                "node": {k: str(v) for k, v in Alert.Node.choices},
                "status": {k: str(v) for k, v in Alert.Status.choices},
            },
            "statuses": Alert.Status.choices,
            "levels": Alert.Level.choices,
            "nodes": Alert.Node.choices,
            "orders": [
                ("-score", _("Highest score first")),
                ("score", _("Lowest score first")),
                ("-created_at", _("Newest first")),
                ("created_at", _("Oldest first")),
            ],
            "live": not any(filters[k] for k in ("status", "level", "node", "assigned", "q"))
            and filters["order"] == "-score"
            and page.number == 1,
        },
    )


def _alert_page(request, alert: Alert, *, error=None, posted=None, status: int = 200):
    user = request.user
    act = common.may_act(user) and alert.status == Alert.Status.OPEN
    posted = posted or {}
    choices = common.entity_choices(alert)
    if "entities" in posted:
        ticked = set(posted["entities"])
        choices = [{**c, "checked": str(c["entity"].pk) in ticked} for c in choices]
    svg = picture.svg(
        alert.graph,
        title=_("Evidence graph of alert %(id)s") % {"id": alert.pk},
        empty_text=_("No relationship evidence: this alert rests on other indicators."),
        legend={k: str(v) for k, v in common.KIND_LABELS.items()},
    )
    return render(
        request,
        "monitoring/alert.html",
        {
            "alert": alert,
            "indicators": common.indicator_rows(alert),
            "picture": mark_safe(svg),  # noqa: S308 — built by monitoring.picture, every text escaped
            "similar": similar_alerts(alert, limit=5),
            "entities": list(alert.entities.order_by("pk")),
            "may_act": act,
            "may_assign": common.may_act(user) and alert.status == Alert.Status.OPEN,
            "assignees": User.objects.filter(role__in=common.ACTORS, is_active=True).order_by("username"),
            "entity_choices": choices,
            "legal_basis": posted.get("legal_basis", common.statutory_basis(alert)),
            "reason": posted.get("reason", ""),
            "sanction": posted.get("sanction", "none"),
            "years": posted.get("years", ""),
            "fine_amount": posted.get("fine_amount", ""),
            "dismiss_reason": posted.get("dismiss_reason", ""),
            "sanctions": [(k, str(v)) for k, v in common.SANCTION_LABELS.items()],
            "error": error,
        },
        status=status,
    )


@never_cache
@require_safe
@signed_in
def alert_page(request, alert_id: int):
    common.monitoring_access_read(request.user)
    alert = common.alert_get(alert_id)
    common.monitoring_access_tender(request.user, alert.tender)
    return _alert_page(request, alert)


def _act(request, alert_id: int, action, done: str, posted: dict):
    """Run `action(alert)` for a regulator; a refusal re-renders the alert page with its code."""
    common.monitoring_access_act(request.user)
    alert = common.alert_get(alert_id)
    common.monitoring_access_tender(request.user, alert.tender)
    try:
        action(alert)
    except DomainError as exc:
        if isinstance(exc, AccessDenied):
            raise
        alert = common.alert_get(alert_id)
        return _alert_page(request, alert, error=error_context(exc), posted=posted, status=exc.status)
    messages.success(request, done)
    return redirect("monitoring:alert", alert_id=alert_id)


@require_POST
@signed_in
def assign_view(request, alert_id: int):
    def assign(alert):
        assignee = common.parse_assignee(request.POST.get("assignee", ""), user=request.user)
        svc.alert_assign(alert=alert, actor=request.user, assignee=assignee)

    return _act(request, alert_id, assign, _("The alert is assigned."), {})


@require_POST
@signed_in
def confirm_view(request, alert_id: int):
    posted = {
        "legal_basis": request.POST.get("legal_basis", "")[:300],
        "reason": request.POST.get("reason", "")[:5000],
        "sanction": request.POST.get("sanction", ""),
        "years": request.POST.get("years", ""),
        "fine_amount": request.POST.get("fine_amount", "")[:20],
        "entities": request.POST.getlist("entities"),
    }

    def confirm(alert):
        values = common.parse_decision(request.POST)
        svc.alert_confirm(alert=alert, actor=request.user, **values)

    return _act(request, alert_id, confirm, _("The alert is confirmed; the decision is recorded."), posted)


@require_POST
@signed_in
def dismiss_view(request, alert_id: int):
    def dismiss(alert):
        svc.alert_dismiss(alert=alert, actor=request.user, reason=common.parse_reason(request.POST))

    posted = {"dismiss_reason": request.POST.get("reason", "")[:5000]}
    return _act(request, alert_id, dismiss, _("The alert is dismissed."), posted)


@never_cache
@require_safe
@signed_in
def lot_alerts_json(request, lot_id: int):
    """A lot's alerts for its evaluation committee's panel (and for regulators and centre staff)."""
    user = request.user
    try:
        lot = Lot.objects.select_related("tender").filter(pk=lot_id).first()
        if lot is None:
            raise NotFound(_("No such lot."), code="lot_not_found")
        reader = common.may_read(user) and (user.role != Role.REGULATOR or in_jurisdiction(user, lot.tender))
        member = Member.objects.filter(
            room__lot=lot, user=user, recused_at__isnull=True, voided=False
        ).exists()
        if not reader and not member:
            raise AccessDenied(
                _("Only the lot's committee and regulators see its alerts."), code="alerts_forbidden"
            )
    except DomainError as exc:
        return JsonResponse({"error": exc.as_dict()}, status=exc.status)
    alerts = Alert.objects.filter(lot=lot).prefetch_related("entities").order_by("level", "-score", "pk")
    if not reader:
        alerts = alerts.exclude(status=Alert.Status.DISMISSED)
    return JsonResponse(
        {
            "lot": lot.pk,
            "tender": lot.tender_id,
            "alerts": [common.alert_summary(a, with_url=reader) for a in alerts],
        },
        json_dumps_params={"ensure_ascii": False},
    )


urlpatterns = [
    path("alerts/", queue_page, name="queue"),
    path("alerts/<int:alert_id>/", alert_page, name="alert"),
    path("alerts/<int:alert_id>/assign", assign_view, name="alert-assign"),
    path("alerts/<int:alert_id>/confirm", confirm_view, name="alert-confirm"),
    path("alerts/<int:alert_id>/dismiss", dismiss_view, name="alert-dismiss"),
    path("lots/<int:lot_id>/alerts.json", lot_alerts_json, name="lot-alerts"),
]
