"""The verifiable expert draw (DESIGN §6): a pure, deterministic core with no database.

Inputs: a secret 32-byte seed the platform commits to *before* the draw (only its SHA-256 commitment
is published), a nonce the supervisor types at draw time, the digest of the eligible-pool snapshot and
the digest of the draw request. From them a key is derived; an HMAC-SHA256 counter-mode stream keyed
by it drives an unbiased Fisher–Yates shuffle of the canonically sorted pool. Once the seed is
revealed anyone can re-run the draw with `verify`. docs/expert-draw.md specifies every byte so that a
third party can re-implement it; the test vector there is pinned by the tests.

Neither side can steer the result alone: the platform fixed the seed before it knew the nonce, and
the supervisor chose the nonce without knowing the seed. The pool is hashed into the key, so adding
or removing one expert reshuffles everything rather than shifting a chosen name into place.

This module imports only the standard library (and may import `core`): it is the part a third party
reads and re-runs, so it must not depend on models or settings.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import operator
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

VERSION = b"GJ-DRAW-1"
SEED_BYTES = 32
_TAG_SEED = VERSION + b" seed\x00"
_TAG_POOL = VERSION + b" pool\x00"
_TAG_KEY = VERSION + b" key\x00"
_TAG_STREAM = VERSION + b" stream\x00"

OK = "ok"
SEED_COMMITMENT_MISMATCH = "seed_commitment_mismatch"
POOL_MISMATCH = "pool_mismatch"
ORDER_MISMATCH = "order_mismatch"


def seed_new() -> bytes:
    return secrets.token_bytes(SEED_BYTES)


def _check_seed(seed: bytes) -> None:
    if not isinstance(seed, bytes) or len(seed) != SEED_BYTES:
        raise ValueError(f"the draw seed must be {SEED_BYTES} bytes")


def seed_commitment(seed: bytes) -> str:
    """Hex SHA-256 published before the draw; domain-separated so it is useless as any other hash."""
    _check_seed(seed)
    return hashlib.sha256(_TAG_SEED + seed).hexdigest()


def canonical_pool(expert_ids: Iterable[str]) -> list[str]:
    """Sorted unique ids (a fresh list). Python's str order is code-point order, the same as UTF-8
    byte order. A list that is already strictly increasing — what the platform builds — is only
    checked, not re-sorted: at 100 000 ids the set-and-sort is most of a draw's cost."""
    return _canonical(expert_ids)[0]


def _canonical(expert_ids: Iterable[str]) -> tuple[list[str], bytes]:
    """The canonical pool and its digest input, joined once."""
    ids = list(expert_ids)
    try:
        if not all(map(operator.lt, ids, itertools.islice(ids, 1, None))):
            ids = sorted(set(ids))
    except TypeError as exc:
        raise ValueError("expert ids must be non-empty strings") from exc
    return ids, _joined(ids)


def _joined(ids: list[str]) -> bytes:
    """The digest input of a canonical pool; refuses ids that would make two pools collide."""
    if ids and not ids[0]:  # sorted: an empty id would be first
        raise ValueError("expert ids must be non-empty strings")
    try:
        text = "\n".join(ids)
    except TypeError as exc:
        raise ValueError("expert ids must be non-empty strings") from exc
    if text.count("\n") != len(ids) - 1 and ids:
        # The newline is the separator in the pool digest: an id containing one is ambiguous.
        raise ValueError("expert ids must not contain a newline")
    return text.encode()


def pool_digest(expert_ids: Iterable[str]) -> str:
    return _digest_canonical(*_canonical(expert_ids))


def _digest_canonical(ids: list[str], joined: bytes | None = None) -> str:
    return hashlib.sha256(_TAG_POOL + (joined if joined is not None else _joined(ids))).hexdigest()


def _field(data: bytes) -> bytes:
    # Length-prefixed, so that ("ab", "c") and ("a", "bc") never derive the same key.
    return len(data).to_bytes(4, "big") + data


def draw_key(*, seed: bytes, nonce: str, pool_digest: str, request_digest: str) -> bytes:
    """HMAC-SHA256 keyed by the seed over the public inputs; the seed is the only secret."""
    _check_seed(seed)
    message = (
        _TAG_KEY + _field(nonce.encode()) + _field(pool_digest.encode()) + _field(request_digest.encode())
    )
    return hmac.new(seed, message, hashlib.sha256).digest()


class Stream:
    """Bytes of HMAC-SHA256(key, tag ‖ counter as u64 BE) for counter = 0, 1, 2 …, read in order."""

    def __init__(self, key: bytes):
        self._mac = hmac.new(key, _TAG_STREAM, hashlib.sha256)
        self._counter = 0
        self._buffer = b""

    def read(self, n: int) -> bytes:
        while len(self._buffer) < n:
            mac = self._mac.copy()
            mac.update(self._counter.to_bytes(8, "big"))
            self._buffer += mac.digest()
            self._counter += 1
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out

    def randbelow(self, n: int) -> int:
        """Uniform in [0, n) by rejection: k = bits of n-1, read ceil(k/8) bytes BE, keep the low k bits,
        retry while ≥ n. Masking to k bits keeps the acceptance rate above one half."""
        if n < 1:
            raise ValueError("randbelow needs n ≥ 1")
        bits = (n - 1).bit_length()
        if bits == 0:
            return 0  # n == 1: nothing to choose, no bytes consumed (part of the spec)
        size, mask = (bits + 7) // 8, (1 << bits) - 1
        while True:
            value = int.from_bytes(self.read(size), "big") & mask
            if value < n:
                return value


def shuffle(ids: Iterable[str], key: bytes, *, limit: int | None = None) -> list[str]:
    """Forward Fisher–Yates over the canonical pool: step i swaps a[i] with a[i + randbelow(N - i)].

    Step i fixes position i for good, so stopping after `limit` steps gives exactly the first `limit`
    entries of the full permutation — a draw of 10 from 100 000 costs 10 steps, not 100 000.
    """
    return _shuffle_canonical(canonical_pool(ids), key, limit=limit)


def _shuffle_canonical(pool: list[str], key: bytes, *, limit: int | None) -> list[str]:
    """Shuffles `pool` (already canonical, a fresh list) in place and returns its prefix."""
    size = len(pool)
    steps = size if limit is None else min(limit, size)
    stream = Stream(key)
    for i in range(steps):
        j = i + stream.randbelow(size - i)
        pool[i], pool[j] = pool[j], pool[i]
    return pool[:steps]


@dataclass(frozen=True)
class Drawn:
    order: list[str]
    selected: list[str]
    reserves: list[str]
    pool_digest: str
    commitment: str


def draw(
    *,
    seed: bytes,
    nonce: str,
    pool: Iterable[str],
    request_digest: str,
    count: int,
    reserves: int | None = None,
) -> Drawn:
    """The first `count` of the order are selected, the rest are reserves, called in order.

    `reserves=None` ranks the whole pool; a number ranks only `count + reserves` (same prefix).
    The caller checks the pool is large enough and refuses with a domain error; here it is misuse.
    """
    ids, joined = _canonical(pool)
    if count < 1 or count > len(ids):
        raise ValueError(f"cannot draw {count} experts, the pool has {len(ids)}")
    if reserves is not None and reserves < 0:
        raise ValueError("reserves must be ≥ 0")
    digest = _digest_canonical(ids, joined)
    key = draw_key(seed=seed, nonce=nonce, pool_digest=digest, request_digest=request_digest)
    order = _shuffle_canonical(ids, key, limit=None if reserves is None else count + reserves)
    return Drawn(
        order=order,
        selected=order[:count],
        reserves=order[count:],
        pool_digest=digest,
        commitment=seed_commitment(seed),
    )


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    reason: str


def verify(
    *,
    revealed_seed: bytes,
    commitment: str,
    nonce: str,
    pool: Iterable[str],
    request_digest: str,
    count: int,
    recorded_order: list[str],
    recorded_pool_digest: str | None = None,
) -> VerifyResult:
    """Re-run a recorded draw. Checks, in order: the revealed seed opens the commitment; the pool
    snapshot is the recorded one (by digest when recorded, and every recorded name is in it); the
    re-run order equals the recorded order (a changed nonce or request shows here)."""
    if (
        not isinstance(revealed_seed, bytes)
        or len(revealed_seed) != SEED_BYTES
        or not hmac.compare_digest(seed_commitment(revealed_seed), commitment.lower())
    ):
        return VerifyResult(False, SEED_COMMITMENT_MISMATCH)
    ids, joined = _canonical(pool)
    digest = _digest_canonical(ids, joined)
    if recorded_pool_digest is not None and digest != recorded_pool_digest.lower():
        return VerifyResult(False, POOL_MISMATCH)
    if not set(recorded_order) <= set(ids):
        return VerifyResult(False, POOL_MISMATCH)
    if len(recorded_order) < count or len(recorded_order) > len(ids):
        return VerifyResult(False, ORDER_MISMATCH)
    key = draw_key(seed=revealed_seed, nonce=nonce, pool_digest=digest, request_digest=request_digest)
    if _shuffle_canonical(ids, key, limit=len(recorded_order)) != list(recorded_order):
        return VerifyResult(False, ORDER_MISMATCH)
    return VerifyResult(True, OK)
