"""Market patterns on small hand-built markets: co-bidding counts per window, cover bidding, rotation,
communities, party features."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from monitoring import market
from monitoring.evidence import BidRow, LotEvidence
from monitoring.market import Edge, cobidding, communities, cover_bidding, party_features, rotation

D24, D25 = dt.date(2024, 5, 1), dt.date(2025, 11, 30)


def lot(key, bidders, winner=None, date=D25, decided=True):
    bids = tuple(
        BidRow(bid=f"{key}-{p}", party=p, price=100.0 + i, is_winner=(p == winner) if decided else None)
        for i, p in enumerate(bidders)
    )
    return LotEvidence(tender=key, lot="1", date=date, bids=bids)


def test_tenders_reduce_a_lot_to_bidders_and_winners():
    (t,) = market.tenders([lot("T1", ["B", "A", "B"], winner="B")])
    assert t == market.Tender("T1/1", D25, ("A", "B"), ("B",), True)
    (u,) = market.tenders([lot("T2", ["A", "B"], decided=False)])
    assert not u.decided and u.winners == ()
    assert market.tenders([t]) == [t]  # already reduced: kept


def test_cobidding_counts_meetings_per_pair():
    lots = [lot("1", "ABC", date=D24), lot("2", "AB"), lot("3", "BC")]
    assert cobidding(lots) == [Edge("A", "B", 2), Edge("B", "C", 2), Edge("A", "C", 1)]


def test_cobidding_per_year():
    lots = [lot("1", "ABC", date=D24), lot("2", "AB"), lot("3", "BC"), lot("4", "AC", date=None)]
    assert cobidding(lots, window="year") == [
        Edge("A", "C", 1, ""),
        Edge("A", "B", 1, "2024"),
        Edge("A", "C", 1, "2024"),
        Edge("B", "C", 1, "2024"),
        Edge("A", "B", 1, "2025"),
        Edge("B", "C", 1, "2025"),
    ]


def test_periods():
    assert market.period(D25, "year") == "2025"
    assert market.period(D25, "quarter") == "2025-Q4"
    assert market.period(D24, "quarter") == "2024-Q2"
    assert market.period(D25, "month") == "2025-11"
    assert market.period(D25, None) == "" and market.period(None, "year") == ""
    with pytest.raises(ValueError):
        market.period(D25, "week")


def cover_market():
    """L loses to W in all three lots they meet in; Y loses to X in two of three; an undecided lot."""
    return [
        lot("1", ["W", "L", "Q"], winner="W"),
        lot("2", ["W", "L"], winner="W"),
        lot("3", ["W", "L", "R"], winner="W"),
        lot("4", ["W", "L"], decided=False),  # not a meeting: the outcome is unknown
        lot("5", ["X", "Y"], winner="X"),
        lot("6", ["X", "Y"], winner="X"),
        lot("7", ["X", "Y"], winner="Y"),
        lot("8", ["L", "Q"], winner="Q"),
    ]


def test_cover_bidding_finds_the_loser_that_always_loses_to_one_winner():
    assert cover_bidding(cover_market()) == [
        {
            "loser": "L",
            "winner": "W",
            "meetings": 3,
            "losses_to_winner": 3,
            "share": 1.0,
            "loser_tenders": 5,
            "loser_wins": 0,
        }
    ]


def test_cover_bidding_silent_below_min_meetings_and_share():
    assert cover_bidding(cover_market(), min_meetings=4) == []
    found = cover_bidding(cover_market(), min_share=0.6)
    assert [(r["loser"], r["winner"], r["share"]) for r in found] == [("L", "W", 1.0), ("Y", "X", 2 / 3)]


def rotation_market():
    """A, B, C win in turn (2 each) and an outsider O wins once among them; D, E, F: D always wins;
    G, H, I win 3, 1, 0 times."""
    lots = [lot(f"r{i}", "ABC", winner="ABC"[i % 3]) for i in range(6)]
    lots.append(lot("r6", "ABCO", winner="O"))
    lots += [lot(f"d{i}", "DEF", winner="D") for i in range(3)]
    lots += [lot(f"g{i}", "GHI", winner=w) for i, w in enumerate("GGGH")]
    return lots


def test_rotation_finds_groups_whose_wins_rotate():
    found = rotation(rotation_market())
    assert found[0] == {
        "members": ["A", "B", "C"],
        "tenders": 7,
        "group_wins": 6,
        "wins": {"A": 2, "B": 2, "C": 2},
        "win_share": 6 / 7,
        "evenness": pytest.approx(1.0),
    }
    assert found[1]["members"] == ["G", "H", "I"] and found[1]["wins"] == {"G": 3, "H": 1, "I": 0}
    # Pielou: −(¾ ln ¾ + ¼ ln ¼) / ln 3
    assert math.isclose(found[1]["evenness"], -(0.75 * math.log(0.75) + 0.25 * math.log(0.25)) / math.log(3))
    assert len(found) == 2  # D, E, F: one member wins everything


def test_rotation_silent_when_thresholds_are_not_met():
    assert [r["members"] for r in rotation(rotation_market(), min_evenness=0.6)] == [["A", "B", "C"]]
    assert rotation(rotation_market(), min_tenders=8) == []
    assert rotation(rotation_market(), min_meetings=8) == []


def two_triangles():
    return [
        Edge("A", "B", 5),
        Edge("B", "C", 5),
        ("A", "C", 5),
        Edge("D", "E", 5),
        Edge("E", "F", 5),
        Edge("D", "F", 5),
        Edge("C", "D", 1),
        Edge("X", "Y", 0),  # no weight: ignored
    ]


@pytest.mark.parametrize("method", ["multilevel", "leiden"])
def test_communities_split_two_triangles(method):
    assert communities(two_triangles(), method=method) == [["A", "B", "C"], ["D", "E", "F"]]


def test_communities_are_deterministic_and_leave_the_global_random_alone():
    import random

    random.seed(5)
    expected = random.random()
    random.seed(5)
    first = communities(two_triangles(), seed=3)
    assert random.random() == expected
    assert communities(two_triangles(), seed=3) == first


def test_communities_min_size_and_nothing():
    assert communities([Edge("A", "B", 1)], min_size=3) == []
    assert communities([]) == []
    with pytest.raises(ValueError):
        communities([Edge("A", "B", 1)], method="magic")


def test_party_features_by_hand():
    f = party_features(cover_market())
    assert f["L"] == {
        "tenders": 5,  # 1, 2, 3, 4 (undecided), 8
        "decided": 4,
        "wins": 0,
        "win_rate": 0.0,
        "partners": 3,  # W, Q, R
        "top_partner_share": 4 / 5,  # met W in 4 of its 5 lots
        "mean_rivals": (2 + 1 + 2 + 1 + 1) / 5,
        "top_winner_loss_share": 3 / 4,  # 3 of its 4 losses to W
        "always_loses_to_one": 1,
    }
    assert f["W"]["wins"] == 3 and f["W"]["win_rate"] == 1.0 and f["W"]["top_winner_loss_share"] is None
    assert f["Y"]["always_loses_to_one"] == 0 and f["Y"]["top_winner_loss_share"] == 1.0
    assert set(f["Q"]) == set(market.FEATURES)


def test_party_features_without_decided_lots_have_no_win_rate():
    f = party_features([lot("1", "AB", decided=False)])
    assert f["A"]["win_rate"] is None and f["A"]["decided"] == 0 and f["A"]["top_partner_share"] == 1.0
