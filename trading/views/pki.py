"""Views: certificates (request, list, revoke, download), the public CA certificate and CRL, key login."""

from __future__ import annotations

import json

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, re_path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import AccessDenied, DomainError, ValidationFailed
from core.throttle import rate_limit
from trading import pki
from trading import selectors_pki as selectors
from trading.services import pki as services
from trading.views.accounts import SESSION_KEY_REQUIRED, signed_in

PEM_TYPE = "application/x-pem-file"


def _wants_json(request) -> bool:
    return request.content_type == "application/json" or "application/json" in request.headers.get(
        "Accept", ""
    )


def _error(exc: DomainError) -> JsonResponse:
    return JsonResponse({"error": exc.as_dict()}, status=exc.status)


def _body(request) -> dict:
    if request.content_type != "application/json":
        return request.POST.dict()
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed(_("The request body is not valid JSON."), code="json_malformed") from None
    if not isinstance(data, dict):
        raise ValidationFailed(_("The request body must be a JSON object."), code="json_malformed")
    return data


def _certificate_json(cert) -> dict:
    return {
        "serial": cert.serial,
        "subject": cert.subject,
        "status": cert.status,
        "not_before": cert.not_before.isoformat(),
        "not_after": cert.not_after.isoformat(),
        "public_key_sha256": cert.public_key_sha256,
        "certificate_pem": cert.certificate_pem,
    }


@signed_in
@require_GET
def certificate_list(request):
    certificates = selectors.certificate_list_for(user=request.user)[:200]
    return render(
        request,
        "trading/pki/certificates.html",
        {
            "certificates": certificates,
            "can_request": selectors.user_may_request_certificate(request.user),
            "is_staff_view": request.user.role in selectors.STAFF_ROLES,
            "reasons": pki.REVOCATION_REASON_LABELS.items(),
            "now": timezone.now(),
        },
    )


def _json_gate(request) -> JsonResponse | None:
    """What `signed_in` does for pages, answered in JSON for the browser's fetch() calls."""
    if not request.user.is_authenticated:
        return _error(AccessDenied(_("Please log in first."), code="not_authenticated", status=401))
    if services.key_proof_missing(request) or (
        request.session.get(SESSION_KEY_REQUIRED) and not request.session.get("key_verified")
    ):
        return _error(AccessDenied(_("Log in with your certificate key first."), code="key_login_required"))
    return None


@require_http_methods(["GET", "POST"])
def certificate_request(request):
    """GET: the page that makes the key in the browser. POST: a CSR, as JSON {csr} or a form field."""
    if request.method == "POST" and _wants_json(request):
        refused = _json_gate(request)
        if refused is not None:
            return refused
        try:
            cert = services.certificate_issue(
                user=request.user, csr_pem=_body(request).get("csr", ""), actor=request.user
            )
        except DomainError as exc:
            return _error(exc)
        return JsonResponse(_certificate_json(cert), status=201)
    return _certificate_request_page(request)


@signed_in
def _certificate_request_page(request):
    if request.method == "POST":
        cert = services.certificate_issue(
            user=request.user, csr_pem=request.POST.get("csr", ""), actor=request.user
        )
        messages.success(request, _("Certificate %(serial)s issued.") % {"serial": cert.serial})
        return redirect("trading:pki-certificates")
    return render(
        request,
        "trading/pki/request.html",
        {
            "can_request": selectors.user_may_request_certificate(request.user),
        },
    )


@require_POST
def certificate_revoke(request, serial: str):
    if _wants_json(request):
        refused = _json_gate(request)
        if refused is not None:
            return refused
        try:
            cert = _revoke(request, serial)
        except DomainError as exc:
            return _error(exc)
        return JsonResponse(_certificate_json(cert))
    return _certificate_revoke_form(request, serial)


@signed_in
def _certificate_revoke_form(request, serial: str):
    cert = _revoke(request, serial)
    messages.success(request, _("Certificate %(serial)s revoked.") % {"serial": cert.serial})
    return redirect("trading:pki-certificates")


def _revoke(request, serial: str):
    cert = selectors.certificate_get(serial=serial)
    return services.certificate_revoke(
        certificate=cert, reason=str(_body(request).get("reason", "")), actor=request.user
    )


@signed_in
@require_GET
def certificate_download(request, serial: str):
    cert = selectors.certificate_get_for_download(user=request.user, serial=serial)
    response = HttpResponse(cert.certificate_pem, content_type=PEM_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{cert.serial}.pem"'
    return response


@require_GET
def ca_pem(request):
    response = HttpResponse(pki.ca_certificate_pem(), content_type=PEM_TYPE)
    response["Cache-Control"] = "public, max-age=86400"
    return response


@never_cache
@require_GET
def crl_pem(request):
    revoked = selectors.certificates_revoked().values_list("serial", "revoked_at", "revocation_reason")
    crl = pki.crl_build(revoked)
    return HttpResponse(crl.public_bytes(serialization.Encoding.PEM), content_type=PEM_TYPE)


# --- key login --------------------------------------------------------------------------------------


def _redirect_target(request, candidate: str) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    try:
        return reverse(settings.LOGIN_REDIRECT_URL)
    except NoReverseMatch:
        return "/"


@ensure_csrf_cookie  # a scripted client takes its CSRF cookie from here before it posts the answer
@never_cache
@require_GET
@rate_limit("challenge", methods=("GET",), json=True)
def key_login_challenge(request):
    username = request.GET.get("username", "").strip()
    if not username or len(username) > 150:
        return _error(ValidationFailed(_("Give the user name to log in as."), code="username_required"))
    challenge = services.auth_challenge_create(user=selectors.user_for_key_login(username=username))
    return JsonResponse(
        {
            "nonce": challenge.nonce,
            "expires_at": challenge.expires_at.isoformat(),
            "server_time": challenge.created_at.isoformat(),
        }
    )


@ensure_csrf_cookie
@never_cache
@require_http_methods(["GET", "POST"])
@rate_limit("key_login", json=True)
def key_login(request):
    """GET: the page that signs a challenge in the browser. POST: the signed answer, JSON
    {username, nonce, signature (base64, DER or raw r||s), certificate_serial (optional), next}."""
    if request.method == "GET":
        return render(
            request,
            "trading/pki/key_login.html",
            {
                "next": _redirect_target(request, request.GET.get("next", "")),
                "username": request.user.username if request.user.is_authenticated else "",
            },
        )
    try:
        data = _body(request)
        user = services.key_login_verify(
            username=str(data.get("username", "")).strip(),
            nonce=str(data.get("nonce", "")),
            signature_b64=str(data.get("signature", "")),
            certificate_serial=str(data.get("certificate_serial", "") or ""),
            ip=request.META.get("REMOTE_ADDR"),
            user_agent=request.headers.get("User-Agent", ""),
        )
    except DomainError as exc:
        return _error(exc)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    # Set after login(): login() cycles the session key, and may flush the session of another user.
    request.session["key_verified"] = user.key_certificate.serial
    return JsonResponse(
        {
            "ok": True,
            "username": user.username,
            "certificate_serial": user.key_certificate.serial,
            "redirect": _redirect_target(request, str(data.get("next", ""))),
        }
    )


urlpatterns = [
    path("pki/certificates/", certificate_list, name="pki-certificates"),
    path("pki/certificates/request/", certificate_request, name="pki-request"),
    re_path(
        r"^pki/certificates/(?P<serial>[0-9a-fA-F]{1,64})\.pem$", certificate_download, name="pki-download"
    ),
    re_path(
        r"^pki/certificates/(?P<serial>[0-9a-fA-F]{1,64})/revoke/$", certificate_revoke, name="pki-revoke"
    ),
    path("pki/ca.pem", ca_pem, name="pki-ca"),
    path("pki/crl.pem", crl_pem, name="pki-crl"),
    path("accounts/key-login/", key_login, name="key-login"),
    path("accounts/key-login/challenge", key_login_challenge, name="key-login-challenge"),
]
