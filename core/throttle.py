"""Fixed-window rate limits for endpoints anyone can hit (login, key-login challenges,
registration), kept in the shared cache so several Daphne processes count together.

Limits are settings (RATE_LIMITS = {"login": "20/600", ...}: requests per seconds), not law.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from core.http import client_ip

DEFAULT_LIMITS = {
    "login": "30/600",
    "key_login": "30/600",
    "challenge": "60/600",
    "register": "10/3600",
    "tipoff": "10/3600",
    "tipoff_follow": "30/600",
}


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    default_message = _("Too many requests from your address; please wait a while and try again.")


def _limit(scope: str) -> tuple[int, int]:
    spec = {**DEFAULT_LIMITS, **getattr(settings, "RATE_LIMITS", {})}[scope]
    count, seconds = spec.split("/")
    return int(count), int(seconds)


def client_key(request) -> str:
    return client_ip(request) or "unknown"


def throttle_hit(*, scope: str, key: str) -> None:
    """Count one request of `key` in `scope`; raise RateLimited past the limit."""
    limit, window = _limit(scope)
    if limit <= 0:
        return
    bucket = int(timezone.now().timestamp()) // window
    name = f"throttle:{scope}:{key}:{bucket}"
    cache.add(name, 0, timeout=window + 5)
    try:
        count = cache.incr(name)
    except ValueError:  # evicted between add and incr
        cache.set(name, 1, timeout=window + 5)
        count = 1
    if count > limit:
        raise RateLimited(retry_after=window - int(timezone.now().timestamp()) % window)


def rate_limit(scope: str, *, methods: tuple[str, ...] = ("POST",), json: bool = False):
    """View decorator: limit `methods` requests per client address. With json=True the refusal
    is answered as JSON (for endpoints scripts call); otherwise DomainErrorMiddleware renders it."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method in methods:
                try:
                    throttle_hit(scope=scope, key=client_key(request))
                except RateLimited as exc:
                    if not json:
                        raise
                    response = JsonResponse({"error": exc.as_dict()}, status=exc.status)
                    response["Retry-After"] = str(exc.params.get("retry_after", 60))
                    return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
