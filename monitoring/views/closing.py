"""Archiving a project from its monitoring tab (issue 6 item 6): the centre seals a finished project;
while an alert is undecided only a regulator can, with a recorded override."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import AccessDenied, DomainError, NotFound
from monitoring.services.closing import project_close
from monitoring.views import common
from monitoring.views.market import render_tender
from trading.models import Tender
from trading.views.accounts import signed_in

OVERRIDE_MAX = 2000


@require_POST
@signed_in
def archive_view(request, tender_id: int):
    common.monitoring_access_read(request.user)
    tender = Tender.objects.filter(pk=tender_id).first()
    if tender is None:
        raise NotFound(_("No such tender."), code="tender_not_found")
    common.monitoring_access_tender(request.user, tender)
    reason = request.POST.get("override_reason", "")[:OVERRIDE_MAX]
    try:
        package = project_close(tender=tender, actor=request.user, override_reason=reason)
    except DomainError as exc:
        if isinstance(exc, AccessDenied):
            raise
        return render_tender(request, tender_id, error=exc)
    messages.success(
        request, _("The project is sealed into the archive (package version %(v)s).") % {"v": package.version}
    )
    return redirect("monitoring:tender", tender_id=tender_id)


urlpatterns = [path("tenders/<int:tender_id>/archive", archive_view, name="tender-archive")]
