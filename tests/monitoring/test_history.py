"""Regulators' decisions become labels: the labelled history of decided lots and monitoring_train
--from-alerts."""

from __future__ import annotations

import json

import pytest

from monitoring.models import Alert, ModelVersion
from monitoring.selectors import labelled_history
from monitoring.services.alerts import alert_confirm, alert_dismiss
from tests.monitoring.test_eval_commands import refused, run
from tests.monitoring.test_learn import toy_csv
from tests.monitoring.test_live import COPIED, _read_out, _world

pytestmark = pytest.mark.django_db


def _decided_lot(clock, capture, *, confirm: bool):
    world = _world(clock, ["4012345.00", "4188000.00", "3950500.00"], [COPIED, COPIED, ["独立编制。"]])
    _read_out(world, clock, capture)
    alert = Alert.objects.get(lot=world.lot)
    copiers = [world.bidders[0].entity.pk, world.bidders[1].entity.pk]
    if confirm:
        alert_confirm(
            alert=alert, actor=world.regulator, legal_basis="条例40", reason="属实", entity_ids=copiers
        )
    else:
        alert_dismiss(alert=alert, actor=world.regulator, reason="模板相同，非串通")
    return world, copiers


def test_a_confirmed_alert_labels_the_named_bidders_and_a_dismissed_one_labels_none(
    clock, django_capture_on_commit_callbacks
):
    world, copiers = _decided_lot(clock, django_capture_on_commit_callbacks, confirm=True)
    other, _ = _decided_lot(clock, django_capture_on_commit_callbacks, confirm=False)

    rows = labelled_history()

    labels = {(r["tender_id"], r["bidder_id"]): r["label"] for r in rows}
    assert labels == {
        **{(str(world.lot.pk), str(b.entity.pk)): int(b.entity.pk in copiers) for b in world.bidders},
        **{(str(other.lot.pk), str(b.entity.pk)): 0 for b in other.bidders},
    }
    prices = sorted(float(r["bid_amount"]) for r in rows if r["tender_id"] == str(world.lot.pk))
    assert prices == [3950500.0, 4012345.0, 4188000.0]


def test_an_open_alert_is_not_a_label(clock, django_capture_on_commit_callbacks):
    world = _world(clock, ["4012345.00", "4188000.00", "3950500.00"], [COPIED, COPIED, ["独立编制。"]])
    _read_out(world, clock, django_capture_on_commit_callbacks)
    assert Alert.objects.filter(lot=world.lot, status=Alert.Status.OPEN).exists()
    assert labelled_history() == []


def test_train_from_alerts_adds_the_decisions_to_a_labelled_file(
    tmp_path, clock, django_capture_on_commit_callbacks
):
    _decided_lot(clock, django_capture_on_commit_callbacks, confirm=True)
    path = toy_csv(tmp_path / "bids.csv", tenders=60, seed=3)
    out, _ = run("monitoring_train", "--from-alerts", "--bids", str(path))
    info = json.loads(out)
    version = ModelVersion.objects.get(pk=info["model_version"])
    assert version.training_source == "alerts+file:bids.csv"
    assert info["tenders"] == 61  # the file's 60 and the decided lot
    assert refused("monitoring_train") == "arguments_invalid"
    # The decided alerts alone are too few to learn from: refused with the table's code.
    assert refused("monitoring_train", "--from-alerts") in {
        "too_few_tenders",
        "labels_one_class",
        "too_few_positives",
    }
