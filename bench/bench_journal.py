"""Journal: append throughput on one stream vs many, concurrent appends on separate streams
(PostgreSQL: one stream's lock does not serialise the others) and verification speed."""

from __future__ import annotations

import threading
import uuid

from django.db import close_old_connections, connection, transaction

from archive.journal import journal_anchor, journal_append, verify_all
from archive.models import JournalEntry
from bench.common import report, timer


def _append(stream: str, n: int) -> None:
    for i in range(n):
        with transaction.atomic():
            journal_append(stream=stream, action="bench.append", payload={"i": i, "stream": stream})


def _threads(streams: list[str], per_thread: int) -> float:
    def work(name):
        close_old_connections()
        try:
            _append(name, per_thread)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(s,)) for s in streams]
    with timer() as t:
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    return t["seconds"]


def run(*, small: bool) -> None:
    n = 300 if small else 5000
    # Fresh stream names per run: the journal is append-only, even for a benchmark.
    run_id = uuid.uuid4().hex[:8]
    with timer() as one:
        _append(f"bench:{run_id}:one", n)
    with timer() as many:
        for k in range(10):
            _append(f"bench:{run_id}:many:{k}", n // 10)
    journal_anchor(streams=[f"bench:{run_id}:many:{k}" for k in range(10)] + [f"bench:{run_id}:one"])
    total = JournalEntry.objects.count()
    with timer() as ver:
        breaks = verify_all()
    figures = {
        "vendor": connection.vendor,
        "entries": n,
        "append_one_stream_per_s": round(n / one["seconds"], 1),
        "append_ten_streams_per_s": round(n / many["seconds"], 1),
        "verify_entries_per_s": round(total / ver["seconds"], 1),
        "verify_ok": not breaks,
    }
    human = (
        f"{figures['append_one_stream_per_s']}/s appends on one stream, {figures['append_ten_streams_per_s']}/s "
        f"on ten; verify {figures['verify_entries_per_s']} entries/s"
    )
    if connection.vendor == "postgresql":
        per = n // 4
        same = _threads([f"bench:{run_id}:same"] * 4, per)
        separate = _threads([f"bench:{run_id}:sep:{k}" for k in range(4)], per)
        figures.update(
            concurrent_same_stream_s=round(same, 3),
            concurrent_separate_streams_s=round(separate, 3),
            separate_vs_same_speedup=round(same / separate, 2),
        )
        human += f"; 4 threads: same stream {same:.2f}s vs separate streams {separate:.2f}s"
    report("journal", figures, human)
