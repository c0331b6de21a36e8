"""The hash-chained journal: appends chain per stream, anchors record heads, and every kind
of tampering done behind the services' back (queryset updates and deletes) is named.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools

import pytest

from archive.journal import entry_hash, journal_anchor, journal_append, verify_all, verify_stream
from archive.models import GENESIS_HASH, GLOBAL_STREAM, JournalEntry, JournalStream
from core.canonical import digest
from tests.archive.tamper import tampering

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _behind_the_back():
    """These tests tamper on purpose; the immutability guards are tested in test_immutability.py."""
    with tampering():
        yield


def _fill(stream: str, n: int) -> list[JournalEntry]:
    return [
        journal_append(
            stream=stream,
            action="test.step",
            actor="tester",
            object_type="test.thing",
            object_id=str(i),
            payload={"step": i},
        )
        for i in range(1, n + 1)
    ]


def _row(stream: str, seq: int) -> JournalEntry:
    return JournalEntry.objects.get(stream=stream, seq=seq)


def _rehash(entry: JournalEntry) -> str:
    """What a forger who knows the algorithm would write as the row's own hash."""
    return entry_hash(
        stream=entry.stream,
        seq=entry.seq,
        prev_hash=entry.prev_hash,
        at=entry.at,
        actor_id=entry.actor_id,
        actor_label=entry.actor_label,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        payload_digest=entry.payload_digest,
    )


def _only_break(stream: str):
    breaks = verify_all()
    assert len(breaks) == 1, [str(b) for b in breaks]
    assert breaks[0].stream == stream
    return breaks[0]


# --- appending ------------------------------------------------------------------------------------


def test_appends_number_a_stream_from_one_and_link_each_entry_to_the_previous():
    # given / when
    entries = _fill("tender:1", 4)

    # then
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert entries[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash
    head = JournalStream.objects.get(name="tender:1")
    assert (head.head_seq, head.head_hash) == (4, entries[-1].hash)


def test_streams_are_independent_chains():
    # given
    a1 = journal_append(stream="tender:1", action="a")
    # when
    b1 = journal_append(stream="tender:2", action="b")
    a2 = journal_append(stream="tender:1", action="a")

    # then
    assert (a1.seq, b1.seq, a2.seq) == (1, 1, 2)
    assert b1.prev_hash == GENESIS_HASH
    assert a2.prev_hash == a1.hash


def test_entry_records_actor_object_and_payload_digest(clock):
    # given
    head = JournalStream.objects.create(name="probe")  # any saved row serves as an object

    # when
    e = journal_append(stream="s", action="thing.done", actor="centre-robot", obj=head, payload={"x": 1})

    # then
    assert e.actor_label == "centre-robot"
    assert (e.object_type, e.object_id) == ("archive.journalstream", str(head.pk))
    assert e.payload_digest == digest({"x": 1})
    assert e.at == clock()


def test_payload_with_dates_and_decimals_is_stored_as_it_was_hashed():
    # given a payload the JSON column could not hold as such
    payload = {
        "until": dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC),
        "day": dt.date(2026, 3, 2),
        "amount": decimal.Decimal("80000.00"),
    }

    # when
    e = journal_append(stream="s", action="typed", payload=payload)

    # then it is stored in canonical form and the chain verifies
    e.refresh_from_db()
    assert e.payload == {"until": "2026-03-02T09:00:00.000000Z", "day": "2026-03-02", "amount": "80000.00"}
    assert verify_all() == []


def test_anchor_records_the_heads_of_streams_that_moved():
    # given
    _fill("tender:1", 2)
    _fill("tender:2", 3)

    # when
    anchors = journal_anchor()

    # then
    assert {(a.payload["stream"], a.payload["seq"]) for a in anchors} == {("tender:1", 2), ("tender:2", 3)}
    assert all(a.stream == GLOBAL_STREAM for a in anchors)
    assert (
        anchors[0].payload["hash"] == JournalStream.objects.get(name=anchors[0].payload["stream"]).head_hash
    )


def test_anchor_skips_streams_that_did_not_move_and_can_be_limited_to_named_streams():
    # given
    _fill("tender:1", 1)
    _fill("tender:2", 1)
    journal_anchor(streams=["tender:1"])

    # when
    again = journal_anchor()

    # then only the stream not yet anchored is anchored now
    assert [a.payload["stream"] for a in again] == ["tender:2"]
    assert journal_anchor() == []


def test_a_good_journal_verifies_clean():
    # given
    _fill("tender:1", 3)
    _fill("entity:7", 2)
    journal_anchor()
    _fill("tender:1", 1)  # moved on after its anchor: still fine

    # when / then
    assert verify_all() == []
    assert verify_stream("tender:1") is None


# --- tampering ----------------------------------------------------------------------------------------


def test_altered_payload_is_named():
    # given
    _fill("tender:1", 3)
    # when someone rewrites the payload behind the services' back
    JournalEntry.objects.filter(stream="tender:1", seq=2).update(payload={"step": 99})

    # then
    b = _only_break("tender:1")
    assert (b.seq, b.code) == (2, "payload_altered")
    assert b.entry_id == _row("tender:1", 2).pk


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("action", "test.other"),
        ("actor_label", "someone-else"),
        ("actor_id", "42"),
        ("object_id", "999"),
        ("at", dt.datetime(2020, 1, 1, tzinfo=dt.UTC)),
    ],
)
def test_altered_entry_fields_are_named(field, value):
    # given
    _fill("tender:1", 3)
    # when
    JournalEntry.objects.filter(stream="tender:1", seq=2).update(**{field: value})

    # then
    b = _only_break("tender:1")
    assert (b.seq, b.code) == (2, "entry_altered")


def test_altered_payload_with_recomputed_digest_is_caught_by_the_hash():
    # given
    _fill("tender:1", 2)
    # when the forger also fixes the digest column
    JournalEntry.objects.filter(stream="tender:1", seq=1).update(
        payload={"step": 7}, payload_digest=digest({"step": 7})
    )

    # then
    b = _only_break("tender:1")
    assert (b.seq, b.code) == (1, "entry_altered")


def test_deleted_middle_row_is_named():
    # given
    _fill("tender:1", 4)
    # when
    JournalEntry.objects.filter(stream="tender:1", seq=2).delete()

    # then the gap is reported where the missing row should be
    b = _only_break("tender:1")
    assert (b.seq, b.code) == (2, "seq_gap")
    assert b.entry_id == _row("tender:1", 3).pk


def test_deleted_first_row_is_named():
    # given
    _fill("tender:1", 3)
    # when
    JournalEntry.objects.filter(stream="tender:1", seq=1).delete()

    # then
    b = _only_break("tender:1")
    assert (b.seq, b.code) == (1, "seq_gap")


def test_deleted_last_row_is_caught_by_the_head():
    # given
    _fill("tender:1", 3)
    # when
    JournalEntry.objects.filter(stream="tender:1", seq=3).delete()

    # then
    b = _only_break("tender:1")
    assert (b.seq, b.code) == (3, "head_mismatch")


def test_deleting_every_row_of_a_stream_is_caught_by_the_head():
    # given
    _fill("tender:1", 2)
    # when
    JournalEntry.objects.filter(stream="tender:1").delete()

    # then
    b = _only_break("tender:1")
    assert b.code == "head_mismatch"


def test_deleted_head_record_is_named():
    # given
    _fill("tender:1", 2)
    # when
    JournalStream.objects.filter(name="tender:1").delete()

    # then
    b = _only_break("tender:1")
    assert (b.seq, b.code) == (2, "head_missing")


def test_swapped_rows_are_named():
    # given
    _fill("tender:1", 4)
    r2, r3 = _row("tender:1", 2), _row("tender:1", 3)
    # when two rows exchange places (via a free seq, to pass the unique constraint)
    JournalEntry.objects.filter(pk=r2.pk).update(seq=1_000_000)
    JournalEntry.objects.filter(pk=r3.pk).update(seq=2)
    JournalEntry.objects.filter(pk=r2.pk).update(seq=3)

    # then the first row out of place is named
    b = _only_break("tender:1")
    assert (b.seq, b.code) == (2, "chain_broken")
    assert b.entry_id == r3.pk


def test_edited_row_with_its_own_hash_recomputed_is_caught_by_the_next_link():
    # given
    _fill("tender:1", 3)
    row = _row("tender:1", 2)
    # when the forger edits the row and recomputes everything the row itself carries
    row.action = "test.forged"
    row.payload = {"step": 20}
    row.payload_digest = digest(row.payload)
    JournalEntry.objects.filter(pk=row.pk).update(
        action=row.action, payload=row.payload, payload_digest=row.payload_digest, hash=_rehash(row)
    )
    forged = _row("tender:1", 2)
    assert forged.hash == _rehash(forged)  # the row on its own is consistent

    # then row 3 no longer links to it
    b = _only_break("tender:1")
    assert (b.seq, b.code) == (3, "chain_broken")


def test_edited_last_row_with_its_own_hash_recomputed_is_caught_by_the_head():
    # given
    _fill("tender:1", 3)
    row = _row("tender:1", 3)
    # when
    row.object_id = "forged"
    JournalEntry.objects.filter(pk=row.pk).update(object_id=row.object_id, hash=_rehash(row))

    # then
    b = _only_break("tender:1")
    assert (b.seq, b.code) == (3, "head_mismatch")


def test_edited_last_row_with_hash_and_head_rewritten_is_caught_by_the_anchor():
    # given an anchored stream
    _fill("tender:1", 3)
    journal_anchor()
    row = _row("tender:1", 3)
    # when the forger rewrites the row, its hash, and the head
    row.payload = {"step": 300}
    row.payload_digest = digest(row.payload)
    forged = _rehash(row)
    JournalEntry.objects.filter(pk=row.pk).update(
        payload=row.payload, payload_digest=row.payload_digest, hash=forged
    )
    JournalStream.objects.filter(name="tender:1").update(head_hash=forged)
    assert verify_stream("tender:1") is None  # the stream alone is self-consistent

    # then the global anchor still holds the old hash
    b = _only_break("tender:1")
    assert (b.seq, b.code) == (3, "anchor_mismatch")


def test_truncated_anchored_stream_with_rewritten_head_is_caught_by_the_anchor():
    # given an anchored stream of 4 entries
    entries = _fill("tender:1", 4)
    journal_anchor()
    # when the last two rows are deleted and the head is moved back to match
    JournalEntry.objects.filter(stream="tender:1", seq__gt=2).delete()
    JournalStream.objects.filter(name="tender:1").update(
        head_seq=2, head_hash=entries[1].hash, anchored_seq=2
    )
    assert verify_stream("tender:1") is None

    # then
    b = _only_break("tender:1")
    assert (b.seq, b.code) == (4, "anchor_missing")


def test_tampered_global_chain_is_named():
    # given
    _fill("tender:1", 1)
    journal_anchor()
    _fill("tender:1", 1)
    journal_anchor()
    # when an anchor's payload is altered
    JournalEntry.objects.filter(stream=GLOBAL_STREAM, seq=1).update(
        payload={"stream": "tender:1", "seq": 1, "hash": "0"}
    )

    # then the global chain is checked first and named
    breaks = verify_all()
    assert (breaks[0].stream, breaks[0].seq, breaks[0].code) == (GLOBAL_STREAM, 1, "payload_altered")


def test_only_the_broken_stream_is_reported():
    # given
    _fill("tender:1", 2)
    _fill("tender:2", 2)
    # when
    JournalEntry.objects.filter(stream="tender:2", seq=1).update(action="x")

    # then
    assert [(b.stream, b.code) for b in verify_all()] == [("tender:2", "entry_altered")]


def test_break_names_stream_seq_and_code_in_text():
    # given
    _fill("tender:1", 2)
    JournalEntry.objects.filter(stream="tender:1", seq=2).update(action="x")

    # when
    text = str(verify_all()[0])

    # then
    assert text.startswith("tender:1#2 ")
    assert "entry_altered" in text
