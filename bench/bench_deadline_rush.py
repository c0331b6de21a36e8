"""(c) The deadline rush: 200 sealed bids uploaded (start, parts, completion) by concurrent clients that
start over the last seconds before the deadline (a tenth of them just after it); counted accepted vs
refused, and checked that none is lost or counted twice (every receipt is an active bid, no bid is
dated at or after the deadline, every late upload is closed).

Runs against the database bench/run.py configured. On SQLite the threads are real but its IMMEDIATE
transactions serialise every write, so the figures show one writer at a time; PostgreSQL
(BENCH_DATABASE_URL=postgres://...) shows the row locks: only completions for the same lot wait.
"""

from __future__ import annotations

import datetime as dt
import io
import multiprocessing
import time

from django.db import close_old_connections, connection, connections
from django.test.utils import override_settings
from django.utils import timezone

from archive.journal import verify_stream
from archive.models import JournalEntry
from bench.common import report, timer
from bidding import envelope
from bidding.models import Bid, UploadSession
from bidding.services import submission
from core.errors import DomainError
from trading import keyclient
from trading.models import TenderState
from trading.services.pki import certificate_issue

CLIENTS = 200


def _world(n: int, document_size: int):
    """A published lot and n bidders, each with a certified key and a sealed bid ready to upload."""
    from tests.factories import BidderUserFactory, LotFactory, TenderFactory

    now = timezone.now()
    tender = TenderFactory(
        state=TenderState.PUBLISHED,
        published_at=now - dt.timedelta(days=20),
        docs_from=now - dt.timedelta(days=20),
        docs_until=now - dt.timedelta(days=10),
        deadline=now + dt.timedelta(days=1),  # moved to "a few seconds from now" just before the rush
    )
    lot = LotFactory(tender=tender, number=1)
    clients = []
    for i in range(n):
        user = BidderUserFactory()
        key = keyclient.key_generate()
        cert = certificate_issue(user=user, csr_pem=keyclient.csr_build(key), actor=user)
        out = io.BytesIO()
        sealed = envelope.seal(
            form={"price": f"{4_000_000 + i}.00", "currency": "CNY"},
            document=bytes([i % 251]) * document_size,
            document_name="投标文件.pdf",
            content_type="application/pdf",
            tender=tender.code,
            lot=lot.number,
            bidder=user.entity.uscc,
            cert_serial=cert.serial,
            signing_key=key,
            recipients=[envelope.Recipient(to="bidder", kid=cert.serial, public_key=key.public_key())],
            out=out,
            chunk=envelope.DEFAULT_CHUNK,
        )
        clients.append((user, sealed, out.getvalue()))
    return tender, lot, clients


def _client_run(lot, user, sealed, data: bytes, part: int) -> dict:
    """One bidder's whole upload; returns its outcome and how long completion took."""
    close_old_connections()
    begun = time.perf_counter()
    try:
        session = submission.upload_start(lot=lot, user=user, size=len(data))
        for offset in range(0, len(data), part):
            session = submission.upload_append(
                upload=session, user=user, offset=offset, data=data[offset : offset + part]
            )
        session = UploadSession.objects.select_related("lot__tender", "entity").get(pk=session.pk)
        started = time.perf_counter()
        bid = submission.upload_complete(
            upload=session, user=user, header=envelope.b64u(sealed.header_bytes), signature=sealed.signature
        )
        done = time.perf_counter()
        return {
            "outcome": "accepted",
            "bid": str(bid.pk),
            "seconds": done - started,
            "upload_seconds": done - begun,
        }
    except DomainError as exc:
        return {"outcome": exc.code}
    finally:
        connection.close()


_RUSH: dict = {}  # set before the worker processes fork; they read it


def _worker_init() -> None:
    # A forked worker must never use its parent's database connection.
    connections.close_all()


def _job(i: int) -> dict:
    rush = _RUSH
    time.sleep(max(0.0, rush["starts"][i] - time.monotonic()))
    result = _client_run(rush["lot"], *rush["clients"][i], rush["part"])
    result["scheduled_in_time"] = rush["starts"][i] < rush["deadline_at"]
    return result


def run(*, small: bool) -> None:
    n = 60 if small else CLIENTS
    document_size = 64 * 1024 if small else 1024 * 1024
    part = 32 * 1024 if small else 256 * 1024
    spread = 2.0 if small else 5.0
    # The server: worker processes (as a deployment runs several), each serving one client at a time.
    # Threads in one process would measure the GIL: the lock holder waits for CPU behind the others.
    workers = 8
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        tender, lot, clients = _world(n, document_size)
    # Each client starts its upload at a moment spread evenly over the last `spread` seconds before the
    # deadline, plus a tenth after it (those are late whatever the server does).
    lead = 2.0  # time for the workers to start
    t0 = time.monotonic() + lead
    deadline = timezone.now() + dt.timedelta(seconds=lead + spread)
    type(tender).objects.filter(pk=tender.pk).update(deadline=deadline)
    lot.tender.deadline = deadline
    _RUSH.update(
        lot=lot,
        clients=clients,
        part=part,
        starts=[t0 + spread * 1.1 * i / n for i in range(n)],
        deadline_at=t0 + spread,
    )
    connections.close_all()
    with timer() as t, multiprocessing.get_context("fork").Pool(workers, initializer=_worker_init) as pool:
        results = pool.map(_job, range(n), chunksize=1)

    accepted = [r for r in results if r["outcome"] == "accepted"]
    refused = [r for r in results if r["outcome"] == "bid_after_deadline"]
    other = sorted({r["outcome"] for r in results} - {"accepted", "bid_after_deadline"})
    active = set(map(str, Bid.objects.filter(lot=lot, status=Bid.Status.ACTIVE).values_list("pk", flat=True)))
    journalled = JournalEntry.objects.filter(stream=tender.stream, action="bid.submit").count()
    late_bids = Bid.objects.filter(lot=lot, submitted_at__gte=deadline).count()
    open_left = UploadSession.objects.filter(lot=lot, state=UploadSession.State.OPEN).count()
    none_lost = (
        active == {r["bid"] for r in accepted}
        and journalled == len(accepted)
        and late_bids == 0
        and len(accepted) + len(refused) == n
    )
    latencies = sorted(r["seconds"] for r in accepted) or [0.0]
    uploads = sorted(r["upload_seconds"] for r in accepted) or [0.0]
    figures = {
        "vendor": connection.vendor,
        "clients": n,
        "workers": workers,
        "ciphertext_bytes": len(clients[0][2]),
        "starts_spread_s": spread,
        "scheduled_in_time": sum(r["scheduled_in_time"] for r in results),
        "accepted": len(accepted),
        "refused_late": len(refused),
        "refused_though_started_in_time": sum(r["scheduled_in_time"] for r in refused),
        "other_outcomes": other,
        "unfinished_left_open": open_left,
        "none_lost_or_double_counted": none_lost,
        "journal_ok": verify_stream(tender.stream) is None,
        "wall_s": round(t["seconds"] - lead, 2),
        "complete_p50_ms": round(1000 * latencies[len(latencies) // 2], 1),
        "upload_p50_ms": round(1000 * uploads[len(uploads) // 2], 1),
        "complete_p99_ms": round(1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 1),
    }
    human = (
        f"{n} uploads on {connection.vendor} ({workers} worker processes) starting over the last {spread:.0f}s "
        f"(+10% after the deadline): {len(accepted)} accepted, {len(refused)} refused late "
        f"({figures['refused_though_started_in_time']} of them started in time), other {other or 'none'}; "
        f"none lost or double-counted: {none_lost}; whole upload p50 {figures['upload_p50_ms']} ms, "
        f"completion p50 {figures['complete_p50_ms']} ms, "
        f"p99 {figures['complete_p99_ms']} ms"
    )
    report("deadline_rush", figures, human)
