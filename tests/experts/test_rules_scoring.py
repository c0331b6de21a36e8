"""experts.rules, the numbers: price scores by formula (worked examples of DOMAIN C8), policy
discounts, averages and totals, ranking and ties, candidates, outliers and abnormally low prices.
Every expected figure is computed by hand in the comment next to it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from experts import rules

D = Decimal
GP = {"kind": "gp_base_over_price"}


def dev(base="mean", k="0", above="2", below="1", **more):
    return {"kind": "deviation", "base": base, "k": k, "above": above, "below": below, **more}


# -- q2 ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D("0.625"), D("0.63")),  # half up, not half even (which would give 0.62)
        (D("0.635"), D("0.64")),
        (D("2.004999"), D("2.00")),
        (D("-1.005"), D("-1.01")),  # away from zero
        (7, D("7.00")),
        ("23.745", D("23.75")),
    ],
)
def test_q2_rounds_half_up_to_two_places(value, expected):
    assert rules.q2(value) == expected and str(rules.q2(value)) == str(expected)


def test_q2_refuses_a_float():
    with pytest.raises(TypeError):
        rules.q2(0.1)


# -- GP: base / price × points (87号令55) -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("prices", "points", "expected"),
    [
        # DOMAIN C8 worked example: qualifying bids 100 / 95 / 120, price weight 30 %.
        # base = 95; 95/100×30 = 28.50; 95/95×30 = 30.00; 95/120×30 = 23.75
        ({"a": "100", "b": "95", "c": "120"}, 30, {"a": "28.50", "b": "30.00", "c": "23.75"}),
        # services at the 10 % minimum: base 95; 95/110×10 = 8.6363… → 8.64
        ({"b": "95", "d": "110"}, 10, {"b": "10.00", "d": "8.64"}),
        # 95/110×30 = 25.90909… → 25.91; 95/300×30 = 9.50
        ({"b": "95", "d": "110", "e": "300"}, 30, {"b": "30.00", "d": "25.91", "e": "9.50"}),
        # half up at the third place: 1/16 × 10 = 0.625 → 0.63
        ({"low": "1", "high": "16"}, 10, {"low": "10.00", "high": "0.63"}),
        # one qualifying bid scores the full price points
        ({"only": "4000000.00"}, 30, {"only": "30.00"}),
        # none: nothing to score
        ({}, 30, {}),
    ],
)
def test_gp_price_score_is_base_over_price_times_points(prices, points, expected):
    got = rules.price_scores(formula=GP, max_points=D(points), prices={k: D(v) for k, v in prices.items()})
    assert got == {k: D(v) for k, v in expected.items()}


def test_gp_price_score_drops_neither_the_highest_nor_the_lowest_price():
    # given five prices, the highest far away: the base stays the lowest, every bid is scored
    prices = {"a": D("80"), "b": D("90"), "c": D("100"), "d": D("110"), "e": D("400")}
    got = rules.price_scores(formula=GP, max_points=D(30), prices=prices)
    assert rules.price_base(formula=GP, prices=prices) == D("80.00")
    # 80/400×30 = 6.00; 80/90×30 = 26.666… → 26.67
    assert got == {"a": D("30.00"), "b": D("26.67"), "c": D("24.00"), "d": D("21.82"), "e": D("6.00")}


# -- policy discounts (C8: both prices) --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("price", "pct", "expected"),
    [
        (D("120"), D("20"), D("96.00")),
        (D("100"), D("10"), D("90.00")),
        (D("1234567.89"), D("10"), D("1111111.10")),  # 1111111.101 → .10
        (D("100.05"), D("10"), D("90.05")),  # 90.045 → half up → 90.05
        (D("100"), D("0"), D("100.00")),
        (D("100"), 0, D("100.00")),
    ],
)
def test_evaluated_price_applies_the_policy_discount(price, pct, expected):
    assert rules.evaluated_price(price, pct) == expected


@pytest.mark.parametrize(
    ("price", "pct"), [(D("0"), D("10")), (D("-5"), D("0")), (D("100"), D("100")), (D("100"), D("-1"))]
)
def test_evaluated_price_refuses_nonsense(price, pct):
    with pytest.raises(ValueError):
        rules.evaluated_price(price, pct)


@pytest.mark.parametrize(
    ("discounts", "base", "expected"),
    [
        # no discount: base 95 (the C8 example above)
        ({}, "95.00", {"a": "28.50", "b": "30.00", "c": "23.75"}),
        # c (120) is a small enterprise, 20 % off: evaluated 96; base stays 95;
        # c scores 95/96×30 = 29.6875 → 29.69 instead of 23.75
        ({"c": D("20")}, "95.00", {"a": "28.50", "b": "30.00", "c": "29.69"}),
        # a (100) is a small enterprise, 10 % off: evaluated 90 becomes the base for everyone;
        # b: 90/95×30 = 28.421… → 28.42; c: 90/120×30 = 22.50
        ({"a": D("10")}, "90.00", {"a": "30.00", "b": "28.42", "c": "22.50"}),
    ],
)
def test_a_policy_discount_changes_both_the_base_and_the_bid_score(discounts, base, expected):
    bid_prices = {"a": D("100"), "b": D("95"), "c": D("120")}
    evaluated = {k: rules.evaluated_price(p, discounts.get(k, D(0))) for k, p in bid_prices.items()}
    assert rules.price_base(formula=GP, prices=evaluated) == D(base)
    got = rules.price_scores(formula=GP, max_points=D(30), prices=evaluated)
    assert got == {k: D(v) for k, v in expected.items()}


# -- deviation formula (works, configurable) ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("formula", "prices", "points", "base", "expected"),
    [
        # mean 100, k 0 → base 100.00; 90 is 10 % below: 30 − 10×1 = 20.00;
        # 110 is 10 % above: 30 − 10×2 = 10.00; 100 hits the base: 30.00
        (
            dev(),
            {"a": "90", "b": "100", "c": "110"},
            30,
            "100.00",
            {"a": "20.00", "b": "30.00", "c": "10.00"},
        ),
        # k 0.03: mean 105 × 0.97 = 101.85
        # a: (100−101.85)/101.85×100 = −1.81640 → 40 − 1.81640 = 38.1836 → 38.18
        # b: (95−101.85)/101.85×100 = −6.72558 → 40 − 6.72558 = 33.2744 → 33.27
        # c: (120−101.85)/101.85×100 = 17.82032 → 40 − 2×17.82032 = 4.35935 → 4.36
        (
            dev(k="0.03"),
            {"a": "100", "b": "95", "c": "120"},
            40,
            "101.85",
            {"a": "38.18", "b": "33.27", "c": "4.36"},
        ),
        # floor at 0: mean 120; 160 is 33.33 % above: 30 − 66.67 < 0 → 0.00;
        # 100 is 16.666…% below: 30 − 16.6667 = 13.3333 → 13.33
        (
            dev(),
            {"a": "100", "b": "100", "c": "160"},
            30,
            "120.00",
            {"a": "13.33", "b": "13.33", "c": "0.00"},
        ),
        # trimmed mean with 5 prices: 80 and 200 dropped, mean(90, 100, 110) = 100
        # 80: 20 % below → 30 − 20 = 10.00; 200: 100 % above → 0.00; 90 → 20.00; 110 → 10.00
        (
            dev(base="trimmed_mean"),
            {"a": "80", "b": "90", "c": "100", "d": "110", "e": "200"},
            30,
            "100.00",
            {"a": "10.00", "b": "20.00", "c": "30.00", "d": "10.00", "e": "0.00"},
        ),
        # the same prices with the plain mean: 580/5 = 116.00; 100 is 13.793 % below → 16.21
        (
            dev(base="mean"),
            {"a": "80", "b": "90", "c": "100", "d": "110", "e": "200"},
            30,
            "116.00",
            # a: 31.034 % below → 30 − 31.03 < 0 → 0.00; b: 22.414 % below → 7.59;
            # d: 5.172 % below → 24.83; e: 72.414 % above ×2 → 0.00
            {"a": "0.00", "b": "7.59", "c": "16.21", "d": "24.83", "e": "0.00"},
        ),
        # trimmed mean with only 4 prices (< trim_min 5): no trimming, mean(80, 90, 100, 130) = 100
        # 80: 20 % below → 10.00; 90 → 20.00; 100 → 30.00; 130: 30 % above ×2 = 60 → 0.00
        (
            dev(base="trimmed_mean"),
            {"a": "80", "b": "90", "c": "100", "d": "130"},
            30,
            "100.00",
            {"a": "10.00", "b": "20.00", "c": "30.00", "d": "0.00"},
        ),
        # trim_min lowered to 4: 80 and 130 dropped, base mean(90, 100) = 95.00
        # 80: 15.789 % below → 14.21; 90: 5.263 % below → 24.74; 100: 5.263 % above ×2 → 19.47;
        # 130: 36.842 % above ×2 → 0.00
        (
            dev(base="trimmed_mean", trim_min=4),
            {"a": "80", "b": "90", "c": "100", "d": "130"},
            30,
            "95.00",
            {"a": "14.21", "b": "24.74", "c": "19.47", "d": "0.00"},
        ),
        # trim 0 turns trimming off: mean(90, 100, 101) = 97.00
        # 90: 7.2165 % below → 22.78; 100: 3.0928 % above ×2 → 23.81; 101: 4.1237 % ×2 → 21.75
        (
            dev(base="trimmed_mean", trim=0),
            {"a": "90", "b": "100", "c": "101"},
            30,
            "97.00",
            {"a": "22.78", "b": "23.81", "c": "21.75"},
        ),
        # trimmed with 5 prices and k 0.03: mean(90, 100, 110) × 0.97 = 97.00
        # 80: 17.5258 % below → 12.47; 90: 7.2165 % below → 22.78; 100 → 23.81;
        # 110: 13.4021 % above ×2 = 26.80 → 3.20; 200 → 0.00
        (
            dev(base="trimmed_mean", k="0.03"),
            {"a": "80", "b": "90", "c": "100", "d": "110", "e": "200"},
            30,
            "97.00",
            {"a": "12.47", "b": "22.78", "c": "23.81", "d": "3.20", "e": "0.00"},
        ),
    ],
)
def test_deviation_formula(formula, prices, points, base, expected):
    prices = {k: D(v) for k, v in prices.items()}
    assert rules.price_base(formula=formula, prices=prices) == D(base)
    got = rules.price_scores(formula=formula, max_points=D(points), prices=prices)
    assert got == {k: D(v) for k, v in expected.items()}


def test_deviation_base_is_rounded_to_the_fen_before_use():
    # mean(100, 100, 101) = 100.3333… → base 100.33; 101 is 0.66779 % above → 30 − 1.33559 = 28.66
    prices = {"a": D("100"), "b": D("100"), "c": D("101")}
    assert rules.price_base(formula=dev(), prices=prices) == D("100.33")
    assert rules.price_scores(formula=dev(), max_points=D(30), prices=prices)["c"] == D("28.66")


@pytest.mark.parametrize(
    "formula",
    [
        {"kind": "lowest_bid_wins"},
        dev(base="median"),
        dev(k="1"),
        dev(k="-0.01"),
        dev(above="-1"),
    ],
)
def test_a_malformed_formula_is_refused(formula):
    with pytest.raises(ValueError):
        rules.price_scores(formula=formula, max_points=D(30), prices={"a": D(1)})


def test_price_scores_refuse_a_zero_price_and_zero_points():
    with pytest.raises(ValueError):
        rules.price_scores(formula=GP, max_points=D(30), prices={"a": D(0), "b": D(1)})
    with pytest.raises(ValueError):
        rules.price_scores(formula=GP, max_points=D(0), prices={"a": D(1)})


@pytest.mark.parametrize(
    ("regime", "formula", "codes"),
    [("GP", GP, []), ("GP", dev(), ["gp_price_formula"]), ("TB", dev(), []), ("TB", GP, [])],
)
def test_gp_must_use_the_lowest_price_base(regime, formula, codes):
    found = rules.check_price_formula(regime=regime, formula=formula)
    assert [v.code for v in found] == codes
    assert all(v.source == "87号令第五十五条" for v in found)


# -- averages, totals, score range -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["27", "26"], "26.50"),
        (["20", "21", "22", "21", "30"], "22.80"),  # nothing dropped: 114/5
        (["10", "10", "11"], "10.33"),  # 31/3 = 10.333…
        (["10", "11", "11"], "10.67"),  # 32/3 = 10.666…
        (["0.01", "0.00"], "0.01"),  # 0.005 → half up
    ],
)
def test_criterion_average_is_the_plain_mean_of_every_active_member(values, expected):
    assert rules.criterion_average([D(v) for v in values]) == D(expected)


def test_criterion_average_of_nobody_is_an_error():
    with pytest.raises(ValueError):
        rules.criterion_average([])


def test_bid_total_adds_the_averages_and_the_price_score():
    assert rules.bid_total(averages=[D("26.50"), D("33.33")], price_score=D("28.50")) == D("88.33")
    assert rules.bid_total(averages=[D("26.50")], price_score=None) == D("26.50")


@pytest.mark.parametrize(
    ("value", "ok"),
    [("0", True), ("30", True), ("29.99", True), ("30.01", False), ("-0.01", False), ("12.345", False)],
)
def test_check_score_range_and_places(value, ok):
    found = rules.check_score(value=D(value), max_points=D(30))
    assert [v.code for v in found] == ([] if ok else ["score_out_of_range"])


# -- ranking -----------------------------------------------------------------------------------------------
def r(bid, total, price):
    return {"bid": bid, "total": None if total is None else D(total), "price": D(price)}


def ranks(ranked):
    return [(x["bid"], x["rank"], x["tie"]) for x in ranked]


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        # the C8 example with technical averages a 60.00, b 55.00, c 66.25:
        # a 60 + 28.50 = 88.50, b 55 + 30 = 85.00, c 66.25 + 23.75 = 90.00
        (
            [r("a", "88.50", "100"), r("b", "85.00", "95"), r("c", "90.00", "120")],
            [("c", 1, False), ("a", 2, False), ("b", 3, False)],
        ),
        # a's technical average 56.50 → 85.00, level with b: b is cheaper and ranks first (87号令57)
        (
            [r("a", "85.00", "100"), r("b", "85.00", "95"), r("c", "90.00", "120")],
            [("c", 1, False), ("b", 2, False), ("a", 3, False)],
        ),
        # equal on total and price: input order kept, both flagged, the third is not
        (
            [r("x", "85.00", "95"), r("y", "85.00", "95"), r("z", "80.00", "90")],
            [("x", 1, True), ("y", 2, True), ("z", 3, False)],
        ),
        # the same pair, input reversed: stable
        (
            [r("y", "85.00", "95"), r("x", "85.00", "95"), r("z", "80.00", "90")],
            [("y", 1, True), ("x", 2, True), ("z", 3, False)],
        ),
        # a tie for the last place
        (
            [r("a", "90.00", "100"), r("b", "70.00", "90"), r("c", "70.00", "90.00")],
            [("a", 1, False), ("b", 2, True), ("c", 3, True)],
        ),
        # lowest evaluated price method: price ascending, equal prices flagged (87号令56)
        (
            [r("a", None, "100"), r("b", None, "95"), r("c", None, "120"), r("d", None, "95.00")],
            [("b", 1, True), ("d", 2, True), ("a", 3, False), ("c", 4, False)],
        ),
        ([], []),
    ],
)
def test_rank(results, expected):
    assert ranks(rules.rank(results)) == expected


def test_rank_returns_copies_and_keeps_the_other_keys():
    results = [{"bid": "a", "total": D("1"), "price": D("1"), "bidder": "甲公司"}]
    ranked = rules.rank(results)
    assert ranked[0]["bidder"] == "甲公司" and ranked[0]["rank"] == 1
    assert "rank" not in results[0]


def test_rank_refuses_a_mix_of_methods():
    with pytest.raises(ValueError):
        rules.rank([r("a", "90", "1"), r("b", None, "2")])


@pytest.mark.parametrize(("n", "limit", "expected"), [(5, 3, 3), (2, 3, 2), (5, 1, 1), (5, 7, 3), (0, 3, 0)])
def test_candidates_are_the_first_ranked_never_more_than_three(n, limit, expected):
    ranked = rules.rank([r(f"b{i}", str(90 - i), "100") for i in range(n)])
    got = rules.candidates(list(reversed(ranked)), limit=limit)
    assert [c["rank"] for c in got] == list(range(1, expected + 1))


def test_candidates_need_a_positive_limit():
    with pytest.raises(ValueError):
        rules.candidates([], limit=0)


# -- outliers ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("scores", "threshold", "expected"),
    [
        # seat 5 against the others (20, 21, 22, 21): median 21; |30 − 21| / 30 = 0.30 — not above
        ({"1": "20", "2": "21", "3": "22", "4": "21", "5": "30"}, None, {}),
        # 30.01: 9.01 / 30 = 0.30033… > 0.30 → flagged with deviation 0.3003
        (
            {"1": "20", "2": "21", "3": "22", "4": "21", "5": "30.01"},
            None,
            {"5": {"value": "30.01", "median": "21.00", "deviation": "0.3003"}},
        ),
        # a low outlier; the others' median is (27 + 28) / 2 = 27.50 → |10 − 27.5| / 30 = 0.5833
        (
            {"1": "27", "2": "28", "3": "10", "4": "29", "5": "26"},
            None,
            {"3": {"value": "10", "median": "27.50", "deviation": "0.5833"}},
        ),
        # a configured threshold of 0.20: |28 − 20.5| / 30 = 0.25 fires
        (
            {"1": "20", "2": "21", "3": "28"},
            D("0.20"),
            {"3": {"value": "28", "median": "20.50", "deviation": "0.2500"}},
        ),
        # two scores: no reference
        ({"1": "0", "2": "30"}, None, {}),
    ],
)
def test_outliers(scores, threshold, expected):
    got = rules.outliers({k: D(v) for k, v in scores.items()}, max_points=D(30), threshold=threshold)
    assert set(got) == set(expected)
    for key, want in expected.items():
        assert got[key]["value"] == D(want["value"])
        assert got[key]["median"] == D(want["median"])
        assert got[key]["deviation"] == D(want["deviation"])


def test_outlier_threshold_comes_from_the_settings(settings):
    scores = {"1": D("20"), "2": D("21"), "3": D("22"), "4": D("21"), "5": D("27")}  # 6/30 = 0.20
    assert rules.outliers(scores, max_points=D(30)) == {}
    settings.EXPERT_RULES = {"outlier_threshold": "0.19"}
    got = rules.outliers(scores, max_points=D(30))
    assert list(got) == ["5"] and got["5"]["threshold"] == D("0.19")


# -- abnormally low prices -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("prices", "ratio", "expected"),
    [
        # 79 / mean(100, 100, 100) = 0.79 < 0.80 → flagged
        ({"a": "100", "b": "100", "c": "100", "d": "79"}, None, {"d": "0.7900"}),
        # 80 / 100 = 0.80, not below → not flagged
        ({"a": "100", "b": "100", "c": "100", "d": "80"}, None, {}),
        # 79.99 / 100 = 0.7999 → flagged
        ({"a": "100", "b": "100", "c": "100", "d": "79.99"}, None, {"d": "0.7999"}),
        # the reference leaves the bid out: 70 / mean(90, 110) = 0.70
        ({"a": "90", "b": "110", "c": "70"}, None, {"c": "0.7000"}),
        # a stricter configured ratio: 0.85 flags 84 / 100
        ({"a": "100", "b": "100", "c": "84"}, D("0.85"), {"c": "0.8400"}),
        # 2 prices: no reference
        ({"a": "100", "b": "10"}, None, {}),
    ],
)
def test_abnormally_low(prices, ratio, expected):
    got = rules.abnormally_low({k: D(v) for k, v in prices.items()}, ratio=ratio)
    assert got == {k: D(v) for k, v in expected.items()}
