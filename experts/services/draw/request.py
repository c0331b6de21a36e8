"""Requesting a draw (centre staff): the request is validated and fixed, the seed made and committed."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from archive.journal import journal_append
from core.canonical import digest
from core.errors import AccessDenied, Conflict, RuleViolation, ValidationFailed
from experts import draw as core_draw
from experts import rules
from experts.models import Draw, Specialty
from experts.services.draw.common import (
    _DRAWABLE_STATES,
    _seal,
)
from trading.models import Lot, Role, TenderState, User
from trading.rules import check_committee

# --- request -------------------------------------------------------------------------------------


def _clean_groups(lot: Lot, groups) -> list[dict]:
    if groups is None:
        groups = [
            {"specialty": g.get("code") or g.get("specialty"), "count": g.get("count")}
            for g in (lot.committee or {}).get("specialties", [])
        ]
    if not isinstance(groups, list) or not groups:
        raise ValidationFailed(
            _("Name at least one specialty with a number of experts."), code="draw_groups_missing"
        )
    out, errors = [], {}
    for i, g in enumerate(groups):
        code = str((g or {}).get("specialty") or "").strip().upper()
        try:
            count = int(g.get("count"))
            reserves = int(g.get("reserves", count))
        except (TypeError, ValueError):
            errors[f"groups[{i}].count"] = _("Counts are whole numbers.")
            continue
        if not Specialty.objects.filter(code=code).exists():
            errors[f"groups[{i}].specialty"] = _("Unknown specialty code.")
        if not 1 <= count <= 50 or not 0 <= reserves <= 100:
            errors[f"groups[{i}].count"] = _("Between 1 and 50 experts and up to 100 reserves.")
        if any(o["specialty"] == code for o in out):
            errors[f"groups[{i}].specialty"] = _("Each specialty once.")
        out.append(
            {
                "specialty": code,
                "count": count,
                "reserves": reserves,
                "main_only": bool(g.get("main_only", True)),
            }
        )
    if errors:
        raise ValidationFailed(
            _("The draw request is not valid."), code="draw_request_invalid", fields=errors
        )
    return out


def _clean_regions(value, field: str) -> list[str]:
    codes = [str(c).strip() for c in (value or []) if str(c).strip()]
    for c in codes:
        if not c.isdigit() or not 2 <= len(c) <= 6:
            raise ValidationFailed(
                _("Region codes are 2 to 6 digits."), code="draw_request_invalid", fields={field: c}
            )
    return sorted(set(codes))


def _aware(value, field: str) -> dt.datetime:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            value = None
    if not isinstance(value, dt.datetime):
        raise ValidationFailed(
            _("A date and time is required."), code="draw_request_invalid", fields={field: ""}
        )
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value.astimezone(dt.UTC)


def draw_request(
    *,
    lot: Lot,
    actor: User,
    evaluation_starts_at,
    evaluation_ends_at,
    groups: list[dict] | None = None,
    region_include=(),
    region_exclude=(),
    same_employer_limit: int | None = None,
    tenderee_limit: int | None = None,
    tenderee_window_days: int | None = None,
    age_cap: int | None = None,
) -> Draw:
    """Centre staff ask for a lot's committee; the seed is made and committed now, before any nonce."""
    if actor.role not in (Role.CENTRE, Role.ADMIN):
        raise AccessDenied(_("Only trading-centre staff request draws."), code="role_forbidden")
    tender = lot.tender
    if tender.state == TenderState.SUSPENDED:
        raise Conflict(_("The tender is suspended; no draw until it resumes."), code="tender_suspended")
    if tender.state not in _DRAWABLE_STATES or lot.status != Lot.Status.ACTIVE:
        raise RuleViolation(_("Experts are drawn for a live tender only."), code="draw_tender_state")
    starts = _aware(evaluation_starts_at, "evaluation_starts_at")
    ends = _aware(evaluation_ends_at, "evaluation_ends_at")
    now = timezone.now()
    if starts <= now or ends <= starts:
        raise ValidationFailed(
            _("The evaluation must start in the future and end after it starts."), code="draw_time_invalid"
        )
    clean = _clean_groups(lot, groups)
    committee = lot.committee or {}
    if committee.get("experts") and sum(g["count"] for g in clean) != int(committee["experts"]):
        raise RuleViolation(
            _("The groups draw %(n)s experts; the lot's committee has %(m)s expert seats.")
            % {"n": sum(g["count"] for g in clean), "m": committee["experts"]},
            code="draw_count_mismatch",
        )
    if committee.get("size"):
        found = check_committee(
            regime=tender.regime,
            size=int(committee["size"]),
            experts=int(committee.get("experts", 0)),
            tenderee_reps=int(committee.get("tenderee_reps", 0)),
            large_or_complex=bool(getattr(tender, "large_or_complex", False)),
        )
        if found:
            raise RuleViolation(str(found[0].message), code=found[0].code, source=found[0].source)

    def limit(value, name):
        value = rules.setting(name) if value is None else value
        try:
            value = int(value)
        except (TypeError, ValueError):
            value = -1
        if value < 0:
            raise ValidationFailed(
                _("Limits are whole numbers ≥ 0."), code="draw_request_invalid", fields={name: ""}
            )
        return value

    request = {
        "v": 1,
        "tender": tender.code,
        "lot": lot.number,
        "groups": clean,
        "region_include": _clean_regions(region_include, "region_include"),
        "region_exclude": _clean_regions(region_exclude, "region_exclude"),
        "evaluation_starts_at": starts.isoformat(),
        "evaluation_ends_at": ends.isoformat(),
        "same_employer_limit": limit(same_employer_limit, "same_employer_limit"),
        "tenderee_limit": limit(tenderee_limit, "tenderee_limit"),
        "tenderee_window_days": limit(tenderee_window_days, "tenderee_window_days"),
        "age_cap": limit(age_cap, "age_cap"),
    }
    seed = core_draw.seed_new()
    with transaction.atomic():
        Lot.objects.select_for_update().get(pk=lot.pk)
        if Draw.objects.filter(lot=lot).exclude(state=Draw.State.CANCELLED).exists():
            raise Conflict(_("This lot already has a draw; cancel it first."), code="draw_exists")
        draw = Draw.objects.create(
            lot=lot,
            request=request,
            request_digest=digest(request),
            seed_commitment=core_draw.seed_commitment(seed),
            seed_sealed=_seal(seed),
            requested_by=actor,
            requested_at=now,
        )
        journal_append(
            stream=tender.stream,
            action="experts.draw_committed",
            actor=actor,
            obj=draw,
            payload={
                "draw": draw.pk,
                "commitment": draw.seed_commitment,
                "request_digest": draw.request_digest,
                "request": request,
            },
        )
    return draw
