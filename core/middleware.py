"""Turns an uncaught DomainError into a 4xx with its code: JSON for API/JSON clients, a page otherwise."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render

from core.errors import DomainError


def wants_json(request) -> bool:
    accept = request.headers.get("Accept", "")
    return (
        request.path.startswith("/api/")
        or "application/json" in accept
        or request.content_type == "application/json"
    )


class DomainErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DomainError):
            return None
        if wants_json(request):
            return JsonResponse({"error": exception.as_dict()}, status=exception.status)
        return render(request, "error.html", {"error": exception.as_dict()}, status=exception.status)
