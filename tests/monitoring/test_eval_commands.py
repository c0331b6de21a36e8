"""monitoring_eval, monitoring_train, monitoring_score and the model store."""

from __future__ import annotations

import csv
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from archive.models import JournalEntry
from core.errors import DomainError
from monitoring.learn import fit_model, read_bids
from monitoring.models import ModelVersion
from monitoring.services import modelstore
from tests.monitoring.test_learn import toy_csv

EVAL_KEYS = {
    "mode",
    "tenders",
    "bids",
    "positive_tenders",
    "positive_bids",
    "skipped_rows",
    "seed",
    "folds",
    "repeats",
    "tender",
    "bid",
    "unsupervised",
    "features",
    "threshold",
    "seconds",
    "feature_seconds",
}
METRICS = {"roc_auc", "pr_auc", "balanced_accuracy", "recall_at_5fpr", "precision_at_top10"}


def run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(*args) -> str:
    with pytest.raises(CommandError) as exc:
        run(*args)
    assert exc.value.returncode == 2
    return str(exc.value).split(":", 1)[0]


def test_eval_prints_exactly_one_json_line_with_the_documented_keys(tmp_path, capsys):
    path = toy_csv(tmp_path / "bids.csv", tenders=120, seed=1)
    out, _ = run("monitoring_eval", "--bids", str(path), "--folds", "3", "--repeats", "1", "--jobs", "1")
    lines = out.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert set(result) == EVAL_KEYS
    assert {f"{m}{s}" for m in METRICS for s in ("", "_std")} == set(result["tender"]) == set(result["bid"])
    assert result["tender"]["roc_auc"] > 0.9
    assert "ROC-AUC" in capsys.readouterr().err  # the human line goes to stderr


def test_eval_reports_groups_and_transfer(tmp_path):
    a = toy_csv(tmp_path / "a.csv", tenders=120, seed=2)
    b = toy_csv(tmp_path / "b.csv", tenders=80, seed=3, scale=1e9)
    out, _ = run("monitoring_eval", "--train", str(a), "--test", str(b), "--group-column", "kind")
    result = json.loads(out)
    assert result["mode"] == "transfer" and result["train"]["tenders"] == 120
    assert set(result["groups"]["values"]) == {"(none)", "cover"}
    assert set(result["tender"]) == METRICS


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (None, "bids_file_missing"),
        ("tender_id,price\nA,1\n", "column_missing"),
        ("tender_id,bid_amount,label\nA,1,0\nA,zero,1\n", "amount_invalid"),
        ("tender_id,bid_amount,label\nA,1,yes-ish\n", "label_invalid"),
        ("tender_id,bid_amount,label\nA,1,0\nB,2,1\n", "too_few_tenders"),
        ("tender_id,bid_amount\n" + "".join(f"T{i},{i + 1}\n" for i in range(20)), "column_missing"),
    ],
)
def test_bad_csvs_give_the_documented_codes(tmp_path, content, code):
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert refused("monitoring_eval", "--bids", str(path)) == code


def test_eval_amount_error_names_the_row(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("tender_id,bid_amount,label\nA,1,0\nA,zero,1\n", encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        run("monitoring_eval", "--bids", str(path))
    message = str(exc.value)
    assert message.startswith("amount_invalid:") and "3" in message and "zero" in message


def test_eval_argument_errors(tmp_path):
    path = toy_csv(tmp_path / "a.csv", tenders=30)
    assert refused("monitoring_eval") == "arguments_invalid"
    assert refused("monitoring_eval", "--bids", str(path), "--train", str(path)) == "arguments_invalid"
    assert refused("monitoring_eval", "--train", str(path)) == "arguments_invalid"


@pytest.mark.django_db
def test_train_stores_a_verified_version_and_score_writes_the_columns(tmp_path, clock):
    path = toy_csv(tmp_path / "bids.csv", tenders=100, seed=4)
    out, _ = run("monitoring_train", "--bids", str(path))
    info = json.loads(out)
    version = ModelVersion.objects.get(pk=info["model_version"])
    assert (version.kind, version.version, version.active) == ("supervised", 1, True)
    assert version.training_digest == read_bids(path).digest() == info["training_digest"]
    assert version.training_tenders == 100 and "cv" in version.features["tender"]
    assert (
        JournalEntry.objects.filter(stream="monitoring:models", action="monitoring.model_saved").count() == 1
    )
    assert modelstore.model_current() is not None

    scored = tmp_path / "scored.csv"
    out, _ = run("monitoring_score", "--bids", str(path), "--out", str(scored))
    assert json.loads(out)["model"]["version"] == 1
    with scored.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[-3:] == ["tender_score", "bid_score", "tender_level"]
    assert len(rows) == read_bids(path).n_bids
    assert all(0 <= float(r["tender_score"]) <= 1 and r["tender_level"] in {"", "2", "3"} for r in rows)
    by_tender = {}
    for r in rows:
        by_tender.setdefault(r["tender_id"], set()).add(r["tender_score"])
    assert all(len(v) == 1 for v in by_tender.values())  # one tender score per tender


@pytest.mark.django_db
def test_second_version_is_inactive_unless_activated(tmp_path, clock):
    path = toy_csv(tmp_path / "bids.csv", tenders=60, seed=5)
    run("monitoring_train", "--bids", str(path), "--kind", "unsupervised")
    run("monitoring_train", "--bids", str(path), "--kind", "unsupervised")
    assert list(ModelVersion.objects.order_by("version").values_list("version", "active")) == [
        (1, True),
        (2, False),
    ]
    run("monitoring_train", "--bids", str(path), "--kind", "unsupervised", "--activate")
    assert ModelVersion.objects.get(active=True).version == 3


@pytest.mark.django_db
def test_a_tampered_artifact_is_refused(tmp_path, clock):
    table = read_bids(toy_csv(tmp_path / "bids.csv", tenders=60, seed=6))
    version = modelstore.model_version_save(
        model=fit_model(table, kind="unsupervised"),
        training_source="test",
        training_digest=modelstore.training_digest(table),
    )
    modelstore._cache.clear()
    assert modelstore.model_version_load(version).kind == "unsupervised"
    stored = Path(default_storage.path(version.artifact.storage_name))
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0xFF
    stored.write_bytes(bytes(data))
    with pytest.raises(DomainError) as exc:
        modelstore.model_current()
    assert exc.value.code == "model_artifact_tampered"
    out = tmp_path / "scored.csv"
    assert refused("monitoring_score", "--bids", str(tmp_path / "bids.csv"), "--out", str(out)) == (
        "model_artifact_tampered"
    )
    assert not out.exists()


@pytest.mark.django_db
def test_score_without_a_model_and_with_a_bad_file(tmp_path):
    path = toy_csv(tmp_path / "bids.csv", tenders=20)
    assert refused("monitoring_score", "--bids", str(path), "--out", str(tmp_path / "o.csv")) == (
        "no_active_model"
    )
    assert refused(
        "monitoring_score", "--bids", str(tmp_path / "x.csv"), "--out", str(tmp_path / "o.csv")
    ) == ("bids_file_missing")
    assert refused("monitoring_train", "--bids", str(tmp_path / "x.csv")) == "bids_file_missing"
