"""The signed-in tender page: what each role may see and do there, and the helpers every
tender action shares (fetch with access check, turn a refusal into the page with its reason).
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from core.errors import AccessDenied, DomainError
from trading import rules
from trading.access import READ_ALL_ROLES, in_jurisdiction, manages_tender, tender_access_read
from trading.models import Role, Tender, TenderState
from trading.selectors import check_entity_may_participate
from trading.selectors_workbench import document_download_get, tender_announcements_for_staff
from trading.views.accounts import error_context, signed_in

# Suspension and resumption are also the centre's and the regulator's to order (objections,
# complaints); closing, publishing and amending are the tender's managers' only.
SUPERVISING_ROLES = {Role.CENTRE, Role.REGULATOR, Role.ADMIN}


def refusal(exc: DomainError) -> dict:
    """The error shown on a tender page; access refusals are re-raised instead."""
    # Access refusals are not form errors: they go to core.middleware as a 403 page.
    if isinstance(exc, AccessDenied) or exc.code == "tender_not_yours":
        raise exc
    return error_context(exc)


def tender_for(request, pk: int) -> Tender:
    """The tender if the signed-in user may read it (404 if it does not exist, else 403)."""
    tender = get_object_or_404(Tender.objects.select_related("tenderee", "agency"), pk=pk)
    return tender_access_read(user=request.user, tender=tender)


def detail_page(request, tender: Tender, *, error=None, status=200):
    user = request.user
    manages = manages_tender(user, tender)
    # a regulator orders suspension of the tenders its departments supervise (issue 7)
    supervises = user.role in SUPERVISING_ROLES and (
        user.role != Role.REGULATOR or in_jurisdiction(user, tender)
    )
    context = {
        "tender": tender,
        "lots": tender.lots.order_by("number"),
        "announcements": tender_announcements_for_staff(
            tender=tender, include_unpublished=manages or supervises
        ),
        "error": error,
        "manages": manages,
        "extended": bool(tender.original_deadline and tender.original_deadline != tender.deadline),
        "can_edit": manages and tender.state == TenderState.DRAFT,
        "can_publish": manages and tender.state == TenderState.DRAFT,
        "can_amend": manages and tender.state == TenderState.PUBLISHED,
        "can_suspend": (manages or supervises) and tender.state in rules.RESUMABLE_STATES,
        "can_resume": (manages or supervises) and tender.state == TenderState.SUSPENDED,
        "can_close": manages and TenderState.TERMINATED in rules.TENDER_TRANSITIONS[tender.state],
        "close_targets": [
            (s, TenderState(s).label)
            for s in (TenderState.FAILED, TenderState.TERMINATED)
            if s in rules.TENDER_TRANSITIONS[tender.state]
        ],
        # Who obtained the documents is not shown to anybody here: the tenderer may not learn the
        # names or number of potential bidders (招标投标法第二十二条); amendments reach them anyway.
        "may_list_documents": manages or user.role in READ_ALL_ROLES,
    }
    if user.role == Role.BIDDER:
        download = document_download_get(tender=tender, entity_id=user.entity_id)
        now = timezone.now()
        blocked = None
        try:
            check_entity_may_participate(user.entity)
        except DomainError as exc:
            blocked = error_context(exc)
        context.update(
            {
                "download": download,
                "participation_blocked": blocked,
                "may_list_documents": download is not None,
                "can_obtain": tender.state == TenderState.PUBLISHED
                and tender.docs_from <= now <= tender.docs_until
                and blocked is None,
            }
        )
    return render(request, "trading/tenders/detail.html", context, status=status)


@require_safe
@signed_in
def tender_detail(request, pk: int):
    return detail_page(request, tender_for(request, pk))
