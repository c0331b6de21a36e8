"""Submission API (docs/sealed-bid.md §6): recipients, resumable upload, completion, receipt, withdraw,
bid security. Session authentication with CSRF; every error is JSON `{"error": {"code", "message"}}`.
"""

from __future__ import annotations

import json
from functools import wraps

from django.http import JsonResponse
from django.urls import path
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from bidding import selectors
from bidding.services import submission
from bidding.services.security import bid_security_record
from core.errors import DomainError, NotFound, ValidationFailed
from trading.access import require_login
from trading.models import BankAccount, MarketEntity, Role


def api(*methods: str):
    """Login required, only `methods`, DomainError → its JSON and status, never cached."""

    def decorate(view):
        @wraps(view)
        def inner(request, *args, **kwargs):
            if request.method not in methods:
                return JsonResponse(
                    {"error": {"code": "method_not_allowed", "message": str(_("Method not allowed."))}},
                    status=405,
                    headers={"Allow": ", ".join(methods)},
                )
            try:
                require_login(request.user)
                return view(request, *args, **kwargs)
            except DomainError as exc:
                return JsonResponse({"error": exc.as_dict()}, status=exc.status)

        return never_cache(inner)

    return decorate


def _json(request) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed(_("The request body is not valid JSON."), code="json_malformed") from None
    if not isinstance(data, dict):
        raise ValidationFailed(_("The request body must be a JSON object."), code="json_malformed")
    return data


def _bid_json(bid) -> dict:
    return {
        "bid_id": str(bid.pk),
        "status": bid.status,
        "submitted_at": bid.submitted_at.isoformat(),
        "withdrawn_at": bid.withdrawn_at.isoformat() if bid.withdrawn_at else None,
        "replaced_by": str(bid.replaced_by_id) if bid.replaced_by_id else None,
        "ciphertext_sha256": bid.ciphertext_id,
        "ciphertext_size": bid.ciphertext_size,
        "receipt": bid.receipt,
    }


@api("GET")
def recipients(request, lot_id: int):
    lot = selectors.lot_get_for_submission(lot_id=lot_id)
    return JsonResponse(selectors.recipients_for(lot=lot, user=request.user))


@api("POST")
def upload_start(request, lot_id: int):
    lot = selectors.lot_get_for_submission(lot_id=lot_id)
    upload = submission.upload_start(lot=lot, user=request.user, size=_json(request).get("size"))
    return JsonResponse(
        {"upload_id": str(upload.pk), "received": upload.received, "part_max": submission.PART_MAX},
        status=201,
    )


@api("GET", "PUT", "DELETE")
def upload_resource(request, upload_id):
    """GET: where the upload stands; PUT ?offset=N: the next part (raw body); DELETE: cancel."""
    upload = selectors.upload_get_for_user(upload_id=upload_id, user=request.user)
    if request.method == "GET":
        return JsonResponse(submission.upload_status(upload=upload))
    if request.method == "DELETE":
        upload = submission.upload_abandon(upload=upload, user=request.user)
        return JsonResponse(submission.upload_status(upload=upload))
    try:
        offset = int(request.GET.get("offset", ""))
    except ValueError:
        raise ValidationFailed(
            _("Give the part's offset (?offset=N)."), code="upload_offset_invalid"
        ) from None
    # Read one byte more than allowed, so an oversized part is refused rather than cut.
    data = request.read(submission.PART_MAX + 1)
    upload = submission.upload_append(upload=upload, user=request.user, offset=offset, data=data)
    return JsonResponse({"received": upload.received})


@api("POST")
def upload_complete(request, upload_id):
    upload = selectors.upload_get_for_user(upload_id=upload_id, user=request.user)
    body = _json(request)
    bid = submission.upload_complete(
        upload=upload,
        user=request.user,
        header=body.get("header"),
        signature=body.get("signature"),
        file_meta=body.get("file_meta"),
        ciphertext_sha256=body.get("ciphertext_sha256"),
        ciphertext_size=body.get("ciphertext_size"),
        request=request,
    )
    return JsonResponse({"bid_id": str(bid.pk), "receipt": bid.receipt}, status=201)


@api("GET")
def bids_mine(request, lot_id: int):
    lot = selectors.lot_get_for_submission(lot_id=lot_id)
    entity = selectors.bidder_entity(request.user)
    return JsonResponse({"bids": [_bid_json(b) for b in selectors.bids_of_entity(lot=lot, entity=entity)]})


@api("POST")
def bid_withdraw(request, bid_id):
    bid = selectors.bid_get_for_user(bid_id=bid_id, user=request.user)
    bid = submission.bid_withdraw(bid=bid, user=request.user)
    return JsonResponse(_bid_json(bid))


@api("GET")
def bid_receipt(request, bid_id):
    bid = selectors.bid_get_for_user(bid_id=bid_id, user=request.user)
    return JsonResponse(bid.receipt)


@api("POST")
def security_record(request, lot_id: int):
    lot = selectors.lot_get_for_submission(lot_id=lot_id)
    body = _json(request)
    user = request.user
    if user.role == Role.BIDDER:
        entity = selectors.bidder_entity(user)
    else:
        entity = MarketEntity.objects.filter(uscc=str(body.get("entity", ""))).first()
        if entity is None:
            raise NotFound(_("No such bidder."), code="entity_not_found")
    account = None
    if body.get("account") not in (None, ""):
        account = BankAccount.objects.filter(pk=_int(body["account"]), entity=entity).first()
        if account is None:
            raise ValidationFailed(
                _("This bank account is not one of the bidder's registered accounts."),
                code="security_account_not_entity",
            )
    received_at = None
    if body.get("received_at"):
        received_at = parse_datetime(str(body["received_at"]))
        if received_at is None or received_at.tzinfo is None:
            raise ValidationFailed(
                _("received_at must be an ISO time with a zone."), code="security_time_invalid"
            )
    security = bid_security_record(
        lot=lot,
        entity=entity,
        amount=body.get("amount"),
        method=str(body.get("method", "")),
        account=account,
        payer_account_number=str(body.get("payer_account_number", "")),
        reference=str(body.get("reference", "")),
        actor=user,
        received_at=received_at,
    )
    return JsonResponse(
        {
            "lot": lot.number,
            "bidder": entity.uscc,
            "amount": str(security.amount),
            "method": security.method,
            "account": security.account_id,
            "received_at": security.received_at.isoformat(),
            "verified": security.verified_at is not None,
        },
        status=201,
    )


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


urlpatterns = [
    path("lots/<int:lot_id>/recipients", recipients, name="recipients"),
    path("lots/<int:lot_id>/uploads/", upload_start, name="upload-start"),
    path("lots/<int:lot_id>/bids/", bids_mine, name="bids-mine"),
    path("lots/<int:lot_id>/security", security_record, name="security-record"),
    path("uploads/<uuid:upload_id>/", upload_resource, name="upload"),
    path("uploads/<uuid:upload_id>/complete", upload_complete, name="upload-complete"),
    path("bids/<uuid:bid_id>/withdraw", bid_withdraw, name="bid-withdraw"),
    path("bids/<uuid:bid_id>/receipt", bid_receipt, name="bid-receipt"),
]
