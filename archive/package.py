"""The package format (pure): manifest, file leaves, the journal copy and their checks.

A package is a set of files named by path. Its manifest lists each file's path, SHA-256, size, media
type and access flags, the Merkle root over the files (so one file's presence can be proved without
the others) and the head of the project's journal stream. The package digest is the SHA-256 of the
canonical manifest; the platform signs it, and it is a leaf of the Merkle tree over all packages.

On disk or in a ZIP:

    manifest.json        the canonical manifest (exact signed bytes)
    signature.json       {"alg", "digest", "signature", "certificates"}
    proof.json           the package's inclusion proof in a published, signed root
    verification.json    (export only) the report of the check made when it was exported
    files/<path>         every file the manifest lists
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from archive import merkle
from archive.journal import entry_hash
from core.canonical import canonical_json, digest, sha256_hex

JOURNAL_PATH = "journal/entries.json"
CATALOGUE_PATH = "catalogue.pdf"
RESERVED = ("journal", CATALOGUE_PATH)
PLAINTEXT_MAGIC = (
    b"GJPT1",  # the sealed-bid plaintext container (docs/sealed-bid.md)
    b"%PDF",
    b"PK\x03\x04",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"\xd0\xcf\x11\xe0",
    b"{\\rtf",
    b"GIF8",
)


def file_leaf(entry: dict) -> bytes:
    """The Merkle leaf of one manifest entry: its path, digest and size, canonically."""
    return canonical_json({"path": entry["path"], "sha256": entry["sha256"], "size": entry["size"]})


def files_root(entries: Sequence[dict]) -> str:
    return merkle.root([file_leaf(e) for e in entries]).hex()


def file_proof(entries: Sequence[dict], path: str) -> dict:
    """Proof that the file at `path` is in the manifest's file tree."""
    index = next(i for i, e in enumerate(entries) if e["path"] == path)
    leaves = [file_leaf(e) for e in entries]
    return {
        "entry": {k: entries[index][k] for k in ("path", "sha256", "size")},
        "index": index,
        "size": len(leaves),
        "path": [h.hex() for h in merkle.inclusion_proof(leaves, index)],
    }


def check_file_proof(proof: dict, head_hex: str) -> bool:
    try:
        return merkle.verify_inclusion(
            file_leaf(proof["entry"]),
            int(proof["index"]),
            int(proof["size"]),
            [bytes.fromhex(h) for h in proof["path"]],
            bytes.fromhex(head_hex),
        )
    except (KeyError, TypeError, ValueError):
        return False


def package_proof(digests: Sequence[str], index: int) -> list[str]:
    return [h.hex() for h in merkle.inclusion_proof([bytes.fromhex(d) for d in digests], index)]


def check_package_proof(
    package_digest: str, index: int, size: int, path: Sequence[str], root_hex: str
) -> bool:
    try:
        return merkle.verify_inclusion(
            bytes.fromhex(package_digest),
            index,
            size,
            [bytes.fromhex(h) for h in path],
            bytes.fromhex(root_hex),
        )
    except (TypeError, ValueError):
        return False


def root_statement(*, tree_size: int, root_hash: str, published_at) -> bytes:
    """The bytes the platform signs when it publishes a root."""
    from archive.rules import FORMAT

    return canonical_json(
        {
            "format": FORMAT,
            "kind": "archive-root",
            "tree_size": tree_size,
            "root_hash": root_hash,
            "published_at": published_at,
        }
    )


# --- the journal copy ----------------------------------------------------------------------------------


def journal_record(entry) -> dict:
    """A journal entry as the package keeps it: every field its hash covers, plus the payload."""
    return {
        "stream": entry.stream,
        "seq": entry.seq,
        "at": entry.at,
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "payload": entry.payload,
        "payload_digest": entry.payload_digest,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def journal_problems(stream: str, records: Iterable[dict], genesis: str) -> list[tuple[str, str]]:
    """(code, where) for every break in a journal copy: a record whose content no longer matches its
    hash, a link to the wrong predecessor, a gap or a foreign stream."""
    problems: list[tuple[str, str]] = []
    prev, expected = genesis, 1
    for rec in records:
        try:
            where = f"{stream}#{rec['seq']}"
            if rec["stream"] != stream:
                problems.append(("journal_foreign_entry", where))
            if rec["seq"] != expected:
                problems.append(("journal_gap", f"{stream}#{expected}"))
            if digest(rec["payload"]) != rec["payload_digest"]:
                problems.append(("journal_entry_modified", where))
            recomputed = entry_hash(
                stream=rec["stream"],
                seq=rec["seq"],
                prev_hash=rec["prev_hash"],
                at=rec["at"],
                actor_id=rec["actor_id"],
                actor_label=rec["actor_label"],
                action=rec["action"],
                object_type=rec["object_type"],
                object_id=rec["object_id"],
                payload_digest=rec["payload_digest"],
            )
            if recomputed != rec["hash"]:
                problems.append(("journal_entry_modified", where))
            if rec["prev_hash"] != prev:
                problems.append(("journal_link_broken", where))
        except (KeyError, TypeError, ValueError):
            problems.append(("journal_entry_invalid", f"{stream}#{expected}"))
            rec = {"seq": expected, "hash": ""}
        prev, expected = rec["hash"], int(rec["seq"]) + 1
    return sorted(set(problems), key=problems.index)


def looks_like_plaintext(head: bytes) -> bool:
    """A sealed bid's bytes that start like a document format are not ciphertext."""
    return head.startswith(PLAINTEXT_MAGIC)


def sha256_of(data: bytes) -> str:
    return sha256_hex(data)
