"""The deadline rush on PostgreSQL: concurrent completions lose nothing, never double-count, and the
server clock read under the lot lock decides which are late (DOMAIN B2)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from archive.journal import verify_stream
from archive.models import JournalEntry
from bidding.models import Bid, UploadSession
from bidding.receipts import receipt_verify
from core.errors import DomainError
from tests.bidding import submission_world as w
from trading import pki

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks need PostgreSQL (make test-services)"
    ),
]

BIDDERS = 12


def run_together(jobs) -> list:
    """Run the jobs in threads released at once; each result is its return value or its exception."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def runner(i, job):
        close_old_connections()
        try:
            barrier.wait(timeout=30)
            results[i] = job()
        except Exception as exc:  # the caller inspects every outcome
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a completion hung (deadlock?)"
    return results


def completion(session, who, env):
    def job():
        return w.complete_upload(session, who, env)

    return job


@pytest.fixture
def rush(clock):
    """A lot and BIDDERS bidders, each with a fully uploaded (not yet completed) sealed bid."""
    lot = w.published_lot()
    entries = []
    for _ in range(BIDDERS):
        who = w.bidder()
        env = w.seal(lot, who, size=3000)
        entries.append((w.upload(lot, who, env.ciphertext), who, env))
    return lot, entries


def test_concurrent_completions_in_the_last_second_are_all_counted_once(clock, rush):
    # given every bidder completing at the same moment, in the last second before the deadline
    lot, entries = rush
    clock.set(w.DEADLINE - dt.timedelta(seconds=1))
    # when they all complete at once
    results = run_together([completion(*e) for e in entries])
    # then every one is accepted: one active bid per bidder, one journal entry and receipt each
    assert [type(r) for r in results] == [Bid] * BIDDERS
    assert Bid.objects.filter(lot=lot, status=Bid.Status.ACTIVE).count() == BIDDERS
    assert Bid.objects.values("entity").distinct().count() == BIDDERS
    entries_seq = list(
        JournalEntry.objects.filter(stream=lot.tender.stream, action="bid.submit").values_list(
            "seq", flat=True
        )
    )
    assert len(entries_seq) == BIDDERS
    assert verify_stream(lot.tender.stream) is None
    ca = pki.ca_certificate_pem()
    seqs = sorted(receipt_verify(b.receipt, ca_pem=ca)["journal"]["seq"] for b in Bid.objects.all())
    assert seqs == sorted(entries_seq)
    assert not UploadSession.objects.exclude(state=UploadSession.State.COMPLETED).exists()


def test_one_bidder_completing_two_uploads_at_once_ends_with_one_active_bid(clock):
    # given one bidder with two different sealed bids fully uploaded
    lot = w.published_lot()
    who = w.bidder()
    first, second = w.seal(lot, who, price="4100000.00"), w.seal(lot, who, price="4200000.00")
    sessions = [w.upload(lot, who, first.ciphertext), w.upload(lot, who, second.ciphertext)]
    # when both complete at the same moment
    results = run_together([completion(sessions[0], who, first), completion(sessions[1], who, second)])
    # then both were received, exactly one is active and it replaced the other
    assert [type(r) for r in results] == [Bid, Bid]
    active = Bid.objects.get(lot=lot, entity=who.entity, status=Bid.Status.ACTIVE)
    replaced = Bid.objects.get(lot=lot, entity=who.entity, status=Bid.Status.REPLACED)
    assert replaced.replaced_by == active
    assert replaced.submitted_at <= active.submitted_at


def test_completing_the_same_upload_twice_at_once_makes_one_bid(clock):
    lot = w.published_lot()
    who = w.bidder()
    env = w.seal(lot, who)
    session = w.upload(lot, who, env.ciphertext)
    results = run_together([completion(session, who, env), completion(session, who, env)])
    codes = sorted(type(r).__name__ if isinstance(r, Bid) else r.code for r in results)
    assert codes == ["Bid", "upload_not_open"]
    assert Bid.objects.count() == 1


def test_concurrent_completions_after_the_deadline_are_all_refused(clock, rush):
    # given the deadline has just passed by the server's clock
    _lot, entries = rush
    clock.set(w.DEADLINE)
    # when every bidder completes at once
    results = run_together([completion(*e) for e in entries])
    # then each is refused as late, no bid exists and every upload is abandoned
    assert [getattr(r, "code", r) for r in results] == ["bid_after_deadline"] * BIDDERS
    assert not Bid.objects.exists()
    assert UploadSession.objects.filter(state=UploadSession.State.ABANDONED).count() == BIDDERS


def test_a_rush_across_the_deadline_loses_nothing(monkeypatch, rush):
    # given a server clock that ticks 1 ms at every reading, so that the deadline passes in the middle of
    # the rush. A completion reads the clock 3 times before it takes the lot lock and 3 times under it:
    # starting 3·BIDDERS + 4 ms early, the first to take the lock is in time whatever the interleaving,
    # and not all can be (that would take 6·BIDDERS ticks).
    lot, entries = rush
    lock = threading.Lock()
    state = {"now": w.DEADLINE - dt.timedelta(milliseconds=3 * BIDDERS + 4)}

    def ticking():
        with lock:
            state["now"] += dt.timedelta(milliseconds=1)
            return state["now"]

    monkeypatch.setattr(timezone, "now", ticking)
    # when all bidders complete at once
    results = run_together([completion(*e) for e in entries])
    # then every completion is either a bid received before the deadline or refused as late
    accepted = [r for r in results if isinstance(r, Bid)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(accepted) + len(refused) == BIDDERS
    assert accepted and refused, "the clock should pass the deadline during the rush"
    assert {r.code for r in refused} <= {"bid_after_deadline"}
    assert all(b.submitted_at < w.DEADLINE for b in accepted)
    # and the database agrees exactly: the accepted are the active bids, each journalled once
    assert sorted(str(b.pk) for b in accepted) == sorted(
        str(pk) for pk in Bid.objects.filter(status=Bid.Status.ACTIVE).values_list("pk", flat=True)
    )
    assert JournalEntry.objects.filter(action="bid.submit").count() == len(accepted)
    assert UploadSession.objects.filter(state=UploadSession.State.ABANDONED).count() == len(refused)
    assert verify_stream(lot.tender.stream) is None
