"""Websocket routes of the bidding app (the opening hall)."""

websocket_urlpatterns: list = []
