"""The closing pipeline (issue 6 item 6): monitoring report → seal → archived. An undecided alert
blocks sealing unless a regulator records an override; a suspended tender gets an interim package."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from archive.blobs import blob_open
from archive.models import ArchivePackage, JournalEntry
from archive.verify import verify_package
from core.errors import AccessDenied, Conflict
from monitoring.models import Alert, MonitoringReport
from monitoring.services.alerts import alert_dismiss
from monitoring.services.closing import closing_due, project_close
from tests.bidding.opening_world import hall_world
from tests.monitoring.test_live import COPIED, _read_out, _world
from trading.models import TenderState
from trading.services.tenders import tender_close, tender_suspend

pytestmark = pytest.mark.django_db


def _manifest(package):
    with blob_open(package.manifest) as fh:
        return json.loads(fh.read())


@pytest.fixture
def alerted(clock, django_capture_on_commit_callbacks):
    world = _world(clock, ["4012345.00", "4188000.00", "3950500.00"], [COPIED, COPIED, ["独立编制。"]])
    _read_out(world, clock, django_capture_on_commit_callbacks)
    tender_close(tender=world.tender, actor=world.agency, target=TenderState.TERMINATED, reason="项目取消")
    assert Alert.objects.filter(tender=world.tender, status=Alert.Status.OPEN).exists()
    return world


def test_an_open_alert_blocks_sealing_until_the_regulator_decides(alerted):
    world = alerted
    with pytest.raises(Conflict) as exc:
        project_close(tender=world.tender, actor=world.host)
    assert exc.value.code == "archive_alert_open"
    with pytest.raises(AccessDenied) as exc:
        project_close(tender=world.tender, actor=world.host, override_reason="急需归档")
    assert exc.value.code == "archive_override_forbidden"
    assert not ArchivePackage.objects.exists()
    world.tender.refresh_from_db()
    assert world.tender.state == TenderState.TERMINATED

    alert_dismiss(alert=Alert.objects.get(tender=world.tender), actor=world.regulator, reason="模板相同")
    package = project_close(tender=world.tender, actor=world.host)

    world.tender.refresh_from_db()
    assert world.tender.state == TenderState.ARCHIVED
    manifest = _manifest(package)
    paths = {f["path"] for f in manifest["files"]}
    assert {
        "monitoring/report.json",
        "monitoring/alerts.json",
        "catalogue.pdf",
        "journal/entries.json",
    } <= paths
    assert any(p.startswith("bidding/") for p in paths) and any(p.startswith("trading/") for p in paths)
    assert manifest["override"] is None and manifest["state"] == "terminated"
    report = MonitoringReport.objects.filter(tender=world.tender).order_by("-revision").first()
    assert manifest["extra"]["monitoring_report"]["sha256"] == report.data_sha256
    result = verify_package(package)
    assert result.ok, result.lines()
    actions = list(JournalEntry.objects.filter(stream=world.tender.stream).values_list("action", flat=True))
    assert actions[-2:] == ["archive.sealed", "tender.state_changed"]
    with pytest.raises(Conflict) as exc:
        project_close(tender=world.tender, actor=world.host)
    assert exc.value.code == "archive_not_closable"


def test_a_regulator_override_is_recorded_in_the_package(alerted):
    world = alerted
    alert_id = Alert.objects.get(tender=world.tender).pk
    package = project_close(
        tender=world.tender, actor=world.regulator, override_reason="线索已移交公安，先行归档"
    )
    override = _manifest(package)["override"]
    assert (override["alerts"], override["role"], override["reason"]) == (
        [alert_id],
        "regulator",
        "线索已移交公安，先行归档",
    )
    assert package.override["alerts"] == [alert_id]
    assert JournalEntry.objects.filter(stream=world.tender.stream, action="archive.override").exists()
    assert verify_package(package).ok


def test_a_suspended_project_gets_an_interim_package_and_keeps_its_state(clock):
    world = hall_world(clock=clock, bids=2)
    tender_suspend(tender=world.tender, actor=world.regulator, reason="投诉处理中")
    first = project_close(tender=world.tender, actor=world.host)
    world.tender.refresh_from_db()
    assert world.tender.state == TenderState.SUSPENDED and first.interim and first.version == 1
    manifest = _manifest(first)
    sealed = [f for f in manifest["files"] if f["sealed"]]
    assert len(sealed) == 2 and not any(f["public"] for f in sealed)  # the two unopened bids
    assert verify_package(first).ok


def test_only_finished_projects_are_closable_and_only_by_the_centre_or_regulator(clock):
    world = hall_world(clock=clock, bids=1)
    with pytest.raises(Conflict) as exc:
        project_close(tender=world.tender, actor=world.host)
    assert exc.value.code == "archive_not_closable"
    with pytest.raises(AccessDenied):
        project_close(tender=world.tender, actor=world.agency)


def test_the_worker_seals_failed_projects_but_waits_for_awarded_ones_and_open_alerts(alerted, clock):
    failed = hall_world(clock=clock, bids=1)
    tender_close(tender=failed.tender, actor=failed.agency, target=TenderState.FAILED, reason="不足三家")
    due = closing_due()
    assert failed.tender in due and alerted.tender not in due  # the alerted one waits for the regulator
    clock.advance(days=1)
    assert closing_due(clock() + dt.timedelta(days=1)) == due


def test_the_worker_seals_what_is_due_and_publishes_a_root(clock):
    import io

    from django.core.management import call_command

    from archive.models import ArchiveRoot

    failed = hall_world(clock=clock, bids=1)
    tender_close(tender=failed.tender, actor=failed.agency, target=TenderState.FAILED, reason="不足三家")
    out = io.StringIO()
    call_command("run_monitoring", "--once", stdout=out)
    line = json.loads(out.getvalue().strip().splitlines()[-1])["run_monitoring"]
    assert line["archive"] == {"sealed": 1, "root": 1}
    failed.tender.refresh_from_db()
    assert failed.tender.state == TenderState.ARCHIVED
    assert ArchiveRoot.objects.get().tree_size == 1
    assert MonitoringReport.objects.filter(tender=failed.tender).count() == 1  # the report step's, reused
    call_command("run_monitoring", "--once", stdout=io.StringIO())
    assert ArchivePackage.objects.count() == 1 and ArchiveRoot.objects.count() == 1


def test_the_tender_tab_archives_and_shows_the_refusal_with_its_code(alerted):
    from django.test import Client
    from django.urls import reverse

    world = alerted
    address = reverse("monitoring:tender-archive", args=[world.tender.pk])
    centre, regulator = Client(), Client()
    centre.force_login(world.host)
    regulator.force_login(world.regulator)
    journal = JournalEntry.objects.count()
    refused = centre.post(address, {})
    assert refused.status_code == 409 and b'class="error-code">archive_alert_open<' in refused.content
    assert JournalEntry.objects.count() == journal and not ArchivePackage.objects.exists()  # nothing written
    tab = regulator.get(reverse("monitoring:tender", args=[world.tender.pk]))
    assert b'id="id-override-reason"' in tab.content and b'data-open-alerts="1"' in tab.content
    done = regulator.post(address, {"override_reason": "线索已移交，先行归档"})
    assert done.status_code == 302
    package = ArchivePackage.objects.get(project=world.tender.stream)
    page = regulator.get(reverse("monitoring:tender", args=[world.tender.pk]))
    assert (
        f'data-package="{package.pk}"'.encode() in page.content and b'id="archive-form"' not in page.content
    )
