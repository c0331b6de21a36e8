"""Websocket routes of the experts app (the evaluation room)."""

from django.urls import path

from experts.consumers import EvaluationConsumer

websocket_urlpatterns: list = [
    path("ws/evaluation/<int:lot_id>/", EvaluationConsumer.as_asgi()),
]
