"""Websocket routes of every app, in one place."""

from django.urls import path

from bidding.routing import websocket_urlpatterns as bidding_ws
from experts.routing import websocket_urlpatterns as experts_ws
from monitoring.routing import websocket_urlpatterns as monitoring_ws
from trading.consumers import PingConsumer

websocket_urlpatterns = [
    path("ws/ping/", PingConsumer.as_asgi()),
    *bidding_ws,
    *experts_ws,
    *monitoring_ws,
]
