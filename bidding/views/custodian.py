"""The custodian's page and JSON endpoints: see the shares dealt to you (wrapped to your certified key),
open one in your browser after the deadline and hand it in (docs/custodian-key.md).

The server only ever sends the wrapped share; the browser (static/bidding/custodian.js) or the Python
client (bidding.custodian_client) unwraps it with the custodian's own key.
"""

from __future__ import annotations

import json

from django.http import JsonResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from bidding import custodian
from core.errors import AccessDenied, ValidationFailed
from trading.services.pki import key_proof_missing
from trading.views.accounts import signed_in


def _json_user(request):
    """What `signed_in` checks, answered in JSON: fetch() calls must not be redirected to a login page."""
    if not request.user.is_authenticated:
        raise AccessDenied(_("Please log in first."), code="not_authenticated", status=401)
    if key_proof_missing(request):
        raise AccessDenied(_("Log in with your certificate key first."), code="key_login_required")
    return request.user


@never_cache
@require_safe
@signed_in
def custodian_shares_page(request):
    now = timezone.now()
    rows = []
    for share in custodian.custodian_shares_for(user=request.user):
        tender = share.key.tender
        rows.append(
            {
                "share": share,
                "tender": tender,
                "after_deadline": now >= tender.deadline,
                "status": custodian.custodian_status(tender=tender),
            }
        )
    return render(request, "bidding/custodian.html", {"rows": rows, "server_now": now})


@never_cache
@require_safe
def custodian_share_json(request, share_id: int):
    share = custodian.access_custodian_share(user=_json_user(request), share_id=share_id)
    return JsonResponse(custodian.custodian_share_document(share=share))


@never_cache
@require_POST
def custodian_share_reveal_json(request, share_id: int):
    user = _json_user(request)
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise ValidationFailed(_("The request body must be a JSON object."), code="json_malformed")
    share = custodian.custodian_share_reveal(user=user, share_id=share_id, value=body.get("share", ""))
    return JsonResponse(
        {"revealed": True, "status": custodian.custodian_status(tender=share.key.tender)}, status=200
    )


urlpatterns = [
    path("custodian/", custodian_shares_page, name="custodian-shares"),
    path("custodian/shares/<int:share_id>/", custodian_share_json, name="custodian-share"),
    path(
        "custodian/shares/<int:share_id>/reveal", custodian_share_reveal_json, name="custodian-share-reveal"
    ),
]
