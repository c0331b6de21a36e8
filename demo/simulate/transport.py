"""bidding.client's HTTP transport, answered in this process: the bidder's Python client
(`bidding.client.PlatformClient`: key login, recipients, sealing, resumable upload, completion, receipt)
talks to the platform's own views, middleware and services through Django's request handler, without a
socket. Requests come from the bidder's machine: its IP address, and the client's hardware header."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import validate_host
from django.test import Client

CONTENT_TYPE = "Content-Type"


def platform_host() -> str:
    """A host name this site answers to (the test client's own, when allowed)."""
    allowed = list(settings.ALLOWED_HOSTS)
    for name in ("testserver", "localhost", "127.0.0.1"):
        if validate_host(name, allowed):
            return name
    for pattern in allowed:
        name = pattern.lstrip(".").strip("[]")
        if name and name != "*" and validate_host(name, allowed):
            return name
    return "localhost"


class InProcessTransport:
    """The `bidding.client.Transport` interface (send, cookie) over Django's test client."""

    def __init__(self, *, ip: str, host: str):
        self.ip = ip
        self.client = Client(HTTP_HOST=host, REMOTE_ADDR=ip, HTTP_X_FORWARDED_FOR=ip)

    def send(self, method: str, url: str, body: bytes | None, headers: dict) -> tuple[int, bytes]:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        content_type = headers.get(CONTENT_TYPE, "application/octet-stream")
        extra = {k: v for k, v in headers.items() if k != CONTENT_TYPE}
        response = self.client.generic(
            method,
            path,
            data=body or b"",
            content_type=content_type,
            secure=parts.scheme == "https",
            headers=extra,
        )
        if getattr(response, "streaming", False):
            return response.status_code, b"".join(response.streaming_content)
        return response.status_code, response.content

    def cookie(self, name: str) -> str | None:
        morsel = self.client.cookies.get(name)
        return morsel.value if morsel is not None else None
