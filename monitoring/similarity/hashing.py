"""Character shingles hashed to 64 bits, sort-based grouping, exact Jaccard and MinHash (numpy)."""

from __future__ import annotations

import numpy as np

from monitoring.similarity.settings import PERMUTATIONS, SEED, TYPO_WINDOW, K
from monitoring.similarity.text import normalise

_P = np.uint64(0x100000001B3)  # FNV prime: the polynomial hash's base
_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads the polynomial hash over all 64 bits (uint64 wrap-around)."""
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def _codepoints(norm: str) -> np.ndarray:
    return np.frombuffer(norm.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)


def _poly(cp: np.ndarray, w: int) -> np.ndarray:
    """Σ (c_j + 1)·P^(w−1−j) mod 2⁶⁴ over each window of w code points (one window if shorter)."""
    m = max(len(cp) - w + 1, 1)
    h = np.zeros(m, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(min(w, len(cp))):
            h = h * _P + cp[j : j + m] + np.uint64(1)
    return h


def shingle_hashes(norm: str, k: int = K) -> np.ndarray:
    """One 64-bit hash per position of the normalised text (len − k + 1 of them; one if shorter)."""
    if not norm:
        return np.zeros(0, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return _mix(_poly(_codepoints(norm), k))


def gapped_hashes(norm: str, w: int = TYPO_WINDOW) -> np.ndarray:
    """One hash per window of w characters with its centre character left out (len − w + 1 of them):
    two texts with the same gapped hash at a place differ there in one character at most."""
    cp = _codepoints(norm)
    if len(cp) < w:
        return np.zeros(0, dtype=np.uint64)
    c = w // 2
    weight = np.uint64(pow(int(_P), w - 1 - c, 2**64))
    with np.errstate(over="ignore"):
        h = _poly(cp, w)
        h -= (cp[c : c + h.size] + np.uint64(1)) * weight
        return _mix(h)


def shingles(text: str, k: int = K) -> np.ndarray:
    """The sorted, distinct shingle hashes of a (raw) text."""
    return _groups(shingle_hashes(normalise(text), k))[0]


def _groups(x: np.ndarray):
    """np.unique(x, return_inverse=True, return_counts=True) by one argsort, plus the sort order and the
    groups' first positions in it (numpy's own unique is several times slower on uint64 hashes)."""
    order = np.argsort(x)
    s = x[order]
    first = np.ones(s.size, dtype=bool)
    np.not_equal(s[1:], s[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    inv = np.empty(x.size, dtype=np.int64)
    counts = np.diff(np.r_[starts, x.size])
    inv[order] = np.repeat(np.arange(starts.size), counts)
    return s[starts], inv, counts, order, starts


def _member(x: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """x ∈ sorted_set, elementwise."""
    if not sorted_set.size:
        return np.zeros(x.size, dtype=bool)
    at = np.minimum(np.searchsorted(sorted_set, x), sorted_set.size - 1)
    return sorted_set[at] == x


def _coefficients(permutations: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**63, size=permutations, dtype=np.uint64) * np.uint64(2) + np.uint64(1)  # odd
    b = rng.integers(0, 2**63, size=permutations, dtype=np.uint64)
    return a, b


def signature(hashes: np.ndarray, permutations: int = PERMUTATIONS, seed: int = SEED) -> np.ndarray:
    """MinHash signature of a set of shingle hashes: min over the set of (a·x + b) mod 2⁶⁴, per function.

    An empty set gives all-ones (2⁶⁴ − 1) entries; `estimate` treats two empty sets as not similar.
    """
    a, b = _coefficients(permutations, seed)
    sig = np.full(permutations, _M64, dtype=np.uint64)
    x = np.asarray(hashes, dtype=np.uint64)
    if x.size == 0:
        return sig
    buf = np.empty_like(x)
    with np.errstate(over="ignore"):
        for j in range(permutations):  # one function at a time: the buffer stays in cache
            np.multiply(x, a[j], out=buf)
            buf += b[j]
            sig[j] = buf.min()
    return sig


def estimate(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """MinHash estimate of the Jaccard index: the share of equal signature entries."""
    both = (sig_a != _M64) | (sig_b != _M64)
    if not both.any():
        return 0.0
    return float(np.mean(sig_a == sig_b))


def jaccard(a: np.ndarray | set, b: np.ndarray | set) -> float:
    """Exact Jaccard index of two sets (sorted unique hash arrays or Python sets); 0 if both are empty."""
    if isinstance(a, set) or isinstance(b, set):
        union = len(set(a) | set(b))
        return len(set(a) & set(b)) / union if union else 0.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    union = a.size + b.size - inter
    return inter / union if union else 0.0
