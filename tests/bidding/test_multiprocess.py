"""Two Daphne processes behind one Redis channel layer and one database: clients connected to
either see every event of the hall, and the deadline, noticed by both processes at once, opens the
tender once (DESIGN §5: the state lives in the database; time-driven steps are idempotent).

The database is the suite's own when it is PostgreSQL (`make test-services`), otherwise a migrated
throw-away SQLite file in WAL mode, which several processes can share. The servers get sockets that
are already listening (`daphne --fd`), so clients never race their start-up.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from django.db import connection

from bidding.opening.client import HallClient

ROOT = Path(__file__).resolve().parents[2]
# redis-py 8 reads with a 5 s socket timeout by default, as long as channels_redis's blocking pop, so
# a consumer idle that long fails its receive; a longer read timeout in the URL avoids that.
REDIS_URL = os.environ.get("HALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/14?socket_timeout=30")


def redis_reachable() -> bool:
    parts = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=1):
            return True
    except OSError:
        return False


pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.services,
    pytest.mark.skipif(not redis_reachable(), reason=f"needs Redis at {REDIS_URL} (make test-services)"),
]

# Runs in a subprocess against the servers' database: a tender whose deadline passed a minute ago
# and that nobody has ticked yet, three sealed bids, and session cookies for the people.
SETUP = """
import datetime as dt, json
from django.test import Client
from django.utils import timezone
from tests.conftest import Clock
from tests.bidding.opening_world import hall_world

now = timezone.now()
world = hall_world(clock=Clock(now - dt.timedelta(days=2)), deadline=now - dt.timedelta(minutes=1))

def cookie(user):
    client = Client()
    client.force_login(user)
    return "sessionid=" + client.cookies["sessionid"].value

print(json.dumps({
    "lot": world.lot.pk,
    "host": cookie(world.host),
    "bidders": [cookie(b.user) for b in world.bidders],
}))
"""


def _database_url(tmp_path: Path, env: dict) -> str:
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        auth = quote(s["USER"] or "") + (":" + quote(s["PASSWORD"]) if s["PASSWORD"] else "")
        return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    url = f"sqlite:///{tmp_path / 'hall.sqlite3'}"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        env={**env, "DATABASE_URL": url},
        check=True,
    )
    return url


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


@pytest.fixture
def two_servers(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "VAR_DIR": str(tmp_path / "var"),
        "REDIS_URL": REDIS_URL,
        "SECURE_COOKIES": "0",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env["DATABASE_URL"] = _database_url(tmp_path, env)
    made = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SETUP],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    world = json.loads(made.stdout.strip().splitlines()[-1])
    servers, sockets = [], []
    daphne = str(Path(sys.executable).with_name("daphne"))
    for i in range(2):
        sock = _listening_socket()
        sockets.append(sock)
        log = open(tmp_path / f"daphne-{i}.log", "wb")  # noqa: SIM115 - closed with the process
        servers.append(
            (
                subprocess.Popen(
                    [daphne, "--fd", str(sock.fileno()), "config.asgi:application"],
                    cwd=ROOT,
                    env=env,
                    pass_fds=[sock.fileno()],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                ),
                log,
            )
        )
    urls = [f"http://127.0.0.1:{s.getsockname()[1]}" for s in sockets]
    yield world, urls
    for process, log in servers:
        process.terminate()
        process.wait(timeout=20)
        log.close()
    for sock in sockets:
        sock.close()


def is_state(m):
    return m["type"] == "state"


def event(name):
    return lambda m: m["type"] == "event" and m["event"] == name


async def test_clients_on_two_processes_see_every_event_and_the_deadline_opens_the_tender_once(two_servers):
    world, (url_a, url_b) = two_servers
    lot = world["lot"]

    # given one bidder connected to each process at the same moment (each connect ticks the hall)
    first, second = await asyncio.gather(
        HallClient.connect(base_url=url_a, lot_id=lot, cookie=world["bidders"][0], timeout=60),
        HallClient.connect(base_url=url_b, lot_id=lot, cookie=world["bidders"][1], timeout=60),
    )
    await asyncio.gather(first.receive_until(is_state, 30), second.receive_until(is_state, 30))

    # then the deadline the two processes noticed together opened the tender once: one version step
    state_a, state_b = await asyncio.gather(
        first.request({"type": "state"}), second.request({"type": "state"})
    )
    assert state_a["hall"]["tender"]["state"] == state_b["hall"]["tender"]["state"] == "opening"
    assert state_a["hall"]["version"] == state_b["hall"]["version"] == 1

    # when the host, on the first process, publishes the bidder list and opens decryption
    host = await HallClient.connect(base_url=url_a, lot_id=lot, cookie=world["host"], timeout=60)
    await host.receive_until(is_state, 30)
    assert (await host.request({"type": "publish_bidders"}))["type"] == "ok"
    on_a, on_b = await asyncio.gather(
        first.receive_until(event("bidders_published"), 30),
        second.receive_until(event("bidders_published"), 30),
    )
    assert on_a["hall"]["bidders"] == on_b["hall"]["bidders"] and len(on_a["hall"]["bidders"]) == 3

    # and a second host socket, on the other process, starts decryption
    other_host = await HallClient.connect(base_url=url_b, lot_id=lot, cookie=world["host"], timeout=60)
    await other_host.receive_until(is_state, 30)
    assert (await other_host.request({"type": "start_decryption"}))["type"] == "ok"

    # then both bidders see that too, with the same window
    on_a, on_b = await asyncio.gather(
        first.receive_until(event("decryption_started"), 30),
        second.receive_until(event("decryption_started"), 30),
    )
    assert on_a["version"] == on_b["version"] == 3
    assert on_a["hall"]["decryption_ends_at"] == on_b["hall"]["decryption_ends_at"] is not None
    for client in (first, second, host, other_host):
        await client.close()
