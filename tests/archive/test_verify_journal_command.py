"""`manage.py verify_journal`: exit 0 on a clean journal, non-zero naming the first broken link."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from archive.journal import journal_anchor, journal_append
from archive.models import JournalEntry, JournalStream
from tests.archive.tamper import tampering

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _behind_the_back():
    with tampering():
        yield


def _fill(stream: str, n: int) -> None:
    for i in range(n):
        journal_append(stream=stream, action="test.step", payload={"i": i})


def _run(*args) -> str:
    out = io.StringIO()
    call_command("verify_journal", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_clean_journal_exits_zero_and_counts_entries():
    # given
    _fill("tender:1", 3)
    _fill("tender:2", 2)
    journal_anchor()

    # when
    out = _run()

    # then 5 entries plus 2 anchors
    assert "journal OK: 7 entries verified" in out


def test_empty_journal_is_clean():
    assert "journal OK: 0 entries verified" in _run()


def test_broken_journal_exits_non_zero_naming_the_first_broken_link():
    # given
    _fill("tender:1", 3)
    _fill("tender:2", 3)
    JournalEntry.objects.filter(stream="tender:2", seq=2).update(payload={"i": 42})
    JournalEntry.objects.filter(stream="tender:2", seq=3).update(action="forged")

    # when
    with pytest.raises(CommandError) as exc:
        _run()

    # then the message names the stream, the seq and the code of the first break
    message = str(exc.value)
    assert message.startswith("journal_broken:")
    assert "tender:2#2" in message
    assert "payload_altered" in message
    assert "tender:1" not in message


def test_broken_links_are_listed_on_stderr():
    # given
    _fill("tender:1", 2)
    _fill("tender:2", 2)
    JournalEntry.objects.filter(stream="tender:1", seq=1).delete()
    JournalEntry.objects.filter(stream="tender:2", seq=2).update(action="forged")
    err = io.StringIO()

    # when
    with pytest.raises(CommandError):
        call_command("verify_journal", stdout=io.StringIO(), stderr=err)

    # then every broken stream is reported, in order
    lines = [line for line in err.getvalue().splitlines() if line.startswith("BROKEN")]
    assert len(lines) == 2
    assert "tender:1#1" in lines[0] and "seq_gap" in lines[0]
    assert "tender:2#2" in lines[1] and "entry_altered" in lines[1]


def test_truncation_with_rewritten_head_fails_the_command_through_the_anchor():
    # given
    _fill("tender:1", 3)
    journal_anchor()
    second = JournalEntry.objects.get(stream="tender:1", seq=2)
    JournalEntry.objects.filter(stream="tender:1", seq=3).delete()
    JournalStream.objects.filter(name="tender:1").update(head_seq=2, head_hash=second.hash)

    # when / then
    with pytest.raises(CommandError, match=r"tender:1#3 .*anchor_missing"):
        _run()


def test_single_stream_option_checks_only_that_stream():
    # given one broken and one clean stream
    _fill("tender:1", 2)
    _fill("tender:2", 2)
    JournalEntry.objects.filter(stream="tender:2", seq=1).update(action="forged")

    # when / then
    assert "journal OK: 2 entries verified" in _run("--stream", "tender:1")
    with pytest.raises(CommandError, match="tender:2#1"):
        _run("--stream", "tender:2")


def test_unknown_stream_is_refused():
    with pytest.raises(CommandError, match="unknown_stream"):
        _run("--stream", "nope")
