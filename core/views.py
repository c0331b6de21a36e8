"""Health endpoint: JSON with the state of the database and the channel layer."""

from __future__ import annotations

import asyncio
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


async def _layer_roundtrip(layer) -> None:
    channel = await layer.new_channel()
    token = uuid.uuid4().hex
    await layer.send(channel, {"type": "health.check", "token": token})
    message = await asyncio.wait_for(layer.receive(channel), timeout=2)
    if message.get("token") != token:
        raise RuntimeError("channel layer returned a different message")


@never_cache
@require_GET
def healthz(request):
    checks: dict[str, dict] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # report, don't raise: this page exists to say what is down
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    try:
        layer = get_channel_layer()
        async_to_sync(_layer_roundtrip)(layer)
        checks["channel_layer"] = {"ok": True, "backend": type(layer).__name__}
    except Exception as exc:
        checks["channel_layer"] = {"ok": False, "error": type(exc).__name__}
    ok = all(c["ok"] for c in checks.values())
    return JsonResponse({"status": "ok" if ok else "degraded", "checks": checks}, status=200 if ok else 503)
