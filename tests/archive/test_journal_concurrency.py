"""Concurrent appends on PostgreSQL: the stream row lock orders them, nothing is lost or forked."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection, transaction

from archive.journal import journal_append, verify_all, verify_stream
from archive.models import JournalEntry

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks need PostgreSQL (make test-services)"
    ),
]


def _run_threads(targets):
    errors = []

    def wrap(fn):
        def inner():
            close_old_connections()
            try:
                fn()
            except Exception as exc:  # surfaced below
                errors.append(exc)
            finally:
                connection.close()

        return inner

    threads = [threading.Thread(target=wrap(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


def test_concurrent_appends_to_one_stream_form_one_unbroken_chain():
    # given 6 writers appending 15 entries each to the same stream at once
    def writer(k):
        def go():
            for i in range(15):
                with transaction.atomic():
                    journal_append(stream="tender:race", action="bench", payload={"writer": k, "i": i})

        return go

    # when they all run
    errors = _run_threads([writer(k) for k in range(6)])

    # then nothing failed, nothing is lost, sequence numbers are contiguous and the chain verifies
    assert errors == []
    seqs = list(
        JournalEntry.objects.filter(stream="tender:race").order_by("seq").values_list("seq", flat=True)
    )
    assert seqs == list(range(1, 91))
    assert verify_stream("tender:race") is None


def test_appends_to_different_streams_do_not_wait_for_each_other():
    # given a transaction holding the lock of stream A (uncommitted)
    started = threading.Event()
    release = threading.Event()
    done_b = threading.Event()

    def hold_a():
        with transaction.atomic():
            journal_append(stream="tender:A", action="hold")
            started.set()
            release.wait(timeout=30)

    def append_b():
        started.wait(timeout=30)
        with transaction.atomic():
            journal_append(stream="tender:B", action="free")
        done_b.set()

    holder = threading.Thread(target=lambda: (close_old_connections(), hold_a(), connection.close()))
    other = threading.Thread(target=lambda: (close_old_connections(), append_b(), connection.close()))
    holder.start()
    other.start()
    # when B appends while A's lock is held, then B completes without waiting for A to commit
    finished = done_b.wait(timeout=20)
    release.set()
    holder.join(timeout=30)
    other.join(timeout=30)
    assert finished, "an append to stream B waited for stream A's lock"
    assert verify_all() == []
