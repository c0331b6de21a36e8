"""GET /healthz: JSON with the state of the database and the channel layer."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_channel_layer_ok(client):
    # when
    response = client.get("/healthz")

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["channel_layer"]["ok"] is True
    assert "no-cache" in response["Cache-Control"]


def test_healthz_needs_no_login_and_reports_the_backends(client):
    body = client.get("/healthz").json()
    assert body["checks"]["database"]["vendor"] in {"sqlite", "postgresql"}
    assert body["checks"]["channel_layer"]["backend"] in {"InMemoryChannelLayer", "RedisChannelLayer"}


def test_healthz_says_degraded_when_the_channel_layer_is_down(client, monkeypatch):
    # given a channel layer that cannot be reached
    class DownLayer:
        async def new_channel(self):
            raise ConnectionError("redis is down")

    monkeypatch.setattr("core.views.get_channel_layer", lambda: DownLayer())

    # when
    response = client.get("/healthz")

    # then
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["channel_layer"] == {"ok": False, "error": "ConnectionError"}
    assert body["checks"]["database"]["ok"] is True


def test_healthz_refuses_post(client):
    assert client.post("/healthz").status_code == 405
