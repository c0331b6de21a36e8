"""Count rules: the evaluation committee (C1), the candidates (A7) and the minimum number
of bids for an opening to go on (B4).
"""

from __future__ import annotations

import math
from decimal import Decimal

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from .base import GP, TB, Violation, check_regime

MIN_BIDDERS = 3  # 招标投标法28 (fewer than 3 → re-tender); 政府采购法36
MAX_CANDIDATES = 3  # 招标投标法实施条例53
COMMITTEE_MIN_SIZE = 5  # 招标投标法37 / 87号令47: five or more, odd
GP_LARGE_COMMITTEE_MIN_SIZE = 7  # 87号令47: budget >= 10M, technically complex or of large social impact
GP_LARGE_BUDGET = Decimal("10000000")  # "1000万元以上" includes 1000万 (87号令85: 以上 includes)

SRC_COMMITTEE = {TB: "招标投标法第三十七条", GP: "87号令第四十七条"}
SRC_CANDIDATES = "招标投标法实施条例第五十三条"


def gp_large_or_complex(
    *, budget: Decimal, technically_complex: bool = False, large_social_impact: bool = False
) -> bool:
    """Whether a GP committee needs 7 or more members (87号令47)."""
    return budget >= GP_LARGE_BUDGET or technically_complex or large_social_impact


def check_committee(
    *, regime: str, size: int, experts: int, tenderee_reps: int, large_or_complex: bool = False
) -> list[Violation]:
    """The committee has five or more members, an odd number (seven or more for large or
    complex GP projects), and experts (technical, economic, ...) make up at least two
    thirds of it (法37, 87号令47). `experts + tenderee_reps` must equal `size`."""
    check_regime(regime)
    if min(size, experts, tenderee_reps) < 0:
        raise ValueError("committee counts cannot be negative")
    prefix = regime.lower()
    source = SRC_COMMITTEE[regime]
    out = []
    if experts + tenderee_reps != size:
        out.append(
            Violation(
                "committee_size_mismatch",
                _("The experts and the tenderee's representatives do not add up to the committee size."),
                "",
                {"size": size, "experts": experts, "tenderee_reps": tenderee_reps},
            )
        )
    minimum = GP_LARGE_COMMITTEE_MIN_SIZE if regime == GP and large_or_complex else COMMITTEE_MIN_SIZE
    if size < minimum:
        out.append(
            Violation(
                f"{prefix}_committee_too_small",
                format_lazy(_("The evaluation committee needs at least {minimum} members."), minimum=minimum),
                source,
                {"minimum": minimum},
            )
        )
    if size % 2 == 0:
        out.append(
            Violation(
                f"{prefix}_committee_even",
                _("The evaluation committee must have an odd number of members."),
                source,
                {},
            )
        )
    min_experts = math.ceil(2 * size / 3)
    if 3 * experts < 2 * size:  # integer test of experts >= 2/3 size
        out.append(
            Violation(
                f"{prefix}_committee_too_few_experts",
                format_lazy(
                    _("At least two thirds of the committee must be experts: {minimum} of {size}."),
                    minimum=min_experts,
                    size=size,
                ),
                source,
                {"minimum": min_experts},
            )
        )
    return out


def check_candidates_count(n: int) -> list[Violation]:
    """The committee recommends one to three ranked candidates (条例53)."""
    if n < 1:
        return [
            Violation(
                "no_candidates",
                _("The evaluation report must recommend at least one candidate."),
                SRC_CANDIDATES,
                {"maximum": MAX_CANDIDATES},
            )
        ]
    if n > MAX_CANDIDATES:
        return [
            Violation(
                "too_many_candidates",
                format_lazy(_("At most {maximum} candidates may be recommended."), maximum=MAX_CANDIDATES),
                SRC_CANDIDATES,
                {"maximum": MAX_CANDIDATES},
            )
        ]
    return []


def opening_may_proceed(valid_bids: int, *, minimum: int = MIN_BIDDERS) -> bool:
    """Whether enough bids arrived for the opening and evaluation to go on; otherwise the
    lot fails (流标). A lot may demand more than the legal three, never fewer."""
    return valid_bids >= max(minimum, MIN_BIDDERS)
