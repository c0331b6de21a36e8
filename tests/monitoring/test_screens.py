"""Price screens: worked examples by hand, cross-checks against scipy, and the edge cases that
must give None rather than a number."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from scipy import stats

from monitoring.screens import SCREENS, screens, subset_screens

EVEN = [Decimal("120"), Decimal("100"), Decimal("130"), Decimal("110")]  # any order


def close(a, b, tol=1e-9):
    return a is not None and math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def test_an_evenly_spaced_tender_by_hand():
    s = screens(EVEN)
    sd = math.sqrt(500 / 3)  # deviations ±15, ±5 from 115
    assert s["n"] == 4
    assert close(s["cv"], sd / 115)
    assert close(s["spd"], 0.3) and close(s["diffp"], 0.1)
    assert close(s["rd"], 1.0)  # gap 10 over the losers' σ of (110, 120, 130) = 10
    assert close(s["rdnor"], 1.0) and close(s["rdalt"], 1.0)
    assert close(s["skew"], 0.0)
    assert close(s["kurt"], -1.2)  # 20/6 · 3.69 − 13.5
    assert close(s["ks"], 0.25)  # (0, 1/3, 2/3, 1) against U(0, 1)
    assert close(s["step_cv"], 0.0)  # an arithmetic series: 规律性差异
    assert s["identical"] == 0 and s["identical_share"] == 0


def test_cover_bids_clustered_behind_the_winner_give_a_large_relative_distance():
    s = screens([100, 130, 131, 132])
    assert close(s["rd"], 30.0)  # gap 30 over σ(130, 131, 132) = 1
    assert close(s["rdalt"], 30.0)  # gap 30 over the losers' mean step (132 − 130)/2
    assert close(s["rdnor"], 30 / (32 / 3))
    competitive = screens([100, 104, 109, 115])
    assert competitive["rd"] < s["rd"]


@pytest.mark.parametrize(
    "bids",
    [[812, 905.5, 777.25, 1001, 950], [3.2, 3.3, 3.9, 4.4, 5.0, 5.05], [10, 11, 13, 17, 25, 41, 73]],
)
def test_moments_and_ks_agree_with_scipy(bids):
    s = screens(bids)
    assert close(s["skew"], float(stats.skew(bids, bias=False)), 1e-9)
    assert close(s["kurt"], float(stats.kurtosis(bids, bias=False)), 1e-9)
    lo, hi = min(bids), max(bids)
    expected = stats.kstest([(b - lo) / (hi - lo) for b in bids], "uniform").statistic
    assert close(s["ks"], float(expected), 1e-9)
    assert close(s["cv"], float(stats.variation(bids, ddof=1)), 1e-9)


def test_a_geometric_series_has_constant_ratios_not_constant_steps():
    s = screens([100, 110, 121, 133.1])
    assert close(s["ratio_cv"], 0.0, 1e-9) and s["step_cv"] > 0.01


def test_identical_prices_are_counted():
    s = screens([Decimal("500000.00"), Decimal("500000.00"), Decimal("512000.00"), Decimal("530000.00")])
    assert s["identical"] == 2 and close(s["identical_share"], 0.5)


def test_closeness_to_the_ceiling_and_the_estimate():
    s = screens([95, 97, 99], ceiling=Decimal("100"), estimate=90)
    assert close(s["min_to_ceiling"], 0.95) and close(s["mean_to_ceiling"], 0.97)
    assert close(s["min_to_estimate"], 95 / 90)
    assert screens([95, 97, 99])["min_to_ceiling"] is None


@pytest.mark.parametrize(
    "bids, undefined",
    [
        ([], {"cv", "spd", "diffp", "rd", "skew", "kurt", "ks"}),
        ([100], {"cv", "spd", "diffp", "rd"}),
        ([100, 120], {"rd", "rdnor", "rdalt", "skew", "kurt", "ks", "step_cv"}),
        ([100, 120, 140], {"kurt"}),
        ([100, 100, 100], {"rd", "rdnor", "rdalt", "skew", "kurt", "ks", "step_cv", "ratio_cv"}),
        ([100, 120, 120, 120], {"rd"}),  # the losers are all equal: σ = 0
    ],
)
def test_undefined_screens_are_none(bids, undefined):
    s = screens(bids)
    assert set(s) == set(SCREENS)
    assert {k for k in undefined if s[k] is not None} == set()


@pytest.mark.parametrize("bad", [[100, 0], [100, -5], [100, float("nan")], [float("inf"), 1]])
def test_non_positive_or_non_finite_bids_are_refused(bad):
    with pytest.raises(ValueError):
        screens(bad)


def test_subset_screens_find_a_tight_group_inside_a_dispersed_tender():
    # a competitive spread of bids plus three cover bids within 0.2 % of each other
    bids = [100, 118, 137, 160, 150.0, 150.2, 150.3]
    whole = screens(bids)
    sub = subset_screens(bids, k=3)
    assert whole["cv"] > 0.15
    assert sub["cv_k3_min"] < 0.002  # the three covers
    assert sub["cv_k3_min"] <= sub["cv_k3_median"] <= sub["cv_k3_max"]
    assert set(sub) == {
        f"{s}_k3_{t}"
        for s in ("cv", "spd", "diffp", "rd", "kurt", "skew")
        for t in ("min", "max", "mean", "median")
    }


def test_subsets_beyond_the_cap_use_consecutive_windows():
    bids = list(range(100, 140))  # C(40, 4) = 91 390 subsets: windows instead
    sub = subset_screens(bids, k=4)
    expected = screens([100, 101, 102, 103])["cv"]
    assert close(sub["cv_k4_max"], expected)  # the lowest window is the most dispersed relative to its mean
    assert subset_screens([100, 101], k=3)["cv_k3_min"] is None
    with pytest.raises(ValueError):
        subset_screens(bids, k=2)
