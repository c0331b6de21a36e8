"""The regulators' live alert feed (`ws/monitoring/`): a protocol adapter. It lets in regulators, centre
staff and admins, joins `monitoring.alerts` and forwards each alert event (monitoring.events) to the
page as ``{"type": "alert", "event": …, "alert": {id, tender, lot, level, score, message, url, …}}``.
The queue page re-reads itself on reconnect, so a missed event is never lost for good.

Close codes: 4401 not logged in, 4403 a role that may not follow alerts.
"""

from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from monitoring.events import ALERTS_GROUP
from trading.models import Role

READERS = (Role.CENTRE, Role.REGULATOR, Role.ADMIN)


class MonitoringConsumer(AsyncJsonWebsocketConsumer):
    group = ALERTS_GROUP

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        if user.role not in READERS:
            await self.close(code=4403)
            return
        self.joined = True
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "ready"})

    async def disconnect(self, code):
        if getattr(self, "joined", False):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        # A read-only feed: the page only listens.
        await self.send_json({"type": "error", "error": {"code": "read_only"}})

    @classmethod
    async def decode_json(cls, text_data):
        return None  # whatever the client sends is answered with read_only, never parsed

    async def monitoring_alert(self, event):
        await self.send_json({"type": "alert", "event": event.get("event", ""), "alert": event.get("alert")})
