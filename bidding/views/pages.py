"""The bidder's sealing page: fill the bid form (投标函), pick the document and the key file, seal in
the browser (static/bidding/seal.js) and upload; then the receipt, replace and withdraw.

The page never receives plaintext: it only renders what the bidder fills in, and the sealing, the
upload and the receipt go through the submission API (bidding/views/api.py) from the browser.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from bidding.selectors import bid_active_for, bidder_entity
from core.errors import AccessDenied
from trading.access import tender_access_read
from trading.models import Lot, Position, PositionRole, TenderState
from trading.selectors import check_entity_may_participate, today
from trading.selectors_workbench import document_obtained
from trading.views.accounts import signed_in

# The read-out items every bid form carries in its own fields; any other item the tender names
# (Lot.read_out_items) is filled in on the page and travels in the form's "items".
STANDARD_ITEMS = frozenset({"price", "duration", "quality", "project_manager"})


def lot_access_for_bidder(*, user, lot_id: int) -> Lot:
    """The lot, if the user is bidder staff of an entity that may take part and obtained the documents."""
    entity = bidder_entity(user)
    lot = get_object_or_404(Lot.objects.select_related("tender"), pk=lot_id)
    tender_access_read(user=user, tender=lot.tender)
    check_entity_may_participate(entity)
    if not document_obtained(tender=lot.tender, entity_id=user.entity_id):
        raise AccessDenied(_("Obtain the tender documents first."), code="documents_not_obtained")
    return lot


def project_managers_of_entity(*, entity_id: int) -> list[Position]:
    """The entity's registered project managers (项目经理) whose position has not ended."""
    return list(
        Position.objects.filter(entity_id=entity_id, role=PositionRole.PROJECT_MANAGER)
        .exclude(end_date__lt=today())
        .select_related("person")
        .order_by("person__name", "pk")
    )


def api_prefix(lot_id: int) -> str:
    """Where bidding/urls.py is mounted ("/bidding/"): the page's script builds the API's URLs
    (docs/sealed-bid.md §6, issue 3) from it."""
    return reverse("bidding:recipients", args=[lot_id])[: -len(f"lots/{lot_id}/recipients")]


@require_safe
@signed_in
def bid_submit_page(request, lot_id: int):
    lot = lot_access_for_bidder(user=request.user, lot_id=lot_id)
    tender = lot.tender
    now = timezone.now()
    # The server decides (DOMAIN B2); the page's countdown is re-based on the API's server_time.
    is_open = tender.state == TenderState.PUBLISHED and now < tender.deadline
    managers = project_managers_of_entity(entity_id=request.user.entity_id)
    items = [str(item) for item in (lot.read_out_items or []) if str(item) not in STANDARD_ITEMS]
    bid = bid_active_for(lot=lot, entity=request.user.entity)
    prefix = api_prefix(lot.pk)
    return render(
        request,
        "bidding/submit.html",
        {
            "tender": tender,
            "lot": lot,
            "entity": request.user.entity,
            "is_open": is_open,
            "server_now": now,
            "managers": managers,
            "extra_items": items,
            "bid": bid,
            "api_prefix": prefix,
            "receipt_url": reverse("bidding:bid-receipt", args=[bid.pk]) if bid else "",
        },
    )


urlpatterns = [
    path("lots/<int:lot_id>/submit/", bid_submit_page, name="bid-submit"),
]
