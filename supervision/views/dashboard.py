"""The regulator's dashboard (/supervision/): complaints by clock, open alerts by score, tenders by state,
tip-offs and instructions waiting, and the monthly trend, over the viewer's jurisdiction. Thin: check
access, parse the department filter, ask the selector, render."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from supervision.selectors.dashboard import dashboard_figures, dashboard_scope
from trading.views.accounts import signed_in


@never_cache
@require_safe
@signed_in
def dashboard(request):
    scope = dashboard_scope(user=request.user, department=request.GET.get("department"))
    return render(
        request,
        "supervision/dashboard/page.html",
        {"scope": scope, **dashboard_figures(scope=scope), "here": "supervision"},
    )


urlpatterns = [path("", dashboard, name="dashboard")]
