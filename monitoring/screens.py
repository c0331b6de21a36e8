"""Price screens of one tender's bids (DOMAIN D, the screening literature): pure numbers, no I/O.

A screen summarises the distribution of the bids of one tender; collusive tenders tend to show
less dispersion among the bids (a low coefficient of variation), a large gap between the winner
and the cover bids clustered behind it (a large relative distance), regular steps between prices
(规律性差异) or identical prices. Definitions follow Imhof, Karagök & Rutz (2018), Huber & Imhof
(2019) and Wallimann, Imhof & Huber (2022); with the bids sorted b1 ≤ b2 ≤ … ≤ bn, mean μ and
sample standard deviation σ (n − 1 in the denominator):

    cv        σ / μ                                           coefficient of variation      n ≥ 2
    spd       (bn − b1) / b1                                  spread                        n ≥ 2
    diffp     (b2 − b1) / b1                                  percentage difference         n ≥ 2
    rd        (b2 − b1) / σ(b2…bn)                            relative distance             n ≥ 3
    rdnor     (b2 − b1) / ((bn − b1) / (n − 1))               normalised distance           n ≥ 3
    rdalt     (b2 − b1) / ((bn − b2) / (n − 2))               alternative distance          n ≥ 3
    skew      n / ((n−1)(n−2)) · Σ z³                         sample skewness               n ≥ 3
    kurt      n(n+1)/((n−1)(n−2)(n−3)) · Σ z⁴ − 3(n−1)²/((n−2)(n−3))   excess kurtosis     n ≥ 4
    ks        Kolmogorov–Smirnov distance of (b − b1)/(bn − b1) to U(0, 1)                  n ≥ 3

with z = (b − μ)/σ. Beyond the literature's set: closeness to the ceiling price (`min_to_ceiling`,
`mean_to_ceiling`) and to the estimate, regular steps (`step_cv`, the coefficient of variation of
the gaps between consecutive prices: 0 for an arithmetic series; `ratio_cv` likewise for a
geometric one) and identical prices (`identical`, `identical_share`).

A screen that is undefined for the bids (too few, or a zero denominator) is None, never a
made-up number: the models treat it as missing. Money arrives as Decimal and is converted to float
here, inside the feature computation (CONVENTIONS 8). Thresholds are not here: a screen is a
measurement, the rules and models that use it decide.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from decimal import Decimal

SCREENS = (
    "n",
    "cv",
    "spd",
    "diffp",
    "rd",
    "rdnor",
    "rdalt",
    "skew",
    "kurt",
    "ks",
    "step_cv",
    "ratio_cv",
    "identical",
    "identical_share",
    "min_to_ceiling",
    "mean_to_ceiling",
    "min_to_estimate",
    "mean_to_estimate",
)
# The screens computed over every subset of k bids, summarised per tender (incomplete cartels: a
# cartel among some of the bidders shows in the subsets it forms, not in the whole tender).
SUBSET_SCREENS = ("cv", "spd", "diffp", "rd", "kurt", "skew")
SUBSET_STATS = ("min", "max", "mean", "median")
MAX_SUBSETS = 1000


def _stdev(values: Sequence[float]) -> float:
    """Sample standard deviation (n − 1), two-pass with math.fsum: as exact as statistics.stdev for
    these magnitudes, without its exact-fraction arithmetic (which dominated the batch's time)."""
    n = len(values)
    mean = math.fsum(values) / n
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))


def _floats(bids: Iterable[Decimal | float | int]) -> list[float]:
    out = []
    for b in bids:
        value = float(b)
        if not math.isfinite(value) or value <= 0:
            raise ValueError("bids are positive finite amounts")
        out.append(value)
    return sorted(out)


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def _cv(values: Sequence[float]) -> float | None:
    if len(values) < 2:
        return None
    mean = statistics.fmean(values)
    return _ratio(_stdev(values), abs(mean)) if mean else None


def _moments(b: Sequence[float]) -> tuple[float | None, float | None]:
    """Bias-corrected sample skewness (n ≥ 3) and excess kurtosis (n ≥ 4); None when σ = 0."""
    n = len(b)
    if n < 3:
        return None, None
    mean, sd = statistics.fmean(b), _stdev(b)
    if sd == 0:
        return None, None
    z = [(x - mean) / sd for x in b]
    skew = n / ((n - 1) * (n - 2)) * sum(v**3 for v in z)
    if n < 4:
        return skew, None
    kurt = n * (n + 1) / ((n - 1) * (n - 2) * (n - 3)) * sum(v**4 for v in z) - 3 * (n - 1) ** 2 / (
        (n - 2) * (n - 3)
    )
    return skew, kurt


def _ks_uniform(b: Sequence[float]) -> float | None:
    """KS distance between the bids rescaled to [0, 1] by min and max and the uniform law."""
    n = len(b)
    if n < 3 or b[-1] == b[0]:
        return None
    lo, width = b[0], b[-1] - b[0]
    u = [(x - lo) / width for x in b]
    return max(max((i + 1) / n - x, x - i / n) for i, x in enumerate(u))


def screens(
    bids: Iterable[Decimal | float | int],
    *,
    ceiling: Decimal | float | None = None,
    estimate: Decimal | float | None = None,
) -> dict[str, float | int | None]:
    """Every screen of SCREENS for one tender's valid bids (order does not matter)."""
    b = _floats(bids)
    n = len(b)
    out: dict[str, float | int | None] = dict.fromkeys(SCREENS)
    out["n"] = n
    if n == 0:
        return out
    out["cv"] = _cv(b)
    if n >= 2:
        out["spd"] = (b[-1] - b[0]) / b[0]
        out["diffp"] = (b[1] - b[0]) / b[0]
    if n >= 3:
        gap = b[1] - b[0]
        out["rd"] = _ratio(gap, _stdev(b[1:]))
        out["rdnor"] = _ratio(gap, (b[-1] - b[0]) / (n - 1))
        out["rdalt"] = _ratio(gap, (b[-1] - b[1]) / (n - 2))
        steps = [y - x for x, y in itertools.pairwise(b)]
        out["step_cv"] = _cv(steps) if any(steps) else None
        out["ratio_cv"] = _cv([y / x - 1 for x, y in itertools.pairwise(b)]) if any(steps) else None
    out["skew"], out["kurt"] = _moments(b)
    out["ks"] = _ks_uniform(b)
    counts = Counter(b)
    out["identical"] = sum(c for c in counts.values() if c > 1)
    out["identical_share"] = out["identical"] / n
    for name, reference in (("ceiling", ceiling), ("estimate", estimate)):
        if reference is not None and float(reference) > 0:
            out[f"min_to_{name}"] = b[0] / float(reference)
            out[f"mean_to_{name}"] = statistics.fmean(b) / float(reference)
    return out


def subset_screens(bids: Iterable[Decimal | float | int], *, k: int = 3) -> dict[str, float | None]:
    """SUBSET_SCREENS over the bids' subsets of size k, summarised by SUBSET_STATS, keyed
    "<screen>_k<k>_<stat>". All subsets when there are at most MAX_SUBSETS of them; beyond that the
    windows of k consecutive bids in price order (the subsets a cover-bidding group forms when its
    bids sit together), which keeps the cost linear."""
    if k < 3:
        raise ValueError("subsets have at least 3 bids")
    b = _floats(bids)
    keys = [f"{s}_k{k}_{stat}" for s in SUBSET_SCREENS for stat in SUBSET_STATS]
    out: dict[str, float | None] = dict.fromkeys(keys)
    if len(b) < k:
        return out
    if math.comb(len(b), k) <= MAX_SUBSETS:
        subsets = itertools.combinations(b, k)
    else:
        subsets = (tuple(b[i : i + k]) for i in range(len(b) - k + 1))
    values: dict[str, list[float]] = {s: [] for s in SUBSET_SCREENS}
    for subset in subsets:
        found = screens(subset)
        for s in SUBSET_SCREENS:
            if found[s] is not None:
                values[s].append(float(found[s]))
    for s, vals in values.items():
        if vals:
            out[f"{s}_k{k}_min"] = min(vals)
            out[f"{s}_k{k}_max"] = max(vals)
            out[f"{s}_k{k}_mean"] = statistics.fmean(vals)
            out[f"{s}_k{k}_median"] = statistics.median(vals)
    return out
