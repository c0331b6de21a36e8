"""Websocket routes of every app, in one place."""

from django.urls import path

from trading.consumers import PingConsumer

websocket_urlpatterns = [
    path("ws/ping/", PingConsumer.as_asgi()),
]
