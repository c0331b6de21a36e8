"""The experts app's [S]/[G] defaults, their settings, and the number helpers every rule uses."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings

from trading.rules import state as tender_states
from trading.rules.base import GP, TB
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
