"""The lot's evaluation method as the tender form keeps it: criteria and formula, plus the lot's own
review criteria and policy discount, validated with field-level errors."""

from __future__ import annotations

import pytest

from trading.services.tenders.forms import evaluation_clean

CRITERIA = [
    {"code": "tech", "name": "技术", "group": "technical", "max": 60},
    {"code": "price", "name": "报价", "group": "price", "max": 40},
]


def clean(**extra):
    errors: dict = {}
    out = evaluation_clean(
        regime="TB",
        method="scoring",
        evaluation={"criteria": CRITERIA, **extra},
        field="lots[0].evaluation",
        errors=errors,
    )
    return out, errors


def test_review_criteria_and_discount_are_kept():
    out, errors = clean(
        qualification=[{"code": "licence", "name": "营业执照及资质"}],
        preliminary=[{"code": "sign", "name": "投标函签字盖章"}],
        discounts={"small_enterprise_pct": "10"},
    )
    assert errors == {}
    assert out["qualification"] == [{"code": "licence", "name": "营业执照及资质"}]
    assert out["preliminary"] == [{"code": "sign", "name": "投标函签字盖章"}]
    assert out["discounts"] == {"small_enterprise_pct": "10"}


def test_without_them_nothing_is_added():
    out, errors = clean()
    assert errors == {} and set(out) == {"criteria", "price_formula"}


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"qualification": [{"code": "", "name": "x"}]}, "lots[0].evaluation.qualification"),
        ({"preliminary": "not a list"}, "lots[0].evaluation.preliminary"),
        ({"discounts": {"small_enterprise_pct": "25"}}, "lots[0].evaluation.discounts"),
        ({"discounts": {"small_enterprise_pct": "ten"}}, "lots[0].evaluation.discounts"),
    ],
)
def test_malformed_lists_and_discounts_are_refused_by_field(extra, field):
    _out, errors = clean(**extra)
    assert field in errors
