"""The regulator's dashboard: every figure of the page, counted in the database over the viewer's
jurisdiction in a fixed number of queries, and the geometry of its bar charts (drawn by the template)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Case, Count, DateTimeField, F, Q, QuerySet, When
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ValidationFailed
from monitoring.models import Alert
from supervision.models import Challenge, Complaint, Department, Instruction, TenderSupervision, TipOff
from supervision.selectors import departments_of, supervised_tenders
from trading.access import require_role
from trading.models import Role, Tender, TenderState

VIEWERS = (Role.REGULATOR, Role.ADMIN, Role.CENTRE)
SOON = dt.timedelta(days=3)  # "due within 3 days"
NEAREST = 10
TOP_ALERTS = 10
SUSPENDED_SHOWN = 20
OVERDUE_INSTRUCTIONS_SHOWN = 10
TREND_MONTHS = 12
# The charts' drawing widths, near the panels' widths (half or whole page) so their text is drawn near 11px.
HALF_WIDTH, FULL_WIDTH = 520, 1100
# Score bands of the alert histogram: [lo, hi); the first takes anything lower, the last anything higher.
BANDS = ((0.0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 1.0))
OPEN_COMPLAINT = (Complaint.Status.FILED, Complaint.Status.ACCEPTED)
OPEN_INSTRUCTION = (Instruction.Status.ISSUED, Instruction.Status.ACKNOWLEDGED)


# --- whose dashboard ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What the dashboard counts. `tenders` is None for every tender (admins, centre staff), else a
    queryset used as a subquery; `instructions` narrows the instructions to those the viewer follows up."""

    tenders: QuerySet | None
    instructions: Q
    departments: list[Department]  # those the viewer may pick from (the header's filter)
    department: Department | None  # the one picked, if any
    tipoffs: bool  # whether the viewer sees tip-offs at all
    untied_tipoffs: bool  # tip-offs naming no tender: any regulator triages them, a department has none


def _parse_department(value: str | None, allowed: list[Department]) -> Department | None:
    if value in (None, ""):
        return None
    chosen = next((d for d in allowed if str(d.pk) == value), None)
    if chosen is None:
        # Not a number, not a department, or not one of the viewer's: one answer for all three, so the
        # page does not tell which departments exist.
        raise ValidationFailed(
            _("The value of “%(name)s” is not valid.") % {"name": "department"},
            code="invalid_filter",
            filter="department",
        )
    return chosen


def dashboard_scope(*, user, department: str | None = None) -> Scope:
    """The viewer's jurisdiction, optionally narrowed to one of its departments (`department`, the raw
    query-string value). Regulators see their departments' tenders; admins and centre staff every tender
    and may narrow to any active department. Others are refused (403 `role_forbidden`); a department
    outside the viewer's is refused with 400 `invalid_filter`."""
    require_role(user, *VIEWERS)
    if user.role == Role.REGULATOR:
        allowed = list(departments_of(user).order_by("name", "pk"))
    else:
        allowed = list(Department.objects.filter(active=True).order_by("name", "pk"))
    chosen = _parse_department(department, allowed)
    # The same rules as the instruction and tip-off lists (supervision.selectors.oversight, .tipoffs):
    # centre staff work on the instructions addressed to the centre and see no tip-off, since one may be
    # about the centre's own conduct; a department follows up the instructions it gave; a platform-wide
    # regulator (no department, SUPERVISION_UNATTACHED_REGULATORS) those on the tenders it sees.
    instructions = Q(addressee=Instruction.Addressee.CENTRE) if user.role == Role.CENTRE else Q()
    tenders = None
    if chosen is not None:
        tenders = TenderSupervision.objects.filter(department=chosen).values("tender_id")
        instructions &= Q(department=chosen)
    elif user.role == Role.REGULATOR:
        tenders = supervised_tenders(user)
        instructions &= Q(tender__in=tenders)
        if allowed:
            instructions &= Q(department__in=[d.pk for d in allowed])
    return Scope(
        tenders=tenders,
        instructions=instructions,
        departments=allowed,
        department=chosen,
        tipoffs=user.role != Role.CENTRE,
        untied_tipoffs=chosen is None,
    )


def _in(scope: Scope, field: str = "tender") -> Q:
    return Q() if scope.tenders is None else Q(**{f"{field}__in": scope.tenders})


# --- the panels -------------------------------------------------------------------------------------------


def _due() -> Case:
    """The clock a complaint is running: acceptance while filed, decision once accepted."""
    return Case(
        When(status=Complaint.Status.FILED, then=F("accept_due_at")),
        When(status=Complaint.Status.ACCEPTED, then=F("decision_due_at")),
        output_field=DateTimeField(),
    )


def _complaints(scope: Scope, now: dt.datetime) -> dict:
    """Open complaints by clock: overdue (now past the deadline), due within 3 days (deadline between now,
    inclusive, and now + 3 days), later. Exactly at the deadline is not overdue."""
    qs = Complaint.objects.filter(_in(scope), status__in=OPEN_COMPLAINT).annotate(due=_due())
    soon = now + SOON
    buckets = {"overdue": Q(due__lt=now), "soon": Q(due__gte=now, due__lte=soon), "later": Q(due__gt=soon)}
    figures = qs.aggregate(
        **{
            f"{status}_{key}": Count("pk", filter=Q(status=status) & cond)
            for status in OPEN_COMPLAINT
            for key, cond in buckets.items()
        }
    )
    clocks = [
        (Complaint.Status.FILED, _("Acceptance (受理) clock")),
        (Complaint.Status.ACCEPTED, _("Decision (处理决定) clock")),
    ]
    rows = []
    for status, label in clocks:
        cells = {key: figures[f"{status}_{key}"] for key in buckets}
        rows.append({"status": str(status), "label": label, **cells, "total": sum(cells.values())})
    totals = {key: sum(r[key] for r in rows) for key in (*buckets, "total")}
    nearest = []
    for c in qs.select_related("tender", "entity").order_by(F("due").asc(nulls_last=True), "pk")[:NEAREST]:
        nearest.append(
            {
                "complaint": c,
                "clock": "acceptance" if c.status == Complaint.Status.FILED else "decision",
                "due": c.due,
                "overdue": c.due is not None and now > c.due,
            }
        )
    challenges_overdue = Challenge.objects.filter(
        _in(scope), replied_at__isnull=True, reply_due_at__lt=now
    ).count()
    return {"clocks": rows, "totals": totals, "nearest": nearest, "challenges_overdue": challenges_overdue}


def band_label(lo: float, hi: float) -> str:
    return f"{lo:.1f}–{hi:.1f}"


def _band_q(i: int) -> Q:
    lo, hi = BANDS[i]
    q = Q()
    if i > 0:
        q &= Q(score__gte=lo)
    if i < len(BANDS) - 1:
        q &= Q(score__lt=hi)
    return q


def _alerts(scope: Scope) -> dict:
    """Open (undecided) alerts: how many per score band and per level, and the ten highest."""
    qs = Alert.objects.filter(_in(scope), status=Alert.Status.OPEN)
    figures = qs.aggregate(
        total=Count("pk"),
        **{f"band{i}": Count("pk", filter=_band_q(i)) for i in range(len(BANDS))},
        **{f"level{v}": Count("pk", filter=Q(level=v)) for v in Alert.Level.values},
    )
    bands = [
        {"label": band_label(lo, hi), "lo": lo, "hi": hi, "count": figures[f"band{i}"]}
        for i, (lo, hi) in enumerate(BANDS)
    ]
    levels = [
        {"level": value, "label": label, "count": figures[f"level{value}"]}
        for value, label in Alert.Level.choices
    ]
    top = list(qs.select_related("tender", "lot").order_by("-score", "-created_at", "pk")[:TOP_ALERTS])
    return {"total": figures["total"], "bands": bands, "levels": levels, "top": top}


def _tenders(scope: Scope) -> dict:
    """Tenders per state (every state of the machine, zeros included) and the suspended ones with since
    when: `state_changed_at` is set by the state machine (trading.services.tenders.states) on suspension."""
    qs = Tender.objects.filter(Q() if scope.tenders is None else Q(pk__in=scope.tenders))
    counts = {row["state"]: row["n"] for row in qs.order_by().values("state").annotate(n=Count("pk"))}
    states = [
        {"state": value, "label": label, "count": counts.get(value, 0)}
        for value, label in TenderState.choices
    ]
    suspended = list(
        qs.filter(state=TenderState.SUSPENDED).order_by(F("state_changed_at").asc(nulls_last=True), "pk")[
            :SUSPENDED_SHOWN
        ]
    )
    return {
        "states": states,
        "total": sum(counts.values()),
        "suspended": suspended,
        "suspended_count": counts.get(TenderState.SUSPENDED, 0),
    }


def _tipoffs(scope: Scope) -> dict:
    """Tip-offs waiting for a regulator: received (not yet triaged) and under investigation, about the
    tenders in view; those naming no tender are counted apart (any regulator triages them)."""
    if not scope.tipoffs:
        return {"shown": False}
    tied = Q(tender__isnull=False) & _in(scope)
    untied = Q(tender__isnull=True)
    received, investigating = Q(status=TipOff.Status.RECEIVED), Q(status=TipOff.Status.INVESTIGATING)
    figures = TipOff.objects.filter((tied | untied) if scope.untied_tipoffs else tied).aggregate(
        received=Count("pk", filter=tied & received),
        investigating=Count("pk", filter=tied & investigating),
        untied_received=Count("pk", filter=untied & received),
        untied_investigating=Count("pk", filter=untied & investigating),
    )
    return {**figures, "shown": True, "show_untied": scope.untied_tipoffs}


def _instructions(scope: Scope, now: dt.datetime) -> dict:
    qs = Instruction.objects.filter(scope.instructions, status__in=OPEN_INSTRUCTION)
    overdue = Q(due_at__lt=now)
    figures = qs.aggregate(
        issued=Count("pk", filter=Q(status=Instruction.Status.ISSUED)),
        acknowledged=Count("pk", filter=Q(status=Instruction.Status.ACKNOWLEDGED)),
        overdue=Count("pk", filter=overdue),
    )
    late = list(
        qs.filter(overdue)
        .select_related("tender", "department")
        .order_by("due_at", "pk")[:OVERDUE_INSTRUCTIONS_SHOWN]
    )
    return {**figures, "open": figures["issued"] + figures["acknowledged"], "overdue_list": late}


def months_back(now: dt.datetime, n: int = TREND_MONTHS) -> list[dt.datetime]:
    """The first instants of the last `n` months in the current time zone, oldest first, this month last."""
    local = timezone.localtime(now)
    index = local.year * 12 + local.month - 1  # months since year 0, so stepping back crosses years
    return [timezone.make_aware(dt.datetime(i // 12, i % 12 + 1, 1)) for i in range(index - n + 1, index + 1)]


def _per_month(qs: QuerySet, field: str, start: dt.datetime) -> dict[tuple[int, int], int]:
    tz = timezone.get_current_timezone()
    rows = (
        qs.filter(**{f"{field}__gte": start})
        .order_by()
        .annotate(month=TruncMonth(field, tzinfo=tz))
        .values("month")
        .annotate(n=Count("pk"))
    )
    out: dict[tuple[int, int], int] = {}
    for row in rows:
        m = timezone.localtime(row["month"], tz) if timezone.is_aware(row["month"]) else row["month"]
        out[(m.year, m.month)] = out.get((m.year, m.month), 0) + row["n"]
    return out


def _trend(scope: Scope, now: dt.datetime) -> list[dict]:
    """Complaints filed and alerts raised per month over the last twelve months (zeros included)."""
    months = months_back(now)
    complaints = _per_month(Complaint.objects.filter(_in(scope)), "filed_at", months[0])
    alerts = _per_month(Alert.objects.filter(_in(scope)), "created_at", months[0])
    return [
        {
            "label": f"{m.year}-{m.month:02d}",
            "complaints": complaints.get((m.year, m.month), 0),
            "alerts": alerts.get((m.year, m.month), 0),
        }
        for m in months
    ]


def dashboard_figures(*, scope: Scope, now: dt.datetime | None = None) -> dict:
    """Every figure of the dashboard and its charts' geometry; a fixed number of queries whatever the
    number of rows (aggregates with filtered counts, short ordered slices)."""
    now = now or timezone.now()
    complaints = _complaints(scope, now)
    alerts = _alerts(scope)
    tenders = _tenders(scope)
    trend = _trend(scope, now)
    charts = {
        "alert_bands": bar_chart(
            [{"label": b["label"], "alerts": b["count"]} for b in alerts["bands"]],
            series=[("alerts", _("Open alerts"), "sv-alerts")],
            title=_("Open alerts by score"),
            width=HALF_WIDTH,
        ),
        "tender_states": bar_chart(
            [{"label": str(s["label"]), "tenders": s["count"]} for s in tenders["states"]],
            series=[("tenders", _("Tenders"), "sv-tenders")],
            title=_("Tenders by state"),
            width=HALF_WIDTH,
            rotate_labels=True,
        ),
        "trend": bar_chart(
            trend,
            series=[
                ("complaints", _("Complaints filed"), "sv-complaints"),
                ("alerts", _("Alerts raised"), "sv-alerts"),
            ],
            title=_("Complaints and alerts per month"),
            width=FULL_WIDTH,
        ),
    }
    return {
        "now": now,
        "complaints": complaints,
        "alerts": alerts,
        "tenders": tenders,
        "tipoffs": _tipoffs(scope),
        "instructions": _instructions(scope, now),
        "trend": trend,
        "charts": charts,
    }


# --- bar charts -------------------------------------------------------------------------------------------


def nice_axis(maximum: int, ticks: int = 4) -> tuple[int, int]:
    """(axis maximum, step) for counts: a whole step of 1, 2 or 5 × 10ⁿ with at most `ticks` steps, so
    grid lines fall on round numbers; an all-zero chart still gets an axis of 0–1."""
    if maximum <= 0:
        return 1, 1
    raw = maximum / ticks
    magnitude = 10 ** max(0, math.floor(math.log10(raw))) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if raw <= m * magnitude)
    return math.ceil(maximum / step) * step, step


LABEL_ANGLE = 35  # degrees of the slanted x labels


def _text_width(text: str, size: int = 11) -> float:
    """Roughly how wide `text` is drawn at `size` px: CJK glyphs are square, Latin about 0.56 em."""
    return sum(size if ord(ch) >= 0x2E80 else size * 0.56 for ch in text)


def bar_chart(
    rows: Sequence[dict],
    *,
    series: Sequence[tuple[str, str, str]],
    title: str,
    width: int = 640,
    height: int = 240,
    rotate_labels: bool = False,
) -> dict:
    """Vertical (grouped) bars, one group per row, one bar per series `(field, label, css class)`; counts.
    Returns the SVG's geometry for templates/supervision/dashboard/_bar_chart.html: plot box, y ticks,
    groups with their label position and bars (x, y, w, h, value, tooltip), the legend, and `summary`,
    the figures in words for `aria-label`."""
    left, right, top = 44, 12, 16
    bottom = 32
    if rotate_labels:  # slanted labels (months, state names) hang below the axis by their length
        longest = max((_text_width(str(r["label"])) for r in rows), default=0)
        bottom = 30 + math.ceil(min(longest, 160) * math.sin(math.radians(LABEL_ANGLE)))
    plot_w, plot_h = width - left - right, height - top - bottom
    base = top + plot_h
    values = [[int(r[field] or 0) for field, _l, _c in series] for r in rows]
    axis_max, step = nice_axis(max([v for vs in values for v in vs] or [0]))
    band = plot_w / max(len(rows), 1)
    inner = band * 0.8
    bar_w = inner / len(series)
    groups = []
    for i, (row, vals) in enumerate(zip(rows, values, strict=True)):
        x0 = left + i * band + (band - inner) / 2
        bars = []
        for j, ((_field, label, css), v) in enumerate(zip(series, vals, strict=True)):
            h = plot_h * v / axis_max
            x = x0 + j * bar_w
            bars.append(
                {
                    "x": round(x, 1),
                    "y": round(base - h, 1),
                    "w": round(max(bar_w - 2, 1), 1),
                    "h": round(h, 1),
                    "css": css,
                    "value": v,
                    "tx": round(x + bar_w / 2 - 1, 1),
                    "ty": round(base - h - 4, 1),
                    "title": f"{row['label']} · {label}: {v}",
                }
            )
        groups.append({"label": row["label"], "lx": round(left + i * band + band / 2, 1), "bars": bars})
    yticks = [
        {"y": round(base - plot_h * k * step / axis_max, 1), "label": str(k * step)}
        for k in range(axis_max // step + 1)
    ]
    if len(series) == 1:
        parts = [f"{row['label']} {vals[0]}" for row, vals in zip(rows, values, strict=True)]
    else:
        parts = [
            f"{row['label']}: " + ", ".join(f"{s[1]} {v}" for s, v in zip(series, vals, strict=True))
            for row, vals in zip(rows, values, strict=True)
        ]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "top": top,
        "bottom": base,
        "axis_max": axis_max,
        "yticks": yticks,
        "ylabel_x": left - 6,
        "xlabel_y": base + 16,
        "rotate": -LABEL_ANGLE if rotate_labels else 0,
        "groups": groups,
        "series": [{"field": f, "label": label, "css": css} for f, label, css in series],
        "rows": [{"label": row["label"], "values": vals} for row, vals in zip(rows, values, strict=True)],
        "title": title,
        "summary": f"{title}: " + "; ".join(parts) + ".",
    }
