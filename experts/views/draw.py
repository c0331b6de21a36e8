"""Draw pages: centre staff request a committee, a supervisor types the nonce, everyone allowed
watches the result (names sealed per DOMAIN C4); experts confirm or decline their seat; the public
record of a revealed draw is JSON for anyone to re-run (docs/expert-draw.md)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.errors import AccessDenied, DomainError, NotFound
from experts import rules, selectors
from experts.access import access_draw
from experts.models import Assignment, Draw
from experts.services import draw as draws
from trading.models import Lot, Role
from trading.views.accounts import error_context, signed_in


def _staff(request) -> None:
    if request.user.role not in (Role.CENTRE, Role.REGULATOR, Role.ADMIN):
        raise AccessDenied(_("Your role may not see expert draws."), code="role_forbidden")


@never_cache
@require_safe
@signed_in
def draw_list(request):
    _staff(request)
    return render(
        request,
        "experts/draw/list.html",
        {"waiting": selectors.lots_awaiting_draw()[:100], "draws": selectors.draws_recent()},
    )


def _when(value: str):
    parsed = parse_datetime(value or "")
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


@never_cache
@require_http_methods(["GET", "POST"])
@signed_in
def draw_new(request, lot_id: int):
    if request.user.role not in (Role.CENTRE, Role.ADMIN):
        raise AccessDenied(_("Only trading-centre staff request draws."), code="role_forbidden")
    lot = get_object_or_404(Lot.objects.select_related("tender"), pk=lot_id)
    committee = lot.committee or {}
    start = timezone.localtime(lot.tender.deadline) + dt.timedelta(hours=2)
    rows = [
        {
            "specialty": g.get("code") or g.get("specialty", ""),
            "count": g.get("count", ""),
            "reserves": g.get("count", ""),
        }
        for g in committee.get("specialties", [])
    ] or [{"specialty": "", "count": committee.get("experts", ""), "reserves": committee.get("experts", "")}]
    data = {
        "evaluation_starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "evaluation_ends_at": (start + dt.timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M"),
        "region_include": "",
        "region_exclude": "",
        "same_employer_limit": rules.setting("same_employer_limit"),
        "tenderee_limit": rules.setting("tenderee_limit"),
        "tenderee_window_days": rules.setting("tenderee_window_days"),
        "age_cap": rules.setting("age_cap"),
    }
    error, status = None, 200
    if request.method == "POST":
        post = request.POST
        data = {k: post.get(k, "").strip() for k in data}
        rows = [
            {"specialty": s.strip(), "count": c.strip(), "reserves": r.strip()}
            for s, c, r in zip(
                post.getlist("specialty"), post.getlist("count"), post.getlist("reserves"), strict=False
            )
            if s.strip() or c.strip()
        ]
        try:
            draw = draws.draw_request(
                lot=lot,
                actor=request.user,
                groups=rows,
                evaluation_starts_at=_when(data["evaluation_starts_at"]),
                evaluation_ends_at=_when(data["evaluation_ends_at"]),
                region_include=data["region_include"].replace("，", ",").split(","),
                region_exclude=data["region_exclude"].replace("，", ",").split(","),
                same_employer_limit=data["same_employer_limit"] or None,
                tenderee_limit=data["tenderee_limit"] or None,
                tenderee_window_days=data["tenderee_window_days"] or None,
                age_cap=data["age_cap"] or None,
            )
        except DomainError as exc:
            if isinstance(exc, AccessDenied):
                raise
            error, status = error_context(exc), exc.status
        else:
            messages.success(
                request, _("The seed is committed. A supervisor now starts the draw with a nonce.")
            )
            return redirect("experts:draw_detail", draw_id=draw.pk)
    rows += [{"specialty": "", "count": "", "reserves": ""}] * max(0, 3 - len(rows))
    return render(
        request,
        "experts/draw/new.html",
        {"lot": lot, "committee": committee, "data": data, "rows": rows, "error": error},
        status=status,
    )


def _detail(request, draw: Draw, *, error=None, status=200):
    view = selectors.draw_view(draw=draw, user=request.user)
    may_perform = (
        draw.state == Draw.State.COMMITTED
        and request.user.role in (Role.REGULATOR, Role.CENTRE, Role.ADMIN)
        and request.user.pk != draw.requested_by_id
    )
    return render(
        request,
        "experts/draw/detail.html",
        {**view, "may_perform": may_perform, "error": error, "Draw": Draw},
        status=status,
    )


@never_cache
@require_safe
@signed_in
def draw_detail(request, draw_id: int):
    return _detail(request, access_draw(user=request.user, draw_id=draw_id))


@require_POST
@signed_in
def draw_perform_view(request, draw_id: int):
    draw = access_draw(user=request.user, draw_id=draw_id)
    try:
        draws.draw_perform(draw=draw, nonce=request.POST.get("nonce", ""), actor=request.user)
    except DomainError as exc:
        if isinstance(exc, AccessDenied):
            raise
        draw.refresh_from_db()
        return _detail(request, draw, error=error_context(exc), status=exc.status)
    messages.success(request, _("The draw is done; the experts are being called."))
    return redirect("experts:draw_detail", draw_id=draw.pk)


@require_POST
@signed_in
def draw_cancel_view(request, draw_id: int):
    draw = access_draw(user=request.user, draw_id=draw_id)
    try:
        draws.draw_cancel(draw=draw, actor=request.user, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        if isinstance(exc, AccessDenied):
            raise
        return _detail(request, draw, error=error_context(exc), status=exc.status)
    messages.success(request, _("The draw is cancelled."))
    return redirect("experts:draw_detail", draw_id=draw.pk)


@require_POST
@signed_in
def draw_extend_view(request, draw_id: int):
    draw = access_draw(user=request.user, draw_id=draw_id)
    try:
        group, more = int(request.POST.get("group", "")), int(request.POST.get("more", ""))
    except ValueError:
        group, more = -1, 0
    try:
        called = draws.draw_extend(draw=draw, actor=request.user, group=group, more=more)
    except DomainError as exc:
        if isinstance(exc, AccessDenied):
            raise
        return _detail(request, draw, error=error_context(exc), status=exc.status)
    messages.success(
        request, _("The reserve list is extended; %(n)s vacant seat(s) called.") % {"n": len(called)}
    )
    return redirect("experts:draw_detail", draw_id=draw.pk)


@never_cache
@require_safe
def draw_record_json(request, draw_id: int):
    """Public: before the reveal the commitment and digests only; afterwards the whole record."""
    try:
        draw = Draw.objects.get(pk=draw_id)
    except Draw.DoesNotExist as exc:
        raise NotFound(_("No such draw."), code="draw_not_found") from exc
    record = draws.draw_record(draw)
    if draw.state != Draw.State.REVEALED:
        record["groups"] = [
            {
                "group": g["group"],
                "specialty": g["specialty"],
                "count": g["count"],
                "pool_size": len(g["pool"]),
                "pool_digest": g["pool_digest"],
            }
            for g in record["groups"]
        ]
    record["state"] = draw.state
    return JsonResponse(record, json_dumps_params={"ensure_ascii": False})


# --- the expert's own seats ------------------------------------------------------------------------


@never_cache
@require_safe
@signed_in
def my_draws(request, error=None, status=200):
    if request.user.role != Role.EXPERT:
        raise AccessDenied(_("This page is for experts."), code="role_forbidden")
    return render(
        request,
        "experts/draw/mine.html",
        {"seats": selectors.my_assignments(user=request.user), "error": error, "now": timezone.now()},
        status=status,
    )


@require_POST
@signed_in
def my_draw_reply(request, assignment_id: int, answer: str):
    assignment = get_object_or_404(
        Assignment.objects.select_related("expert", "draw__lot__tender"),
        pk=assignment_id,
        expert__user=request.user,
    )
    try:
        if answer == "confirm":
            draws.assignment_confirm(assignment=assignment, actor=request.user)
            messages.success(request, _("Thank you: your seat is confirmed."))
        else:
            draws.assignment_decline(
                assignment=assignment, actor=request.user, reason=request.POST.get("reason", "")
            )
            messages.success(request, _("You declined; a reserve is being called."))
    except DomainError as exc:
        if isinstance(exc, AccessDenied):
            raise
        request.method = "GET"
        return my_draws(request, error=error_context(exc), status=exc.status)
    return redirect("experts:my_draws")


urlpatterns = [
    path("draws/", draw_list, name="draw_list"),
    path("draws/new/<int:lot_id>/", draw_new, name="draw_new"),
    path("draws/<int:draw_id>/", draw_detail, name="draw_detail"),
    path("draws/<int:draw_id>/perform/", draw_perform_view, name="draw_perform"),
    path("draws/<int:draw_id>/cancel/", draw_cancel_view, name="draw_cancel"),
    path("draws/<int:draw_id>/extend/", draw_extend_view, name="draw_extend"),
    path("draws/<int:draw_id>/record.json", draw_record_json, name="draw_record"),
    path("my/draws/", my_draws, name="my_draws"),
    path(
        "my/draws/<int:assignment_id>/confirm/", my_draw_reply, {"answer": "confirm"}, name="my_draw_confirm"
    ),
    path(
        "my/draws/<int:assignment_id>/decline/", my_draw_reply, {"answer": "decline"}, name="my_draw_decline"
    ),
]
