"""Websocket routes of the monitoring app (the regulators' live alert feed)."""

from django.urls import path

from monitoring.consumers import MonitoringConsumer

websocket_urlpatterns: list = [
    path("ws/monitoring/", MonitoringConsumer.as_asgi()),
]
