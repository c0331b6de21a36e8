"""Monitoring's items in a project's archival package: the latest report, signed, and every alert with
its decision."""

from __future__ import annotations

import json

import pytest

from archive.blobs import blob_open
from archive.providers import collect
from experts.documents.common import verify
from monitoring.models import Alert
from monitoring.services.alerts import alert_dismiss
from monitoring.services.report import report_produce
from tests.monitoring.test_live import COPIED, _read_out, _world

pytestmark = pytest.mark.django_db


def test_the_package_holds_the_latest_report_and_the_decided_alert(clock, django_capture_on_commit_callbacks):
    world = _world(clock, ["4012345.00", "4188000.00", "3950500.00"], [COPIED, COPIED, ["独立编制。"]])
    _read_out(world, clock, django_capture_on_commit_callbacks)
    alert = Alert.objects.get(lot=world.lot)
    alert_dismiss(alert=alert, actor=world.regulator, reason="同一模板，非串通")
    report_produce(tender=world.tender, recheck=False)
    latest = report_produce(tender=world.tender, recheck=False)

    items = dict(collect(f"tender:{world.tender.pk}"))

    assert set(items) >= {"monitoring/report.json", "monitoring/report.pdf", "monitoring/alerts.json"}
    signed = json.loads(items["monitoring/report.json"].data)
    assert signed["data"]["revision"] == latest.revision == 2
    assert verify(signed["data"], signed["signature"])
    with blob_open(latest.pdf) as fh:
        assert items["monitoring/report.pdf"].blob == latest.pdf_id and fh.read(5) == b"%PDF-"
    alerts = json.loads(items["monitoring/alerts.json"].data)["alerts"]
    assert [(a["id"], a["status"]) for a in alerts] == [(alert.pk, "dismissed")]
    assert alerts[0]["decision_signature"] and alerts[0]["decision_reason"] == "同一模板，非串通"


def test_nothing_for_another_kind_of_project_or_a_tender_without_monitoring(clock):
    assert [p for p, _i in collect("entity:3") if p.startswith("monitoring/")] == []
    assert [p for p, _i in collect("tender:999999") if p.startswith("monitoring/")] == []
