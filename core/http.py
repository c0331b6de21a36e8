"""Request helpers shared by every app."""

from __future__ import annotations

from django.conf import settings


def client_ip(request) -> str | None:
    """The client's address. Behind the production proxy REMOTE_ADDR is the proxy, so the
    first X-Forwarded-For hop is trusted only when settings say a TLS proxy is in front."""
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None
