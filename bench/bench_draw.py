"""Expert draw latency (issue 4, goal: median < 100 ms): one verifiable draw of 7 experts and 3
reserves from a pool of 100 000 expert ids (small mode 20 000), timed end to end through
`experts.draw.draw` — canonical sort and digest of the pool snapshot, key derivation, partial
Fisher–Yates. The conflict filtering that builds the eligible pool is the service's, not timed here."""

from __future__ import annotations

import random
import statistics
import time

from bench.common import report
from experts.draw import draw, seed_new


def run(*, small: bool) -> None:
    size, rounds = (20_000, 30) if small else (100_000, 50)
    # Ids shaped like the real ones (18-char resident-ID-like strings), in no particular order,
    # so that the canonical sort does real work.
    rng = random.Random(4)
    pool = [f"{rng.randrange(10**17, 10**18)}" for _ in range(size)]
    seed = seed_new()
    times = []
    for k in range(rounds):
        start = time.perf_counter()
        drawn = draw(seed=seed, nonce=f"n{k}", pool=pool, request_digest="0" * 64, count=7, reserves=3)
        times.append(time.perf_counter() - start)
        assert len(drawn.order) == 10
    times.sort()
    figures = {
        "pool": size,
        "selected": 7,
        "reserves": 3,
        "rounds": rounds,
        "median_ms": round(statistics.median(times) * 1000, 2),
        "p95_ms": round(times[int(0.95 * (rounds - 1))] * 1000, 2),
    }
    human = (
        f"draw 7+3 from {size} experts: median {figures['median_ms']} ms, p95 {figures['p95_ms']} ms "
        f"(goal median < 100 ms)"
    )
    report("draw", figures, human)
