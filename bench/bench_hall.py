"""(b) Read-out broadcast latency of the opening hall: N websocket clients in one lot's hall, the host
starts 唱标, and every client's arrival time of the read-out event is measured — on one Daphne process
(in-memory channel layer) and on two behind Redis. Full: 500 and 2,000 clients; --small: 100 and 300.

Loopback only, bounded (every wait has a timeout). Two figures per run:
- end_to_end: the host sends the action → a client has the event (includes the service's database
  work and building the snapshot once);
- fanout: the server stamped the event (`server_time`) → a client has it (the broadcast alone).
All clients live in this one process's event loop, so the later percentiles include its own
scheduling of thousands of sockets; they are an upper bound on what one browser would see.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from bench.common import report

ROOT = Path(__file__).resolve().parent.parent
# redis-py 8 reads with a 5 s socket timeout by default, as long as channels_redis's blocking pop:
# an idle consumer's receive then fails. A longer read timeout in the URL avoids it.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15?socket_timeout=30")
CONNECT_BATCH = 50
TIMEOUT = 300  # seconds, for the whole of one configuration


def _redis_reachable() -> bool:
    parts = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=1):
            return True
    except OSError:
        return False


def _hall_in_decryption():
    """A lot whose three bids are decrypted, waiting for the host's read-out; and session cookies."""
    from bidding import envelope
    from bidding.opening import services
    from tests.bidding.opening_world import hall_world
    from tests.conftest import Clock

    now = timezone.now()
    world = hall_world(clock=Clock(now - dt.timedelta(days=2)), deadline=now - dt.timedelta(minutes=1))
    services.opening_tick(lot=world.lot)
    for b in world.bidders:
        services.opening_signin(lot=world.lot, user=b.user)
    services.opening_publish_bidders(lot=world.lot, actor=world.host)
    services.opening_start_decryption(lot=world.lot, actor=world.host)
    for b in world.bidders:
        services.bid_decrypt(bid=b.bid, cek=envelope.b64u(b.cek), actor=b.user)

    def cookie(user):
        client = Client()
        client.force_login(user)
        return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    # The watchers share one regulator's session: who watches does not change the fan-out.
    return world.lot.pk, cookie(world.host), cookie(world.regulator)


def _servers(count: int, env: dict) -> tuple[list, list[str]]:
    daphne = str(Path(sys.executable).with_name("daphne"))
    servers, urls = [], []
    for _ in range(count):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(4096)
        sock.set_inheritable(True)
        process = subprocess.Popen(
            [daphne, "--fd", str(sock.fileno()), "config.asgi:application"],
            cwd=ROOT,
            env=env,
            pass_fds=[sock.fileno()],
            stdout=subprocess.DEVNULL,
            stderr=open(os.environ.get("BENCH_HALL_LOG", os.devnull), "ab"),  # noqa: SIM115
        )
        servers.append((process, sock))
        urls.append(f"http://127.0.0.1:{sock.getsockname()[1]}")
    return servers, urls


async def _measure(*, urls: list[str], lot: int, host_cookie: str, cookie: str, clients: int) -> dict:
    from bidding.opening.client import HallClient

    def is_state(m):
        return m["type"] == "state"

    def is_readout(m):
        return m["type"] == "event" and m["event"] == "readout"

    started = time.perf_counter()
    watchers: list = []
    for first in range(0, clients, CONNECT_BATCH):
        batch = [
            HallClient.connect(base_url=urls[i % len(urls)], lot_id=lot, cookie=cookie, timeout=120)
            for i in range(first, min(first + CONNECT_BATCH, clients))
        ]
        watchers += await asyncio.gather(*batch)
    await asyncio.gather(*(w.receive_until(is_state, 120) for w in watchers))
    connect_s = time.perf_counter() - started
    host = await HallClient.connect(base_url=urls[0], lot_id=lot, cookie=host_cookie, timeout=60)
    await host.receive_until(is_state, 60)

    # perf_counter and the wall clock, tied together once: arrival stamps become wall times.
    wall_minus_perf = time.time() - time.perf_counter()
    sent = time.perf_counter()
    await host.send({"type": "start_readout", "id": 1})
    events = await asyncio.gather(*(w.receive_until(is_readout, 120) for w in watchers))
    end_to_end = sorted((w.received_at - sent) * 1000 for w in watchers)
    stamped = [dt.datetime.fromisoformat(e["server_time"]).timestamp() for e in events]
    fanout = sorted(
        (w.received_at + wall_minus_perf - s) * 1000 for w, s in zip(watchers, stamped, strict=True)
    )
    for client in [*watchers, host]:
        await client.close()
    return {
        "connect_s": round(connect_s, 2),
        "end_to_end": end_to_end,
        "fanout": fanout,
        "received": len(events),
    }


def _pct(values: list[float], q: float) -> float:
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1], 1)


def _one(*, clients: int, processes: int, redis: bool, small: bool) -> None:
    lot, host_cookie, cookie = _hall_in_decryption()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "SECURE_COOKIES": "0"}
    env.pop("REDIS_URL", None)
    if redis:
        env["REDIS_URL"] = REDIS_URL
    env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    servers, urls = _servers(processes, env)
    try:
        result = asyncio.run(
            asyncio.wait_for(
                _measure(urls=urls, lot=lot, host_cookie=host_cookie, cookie=cookie, clients=clients), TIMEOUT
            )
        )
    finally:
        for process, sock in servers:
            process.terminate()
            process.wait(timeout=30)
            sock.close()
    e2e, fan = result["end_to_end"], result["fanout"]
    figures = {
        "vendor": connection.vendor,
        "small": small,
        "clients": clients,
        "processes": processes,
        "layer": "redis" if redis else "memory",
        "received": result["received"],
        "connect_s": result["connect_s"],
        "end_to_end_p50_ms": _pct(e2e, 50),
        "end_to_end_p99_ms": _pct(e2e, 99),
        "end_to_end_max_ms": round(e2e[-1], 1),
        "fanout_p50_ms": _pct(fan, 50),
        "fanout_p99_ms": _pct(fan, 99),
    }
    human = (
        f"{clients} clients on {processes} Daphne ({figures['layer']}): read-out p50 {figures['end_to_end_p50_ms']} ms, "
        f"p99 {figures['end_to_end_p99_ms']} ms end to end (broadcast alone p50 {figures['fanout_p50_ms']} / "
        f"p99 {figures['fanout_p99_ms']} ms); {result['received']}/{clients} received"
    )
    report("hall_broadcast", figures, human)


# (processes, Redis): the embedded mode, then one and two processes behind Redis. The in-memory layer
# scans every channel and group on each receive, so its cost grows with the square of the hall.
MODES = ((1, False), (1, True), (2, True))


def run(*, small: bool) -> None:
    sizes = (100, 300) if small else (500, 2000)
    if os.environ.get("BENCH_HALL_SIZES"):
        sizes = tuple(int(n) for n in os.environ["BENCH_HALL_SIZES"].split(","))
    redis = _redis_reachable()
    if not redis:
        report(
            "hall_broadcast", {"skipped": "redis unreachable", "redis": REDIS_URL}, f"no Redis at {REDIS_URL}"
        )
    for processes, with_redis in MODES:
        if with_redis and not redis:
            continue
        for clients in sizes:
            _one(clients=clients, processes=processes, redis=with_redis, small=small)
