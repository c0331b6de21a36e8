"""Reads of the expert pool shared by its pages: the searchable pool, an expert's file (profile,
status history, ratings with their lateness, sanctions), the review queue, proposal diffs, the
availability calendar and the specialty tree search."""

from __future__ import annotations

import calendar
import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive.models import JournalEntry
from core.errors import NotFound
from experts.access import roster_names_visible
from experts.models import Assignment, Draw, EvaluationRoom, Expert, ProfileChange, Rating, Specialty
from experts.services.pool import expert_stream, profile_snapshot, rating_due_on
from trading.models import Lot, User
from trading.regions import region_name, region_prefix
from trading.services.entities import person_id_digest

FIELD_LABELS = {
    "region_code": _("Region"),
    "employer_name": _("Employer"),
    "employer_uscc": _("Employer's credit code"),
    "title": _("Professional title"),
    "title_level": _("Title level"),
    "group": _("Expert group"),
    "qualifications": _("Qualifications"),
    "birth_year": _("Year of birth"),
    "years_in_field": _("Years in the field"),
    "remote_ok": _("Accepts remote cross-region evaluation"),
    "specialties": _("Specialties"),
    "employments": _("Employment history"),
}


def expert_search(*, q: str = "", specialty: str = "", region: str = "", status: str = "") -> QuerySet:
    """The pool filtered by specialty code prefix (any of the expert's specialties), region
    (a province or city takes its counties), status and text (name, employer, title, user name,
    or an exact ID number)."""
    qs = Expert.objects.select_related("person", "user").order_by("pk")
    if specialty:
        qs = qs.filter(specialty_links__specialty__code__startswith=specialty.strip().upper()).distinct()
    if region:
        qs = qs.filter(region_code__startswith=region_prefix(region))
    if status:
        qs = qs.filter(status=status)
    q = q.strip()
    if q:
        text = (
            Q(person__name__icontains=q)
            | Q(employer_name__icontains=q)
            | Q(title__icontains=q)
            | Q(user__username__iexact=q)
        )
        if len(q) == 18:
            text |= Q(person__id_digest=person_id_digest("resident_id", q))
        qs = qs.filter(text)
    return qs


def main_specialties(experts) -> dict[int, Specialty]:
    """expert pk -> main specialty, for a page of experts in one query."""
    from experts.models import ExpertSpecialty

    links = ExpertSpecialty.objects.filter(expert__in=list(experts), is_main=True).select_related("specialty")
    return {link.expert_id: link.specialty for link in links}


def expert_get(pk: int) -> Expert:
    expert = Expert.objects.select_related("person", "user", "employer").filter(pk=pk).first()
    if expert is None:
        raise NotFound(_("No such expert."), code="expert_not_found")
    return expert


def expert_of_user(user: User) -> Expert:
    """The signed-in user's own expert profile, or NotFound."""
    expert = (
        Expert.objects.select_related("person", "user", "employer")
        .filter(user_id=getattr(user, "pk", None))
        .first()
    )
    if expert is None:
        raise NotFound(_("You have no expert profile."), code="not_an_expert")
    return expert


def expert_specialties(expert: Expert) -> list:
    return list(expert.specialty_links.select_related("specialty").order_by("-is_main", "specialty_id"))


def expert_status_history(expert: Expert) -> list[JournalEntry]:
    return list(
        JournalEntry.objects.filter(stream=expert_stream(expert), action="experts.status_changed").order_by(
            "-seq"
        )
    )


def expert_ratings(expert: Expert, *, viewer: User) -> list[dict]:
    """Ratings, newest first, each with its deadline and whether it came late (C11). A rating names
    the lot the expert sat on, so it is left out while that roster is still sealed for `viewer` (C4)."""
    ratings = list(
        Rating.objects.filter(expert=expert).select_related("lot__tender", "rated_by").order_by("-rated_at")
    )
    lot_ids = {r.lot_id for r in ratings}
    closed = dict(EvaluationRoom.objects.filter(lot_id__in=lot_ids).values_list("lot_id", "closed_at"))
    draws = {
        d.lot_id: d
        for d in Draw.objects.filter(lot_id__in=lot_ids, assignments__expert=expert)
        .exclude(state=Draw.State.CANCELLED)
        .select_related("lot__tender")
    }
    out = []
    for r in ratings:
        draw = draws.get(r.lot_id)
        if draw is None or not roster_names_visible(user=viewer, draw=draw):
            continue
        due = rating_due_on(closed[r.lot_id]) if closed.get(r.lot_id) else None
        out.append({"rating": r, "due_on": due, "late": bool(due and timezone.localdate(r.rated_at) > due)})
    return out


def expert_sanctions(expert: Expert) -> QuerySet:
    return expert.sanctions.select_related("credit_record", "decided_by", "lot__tender").order_by(
        "-decided_at"
    )


def expert_lots(expert: Expert) -> list[Lot]:
    """Lots the expert was drawn for (the lots a sanction may concern)."""
    ids = Assignment.objects.filter(expert=expert).values_list("draw__lot_id", flat=True)
    return list(Lot.objects.filter(pk__in=ids).select_related("tender").order_by("-pk"))


def profile_changes_pending() -> QuerySet:
    return (
        ProfileChange.objects.filter(state=ProfileChange.State.PROPOSED)
        .select_related("expert__person")
        .order_by("submitted_at")
    )


def profile_change_get(pk: int) -> ProfileChange:
    change = ProfileChange.objects.select_related("expert__person", "decided_by").filter(pk=pk).first()
    if change is None:
        raise NotFound(_("No such proposal."), code="change_not_found")
    return change


def _display(field: str, value) -> str:
    if value in (None, "", []):
        return "—"
    if field == "region_code":
        return f"{value} {region_name(value)}"
    if field == "title_level":
        return str(Expert.TitleLevel(value).label) if value in Expert.TitleLevel.values else value
    if field == "group":
        return str(Expert.Group(value).label) if value in Expert.Group.values else value
    if field == "remote_ok":
        return str(_("yes") if value else _("no"))
    if field == "specialties":
        names = dict(
            Specialty.objects.filter(code__in=[s["code"] for s in value]).values_list("code", "name")
        )
        return "; ".join(
            f"{s['code']} {names.get(s['code'], '')}" + (f" ({_('main')})" if s.get("main") else "")
            for s in value
        )
    if field == "qualifications":
        return "; ".join(
            " ".join(str(q.get(k) or "") for k in ("name", "number", "issuer", "valid_until")).strip()
            for q in value
        )
    if field == "employments":
        return "; ".join(
            f"{j.get('employer_name') or j.get('employer_uscc')} {j.get('position') or ''} "
            f"{j.get('start_date')}–{j.get('end_date') or _('now')}"
            for j in value
        )
    return str(value)


def profile_change_diff(change: ProfileChange) -> list[dict]:
    """Per proposed field: its label, the value now and the proposed value, for people to read."""
    from trading.services.entities import digest_ready

    now = digest_ready(profile_snapshot(change.expert))
    return [
        {
            "field": field,
            "label": FIELD_LABELS.get(field, field),
            "before": _display(field, now.get(field)),
            "after": _display(field, value),
        }
        for field, value in sorted(change.data.items())
    ]


def specialty_search(q: str = "", *, limit: int = 20, parent: str = "") -> list[dict]:
    """Nodes of the classification matching a code prefix or a name fragment (Chinese or English),
    each with its path of ancestors, for pickers."""
    q = (q or "").strip()
    qs = Specialty.objects.all()
    if parent:
        qs = qs.filter(parent_id=parent.strip().upper())
    if q:
        qs = qs.filter(Q(code__istartswith=q) | Q(name__icontains=q) | Q(name_en__icontains=q))
    nodes = list(qs.order_by("code")[: max(1, min(limit, 100))])
    ancestors = {
        s.code: s.name
        for s in Specialty.objects.filter(
            code__in={n.code[:k] for n in nodes for k in (1, 3, 5) if k < len(n.code)}
        )
    }
    return [
        {
            "code": n.code,
            "name": n.name,
            "name_en": n.name_en,
            "level": n.level,
            "parent": n.parent_id,
            "path": [ancestors[n.code[:k]] for k in (1, 3, 5) if k < len(n.code) and n.code[:k] in ancestors],
        }
        for n in nodes
    ]


def availability_month(expert: Expert, *, year: int, month: int) -> dict:
    """A month grid (weeks Monday first) marking the days an unavailable period touches."""
    tz = timezone.get_current_timezone()
    first = dt.date(year, month, 1)
    days_in = calendar.monthrange(year, month)[1]
    start = first - dt.timedelta(days=first.weekday())
    end = dt.date(year, month, days_in)
    end += dt.timedelta(days=6 - end.weekday())
    window_from = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    window_to = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    periods = list(expert.unavailable.filter(starts_at__lt=window_to, ends_at__gt=window_from))
    today = timezone.localdate()
    weeks, day = [], start
    while day <= end:
        week = []
        for _i in range(7):
            lo = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
            hi = lo + dt.timedelta(days=1)
            busy = [p for p in periods if p.starts_at < hi and p.ends_at > lo]
            week.append({"date": day, "in_month": day.month == month, "busy": busy, "today": day == today})
            day += dt.timedelta(days=1)
        weeks.append(week)
    prev_month = (first - dt.timedelta(days=1)).replace(day=1)
    next_month = first + dt.timedelta(days=days_in)
    return {"first": first, "weeks": weeks, "prev": prev_month, "next": next_month}


def upcoming_unavailability(expert: Expert) -> QuerySet:
    return expert.unavailable.filter(ends_at__gt=timezone.now()).order_by("starts_at")
