"""The websocket stack end to end: /ws/ping/ is authenticated and origin-checked."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from config.asgi import application
from tests.factories import UserFactory

# The consumer reads the session and the user from another thread: the rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://testserver")


@database_sync_to_async
def session_cookie_for(username: str) -> bytes:
    user = UserFactory(username=username)
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


async def test_anonymous_is_refused():
    # given
    communicator = WebsocketCommunicator(application, "/ws/ping/", headers=[ORIGIN])

    # when
    connected, code = await communicator.connect()

    # then
    assert connected is False
    assert code == 4401
    await communicator.disconnect()


async def test_authenticated_user_receives_hello_with_server_time(clock):
    # given
    cookie = await session_cookie_for("ws-user")
    communicator = WebsocketCommunicator(application, "/ws/ping/", headers=[ORIGIN, (b"cookie", cookie)])

    # when
    connected, _ = await communicator.connect()

    # then
    assert connected is True
    hello = await communicator.receive_json_from(timeout=5)
    assert hello == {"type": "hello", "user": "ws-user", "server_time": clock().isoformat()}
    await communicator.send_json_to({"type": "ping"})
    pong = await communicator.receive_json_from(timeout=5)
    assert pong["type"] == "pong"
    await communicator.disconnect()


async def test_a_forged_session_cookie_is_anonymous():
    communicator = WebsocketCommunicator(
        application,
        "/ws/ping/",
        headers=[ORIGIN, (b"cookie", f"{settings.SESSION_COOKIE_NAME}=forged".encode())],
    )
    connected, code = await communicator.connect()
    assert (connected, code) == (False, 4401)
    await communicator.disconnect()


async def test_wrong_origin_is_refused_even_with_a_valid_session():
    # given a logged-in user whose browser is on another site
    cookie = await session_cookie_for("ws-victim")
    communicator = WebsocketCommunicator(
        application, "/ws/ping/", headers=[(b"origin", b"https://evil.example"), (b"cookie", cookie)]
    )

    # when
    connected, _ = await communicator.connect()

    # then AllowedHostsOriginValidator closed it before the consumer could accept
    assert connected is False
    await communicator.disconnect()


async def test_missing_origin_is_refused():
    cookie = await session_cookie_for("ws-no-origin")
    communicator = WebsocketCommunicator(application, "/ws/ping/", headers=[(b"cookie", cookie)])
    connected, _ = await communicator.connect()
    assert connected is False
    await communicator.disconnect()
