"""Social supervisors invited to watch (issue 7 item 1): a supervisor's invitations with the way into
each lot's opening hall or evaluation room, and a tender's invitations for the regulators supervising it
(invite by name, draw at random, withdraw). Thin: parse, check access, call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from core.errors import AccessDenied, DomainError, NotFound, ValidationFailed
from supervision.models import Invitation, SocialSupervisor
from supervision.selectors import invitations_of
from supervision.services import invitations as svc
from trading.access import require_role, tender_access_supervise
from trading.models import Role, Tender
from trading.views.accounts import error_context, signed_in


def _tender(request, tender_id: int) -> Tender:
    tender = Tender.objects.filter(pk=tender_id).first()
    if tender is None:
        raise NotFound(_("No such tender."), code="tender_not_found")
    return tender_access_supervise(user=request.user, tender=tender)


@never_cache
@require_safe
@signed_in
def invitation_list(request):
    """A social supervisor's invitations, each with the lots to enter."""
    require_role(request.user, Role.SUPERVISOR)
    rows = [
        {"invitation": inv, "lots": list(inv.tender.lots.order_by("number"))}
        for inv in invitations_of(request.user).prefetch_related("tender__lots")
    ]
    return render(request, "supervision/invitations/list.html", {"rows": rows})


def _tender_page(request, tender: Tender, *, error=None, status=200):
    invited = Invitation.objects.filter(tender=tender).select_related("supervisor", "invited_by")
    taken = {(i.supervisor_id, i.stage) for i in invited if i.revoked_at is None}
    pool = SocialSupervisor.objects.filter(active=True, user__isnull=False).order_by("name")
    return render(
        request,
        "supervision/invitations/tender.html",
        {
            "tender": tender,
            "invitations": invited.order_by("-invited_at", "-pk"),
            "pool": [
                {"s": s, "opening": (s.pk, "opening") in taken, "evaluation": (s.pk, "evaluation") in taken}
                for s in pool
            ],
            "stages": Invitation.Stage.choices,
            "error": error_context(error) if error is not None else None,
        },
        status=status,
    )


@never_cache
@require_safe
@signed_in
def tender_invitations(request, tender_id: int):
    return _tender_page(request, _tender(request, tender_id))


@require_POST
@signed_in
def invite(request, tender_id: int):
    tender = _tender(request, tender_id)
    stage = request.POST.get("stage", "")
    choice = request.POST.get("supervisor", "").strip()
    try:
        if choice == "random":
            drawn = svc.invitation_draw(actor=request.user, tender=tender, stage=stage, count=1)
            names = "、".join(i.supervisor.name for i in drawn)
        else:
            supervisor = SocialSupervisor.objects.filter(pk=int(choice)).first() if choice.isdigit() else None
            if supervisor is None:
                raise ValidationFailed(
                    _("Choose a supervisor from the pool, or draw one."),
                    code="supervisor_invalid",
                    fields={"supervisor": _("Choose one.")},
                )
            names = svc.invitation_create(
                actor=request.user, tender=tender, supervisor=supervisor, stage=stage
            ).supervisor.name
    except DomainError as exc:
        if isinstance(exc, AccessDenied):
            raise
        return _tender_page(request, tender, error=exc, status=exc.status)
    messages.success(request, _("Invited: %(names)s.") % {"names": names})
    return redirect("supervision:tender_invitations", tender_id=tender.pk)


@require_POST
@signed_in
def invitation_revoke(request, pk: int):
    invitation = Invitation.objects.select_related("tender").filter(pk=pk).first()
    if invitation is None:
        raise NotFound(_("No such invitation."), code="invitation_not_found")
    tender = _tender(request, invitation.tender_id)
    try:
        svc.invitation_revoke(actor=request.user, invitation=invitation)
    except DomainError as exc:
        if isinstance(exc, AccessDenied):
            raise
        return _tender_page(request, tender, error=exc, status=exc.status)
    messages.success(request, _("The invitation is withdrawn."))
    return redirect("supervision:tender_invitations", tender_id=tender.pk)


urlpatterns = [
    path("invitations/", invitation_list, name="invitation_list"),
    path("tenders/<int:tender_id>/invitations/", tender_invitations, name="tender_invitations"),
    path("tenders/<int:tender_id>/invitations/new", invite, name="invite"),
    path("invitations/<int:pk>/revoke", invitation_revoke, name="invitation_revoke"),
]
