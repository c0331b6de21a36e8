"""Capturing request evidence (IP, user agent, client-reported hardware) for monitoring (DOMAIN D2)."""

from __future__ import annotations

import json

from django.utils import timezone

from core.canonical import digest
from core.http import client_ip
from trading.models import ActivityEvidence

HARDWARE_KEYS = ("cpu_id", "disk_serial", "memory_serial", "mac", "machine_code")


def hardware_from_request(request) -> dict:
    """The client reports its fingerprint in the X-Client-Hardware header (JSON); unknown keys dropped."""
    raw = request.headers.get("X-Client-Hardware", "")
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: str(data[k])[:120] for k in HARDWARE_KEYS if data.get(k)}


def evidence_record(
    *,
    action: str,
    request=None,
    user=None,
    entity=None,
    tender=None,
    certificate_serial: str = "",
    file_sha256: str = "",
    file_meta: dict | None = None,
    hardware: dict | None = None,
) -> ActivityEvidence:
    hw = hardware if hardware is not None else (hardware_from_request(request) if request is not None else {})
    return ActivityEvidence.objects.create(
        at=timezone.now(),
        action=action,
        user=user if getattr(user, "pk", None) else None,
        entity=entity,
        tender=tender,
        ip=client_ip(request) if request is not None else None,
        user_agent=(request.headers.get("User-Agent", "")[:400] if request is not None else ""),
        hardware=hw,
        hardware_digest=digest(hw) if hw else "",
        certificate_serial=certificate_serial,
        file_sha256=file_sha256,
        file_meta=file_meta or {},
    )
