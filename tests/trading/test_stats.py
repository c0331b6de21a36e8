"""Trading statistics on a hand-computed world, and the region names they are labelled with."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from core.errors import ValidationFailed
from tests.factories import LotFactory, TenderFactory
from trading.models import Category, Lot, Regime, TenderState
from trading.regions import GUANGXI_CITIES, PROVINCES, region_name, region_prefix
from trading.stats import trading_statistics

SH = ZoneInfo("Asia/Shanghai")
D = Decimal


@pytest.fixture
def world(db):
    """Four public tenders and a draft; every figure below is computed by hand from these.

    T1 works  Nanning (450103) 15 Jan: lot 1 budget 1,000,000 awarded 900,000; lot 2 500,000 failed
    T2 goods  Liuzhou GP       10 Feb: lot 1 budget 2,000,000 awarded 1,850,000
    T3 works  Nanning          28 Feb 23:30 Beijing: lot 1 budget 3,000,000 still open
    T4 services Liuzhou        1 Mar 00:30 Beijing (28 Feb in UTC): 400,000 awarded 410,000 (over budget)
    draft                      budget 9,999,999 — never counted
    """

    def tender(category, region, published, regime=Regime.TB, state=TenderState.PUBLISHED):
        return TenderFactory(
            category=category, region_code=region, published_at=published, regime=regime, state=state
        )

    t1 = tender(
        Category.WORKS, "450103", dt.datetime(2026, 1, 15, 10, 0, tzinfo=SH), state=TenderState.AWARDED
    )
    LotFactory(
        tender=t1, number=1, budget=D("1000000.00"), status=Lot.Status.AWARDED, award_amount=D("900000.00")
    )
    LotFactory(tender=t1, number=2, budget=D("500000.00"), status=Lot.Status.FAILED)
    t2 = tender(
        Category.GOODS,
        "450200",
        dt.datetime(2026, 2, 10, 9, 0, tzinfo=SH),
        regime=Regime.GP,
        state=TenderState.AWARDED,
    )
    LotFactory(
        tender=t2,
        number=1,
        classification_code="B010000",
        budget=D("2000000.00"),
        status=Lot.Status.AWARDED,
        award_amount=D("1850000.00"),
    )
    t3 = tender(Category.WORKS, "450100", dt.datetime(2026, 2, 28, 23, 30, tzinfo=SH))
    LotFactory(tender=t3, number=1, budget=D("3000000.00"))
    t4 = tender(
        Category.SERVICES, "450200", dt.datetime(2026, 3, 1, 0, 30, tzinfo=SH), state=TenderState.AWARDED
    )
    LotFactory(
        tender=t4,
        number=1,
        classification_code="C010000",
        budget=D("400000.00"),
        status=Lot.Status.AWARDED,
        award_amount=D("410000.00"),
    )
    draft = tender(Category.WORKS, "450100", None, state=TenderState.DRAFT)
    LotFactory(tender=draft, number=1, budget=D("9999999.00"))


def figures(row: dict) -> tuple:
    return (
        row["projects"],
        row["lots"],
        row["awarded_lots"],
        row["budget"],
        row["awarded_budget"],
        row["award_amount"],
        row["savings"],
        row["savings_rate"],
    )


def test_by_category(world):
    result = trading_statistics(group_by="category")
    assert {row["key"]: figures(row) for row in result["rows"]} == {
        "works": (2, 3, 1, D("4500000.00"), D("1000000.00"), D("900000.00"), D("100000.00"), D("0.1000")),
        "goods": (1, 1, 1, D("2000000.00"), D("2000000.00"), D("1850000.00"), D("150000.00"), D("0.0750")),
        "services": (1, 1, 1, D("400000.00"), D("400000.00"), D("410000.00"), D("-10000.00"), D("-0.0250")),
    }
    assert [row["key"] for row in result["rows"]] == ["works", "goods", "services"]  # the category order


def test_totals_and_savings_rate(world):
    totals = trading_statistics(group_by="category")["totals"]
    # 240,000 saved on 3,400,000 of awarded budgets = 7.0588 %; the open and failed lots do not count
    assert figures(totals) == (
        4,
        5,
        3,
        D("6900000.00"),
        D("3400000.00"),
        D("3160000.00"),
        D("240000.00"),
        D("0.0706"),
    )
    assert all(isinstance(totals[k], Decimal) for k in ("budget", "award_amount", "savings", "savings_rate"))


def test_by_month_uses_the_beijing_calendar(world):
    rows = trading_statistics(group_by="month")["rows"]
    # T3 at 23:30 on 28 Feb is February; T4 at 00:30 on 1 March is March (though 28 Feb in UTC)
    assert [(r["key"], r["projects"], r["budget"], r["savings"]) for r in rows] == [
        ("2026-01", 1, D("1500000.00"), D("100000.00")),
        ("2026-02", 2, D("5000000.00"), D("150000.00")),
        ("2026-03", 1, D("400000.00"), D("-10000.00")),
    ]


def test_by_region_groups_districts_into_their_city(world):
    rows = trading_statistics(group_by="region")["rows"]
    assert [(r["key"], r["label"], r["projects"], r["savings"], r["savings_rate"]) for r in rows] == [
        ("450100", "南宁市", 2, D("100000.00"), D("0.1000")),
        ("450200", "柳州市", 2, D("140000.00"), D("0.0583")),
    ]


def test_labels_follow_the_language(world):
    with translation.override("en"):
        months = [r["label"] for r in trading_statistics(group_by="month")["rows"]]
        regions = [r["label"] for r in trading_statistics(group_by="region")["rows"]]
        categories = [r["label"] for r in trading_statistics(group_by="category")["rows"]]
    assert months == ["January 2026", "February 2026", "March 2026"]
    assert regions == ["Nanning", "Liuzhou"]
    assert categories == ["Construction works", "Goods", "Services"]
    with translation.override("zh-hans"):
        assert trading_statistics(group_by="month")["rows"][0]["label"] == "2026年1月"


def test_date_range_includes_both_beijing_days(world):
    result = trading_statistics(
        group_by="category", date_from=dt.date(2026, 2, 1), date_to=dt.date(2026, 2, 28)
    )
    assert {r["key"]: r["projects"] for r in result["rows"]} == {"works": 1, "goods": 1}


def test_a_group_without_awards_has_no_savings_rate(world):
    result = trading_statistics(group_by="category", category=Category.WORKS, date_from=dt.date(2026, 2, 1))
    assert figures(result["rows"][0]) == (1, 1, 0, D("3000000.00"), D("0.00"), D("0.00"), D("0.00"), None)
    assert result["totals"]["savings_rate"] is None


@pytest.mark.parametrize(
    ("filters", "projects"),
    [
        ({"regime": Regime.GP}, 1),
        ({"region": "450200"}, 2),
        ({"region": "450000"}, 4),
        ({"region": "110000"}, 0),
        ({"category": Category.SERVICES}, 1),
    ],
)
def test_filters_narrow_the_scope(world, filters, projects):
    assert trading_statistics(group_by="region", **filters)["totals"]["projects"] == projects


def test_an_empty_scope_gives_zero_totals(db):
    result = trading_statistics(group_by="month")
    assert result["rows"] == []
    assert figures(result["totals"]) == (0, 0, 0, D("0.00"), D("0.00"), D("0.00"), D("0.00"), None)


@pytest.mark.parametrize("group_by", ["category", "region", "month"])
def test_one_query_whatever_the_number_of_tenders(world, group_by, django_assert_num_queries):
    with django_assert_num_queries(1):
        trading_statistics(group_by=group_by)


def test_an_unknown_grouping_is_refused(world):
    with pytest.raises(ValidationFailed) as refused:
        trading_statistics(group_by="colour")
    assert refused.value.code == "invalid_group_by"


# --- regions ------------------------------------------------------------------------------------------


def test_every_provincial_division_and_guangxi_city_is_named():
    assert len(PROVINCES) == 34 and len(GUANGXI_CITIES) == 14
    assert (GUANGXI_CITIES["450100"], GUANGXI_CITIES["451400"]) == (
        ("南宁市", "Nanning"),
        ("崇左市", "Chongzuo"),
    )


@pytest.mark.parametrize(
    ("code", "zh", "en"),
    [
        ("450000", "广西壮族自治区", "Guangxi"),
        ("450100", "南宁市", "Nanning"),
        ("450103", "南宁市", "Nanning"),  # a district falls back to its city
        ("440305", "广东省", "Guangdong"),  # an unlisted city falls back to its province
        ("990000", "990000", "990000"),  # nothing known: the code itself
        ("", "", ""),
    ],
)
def test_region_name(code, zh, en):
    assert region_name(code, language="zh-hans") == zh
    assert region_name(code, language="en") == en


def test_region_name_follows_the_active_language():
    with translation.override("en"):
        assert region_name("451000") == "Baise"
    with translation.override("zh-hans"):
        assert region_name("451000") == "百色市"


@pytest.mark.parametrize(("code", "prefix"), [("450000", "45"), ("450100", "4501"), ("450103", "450103")])
def test_region_prefix(code, prefix):
    assert region_prefix(code) == prefix
