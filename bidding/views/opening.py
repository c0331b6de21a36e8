"""The opening hall's pages: the hall itself (the websocket does the rest), its state as JSON (for
clients without a socket and for tests), sign-in with a power-of-attorney upload, and the record.
"""

from __future__ import annotations

from django.http import FileResponse, JsonResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_POST, require_safe

from archive.blobs import blob_open
from bidding.models import Bid, OpeningRecord, OpeningSession
from bidding.opening import rules, selectors, services
from bidding.opening.participation import ATTORNEY_MAX_BYTES
from core.errors import NotFound
from trading import pki
from trading.views.accounts import signed_in


def _hall(request, lot_id: int):
    lot = selectors.hall_lot(lot_id)
    return lot, selectors.hall_access(user=request.user, lot=lot)


def _labels() -> dict:
    """Names the page's script shows, in the reader's language."""
    return {
        "phase": {
            "waiting": str(_("Waiting for sign-in")),
            **{value: str(label) for value, label in OpeningSession.Phase.choices},
        },
        "decryption": {value: str(label) for value, label in Bid.Decryption.choices},
    }


@signed_in
@ensure_csrf_cookie
@require_safe
def hall_page(request, lot_id: int):
    lot, role = _hall(request, lot_id)
    return render(
        request,
        "bidding/opening.html",
        {
            "lot": lot,
            "tender": lot.tender,
            "role": role,
            "is_host": role == rules.HOST,
            "is_bidder": role == rules.BIDDER,
            "labels": _labels(),
            "ws_path": f"/ws/opening/{lot.pk}/",
            "state_url": reverse("bidding:opening-state", args=[lot.pk]),
            "signin_url": reverse("bidding:opening-signin", args=[lot.pk]),
        },
    )


@signed_in
@never_cache
@require_safe
def hall_state(request, lot_id: int):
    lot, role = _hall(request, lot_id)
    services.opening_tick(lot=lot)
    return JsonResponse(selectors.hall_state(user=request.user, lot=lot, role=role))


@signed_in
@require_POST
def hall_signin(request, lot_id: int):
    """Sign-in with an optional power of attorney (multipart field `attorney`)."""
    lot, _role = _hall(request, lot_id)
    services.opening_tick(lot=lot)
    upload = request.FILES.get("attorney")
    services.opening_signin(
        lot=lot,
        user=request.user,
        attorney=upload.read(ATTORNEY_MAX_BYTES + 1) if upload else None,
        attorney_type=upload.content_type if upload else "",
        request=request,
    )
    return JsonResponse(selectors.hall_state(user=request.user, lot=lot, role=_role))


def _record(request, lot_id: int) -> OpeningRecord:
    lot, _role = _hall(request, lot_id)
    record = OpeningRecord.objects.filter(session__lot=lot).first()
    if record is None:
        raise NotFound(_("There is no opening record yet."), code="record_not_found")
    return record


@signed_in
@require_safe
def record_json(request, lot_id: int):
    """The record's data with the platform's signature and certificate, to verify offline."""
    record = _record(request, lot_id)
    return JsonResponse(
        {
            "data": record.data,
            "data_sha256": record.data_sha256,
            "platform_signature": record.platform_signature,
            "platform_certificate": pki.pem(pki.platform_signer()[1]),
        },
        json_dumps_params={"ensure_ascii": False},
    )


@signed_in
@require_safe
def record_pdf(request, lot_id: int):
    record = _record(request, lot_id)
    if record.pdf is None:
        raise NotFound(_("The record is printed when the opening closes."), code="record_not_final")
    return FileResponse(
        blob_open(record.pdf),
        content_type="application/pdf",
        as_attachment=True,
        filename=f"opening-record-{lot_id}.pdf",
    )


urlpatterns = [
    path("lots/<int:lot_id>/opening/", hall_page, name="opening"),
    path("lots/<int:lot_id>/opening/state", hall_state, name="opening-state"),
    path("lots/<int:lot_id>/opening/signin", hall_signin, name="opening-signin"),
    path("lots/<int:lot_id>/opening/record", record_json, name="opening-record"),
    path("lots/<int:lot_id>/opening/record.pdf", record_pdf, name="opening-record-pdf"),
]
