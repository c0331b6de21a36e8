"""Websocket routes of the bidding app (the opening hall)."""

from django.urls import path

from bidding.consumers import OpeningConsumer

websocket_urlpatterns: list = [
    path("ws/opening/<int:lot_id>/", OpeningConsumer.as_asgi()),
]
