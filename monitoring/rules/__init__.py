"""Collusion rules of one lot (DOMAIN D1, D3): the statutory "deemed collusion" situations, which fire
with their legal source, and the vendors' configurable indicators; and how findings become an alert.

Pure: no database and no I/O. Django is touched only lazily — `setting()` reads
settings.MONITORING_RULES over DEFAULTS when Django is configured, and LABELS are lazy translations.

Statutory (level-1 alert whatever the score; 条例40 / 87号令37, 条例34, 条例41 — legal source per regime
in LEGAL): most rules are a node of the lot graph shared by two bidders through the right relations
(`_SHARED`), e.g. same_agent is one person who is the AGENT of both. Others read the prices
(regular_prices), the document comparison of part B (identical_documents, mixed_files) or a direct
control edge between two bidders (same_legal_rep_or_control).

Non-statutory (DOMAIN D3, weights and thresholds in DEFAULTS, all [G] until calibrated on the synthetic
market and on labelled data): same_ip, linked_parties, shared_typos, clustered_uploads and the price
screens low_cv, low_spread, high_rd, near_ceiling.

`combine` turns findings into a score in [0, 1] by a noisy-or: each code counts once, with the largest
weight among its findings (ten pairs sharing an internet café's IP are one indicator, not ten), and a
model score p counts as one more term of weight model_weight · p:

    score = 1 − (1 − model_weight · p) · Π_code (1 − weight_code)

Statutory findings carry statutory_weight, so they dominate the score; the level is 1 whenever one fired.
"""

from monitoring.rules.base import (
    CODES,
    DEFAULTS,
    INDICATORS,
    LABELS,
    LEGAL,
    STATUTORY,
    setting,
    weight,
)
from monitoring.rules.lot import TENDEREE_KINDS, combine, lot_findings

__all__ = [
    "CODES",
    "DEFAULTS",
    "INDICATORS",
    "LABELS",
    "LEGAL",
    "STATUTORY",
    "TENDEREE_KINDS",
    "combine",
    "lot_findings",
    "setting",
    "weight",
]
