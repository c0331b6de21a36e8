"""Appending to and verifying the hash-chained journal.

`journal_append` must run inside the caller's transaction, so that a state change and
its journal entry commit together or not at all.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from archive.models import GENESIS_HASH, GLOBAL_STREAM, JournalEntry, JournalStream
from core.canonical import canonical_json, digest, sha256_hex


def entry_hash(
    *,
    stream: str,
    seq: int,
    prev_hash: str,
    at,
    actor_id: str,
    actor_label: str,
    action: str,
    object_type: str,
    object_id: str,
    payload_digest: str,
) -> str:
    return sha256_hex(
        canonical_json(
            {
                "stream": stream,
                "seq": seq,
                "prev": prev_hash,
                "at": at,
                "actor_id": actor_id,
                "actor_label": actor_label,
                "action": action,
                "object_type": object_type,
                "object_id": object_id,
                "payload_digest": payload_digest,
            }
        )
    )


def _actor(actor: Any) -> tuple[str, str]:
    if actor is None:
        return "", "system"
    if isinstance(actor, str):
        return "", actor
    if getattr(actor, "is_authenticated", False) or getattr(actor, "pk", None):
        return str(actor.pk), getattr(actor, "username", str(actor))
    return "", str(actor)


def _lock_stream(name: str) -> JournalStream:
    try:
        return JournalStream.objects.select_for_update().get(name=name)
    except JournalStream.DoesNotExist:
        try:
            with transaction.atomic():
                JournalStream.objects.create(name=name)
        except IntegrityError:
            pass  # created concurrently; take the lock on the winner's row
        return JournalStream.objects.select_for_update().get(name=name)


def stream_lock(name: str) -> JournalStream:
    """Lock a stream's head row (inside a transaction): serialises whatever is ordered by that stream."""
    return _lock_stream(name)


def journal_append(
    *,
    stream: str,
    action: str,
    actor: Any = None,
    obj: Any = None,
    object_type: str = "",
    object_id: str = "",
    payload: dict | None = None,
) -> JournalEntry:
    """Append one entry to `stream` (call inside the transaction that makes the change)."""
    # Store exactly what is hashed: dates, decimals and UUIDs become their canonical strings
    # here, so the JSON column can hold them and a re-check computes the same digest.
    payload = json.loads(canonical_json(payload or {}))
    if obj is not None:
        object_type = object_type or f"{obj._meta.app_label}.{obj._meta.model_name}"
        object_id = object_id or str(obj.pk)
    actor_id, actor_label = _actor(actor)
    with transaction.atomic():
        head = _lock_stream(stream)
        seq = head.head_seq + 1
        at = timezone.now()
        payload_digest = digest(payload)
        h = entry_hash(
            stream=stream,
            seq=seq,
            prev_hash=head.head_hash,
            at=at,
            actor_id=actor_id,
            actor_label=actor_label,
            action=action,
            object_type=object_type,
            object_id=object_id,
            payload_digest=payload_digest,
        )
        entry = JournalEntry.objects.create(
            stream=stream,
            seq=seq,
            at=at,
            actor_id=actor_id,
            actor_label=actor_label,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            payload=payload,
            payload_digest=payload_digest,
            prev_hash=head.head_hash,
            hash=h,
        )
        JournalStream.objects.filter(pk=head.pk).update(head_seq=seq, head_hash=h)
    return entry


def journal_anchor(*, streams: Iterable[str] | None = None, actor: Any = None) -> list[JournalEntry]:
    """Write the current head of every (or the named) stream that moved into the global chain."""
    anchored = []
    qs = JournalStream.objects.exclude(name=GLOBAL_STREAM)
    if streams is not None:
        qs = qs.filter(name__in=list(streams))
    with transaction.atomic():
        for head in qs.select_for_update().order_by("pk"):
            if head.head_seq == head.anchored_seq:
                continue
            anchored.append(
                journal_append(
                    stream=GLOBAL_STREAM,
                    action="journal.anchor",
                    actor=actor,
                    object_type="archive.journalstream",
                    object_id=head.name,
                    payload={"stream": head.name, "seq": head.head_seq, "hash": head.head_hash},
                )
            )
            JournalStream.objects.filter(pk=head.pk).update(anchored_seq=head.head_seq)
    return anchored


@dataclasses.dataclass
class Break:
    stream: str
    seq: int | None
    entry_id: int | None
    reason: str
    code: str

    def __str__(self) -> str:
        where = f"{self.stream}#{self.seq}" if self.seq is not None else self.stream
        return f"{where} (row id {self.entry_id}): {self.code}: {self.reason}"


def verify_stream(name: str, entries: Iterable[JournalEntry] | None = None) -> Break | None:
    """Re-check one chain; return the first broken link or None."""
    if entries is None:
        entries = JournalEntry.objects.filter(stream=name).order_by("seq", "id").iterator(chunk_size=2000)
    prev = GENESIS_HASH
    expected_seq = 1
    for e in entries:
        if e.seq != expected_seq:
            return Break(
                name,
                expected_seq,
                e.pk,
                f"expected seq {expected_seq}, found {e.seq} (missing or reordered row)",
                "seq_gap",
            )
        if e.prev_hash != prev:
            return Break(name, e.seq, e.pk, "prev_hash does not match the previous entry", "chain_broken")
        if digest(e.payload) != e.payload_digest:
            return Break(name, e.seq, e.pk, "payload does not match its digest", "payload_altered")
        h = entry_hash(
            stream=e.stream,
            seq=e.seq,
            prev_hash=e.prev_hash,
            at=e.at,
            actor_id=e.actor_id,
            actor_label=e.actor_label,
            action=e.action,
            object_type=e.object_type,
            object_id=e.object_id,
            payload_digest=e.payload_digest,
        )
        if h != e.hash:
            return Break(name, e.seq, e.pk, "entry fields do not match its hash", "entry_altered")
        prev = e.hash
        expected_seq += 1
    head = JournalStream.objects.filter(name=name).first()
    last_seq = expected_seq - 1
    if head is None and last_seq:
        # The head row is the lock and the record of how far the chain reached; without it
        # a truncation could not be told apart from a short chain.
        return Break(name, last_seq, None, "the stream's head record is missing", "head_missing")
    if head is not None and (head.head_seq != last_seq or head.head_hash != prev):
        return Break(
            name,
            last_seq + 1 if head.head_seq > last_seq else head.head_seq,
            None,
            f"stream head says #{head.head_seq} but the chain ends at #{last_seq}",
            "head_mismatch",
        )
    return None


def verify_anchors() -> Break | None:
    """Every anchor in the global chain must name an entry that still has that hash."""
    for anchor in JournalEntry.objects.filter(stream=GLOBAL_STREAM, action="journal.anchor").order_by("seq"):
        p = anchor.payload
        found = JournalEntry.objects.filter(stream=p.get("stream"), seq=p.get("seq")).first()
        if found is None:
            return Break(
                p.get("stream", "?"),
                p.get("seq"),
                None,
                f"anchored in global #{anchor.seq} but missing",
                "anchor_missing",
            )
        if found.hash != p.get("hash"):
            return Break(
                found.stream,
                found.seq,
                found.pk,
                f"hash differs from the one anchored in global #{anchor.seq}",
                "anchor_mismatch",
            )
    return None


def verify_all() -> list[Break]:
    """Check every chain (global first) and the anchors; one Break per broken stream."""
    names = set(JournalStream.objects.values_list("name", flat=True)) | set(
        JournalEntry.objects.values_list("stream", flat=True).distinct()
    )
    breaks = []
    for name in sorted(names, key=lambda n: (n != GLOBAL_STREAM, n)):
        b = verify_stream(name)
        if b:
            breaks.append(b)
    anchor_break = verify_anchors()
    if anchor_break:
        breaks.append(anchor_break)
    return breaks
