"""Prices and the award: competitive bids from private costs, a cartel's rigged bids, the winner.

Competitive: each bidder's cost is log-normal around the estimate (a per-tender spread plus a firm's
persistent advantage) and it adds a markup that shrinks with the number of rivals, never bidding above
the ceiling. Collusive (the screening literature's stylised facts): the designated winner bids above the
competitive winning price (overcharge), the covers sit above it with a gap and close to each other,
which lowers the coefficient of variation and raises the relative distance; a ring's *discipline* is
the share of its covers that follow the script, the rest bid loosely above the winner and look
competitive.
"""

from __future__ import annotations

import math
import random


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def bidder_count(rng: random.Random, mean: float, cap: int) -> int:
    """At least 3 bids (招标投标法第二十八条), over-dispersed above that: 3 + Poisson(Gamma(2, ·))."""
    lam = rng.gammavariate(2.0, (mean - 3.0) / 2.0) if mean > 3 else 0.0
    return min(cap, 3 + poisson(rng, lam))


def competitive_bid(
    rng: random.Random,
    *,
    estimate: float,
    ceiling: float,
    cost_ratio: float,
    effect: float,
    sigma: float,
    n: int,
) -> float:
    cost = estimate * cost_ratio * math.exp(effect + rng.gauss(0.0, sigma))
    bid = cost * (1.0 + rng.uniform(0.01, 0.06) + 0.08 / n)
    if bid >= ceiling:  # a bid above the ceiling is rejected: the bidder shades just below it
        bid = ceiling * rng.uniform(0.97, 0.999)
    return bid


def _below_ceiling(rng: random.Random, price: float, floor: float, ceiling: float) -> float:
    """A cover price that would pass the ceiling is squeezed into (floor, ceiling)."""
    if price < ceiling:
        return price
    return floor + (ceiling - floor) * rng.uniform(0.4, 0.995)


def rigged_prices(
    rng: random.Random,
    *,
    competitive: list[float],
    ceiling: float,
    overcharge: float,
    discipline: float,
    steps: bool = False,
) -> list[float]:
    """Prices of a ring's bids in one tender: the designated winner first, then the covers.

    `competitive` are the prices the members would have bid alone (winner first). With `steps` the
    covers follow an arithmetic or geometric series above the winner (sometimes identical prices),
    jittered by (1 − discipline).
    """
    win = min(min(competitive) * (1.0 + overcharge), ceiling * rng.uniform(0.93, 0.995))
    covers = len(competitive) - 1
    if steps:
        return [win, *_steps(rng, win, covers, ceiling, discipline)]
    base = win * (1.0 + rng.uniform(0.015, 0.06))
    out = [win]
    for own in competitive[1:]:
        if rng.random() < discipline:  # the script: a gap above the winner, the covers close together
            price = base * (1.0 + rng.uniform(0.0, 0.025))
        else:  # a loose cover: its own price marked up, or anything above the winner
            price = max(own * (1.0 + rng.uniform(0.0, overcharge)), win * (1.0 + abs(rng.gauss(0.0, 0.05))))
        out.append(_below_ceiling(rng, price, win, ceiling))
    return out


def _steps(rng: random.Random, win: float, covers: int, ceiling: float, discipline: float) -> list[float]:
    if covers == 0:
        return []
    if rng.random() < 0.15:  # identical cover prices
        price = _below_ceiling(rng, win * (1.0 + rng.uniform(0.01, 0.04)), win, ceiling)
        return [price] * covers
    step = min(rng.uniform(0.004, 0.025), (ceiling / win - 1.0) / (covers + 0.5))
    step = max(step, 0.0005)
    geometric = rng.random() < 0.5
    # 60 % computed exactly (winner × 1.02, × 1.04 …), the others jittered by the ring's indiscipline
    jitter = 0.0 if rng.random() < 0.6 else (1.0 - discipline) * step * 0.3
    out = []
    for k in range(1, covers + 1):
        factor = (1.0 + step) ** k if geometric else 1.0 + step * k
        out.append(win * (factor + (rng.gauss(0.0, jitter) if jitter else 0.0)))
    return out


def award(
    prices: list[float], *, lowest_price: bool, tech: list[float] | None = None, price_weight: float = 0.5
) -> int:
    """Index of the winning bid: the lowest price, or the best score (price score: lowest / price)."""
    low = min(prices)
    if lowest_price or tech is None:
        return prices.index(low)
    scores = [
        price_weight * 100.0 * low / p + (1.0 - price_weight) * t for p, t in zip(prices, tech, strict=True)
    ]
    return scores.index(max(scores))
