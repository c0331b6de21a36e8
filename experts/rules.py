"""Pure rules of the evaluation and award (DOMAIN C1, C4, C8, C9, A7–A10): price scores, averages,
ranking, candidates, outliers, abnormally low prices, committee groups, name sealing, due dates.

No database and no I/O. Money and scores are Decimal with two places, ROUND_HALF_UP (`q2`);
intermediate results are kept at full precision and rounded once, where the report shows them.
Each [V] rule cites its source; [S]/[G] defaults live in DEFAULTS and a deployment overrides them
with settings.EXPERT_RULES = {"outlier_threshold": "0.25", ...}. A setting may make a statutory
time limit stricter, never looser (see `_law_limit`). docs/evaluation-scoring.md explains it all.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from trading.calendar import WorkingCalendar
from trading.rules import state as tender_states
from trading.rules.base import GP, TB, Violation, check_regime, end_of_day, holiday_rolls_for, period_end
from trading.rules.counts import MAX_CANDIDATES
from trading.rules.deadlines import (
    AWARD_REPORT_DAYS,
    CONTRACT_DAYS,
    GP_PURCHASER_DECISION_WORKING_DAYS,
    GP_RESULT_ANNOUNCE_WORKING_DAYS,
    OBJECTION_REPLY_DAYS,
    PUBLICITY_MIN_DAYS,
)

CENT = Decimal("0.01")
RATIO_PLACES = Decimal("0.0001")  # ratios and deviations are stored with four places
HUNDRED = Decimal(100)

DEFAULTS: dict[str, Any] = {
    # -- the draw (C4/C5) [S]/[G]: used by experts.services.draw --------------------------------------
    "same_employer_limit": 1,  # experts of one employer in one committee
    "tenderee_limit": 3,  # draws for the same tenderee within the window
    "tenderee_window_days": 90,
    "recent_employment_years": 3,  # 政府采购法实施条例9: "前三年内" [V]
    "age_cap": 70,  # 65 or 70 by province [S]
    "reply_minutes": 30,  # a called expert confirms or declines within this time [G]
    # -- the room (C6–C8) [G] -------------------------------------------------------------------------
    "outlier_threshold": "0.30",  # |score − median of the others| / max points
    "abnormal_low_ratio": "0.80",  # price / mean of the other prices
    "clarification_hours": 24,
    "justification_hours": 24,
    "extension_hours": 2,  # added when more than a third find the time insufficient (条例48) [G]
    "signing_hours": 2,  # after that, a member who has not signed is deemed to agree (条例53) [G]
    # -- publicity and award (A7–A9): statutory limits, a setting may only make them stricter -----------
    "publicity_days": PUBLICITY_MIN_DAYS,  # at least 3 days (条例54) [V]
    "objection_reply_days": OBJECTION_REPLY_DAYS,  # within 3 days (条例54) [V]
    "contract_days": CONTRACT_DAYS,  # within 30 days (法46, 87号令71) [V]
    "report_days": AWARD_REPORT_DAYS,  # within 15 days (法47) [V]
    "gp_result_working_days": GP_RESULT_ANNOUNCE_WORKING_DAYS,  # within 2 working days (87号令69) [V]
    "gp_purchaser_decision_working_days": GP_PURCHASER_DECISION_WORKING_DAYS,  # 5 working days (87号令68) [V]
    # -- the pool (C11) ------------------------------------------------------------------------------
    "rating_working_days": 5,  # performance recorded within 5 working days (财库〔2016〕198号) [S]
    "fine_min": "2000",  # 实施条例75: fines of 2,000 to 50,000 yuan [V]
    "fine_max": "50000",
}

SRC_COMMITTEE_GROUPS = "招标投标法第三十七条"
SRC_PRICE_SCORE = "87号令第五十五条"
SRC_POLICY_DISCOUNT = "财库〔2020〕46号第九条（财库〔2022〕19号调整）；87号令第五十四条"
SRC_TIES = {"scoring": "87号令第五十七条", "lowest_price": "87号令第五十六条"}
SRC_ABNORMALLY_LOW = "87号令第六十条；招标投标法实施条例第五十一条"
SRC_SCORE_CORRECTION = "87号令第六十四条"
SRC_NAMES = {TB: "招标投标法第三十七条", GP: "87号令第四十七条"}
SRC_PUBLICITY = "招标投标法实施条例第五十四条"
SRC_GP_RESULT = "87号令第六十九条"
SRC_CONTRACT = "招标投标法第四十六条；87号令第七十一条"
SRC_SUPERVISOR_REPORT = "招标投标法第四十七条"
SRC_GP_PURCHASER_DECISION = "87号令第六十八条"

TECHNICAL_ECONOMIC = frozenset({"technical", "economic"})
PRICE_FORMULAS = ("gp_base_over_price", "deviation")
DEVIATION_BASES = ("mean", "trimmed_mean")
# 法37 seals the roster "until the result is decided": the lot is awarded, or the tender can no
# longer produce a result (failed, terminated) or has moved past it (awarded, archived).
TB_UNSEALING_STATES = frozenset(
    {tender_states.AWARDED, tender_states.ARCHIVED, tender_states.FAILED, tender_states.TERMINATED}
)
# 87号令47 seals it "until the result is announced": the announcement comes with the award decision.
GP_UNSEALING_STATES = frozenset({tender_states.AWARDED, tender_states.ARCHIVED})


def setting(name: str) -> Any:
    return (getattr(settings, "EXPERT_RULES", None) or {}).get(name, DEFAULTS[name])


def _law_limit(name: str, statutory: int) -> int:
    """A "within N days" limit from the settings, never longer than the law's N."""
    return min(int(setting(name)), statutory)


def _law_minimum(name: str, statutory: int) -> int:
    """An "at least N days" period from the settings, never shorter than the law's N."""
    return max(int(setting(name)), statutory)


# -- numbers ---------------------------------------------------------------------------------------------
def _dec(value: Any, name: str) -> Decimal:
    """A finite Decimal from a Decimal, an int or a decimal string; floats are refused (0.1 + 0.2)."""
    if isinstance(value, bool | float):
        raise TypeError(f"{name} must be a Decimal, an int or a string, not {type(value).__name__}")
    try:
        out = value if isinstance(value, Decimal) else Decimal(value)
    except (InvalidOperation, TypeError):
        raise ValueError(f"{name} is not a number: {value!r}") from None
    if not out.is_finite():
        raise ValueError(f"{name} must be finite")
    return out


def q2(x: Decimal) -> Decimal:
    """Two places, half up: yuan and fen, and scores as the report shows them."""
    return _dec(x, "value").quantize(CENT, rounding=ROUND_HALF_UP)


def q4(x: Decimal) -> Decimal:
    """Four places, half up: ratios and deviations."""
    return _dec(x, "value").quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


def _mean(values: list[Decimal]) -> Decimal:
    return sum(values, Decimal(0)) / len(values)


def _median(values: list[Decimal]) -> Decimal:
    ordered = sorted(values)
    n = len(ordered)
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


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


# -- the committee (C1) ----------------------------------------------------------------------------------
def check_committee_groups(*, groups: list[str]) -> list[Violation]:
    """Technical and economic experts make up at least two thirds of the committee (法37).

    `groups`: one entry per member — "technical", "economic", "legal", "tenderee_rep", …; only the
    first two count. Size and oddness are trading.rules.check_committee."""
    if not groups:
        raise ValueError("an empty committee")
    size = len(groups)
    counted = sum(1 for g in groups if g in TECHNICAL_ECONOMIC)
    if 3 * counted >= 2 * size:  # integers: counted >= 2/3 size without rounding
        return []
    minimum = math.ceil(2 * size / 3)
    return [
        Violation(
            "committee_too_few_technical_economic",
            format_lazy(
                _(
                    "At least two thirds of the committee must be technical or economic experts: {minimum} of {size}."
                ),
                minimum=minimum,
                size=size,
            ),
            SRC_COMMITTEE_GROUPS,
            {"minimum": minimum, "size": size, "counted": counted},
        )
    ]


def names_unsealed(*, regime: str, tender_state: str, lot_awarded: bool) -> bool:
    """Whether the committee's names may be shown (C4). Until then everyone but the system and the
    regulators sees seat numbers.

    TB (法37: 评标委员会成员的名单在中标结果确定前应当保密): once the result is decided — the lot is
    awarded, or the tender is awarded, archived, failed or terminated (no result will come).
    GP (87号令47: 评审专家名单在评审结果公告前应当保密): once the result is announced, which the
    platform does with the award decision — the lot is awarded, or the tender awarded or archived.
    """
    check_regime(regime)
    if lot_awarded:
        return True
    states = TB_UNSEALING_STATES if regime == TB else GP_UNSEALING_STATES
    return tender_state in states


# -- time limits (A7–A10) --------------------------------------------------------------------------------
def publicity_ends(*, starts_at: dt.datetime, calendar: WorkingCalendar | None = None) -> dt.datetime:
    """The earliest end of the TB candidate publicity: at least 3 full calendar days (条例54), the
    start day not counted (A10), ending at the end of the last day; a last day that is not a working
    day moves to the next working day (TRADING_RULES["tb_holiday_rolls"], default on)."""
    days = _law_minimum("publicity_days", PUBLICITY_MIN_DAYS)
    day = period_end(
        starts_at, days, working_days=False, calendar=calendar, holiday_rolls=holiday_rolls_for(TB)
    )
    return end_of_day(day)


def objection_reply_due(*, raised_at: dt.datetime, calendar: WorkingCalendar | None = None) -> dt.datetime:
    """An objection to the candidates is answered within 3 days (条例54)."""
    days = _law_limit("objection_reply_days", OBJECTION_REPLY_DAYS)
    day = period_end(
        raised_at, days, working_days=False, calendar=calendar, holiday_rolls=holiday_rolls_for(TB)
    )
    return end_of_day(day)


def gp_result_due(*, decided_at: dt.datetime, calendar: WorkingCalendar | None = None) -> dt.datetime:
    """The GP result is announced within 2 working days of the award decision (87号令69)."""
    days = _law_limit("gp_result_working_days", GP_RESULT_ANNOUNCE_WORKING_DAYS)
    return end_of_day(period_end(decided_at, days, working_days=True, calendar=calendar))


def gp_purchaser_decision_due(
    *, report_received_at: dt.datetime, calendar: WorkingCalendar | None = None
) -> dt.datetime:
    """The purchaser decides within 5 working days of the report, else #1 is deemed chosen (87号令68)."""
    days = _law_limit("gp_purchaser_decision_working_days", GP_PURCHASER_DECISION_WORKING_DAYS)
    return end_of_day(period_end(report_received_at, days, working_days=True, calendar=calendar))


def contract_due(
    *, awarded_on: dt.date | dt.datetime, regime: str = TB, calendar: WorkingCalendar | None = None
) -> dt.date:
    """The last day to sign the written contract: 30 days from the award notice (法46; 87号令71)."""
    days = _law_limit("contract_days", CONTRACT_DAYS)
    return period_end(
        awarded_on, days, working_days=False, calendar=calendar, holiday_rolls=holiday_rolls_for(regime)
    )


def supervisor_report_due(
    *, awarded_on: dt.date | dt.datetime, calendar: WorkingCalendar | None = None
) -> dt.date:
    """The last day of the tenderee's written report to the supervisor: 15 days (法47)."""
    days = _law_limit("report_days", AWARD_REPORT_DAYS)
    return period_end(
        awarded_on, days, working_days=False, calendar=calendar, holiday_rolls=holiday_rolls_for(TB)
    )


def clarification_due(*, asked_at: dt.datetime) -> dt.datetime:
    """When a bidder's written clarification is due (条例52: in writing; the period is [G])."""
    return asked_at + dt.timedelta(hours=int(setting("clarification_hours")))


def justification_due(*, requested_at: dt.datetime) -> dt.datetime:
    """When the written justification of an abnormally low price is due (87号令60; period [G])."""
    return requested_at + dt.timedelta(hours=int(setting("justification_hours")))


def reply_due(*, called_at: dt.datetime) -> dt.datetime:
    """When a called expert must have confirmed or declined ([G])."""
    return called_at + dt.timedelta(minutes=int(setting("reply_minutes")))


__all__ = [
    "DEFAULTS",
    "abnormally_low",
    "bid_total",
    "candidates",
    "check_committee_groups",
    "check_price_formula",
    "check_score",
    "clarification_due",
    "contract_due",
    "criterion_average",
    "evaluated_price",
    "gp_purchaser_decision_due",
    "gp_result_due",
    "justification_due",
    "names_unsealed",
    "objection_reply_due",
    "outliers",
    "price_base",
    "price_scores",
    "publicity_ends",
    "q2",
    "q4",
    "rank",
    "reply_due",
    "setting",
    "supervisor_report_due",
]
