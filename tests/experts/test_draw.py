"""The verifiable expert draw core (DESIGN §6, issue 4 item 2): determinism, sensitivity to every input,
verification codes, unbiased sampling and uniform selection over the eligible pool."""

from __future__ import annotations

from collections import Counter

import pytest
from scipy.stats import chisquare

from experts import draw as d

SEED = bytes(range(32))
REQUEST = "0" * 64
POOL = [f"E{i:03d}" for i in range(1, 21)]


def _draw(**over):
    args = {"seed": SEED, "nonce": "supervisor-4711", "pool": POOL, "request_digest": REQUEST, "count": 5}
    args.update(over)
    return d.draw(**args)


def test_published_vector_matches_docs():
    # Given the test vector of docs/expert-draw.md, when drawn, then every published value matches:
    # a third-party re-implementation checks itself against exactly these.
    drawn = _draw()
    assert drawn.commitment == "7e6813df61c103384f5918fc68f0498398e045445b276e77200945ee252199b0"
    assert drawn.pool_digest == "9c427f78059dda5a2d7a646f7af308ebb2f8d75f7b323544ed6a8837de94c513"
    key = d.draw_key(
        seed=SEED, nonce="supervisor-4711", pool_digest=drawn.pool_digest, request_digest=REQUEST
    )
    assert key.hex() == "88f7c1df8eed26806beecb49841f21bf00a256a4b01531423c3b2ae91e61cd35"
    assert drawn.order == [
        "E007", "E018", "E016", "E015", "E008", "E006", "E003", "E011", "E005", "E001",
        "E004", "E020", "E014", "E013", "E012", "E010", "E002", "E019", "E009", "E017",
    ]  # fmt: skip
    assert drawn.selected == drawn.order[:5]
    assert drawn.reserves == drawn.order[5:]


def test_same_inputs_same_order_whatever_the_pool_order():
    # Given the same inputs with the pool listed in another order and with a duplicate,
    # then the draw is identical: the pool is canonicalised before anything else.
    assert _draw(pool=[*reversed(POOL), POOL[3]]) == _draw()


@pytest.mark.parametrize(
    "change",
    [
        {"nonce": "supervisor-4712"},
        {"seed": bytes([1]) + SEED[1:]},
        {"pool": POOL[:-1]},
        {"request_digest": "1" * 64},
    ],
    ids=["nonce", "seed", "pool", "request"],
)
def test_any_changed_input_changes_the_order(change):
    assert _draw(**change).order != _draw().order


def test_partial_draw_is_the_prefix_of_the_full_order():
    # Given a draw limited to count + reserves, then it is exactly the head of the full ranking,
    # so the fast path for big pools cannot disagree with a full re-run.
    full = _draw()
    partial = _draw(count=3, reserves=4)
    assert partial.order == full.order[:7]
    assert partial.selected == full.order[:3] and partial.reserves == full.order[3:7]


def _verify(drawn, **over):
    args = {
        "revealed_seed": SEED,
        "commitment": drawn.commitment,
        "nonce": "supervisor-4711",
        "pool": POOL,
        "request_digest": REQUEST,
        "count": 5,
        "recorded_order": drawn.order[:8],
        "recorded_pool_digest": drawn.pool_digest,
    }
    args.update(over)
    return d.verify(**args)


def test_verify_accepts_the_recorded_draw():
    assert _verify(_draw()) == d.VerifyResult(True, "ok")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"revealed_seed": bytes([9]) + SEED[1:]}, "seed_commitment_mismatch"),
        ({"revealed_seed": SEED[:31]}, "seed_commitment_mismatch"),
        ({"nonce": "supervisor-0000"}, "order_mismatch"),
        ({"request_digest": "f" * 64}, "order_mismatch"),
        ({"pool": [*POOL, "E999"]}, "pool_mismatch"),
        ({"pool": [x for x in POOL if x != "E007"], "recorded_pool_digest": None}, "pool_mismatch"),
    ],
    ids=["seed", "short-seed", "nonce", "request", "pool-added", "pool-removed-no-digest"],
)
def test_verify_names_what_differs(change, code):
    result = _verify(_draw(), **change)
    assert (result.ok, result.reason) == (False, code)


def test_verify_detects_a_tampered_order():
    # Given a record where two experts were swapped (someone steered the result), then order_mismatch.
    order = _draw().order[:8]
    order[0], order[6] = order[6], order[0]
    assert _verify(_draw(), recorded_order=order).reason == "order_mismatch"


def test_pool_digest_is_canonical_and_refuses_ambiguous_ids():
    assert d.pool_digest(["b", "a", "a"]) == d.pool_digest(["a", "b"])
    assert d.pool_digest(["a", "b"]) != d.pool_digest(["a", "b", "c"])
    with pytest.raises(ValueError):
        d.pool_digest(["a\nb"])
    with pytest.raises(ValueError):
        d.pool_digest(["", "a"])


def test_seed_commitment_is_domain_separated_sha256():
    import hashlib

    seed = d.seed_new()
    assert len(seed) == 32 and seed != d.seed_new()
    assert d.seed_commitment(seed) == hashlib.sha256(b"GJ-DRAW-1 seed\x00" + seed).hexdigest()
    assert d.seed_commitment(seed) != hashlib.sha256(seed).hexdigest()


class _Scripted(d.Stream):
    def __init__(self, data: bytes):
        self._data = data

    def read(self, n: int) -> bytes:
        out, self._data = self._data[:n], self._data[n:]
        return out


def test_randbelow_rejects_rather_than_folds():
    # Given n = 3 (2 bits) and stream bytes 0x03 then 0x01, then 3 is rejected and 1 returned;
    # a modulo implementation would fold 3 onto 0 and favour it.
    assert _Scripted(bytes([0x03, 0x01])).randbelow(3) == 1
    # Only the low k bits count: 0xFE & 0b11 = 2.
    assert _Scripted(bytes([0xFE])).randbelow(3) == 2
    # n = 1 consumes nothing.
    stream = _Scripted(b"\x07")
    assert stream.randbelow(1) == 0 and stream.read(1) == b"\x07"


@pytest.mark.parametrize("n", [2, 3, 5, 6, 7, 10, 255, 257])
def test_randbelow_is_uniform_at_small_n(n):
    stream = d.Stream(b"\x42" * 32)
    counts = Counter(stream.randbelow(n) for _ in range(400 * n))
    assert set(counts) == set(range(n))
    assert chisquare([counts[v] for v in range(n)]).pvalue > 0.001


def test_selection_is_uniform_over_the_eligible_pool():
    # Given a fixed seed and 100 000 draws of 5 from 30 with the nonce varied, then every expert is
    # selected about equally often, and each is first about equally often (chi-square, p > 0.001).
    pool = [f"X{i:02d}" for i in range(30)]
    selected, first = Counter(), Counter()
    for k in range(100_000):
        drawn = d.draw(seed=SEED, nonce=str(k), pool=pool, request_digest=REQUEST, count=5, reserves=0)
        selected.update(drawn.selected)
        first[drawn.selected[0]] += 1
    assert sum(selected.values()) == 500_000
    assert chisquare([selected[x] for x in pool]).pvalue > 0.001
    assert chisquare([first[x] for x in pool]).pvalue > 0.001
