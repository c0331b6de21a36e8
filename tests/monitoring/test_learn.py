"""monitoring.learn: bid tables, features, metrics, models and their evaluation (pure, no database)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from monitoring import screens as S
from monitoring.learn import (
    TableError,
    build_features,
    cross_validate,
    fit_model,
    load_model,
    parse_bids,
    read_bids,
    score_rows,
    score_table,
    table_from_bids,
    transfer,
)
from monitoring.learn.evaluate import take
from monitoring.learn.features import subset_features
from monitoring.learn.metrics import (
    balanced_accuracy,
    pr_auc,
    precision_at_top,
    recall_at_fpr,
    roc_auc,
    threshold_at_fpr,
)
from monitoring.learn.models import SupervisedClassifier, UnsupervisedDetector


def toy_rows(tenders=160, seed=0, scale=1e6, share=0.3, bidders=40):
    """A small market: competitive tenders with dispersed bids; collusive ones (label 1) with a
    designated winner under tight cover bids. Rows (tender_id, amount, bidder_id, estimate, is_winner,
    label, kind)."""
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(tenders):
        n = int(rng.integers(2, 7))
        est = scale * rng.uniform(0.5, 2)
        cartel = rng.random() < share
        if cartel:
            win = est * rng.uniform(0.97, 1.03)
            bids = np.r_[win, win * (1 + rng.uniform(0.04, 0.08)) * np.exp(rng.normal(0, 0.005, n - 1))]
        else:
            bids = est * np.exp(rng.normal(0, 0.08, n))
        firms = rng.choice(bidders, size=n, replace=False)
        low = int(np.argmin(bids))
        for i, b in enumerate(bids):
            rows.append(
                (
                    f"T{t}",
                    round(float(b), 2),
                    f"F{firms[i]}",
                    round(est, 2),
                    int(i == low),
                    int(cartel),
                    "cover" if cartel else "",
                )
            )
    return rows


def toy_csv(path, **kw):
    lines = ["tender_id,bid_amount,bidder_id,estimate,is_winner,label,kind"]
    lines += [",".join(str(v) for v in r) for r in toy_rows(**kw)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def toy_table(**kw):
    return table_from_bids(r[:6] for r in toy_rows(**kw))


# -- metrics against hand-computed values -------------------------------------------------------------
def test_recall_at_5pct_fpr_hand_example():
    # 20 negatives scored 0..19 and 4 positives: at most ⌊0.05·20⌋ = 1 negative may be flagged, so the
    # cut is the 2nd highest negative (18): positives above 18 are flagged.
    y = np.r_[np.zeros(20), np.ones(4)]
    s = np.r_[np.arange(20.0), [18.5, 30, 17, 18]]
    assert threshold_at_fpr(y, s) == 18.0
    assert recall_at_fpr(y, s) == 0.5  # 18.5 and 30; 17 is below, 18 ties the cut and is not flagged


def test_recall_at_fpr_with_few_negatives_flags_no_negative():
    y = np.array([0, 0, 0, 1, 1])
    s = np.array([0.9, 0.1, 0.2, 0.95, 0.5])  # ⌊0.05·3⌋ = 0: the cut is the highest negative
    assert recall_at_fpr(y, s) == 0.5


def test_precision_at_top_10pct_hand_example():
    # n = 25: the top ⌈2.5⌉ = 3 scores are 0.9 (1), 0.8 (0), 0.7 (1) → 2/3
    y = np.array([1, 0, 1] + [0] * 21 + [1])
    s = np.array([0.9, 0.8, 0.7] + [0.1] * 21 + [0.05])
    assert precision_at_top(y, s) == pytest.approx(2 / 3)
    assert precision_at_top(np.array([1, 0]), np.array([0.2, 0.9])) == 0.0  # top 1 of 2


def test_balanced_accuracy_and_aucs_hand_example():
    y = np.array([0, 0, 0, 1, 1])
    assert balanced_accuracy(y, [0, 1, 0, 1, 0]) == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert roc_auc(y, [0.1, 0.4, 0.35, 0.8, 0.3]) == pytest.approx(4 / 6)  # pairs ranked right: 4 of 6
    assert pr_auc(y, [0.1, 0.2, 0.3, 0.9, 0.8]) == 1.0
    assert math.isnan(roc_auc([0, 0], [0.1, 0.2]))
    assert math.isnan(balanced_accuracy([1, 1], [1, 0]))


# -- reading tables -----------------------------------------------------------------------------------
def test_reads_bom_semicolons_decimal_commas_and_extra_columns():
    data = "\ufeffTender_ID;Bid_Amount;Label;kind\nA;1234,5;1;cover\nA;1300,0;0;cover\nB;99;0;\n".encode()
    t = parse_bids(data)
    assert t.tenders == ["A", "B"]
    assert t.amount.tolist() == [1234.5, 1300.0, 99.0]
    assert t.tender_labels().tolist() == [1, 0]
    assert t.bidder is None and t.estimate is None and t.is_winner is None
    assert t.tender_group("kind") == ["cover", ""]


@pytest.mark.parametrize(
    ("content", "code", "params"),
    [
        ("tender_id,amount\nA,1\n", "column_missing", {"column": "bid_amount"}),
        ("tender_id,bid_amount\nA,1\nA,abc\n", "amount_invalid", {"row": 3, "value": "abc"}),
        ("tender_id,bid_amount\nA,-5\n", "amount_invalid", {"row": 2, "value": "-5"}),
        ("tender_id,bid_amount,label\nA,1,2\n", "label_invalid", {"row": 2, "value": "2"}),
        ("tender_id,bid_amount,label\nA,1,\n", "label_invalid", {"row": 2, "value": ""}),
        ("tender_id,bid_amount,is_winner\nA,1,maybe\n", "winner_invalid", {"row": 2, "value": "maybe"}),
        ("tender_id,bid_amount\n,1\n", "tender_id_missing", {"row": 2}),
        ("", "bids_file_empty", {}),
    ],
)
def test_bad_tables_are_refused_with_their_code(content, code, params):
    with pytest.raises(TableError) as exc:
        parse_bids(content)
    assert exc.value.code == code
    assert exc.value.params == params


def test_missing_file_and_skip_invalid(tmp_path):
    with pytest.raises(TableError) as exc:
        read_bids(tmp_path / "nope.csv")
    assert exc.value.code == "bids_file_missing"
    t = parse_bids("tender_id,bid_amount\nA,1\nA,x\nB,2\n", skip_invalid=True)
    assert (t.n_bids, t.skipped) == (2, 1)


def test_trainable_checks():
    few = toy_table(tenders=6)
    with pytest.raises(TableError) as exc:
        few.check_trainable(min_tenders=10)
    assert exc.value.code == "too_few_tenders"
    one_class = table_from_bids([("A", 1, "x", None, None, 0), ("B", 2, "y", None, None, 0)] * 6)
    with pytest.raises(TableError) as exc:
        one_class.check_trainable(min_tenders=2)
    assert exc.value.code == "labels_one_class"


def test_digest_ignores_layout_but_not_content():
    a = parse_bids("tender_id,bid_amount,label,x\nA,100,1,foo\nA,110,0,bar\n")
    b = parse_bids("label;bid_amount;tender_id\n1;100.0;A\n0;110;A\n")
    c = parse_bids("tender_id,bid_amount,label\nA,100,1\nA,111,0\n")
    assert a.digest() == b.digest()
    assert a.digest() != c.digest()


# -- features -----------------------------------------------------------------------------------------
def test_bid_features_hand_example():
    t = table_from_bids([("A", 100, "a", 200, 0, 0), ("A", 120, "b", 200, 0, 0), ("A", 110, "c", 200, 1, 0)])
    fs = build_features(t)
    f = dict(zip(fs.bid_names, fs.B[2], strict=True))  # the 110 bid, the winner
    assert f["bid_rel_min"] == pytest.approx(0.1)
    assert f["bid_rank"] == 0.5
    assert f["bid_gap_below"] == pytest.approx(10 / 110)
    assert f["bid_gap_above"] == pytest.approx(10 / 110)
    assert f["bid_to_estimate"] == pytest.approx(0.55)
    assert f["bid_is_winner"] == 1.0 and f["bid_is_lowest"] == 0.0
    tf = dict(zip(fs.tender_names, fs.T[0], strict=True))
    assert tf["winner_rank"] == 0.5
    assert tf["winner_gap"] == pytest.approx((100 - 110) / 110)
    assert tf["cv"] == pytest.approx(S.screens([100, 110, 120])["cv"])
    assert tf["max_to_min"] == pytest.approx(math.log(1.2))


def test_subset_features_match_the_screens_module():
    bids = np.array([100.0, 101.0, 103.0, 110.0, 111.0, 130.0])
    ours = subset_features(bids)
    ref = S.subset_screens(bids.tolist(), k=3)
    for name, value in ours.items():
        assert value == pytest.approx(ref[name]), name


def test_features_are_scale_free_and_blind_to_identifiers_and_order():
    rows = [r[:6] for r in toy_rows(tenders=60, seed=3)]
    base = build_features(table_from_bids(rows))
    rng = np.random.default_rng(1)
    rename_t = {f"T{i}": f"Z{j}" for i, j in enumerate(rng.permutation(60))}
    rename_b = {f"F{i}": f"bidder-{j}" for i, j in enumerate(rng.permutation(40))}
    shuffled = [rows[i] for i in rng.permutation(len(rows))]
    other = [(rename_t[t], a * 137.0, rename_b[b], e * 137.0, w, lab) for t, a, b, e, w, lab in shuffled]
    fs = build_features(table_from_bids(other))
    assert fs.tender_names == base.tender_names
    pos = {t: i for i, t in enumerate(fs.tenders)}
    order = [pos[rename_t[t]] for t in base.tenders]
    np.testing.assert_allclose(fs.T[order], base.T, rtol=1e-9, equal_nan=True)
    assert not [n for n in fs.tender_names + fs.bid_names if "id" in n.split("_") or "date" in n]


def test_history_counts_other_tenders_and_meetings():
    # a and b meet in 3 tenders; c bids once. In tender T1: a and b each have 2 other tenders, and met
    # in both: pair share 2/2 = 1. a won the other two, so its win rate elsewhere is 1.
    rows = [(f"T{i}", 100 + j, f, None, int(f == "a"), 0) for i in range(3) for j, f in enumerate("ab")]
    rows += [("T3", 100, "c", None, 1, 0), ("T3", 110, "d", None, 0, 0)]
    rows += [(f"P{i}", 50 + j, f"p{i}{j}", None, int(j == 0), 0) for i in range(30) for j in range(2)]
    fs = build_features(table_from_bids(rows))
    tf = dict(zip(fs.tender_names, fs.T[0], strict=True))
    assert tf["hist_pair_meet_max"] == 1.0
    assert tf["hist_tenders_min"] == pytest.approx(math.log1p(2))
    assert tf["hist_win_rate_max"] == 1.0 and tf["hist_win_rate_min"] == 0.0
    bf = dict(zip(fs.bid_names, fs.B[0], strict=True))  # a's bid in T0
    assert bf["bid_hist_win_rate"] == 1.0 and bf["bid_hist_top_partner"] == 1.0
    t3 = dict(zip(fs.tender_names, fs.T[3], strict=True))
    assert t3["hist_tenders_mean"] == 0.0 and math.isnan(t3["hist_pair_meet_max"])


def test_two_bids_and_missing_optional_columns_still_give_features():
    t = table_from_bids(
        [("A", 100, None, None, None, 0), ("A", 150, None, None, None, 0)],
        with_bidder=False,
        with_estimate=False,
        with_winner=False,
    )
    fs = build_features(t, extra={"A": {"graph_links": 3}})
    tf = dict(zip(fs.tender_names, fs.T[0], strict=True))
    assert tf["spd"] == 0.5 and math.isnan(tf["rd"]) and math.isnan(tf["hist_tenders_mean"])
    assert tf["x_graph_links"] == 3.0
    assert "t_x_graph_links" in fs.bid_names


# -- models -------------------------------------------------------------------------------------------
def test_supervised_learns_scores_in_unit_interval_and_round_trips():
    train, test = toy_table(tenders=200, seed=1), toy_table(tenders=80, seed=2, scale=3e8)
    model = fit_model(train, kind="supervised")
    ts, bs = score_table(model, test)
    assert ts.min() >= 0 and ts.max() <= 1 and len(bs) == test.n_bids
    assert roc_auc(test.tender_labels(), ts) > 0.9
    again = load_model(model.to_bytes())
    np.testing.assert_allclose(score_table(again, test)[0], ts)
    d = again.describe()
    assert d["kind"] == "supervised" and "cv" in d["tender_features"] and d["versions"]["sklearn"]
    assert 0 < model.threshold < 1


def test_unsupervised_needs_no_labels_and_points_the_literature_way():
    rows = [(*r[:5], None) for r in toy_rows(tenders=150, seed=4)]
    table = table_from_bids(rows, with_label=False)
    model = fit_model(table, kind="unsupervised")
    tight = table_from_bids(
        [
            ("X", 100, None, None, None, 0),
            ("X", 108, None, None, None, 0),
            ("X", 108.5, None, None, None, 0),
            ("X", 109, None, None, None, 0),
        ]
    )
    loose = table_from_bids(
        [
            ("Y", 100, None, None, None, 0),
            ("Y", 112, None, None, None, 0),
            ("Y", 125, None, None, None, 0),
            ("Y", 140, None, None, None, 0),
        ]
    )
    assert score_table(model, tight)[0][0] > score_table(model, loose)[0][0]
    assert isinstance(load_model(model.to_bytes()), UnsupervisedDetector)


def test_load_model_refuses_foreign_bytes():
    import io

    import joblib

    buf = io.BytesIO()
    joblib.dump({"format": "something else"}, buf)
    for data in (b"garbage", buf.getvalue()):
        with pytest.raises(ValueError):
            load_model(data)


def test_score_rows_gives_a_score_per_tender_with_two_bids():
    model = fit_model(toy_table(tenders=120, seed=5), kind="supervised")
    rows = [
        {"tender_id": "L1", "bid_amount": 100.0},
        {"tender_id": "L1", "bid_amount": 101.0},
        {"tender_id": "L2", "bid_amount": 90.0, "bidder_id": "x", "is_winner": 1},
    ]
    scores = score_rows(model, rows)
    assert set(scores) == {"L1"} and 0 <= scores["L1"] <= 1


# -- evaluation ---------------------------------------------------------------------------------------
def test_cross_validation_reports_every_metric_and_groups():
    table = parse_bids(
        "\n".join(
            ["tender_id,bid_amount,bidder_id,estimate,is_winner,label,kind"]
            + [",".join(map(str, r)) for r in toy_rows(tenders=150, seed=6)]
        )
    )
    r = cross_validate(table, folds=3, repeats=1, group_column="kind", jobs=1)
    for level in (r["tender"], r["bid"], r["unsupervised"]["tender"], r["unsupervised"]["bid"]):
        for m in ("roc_auc", "pr_auc", "balanced_accuracy", "recall_at_5fpr", "precision_at_top10"):
            assert 0 <= level[m] <= 1 and level[f"{m}_std"] >= 0
    assert r["tender"]["roc_auc"] > 0.9
    groups = r["groups"]["values"]
    assert groups["cover"]["positives"] == groups["cover"]["tenders"] > 0
    assert groups["(none)"]["positives"] == 0 and groups["(none)"]["fpr"] <= 0.1
    assert (r["tenders"], r["folds"], r["repeats"]) == (150, 3, 1)


def test_splits_keep_every_bid_of_a_tender_together():
    table = toy_table(tenders=30, seed=7)
    fs = build_features(table)
    part = take(fs, np.array([3, 1]))
    assert part.tenders == ["T3", "T1"]
    assert part.B.shape[0] == int(np.isin(table.tender, [1, 3]).sum())
    assert set(part.bid_tender.tolist()) == {0, 1}


def test_transfer_uses_features_common_to_both_markets():
    train = toy_table(tenders=150, seed=8)
    test = table_from_bids(
        [(*r[:2], None, None, None, r[5]) for r in toy_rows(tenders=100, seed=9, scale=5e8)]
    )
    r = transfer(train, test)
    assert r["mode"] == "transfer" and r["tender"]["roc_auc"] > 0.85
    assert "unsupervised_fit_on_test" in r
    assert r["features"]["tender"] < len(build_features(train).available("tender"))


def test_supervised_refuses_one_class():
    fs = build_features(toy_table(tenders=20, seed=1))
    with pytest.raises(ValueError):
        SupervisedClassifier().fit(fs, np.zeros(20, dtype=int))
