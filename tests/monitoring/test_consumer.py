"""The regulators' live alert feed (`ws/monitoring/`): who may connect, and an alert event sent by
monitoring.events reaching every reviewer's socket as {"type": "alert", ...} (and nobody else's)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from config.asgi import application
from monitoring.events import alert_payload, send_now
from tests.monitoring.test_views import build_world

# The consumer reads the session and the user from another thread: the rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://testserver")


def cookie_for(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


async def connect(user):
    headers = [ORIGIN]
    if user is not None:
        headers.append((b"cookie", await database_sync_to_async(cookie_for)(user)))
    comm = WebsocketCommunicator(application, "/ws/monitoring/", headers=headers)
    connected, code = await comm.connect(timeout=5)
    return comm, connected, code


async def test_only_regulators_centre_staff_and_admins_follow_alerts_and_all_of_them_receive_one(clock):
    world = await database_sync_to_async(build_world)()
    users = world.users

    # anonymous: 4401; bidders, agencies and experts: 4403
    for who, expected in (("anonymous", 4401), ("bidder", 4403), ("agency", 4403), ("expert", 4403)):
        comm, connected, code = await connect(users[who])
        assert (connected, code) == (False, expected), who

    # the reviewers connect and are told they are in
    socks = {}
    for who in ("regulator", "centre", "admin"):
        comm, connected, _ = await connect(users[who])
        assert connected, who
        assert await comm.receive_json_from(timeout=5) == {"type": "ready"}
        socks[who] = comm

    # when the alert is raised (the event the services send once committed)
    payload = await database_sync_to_async(alert_payload)(world.alert)
    await database_sync_to_async(send_now)(payload, event="raised")

    # then every reviewer receives it, as the queue page expects it
    for who, comm in socks.items():
        message = await comm.receive_json_from(timeout=5)
        assert message["type"] == "alert" and message["event"] == "raised", who
        alert = message["alert"]
        assert (alert["id"], alert["lot"], alert["level"], alert["status"]) == (
            world.alert.pk,
            world.lot.pk,
            1,
            "open",
        )
        assert alert["url"] == f"/monitoring/alerts/{world.alert.pk}/"
        assert alert["score"] == pytest.approx(0.93)

    # the feed is read-only: a message from the page is answered, never acted on
    await socks["regulator"].send_to(text_data='{"type": "confirm"}')
    assert await socks["regulator"].receive_json_from(timeout=5) == {
        "type": "error",
        "error": {"code": "read_only"},
    }
    for comm in socks.values():
        assert await comm.receive_nothing(timeout=0.1)
        await comm.disconnect()
