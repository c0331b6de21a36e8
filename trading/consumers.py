"""A minimal authenticated websocket: proves the ASGI stack (auth + origin check) end to end."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import timezone


class PingConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        await self.accept()
        # Clients compute countdowns from the server's clock (DOMAIN B2).
        await self.send_json(
            {"type": "hello", "user": user.username, "server_time": timezone.now().isoformat()}
        )

    async def receive_json(self, content, **kwargs):
        await self.send_json({"type": "pong", "server_time": timezone.now().isoformat()})
