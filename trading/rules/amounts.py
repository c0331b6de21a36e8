"""Amount limits of DOMAIN A6 and C8: bid security, performance security, and the minimum
weight of price in a GP scoring method. Money is Decimal, yuan with two places.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from .base import GP, TB, Violation, check_regime

CENT = Decimal("0.01")
BID_SECURITY_MAX_RATE = Decimal("0.02")  # TB 条例26 (估算价), GP 实施条例33 (预算)
PERFORMANCE_SECURITY_MAX_RATE = Decimal("0.10")  # TB 条例58, GP 实施条例48
# 87号令55: the weight of price in the total score, as a fraction of 1.
GP_MIN_PRICE_WEIGHT = {"goods": Decimal("0.30"), "services": Decimal("0.10")}

SRC_BID_SECURITY = {TB: "招标投标法实施条例第二十六条", GP: "政府采购法实施条例第三十三条"}
SRC_PERFORMANCE_SECURITY = {TB: "招标投标法实施条例第五十八条", GP: "政府采购法实施条例第四十八条"}
SRC_PRICE_WEIGHT = "87号令第五十五条"


def _money(value: Decimal, name: str) -> Decimal:
    # A float here would be a bug upstream (0.1 + 0.2 != 0.3); refuse it loudly.
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, got {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{name} must be finite")
    return value


def _cap(base: Decimal, rate: Decimal) -> Decimal:
    # Rounded down to the cent, so that an amount in cents is lawful iff it is <= the cap.
    return (base * rate).quantize(CENT, rounding=ROUND_DOWN)


def bid_security_max(regime: str, base: Decimal) -> Decimal:
    """The largest lawful bid security: 2 % of the estimated contract price (TB) or of the
    budget (GP)."""
    check_regime(regime)
    return _cap(_money(base, "base"), BID_SECURITY_MAX_RATE)


def check_bid_security(*, regime: str, amount: Decimal, base: Decimal) -> list[Violation]:
    check_regime(regime)
    amount, base = _money(amount, "amount"), _money(base, "base")
    out = []
    if amount < 0:
        out.append(Violation("bid_security_negative", _("The bid security cannot be negative."), ""))
    if base <= 0:
        out.append(
            Violation(
                "bid_security_base_missing",
                _("The bid security is checked against a positive budget or estimated price."),
                "",
            )
        )
    elif amount > base * BID_SECURITY_MAX_RATE:
        maximum = bid_security_max(regime, base)
        out.append(
            Violation(
                f"{regime.lower()}_bid_security_too_high",
                format_lazy(
                    _("The bid security may not exceed {rate} of the {base_name}, i.e. {maximum} yuan."),
                    rate="2%",  # outside the msgid: "% o" would read as a printf directive
                    base_name=_("estimated contract price") if regime == TB else _("budget"),
                    maximum=maximum,
                ),
                SRC_BID_SECURITY[regime],
                {"maximum": maximum, "rate": BID_SECURITY_MAX_RATE},
            )
        )
    return out


def performance_security_max(contract_amount: Decimal) -> Decimal:
    """The largest lawful performance security: 10 % of the contract amount."""
    return _cap(_money(contract_amount, "contract_amount"), PERFORMANCE_SECURITY_MAX_RATE)


def check_performance_security(
    *, amount: Decimal, contract_amount: Decimal, regime: str = TB
) -> list[Violation]:
    check_regime(regime)
    amount, contract_amount = _money(amount, "amount"), _money(contract_amount, "contract_amount")
    if amount <= contract_amount * PERFORMANCE_SECURITY_MAX_RATE:
        return []
    maximum = performance_security_max(contract_amount)
    return [
        Violation(
            "performance_security_too_high",
            format_lazy(
                _(
                    "The performance security may not exceed {rate} of the contract amount, i.e. {maximum} yuan."
                ),
                rate="10%",
                maximum=maximum,
            ),
            SRC_PERFORMANCE_SECURITY[regime],
            {"maximum": maximum, "rate": PERFORMANCE_SECURITY_MAX_RATE},
        )
    ]


def check_price_weight(
    *, regime: str, category: str, price_weight: Decimal, fixed_price: bool = False
) -> list[Violation]:
    """In a GP comprehensive scoring method price weighs at least 30 % (goods) or 10 %
    (services) of the total (87号令55). `price_weight` is a fraction of 1 (0.30 = 30 %).
    Projects at a state-set or fixed price do not score price (`fixed_price`); the Bidding
    Law sets no national minimum, and GP works are not covered by 87号令."""
    check_regime(regime)
    weight = _money(price_weight, "price_weight")
    if not 0 <= weight <= 1:
        raise ValueError("price_weight is a fraction between 0 and 1")
    minimum = GP_MIN_PRICE_WEIGHT.get(category)
    if regime != GP or fixed_price or minimum is None or weight >= minimum:
        return []
    percent = f"{int(minimum * 100)}%"
    return [
        Violation(
            "gp_price_weight_too_low",
            format_lazy(
                _("Price must weigh at least {percent} of the total score for {category}."),
                percent=percent,
                category=_("goods") if category == "goods" else _("services"),
            ),
            SRC_PRICE_WEIGHT,
            {"minimum": minimum, "category": category},
        )
    ]
