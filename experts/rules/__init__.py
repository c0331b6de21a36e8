"""Pure rules of the evaluation and award (DOMAIN C1, C4, C8, C9, A7–A10): price scores, averages,
ranking, candidates, outliers, abnormally low prices, committee groups, name sealing, due dates.

No database and no I/O. Money and scores are Decimal with two places, ROUND_HALF_UP (`q2`);
intermediate results are kept at full precision and rounded once, where the report shows them.
Each [V] rule cites its source; [S]/[G] defaults live in DEFAULTS and a deployment overrides them
with settings.EXPERT_RULES = {"outlier_threshold": "0.25", ...}. A setting may make a statutory
time limit stricter, never looser (see `_law_limit`). docs/evaluation-scoring.md explains it all.
"""

from experts.rules.base import (
    DEFAULTS,
    SRC_SCORE_CORRECTION,
    q2,
    q4,
    setting,
)
from experts.rules.law import (
    check_committee_groups,
    clarification_due,
    contract_due,
    gp_purchaser_decision_due,
    gp_result_due,
    justification_due,
    names_unsealed,
    objection_reply_due,
    publicity_ends,
    reply_due,
    supervisor_report_due,
)
from experts.rules.scoring import (
    abnormally_low,
    bid_total,
    candidates,
    check_price_formula,
    check_score,
    criterion_average,
    evaluated_price,
    outliers,
    price_base,
    price_scores,
    rank,
)

__all__ = [
    "DEFAULTS",
    "SRC_SCORE_CORRECTION",
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
