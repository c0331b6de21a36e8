"""Sending a message to a channel-layer group from synchronous code (services, commands, workers).

Every app's realtime events go through `group_send`; each app builds its own payloads and group names.
"""

from __future__ import annotations

import asyncio
import threading

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


def group_send(group: str, message: dict) -> None:
    """Send `message` to `group`; a no-op when no channel layer is configured."""
    layer = get_channel_layer()
    if layer is None:
        return
    send = async_to_sync(layer.group_send)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        send(group, message)
        return
    # A synchronous caller inside a running loop (a script or a browser test driving the services
    # directly): async_to_sync refuses that thread, so the message leaves from a helper thread.
    worker = threading.Thread(target=send, args=(group, message), daemon=True)
    worker.start()
    worker.join(timeout=10)
