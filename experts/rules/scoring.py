"""Prices and scores (DOMAIN C8/C9): evaluated prices, price formulas, averages, totals, ranks,
candidates, outliers and abnormally low prices."""

from __future__ import annotations

from decimal import Decimal

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from experts.rules.base import (
    DEVIATION_BASES,
    HUNDRED,
    PRICE_FORMULAS,
    SRC_PRICE_SCORE,
    SRC_SCORE_CORRECTION,
    _dec,
    _mean,
    _median,
    q2,
    q4,
    setting,
)
from trading.rules.base import GP, Violation, check_regime
from trading.rules.counts import MAX_CANDIDATES


# -- prices (C8) -----------------------------------------------------------------------------------------
def evaluated_price(price: Decimal, discount_pct: Decimal = Decimal(0)) -> Decimal:
    """The price used for evaluation after a policy discount, e.g. 10–20 % for a small or micro
    enterprise (财库〔2020〕46号; 87号令55). The evaluated price replaces the bid price both in the
    base and in the bid's own score, so a discount can move the base (C8: "policy discounts adjust
    both prices"). The contract amount stays the bid price. `discount_pct` is in percent (20 = 20 %).
    """
    price = _dec(price, "price")
    pct = _dec(discount_pct, "discount_pct")
    if price <= 0:
        raise ValueError("a price must be positive")
    if not 0 <= pct < 100:
        raise ValueError("discount_pct is a percentage in [0, 100)")
    return q2(price * (HUNDRED - pct) / HUNDRED)


def _check_formula(formula: dict) -> dict:
    kind = formula.get("kind")
    if kind not in PRICE_FORMULAS:
        raise ValueError(f"unknown price formula {kind!r}; expected one of {PRICE_FORMULAS}")
    if kind == "deviation":
        if formula.get("base", "mean") not in DEVIATION_BASES:
            raise ValueError(f"deviation base must be one of {DEVIATION_BASES}")
        k = _dec(formula.get("k", "0"), "k")
        above = _dec(formula.get("above", "1"), "above")
        below = _dec(formula.get("below", "1"), "below")
        if not 0 <= k < 1:
            raise ValueError("k (下浮系数) is a fraction in [0, 1)")
        if above < 0 or below < 0:
            raise ValueError("the points per percent of deviation cannot be negative")
        if int(formula.get("trim", 1)) < 0 or int(formula.get("trim_min", 5)) < 1:
            raise ValueError("trim must be >= 0 and trim_min >= 1")
    return formula


def price_base(*, formula: dict, prices: dict[str, Decimal]) -> Decimal | None:
    """The base price (评标基准价) of a price formula, in yuan with two places; None without prices.

    gp_base_over_price: the lowest evaluated price of the bids that passed qualification and
    preliminary review (87号令55); none is dropped (不得去掉最后报价中的最高报价和最低报价).

    deviation: mean(prices) × (1 − k), or the trimmed mean: with at least `trim_min` prices (default
    5) the `trim` highest and `trim` lowest (default 1 each) are left out of the mean first. The base
    is rounded to the fen because it is published as an amount.
    """
    _check_formula(formula)
    values = [_dec(v, "price") for v in prices.values()]
    if not values:
        return None
    if any(v <= 0 for v in values):
        raise ValueError("a price must be positive")
    if formula["kind"] == "gp_base_over_price":
        return q2(min(values))
    trim, trim_min = int(formula.get("trim", 1)), int(formula.get("trim_min", 5))
    if formula.get("base", "mean") == "trimmed_mean" and trim and len(values) >= max(trim_min, 2 * trim + 1):
        values = sorted(values)[trim:-trim]
    k = _dec(formula.get("k", "0"), "k")
    return q2(_mean(values) * (1 - k))


def price_scores(*, formula: dict, max_points: Decimal, prices: dict[str, Decimal]) -> dict[str, Decimal]:
    """The price score of each bid, computed (never typed), two places.

    `prices`: key (bid id) → evaluated price, of the bids that passed qualification and preliminary
    review only. `max_points`: the points of price in the total (weight × 100; e.g. 30 for 30 %).

    {"kind": "gp_base_over_price"} (87号令55, [V]): score = base / price × max_points,
    base = the lowest price; the lowest bid gets max_points.

    {"kind": "deviation", "base": "mean"|"trimmed_mean", "k": "0.03", "above": "2", "below": "1",
     "trim": 1, "trim_min": 5} (a works practice, every parameter configurable per tender, [G]):
    base as in `price_base`; dev% = (price − base) / base × 100; score = max_points − |dev%| × above
    when the price is above the base, × below when below it; never below 0. `above`/`below` are the
    points deducted per 1 % of deviation (E1/E2 in provincial methods), `k` the discount of the base
    (下浮系数).
    """
    max_points = _dec(max_points, "max_points")
    if max_points <= 0:
        raise ValueError("max_points must be positive")
    base = price_base(formula=formula, prices=prices)
    if base is None:
        return {}
    out = {}
    if formula["kind"] == "gp_base_over_price":
        for key, price in prices.items():
            out[key] = q2(base / _dec(price, "price") * max_points)
        return out
    above = _dec(formula.get("above", "1"), "above")
    below = _dec(formula.get("below", "1"), "below")
    for key, price in prices.items():
        deviation = (_dec(price, "price") - base) / base * HUNDRED
        per_percent = above if deviation > 0 else below
        out[key] = q2(max(max_points - abs(deviation) * per_percent, Decimal(0)))
    return out


def check_price_formula(*, regime: str, formula: dict) -> list[Violation]:
    """GP comprehensive scoring must use the low-price-base formula (87号令55: 价格分统一采用低价
    优先法); the deviation formula is for the Bidding Law regime."""
    check_regime(regime)
    _check_formula(formula)
    if regime == GP and formula["kind"] != "gp_base_over_price":
        return [
            Violation(
                "gp_price_formula",
                _(
                    "Government procurement scores price by the lowest-price base: base price / price × points."
                ),
                SRC_PRICE_SCORE,
                {"kind": formula["kind"]},
            )
        ]
    return []


# -- scores (C8/C9) --------------------------------------------------------------------------------------
def check_score(*, value: Decimal, max_points: Decimal) -> list[Violation]:
    """A member's score of a criterion lies within 0..max and has at most two places (87号令64 lists
    an out-of-range score among the errors that allow a correction)."""
    value, max_points = _dec(value, "value"), _dec(max_points, "max_points")
    if 0 <= value <= max_points and value == q2(value):
        return []
    return [
        Violation(
            "score_out_of_range",
            format_lazy(
                _("A score must lie between 0 and {maximum}, with at most two decimals."), maximum=max_points
            ),
            SRC_SCORE_CORRECTION,
            {"maximum": max_points},
        )
    ]


def criterion_average(values: list[Decimal]) -> Decimal:
    """The committee's score of one criterion: the mean over the active members, none dropped
    (87号令 keeps every member's score; the room passes only active members), two places."""
    values = [_dec(v, "score") for v in values]
    if not values:
        raise ValueError("no scores to average")
    return q2(_mean(values))


def bid_total(*, averages: list[Decimal], price_score: Decimal | None) -> Decimal:
    """Total of a bid = Σ criterion averages + price score (each already two places)."""
    total = sum((_dec(v, "average") for v in averages), Decimal(0))
    if price_score is not None:
        total += _dec(price_score, "price_score")
    return q2(total)


def rank(results: list[dict]) -> list[dict]:
    """Order the bids and number them from 1; returns copies with "rank" and "tie" added.

    Each result is {"bid": id, "total": Decimal | None, "price": Decimal (evaluated)}.
    Scoring method (every total given): total descending; equal totals go to the lower evaluated
    price (87号令57, C8); bids equal on both keep their input order and are flagged "tie": True,
    for the committee to resolve as the documents say (e.g. the technical score, or lots).
    Lowest-price method (every total None): evaluated price ascending; equal prices are flagged
    (87号令56: 投标报价相同的并列).
    The order is total and stable: the same input always gives the same ranks.
    """
    if not results:
        return []
    totals = [r.get("total") for r in results]
    scoring = totals[0] is not None
    if any((t is None) == scoring for t in totals):
        raise ValueError("either every result has a total (scoring) or none has (lowest price)")

    def key(r: dict) -> tuple:
        price = _dec(r["price"], "price")
        return (-_dec(r["total"], "total"), price) if scoring else (price,)

    ordered = sorted(results, key=key)  # sorted() is stable: equal keys keep the input order
    keys = [key(r) for r in ordered]
    out = []
    for i, r in enumerate(ordered):
        tied = (i > 0 and keys[i - 1] == keys[i]) or (i + 1 < len(keys) and keys[i + 1] == keys[i])
        out.append({**r, "rank": i + 1, "tie": tied})
    return out


def candidates(ranked: list[dict], limit: int = MAX_CANDIDATES) -> list[dict]:
    """The first `limit` ranked bids, never more than three (条例53: 不超过3个, ranked)."""
    if limit < 1:
        raise ValueError("at least one candidate")
    limit = min(limit, MAX_CANDIDATES)
    return sorted(ranked, key=lambda r: r["rank"])[:limit]


def outliers(
    values: dict[str, Decimal], *, max_points: Decimal, threshold: Decimal | None = None
) -> dict[str, dict]:
    """Scores far from the rest of the committee on one criterion of one bid.

    For each member (key → score): deviation = |score − median of the OTHER members' scores| /
    max_points; flagged when strictly above `threshold` (default setting "outlier_threshold", 0.30).
    The median of the others, not of all, so that one extreme score cannot pull the reference
    towards itself. Needs at least 3 scores. Returns key → {"value", "median" (2 places),
    "deviation" (4 places), "threshold"}. A flag informs the committee and monitoring; it changes
    no score (87号令64 allows corrections only in its listed cases). [G]
    """
    max_points = _dec(max_points, "max_points")
    if max_points <= 0:
        raise ValueError("max_points must be positive")
    limit = _dec(threshold if threshold is not None else setting("outlier_threshold"), "threshold")
    scores = {k: _dec(v, "score") for k, v in values.items()}
    if len(scores) < 3:
        return {}
    out = {}
    for key, value in scores.items():
        median = _median([v for k, v in scores.items() if k != key])
        deviation = abs(value - median) / max_points
        if deviation > limit:
            out[key] = {"value": value, "median": q2(median), "deviation": q4(deviation), "threshold": limit}
    return out


def abnormally_low(prices: dict[str, Decimal], *, ratio: Decimal | None = None) -> dict[str, Decimal]:
    """Prices low enough to ask for a written justification (87号令60; 条例51(五) rejects a price
    below cost). Reference: the mean of the OTHER prices; flagged when price / reference is strictly
    below `ratio` (default setting "abnormal_low_ratio", 0.80; the threshold is [G], the duty to
    ask is [V]). Needs at least 3 prices. Returns key → ratio (4 places)."""
    limit = _dec(ratio if ratio is not None else setting("abnormal_low_ratio"), "ratio")
    values = {k: _dec(v, "price") for k, v in prices.items()}
    if len(values) < 3:
        return {}
    if any(v <= 0 for v in values.values()):
        raise ValueError("a price must be positive")
    out = {}
    for key, price in values.items():
        share = price / _mean([v for k, v in values.items() if k != key])
        if share < limit:
            out[key] = q4(share)
    return out
