"""How the portal writes money and rates: 万元 / 亿元 for Chinese readers, yuan for English
ones, always from Decimal (floats appear only in chart geometry, see charts.py).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.utils.translation import get_language


def is_chinese() -> bool:
    """Whether the page is read in Chinese (the default language when none is active)."""
    return (get_language() or settings.LANGUAGE_CODE).startswith("zh")


def money_unit() -> str:
    """The unit money is shown in: 万元 for Chinese readers, yuan for English ones."""
    return "万元" if is_chinese() else "yuan"


def money(amount, *, unit: bool = True) -> str:
    if amount is None:
        return "—"
    amount = Decimal(amount)
    if is_chinese():
        text = f"{(amount / 10000).quantize(Decimal('0.01')):,}"
        return f"{text} 万元" if unit else text
    text = f"{amount.quantize(Decimal('0.01')):,}"
    return f"{text} yuan" if unit else text


def money_headline(amount) -> str:
    """A headline figure: 万元 (亿元 from a hundred million) for Chinese readers; whole yuan with
    separators for English ones (cents mean nothing at this scale, and the figure must fit its tile)."""
    if amount is None:
        return "—"
    amount = Decimal(amount)
    if is_chinese():
        if abs(amount) >= 100_000_000:  # 亿元 is how large totals are read in Chinese
            return f"{(amount / 100_000_000).quantize(Decimal('0.01')):,} 亿元"
        return money(amount)
    return f"¥{amount.quantize(Decimal('1')):,}"


def percent(rate) -> str:
    """A savings rate given as a fraction (0.0523) shown as 5.23 %."""
    if rate is None:
        return "—"
    return f"{(Decimal(rate) * 100).quantize(Decimal('0.01'))}%"
