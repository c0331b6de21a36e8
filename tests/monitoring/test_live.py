"""The live check at the read-out, the market batch, the monitoring report and the worker, through the
real services on real sealed bids."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from archive.blobs import blob_open
from archive.models import JournalEntry
from bidding import envelope
from bidding.models import BidSecurity
from bidding.opening import services as hall
from demo.world.pdf import small_pdf
from experts.documents.common import verify
from monitoring import events
from monitoring.models import Alert, LotAnalysis, MarketRun, MonitoringReport
from monitoring.services import analysis
from monitoring.services.report import report_produce
from tests.bidding.opening_world import bidder_with_key, decrypt_all, hall_world, seal_bid, to_decryption
from trading.models import TenderState

pytestmark = pytest.mark.django_db(transaction=False)

TEMPLATE = ["第一章 投标函及投标函附录", "第二章 法定代表人身份证明及授权委托书"]


def _document(name: str, lines: list[str]) -> bytes:
    return small_pdf(f"{name} 投标文件", [f"投标人：{name}", *TEMPLATE, *lines])


def _world(clock, prices, documents):
    world = hall_world(clock=clock, bids=0)
    for price, lines in zip(prices, documents, strict=True):
        bidder = bidder_with_key()
        # Each firm at its own address (the factory gives them all one, which is itself a link).
        type(bidder.entity).objects.filter(pk=bidder.entity.pk).update(
            address=f"南宁市友爱路{bidder.entity.pk}号"
        )
        seal_bid(
            lot=world.lot,
            bidder=bidder,
            price=price,
            document=_document(bidder.entity.name, lines),
            submitted_at=clock.advance(minutes=7),
        )
        BidSecurity.objects.create(
            lot=world.lot,
            entity=bidder.entity,
            amount=Decimal("80000.00"),
            method=BidSecurity.Method.TRANSFER,
            payer_account_number=f"6222{bidder.entity.pk:08d}",
            received_at=clock(),
        )
        world.bidders.append(bidder)
    return world


def _read_out(world, clock, capture):
    to_decryption(world, clock)
    decrypt_all(world)
    with capture(execute=True):
        hall.opening_start_readout(lot=world.lot, actor=world.host)


COPIED = [
    "施工组织设计：本工程拟投入挖掘机三台、装载机两台，项目部设在施工现场东侧临时用地内，工期保正一百八十日历天。",
    "质量保证措施：严格执行三检制度，隐蔽工程经监理验收合格后方可覆盖，混凝土试块按规范留置。",
]


def test_the_read_out_runs_the_check_raises_a_statutory_alert_and_tells_regulators_and_the_room(
    clock, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(events, "group_send", lambda group, message: sent.append((group, message)))
    # Two bidders hand in the same technical text (a copied bid), prices in irregular steps.
    world = _world(
        clock,
        ["4012345.00", "4188000.00", "3950500.00"],
        [COPIED, COPIED, ["我公司承诺按期完成全部工程内容，投入专业施工队伍两支，配备专职安全员。"]],
    )
    a, b, c = (x.entity for x in world.bidders)

    _read_out(world, clock, django_capture_on_commit_callbacks)

    analysis_row = LotAnalysis.objects.get(lot=world.lot)
    assert analysis_row.source == LotAnalysis.Source.LIVE and analysis_row.bids == 3
    codes = {f["code"] for f in analysis_row.findings}
    assert "identical_documents" in codes
    alert = Alert.objects.get(lot=world.lot)
    assert (alert.node, alert.level, alert.status) == (Alert.Node.OPENING, 1, Alert.Status.OPEN)
    assert set(alert.entities.values_list("pk", flat=True)) >= {a.pk, b.pk}
    assert c.pk not in {
        int(p) for f in alert.indicators if f["code"] == "identical_documents" for p in f["parties"]
    }
    statutory = next(f for f in alert.indicators if f["code"] == "identical_documents")
    assert statutory["legal_source"].startswith("《招标投标法实施条例》第四十条")
    assert alert.graph["nodes"] and alert.graph["edges"]
    groups = [g for g, _m in sent]
    assert events.ALERTS_GROUP in groups and f"evaluation.{world.lot.pk}" in groups
    payload = next(m for g, m in sent if g == events.ALERTS_GROUP)["alert"]
    assert payload["id"] == alert.pk and payload["level"] == 1
    assert JournalEntry.objects.filter(
        stream=f"tender:{world.tender.pk}", action="monitoring.alert_raised"
    ).exists()


def test_competitive_bids_with_nothing_shared_raise_no_alert(clock, django_capture_on_commit_callbacks):
    world = _world(
        clock,
        ["4012345.00", "4188000.00", "3950500.00"],
        [["甲方案：采用分段流水施工。"], ["乙方案：两班倒作业，夜间不施工。"], ["丙方案：预制装配为主。"]],
    )
    _read_out(world, clock, django_capture_on_commit_callbacks)
    row = LotAnalysis.objects.get(lot=world.lot)
    assert not [f for f in row.findings if f["statutory"]], row.findings
    assert not Alert.objects.filter(lot=world.lot).exists(), row.findings


def test_regular_price_steps_fire_without_any_document(clock, django_capture_on_commit_callbacks):
    world = hall_world(clock=clock, bids=3)  # 4,000,000 / 4,010,000 / 4,020,000: an arithmetic series
    _read_out(world, clock, django_capture_on_commit_callbacks)
    alert = Alert.objects.get(lot=world.lot)
    assert "regular_prices" in {f["code"] for f in alert.indicators}


def test_a_failing_check_never_breaks_the_hall(clock, monkeypatch, django_capture_on_commit_callbacks):
    def broken(**kwargs):
        raise RuntimeError("monitoring is down")

    monkeypatch.setattr(analysis, "lot_check", broken)
    world = hall_world(clock=clock, bids=3)
    _read_out(world, clock, django_capture_on_commit_callbacks)
    world.lot.opening.refresh_from_db()
    assert world.lot.opening.phase == "readout"
    assert not LotAnalysis.objects.exists()


def test_the_batch_rescore_and_the_report_record_the_lot_and_the_decision(
    clock, django_capture_on_commit_callbacks
):
    world = _world(clock, ["4012345.00", "4188000.00", "3950500.00"], [COPIED, COPIED, ["独立编制的方案。"]])
    _read_out(world, clock, django_capture_on_commit_callbacks)
    live = Alert.objects.get(lot=world.lot)

    out = io.StringIO()
    call_command("run_monitoring", "--once", "--market", stdout=out)
    line = json.loads(out.getvalue().strip().splitlines()[-1])["run_monitoring"]
    assert line["market"]["lots"] == 1 and line["reports"] == 0
    run = MarketRun.objects.get()
    assert run.lots == 1 and run.bids == 3 and "total_seconds" in run.figures
    assert [(y["period"], y["pairs"], y["meetings"]) for y in run.market["cobidding_by_year"]] == [
        ("2026", 3, 3)
    ]
    batch = LotAnalysis.objects.get(lot=world.lot)
    assert batch.source == LotAnalysis.Source.BATCH
    # The batch reads no documents: it carries the text findings over, so the lot keeps one open alert.
    assert "identical_documents" in {f["code"] for f in batch.findings}
    assert list(Alert.objects.filter(lot=world.lot).values_list("pk", flat=True)) == [live.pk]
    live.refresh_from_db()
    assert live.status == Alert.Status.OPEN and live.node == Alert.Node.OPENING

    # A second pass within the hour does not run the market again.
    out = io.StringIO()
    call_command("run_monitoring", "--once", stdout=out)
    assert json.loads(out.getvalue().strip().splitlines()[-1])["run_monitoring"]["market"] == "not_due"

    report = report_produce(tender=world.tender)
    assert report.revision == 1
    assert verify(report.data, report.platform_signature)
    assert not verify({**report.data, "summary": {}}, report.platform_signature)
    assert [a["id"] for a in report.data["alerts"]] == list(
        Alert.objects.filter(tender=world.tender).order_by("created_at", "pk").values_list("pk", flat=True)
    )
    with blob_open(report.pdf) as fh:
        assert fh.read(5) == b"%PDF-"
    assert report_produce(tender=world.tender, recheck=False).revision == 2
    assert JournalEntry.objects.filter(action="monitoring.report_produced").count() == 2


def test_the_worker_produces_the_report_of_a_tender_that_has_ended(clock, django_capture_on_commit_callbacks):
    world = hall_world(clock=clock, bids=3)
    _read_out(world, clock, django_capture_on_commit_callbacks)
    type(world.tender).objects.filter(pk=world.tender.pk).update(state=TenderState.FAILED)
    out = io.StringIO()
    call_command("run_monitoring", "--once", stdout=out)
    assert json.loads(out.getvalue().strip().splitlines()[-1])["run_monitoring"]["reports"] == 1
    assert MonitoringReport.objects.filter(tender=world.tender).count() == 1
    call_command("run_monitoring", "--once", stdout=io.StringIO())
    assert MonitoringReport.objects.filter(tender=world.tender).count() == 1


def test_each_document_text_is_kept_as_its_bid_is_decrypted(clock, django_capture_on_commit_callbacks):
    from monitoring.models import BidText

    world = _world(
        clock, ["4012345.00", "4188000.00", "3950500.00"], [COPIED, ["另一份方案。"], ["第三份。"]]
    )
    to_decryption(world, clock)
    first = world.bidders[0]
    with django_capture_on_commit_callbacks(execute=True):
        hall.bid_decrypt(bid=first.bid, cek=envelope.b64u(first.cek), actor=first.user)
    kept = BidText.objects.get(bid=first.bid)
    assert kept.chars > 0 and kept.skipped == "" and kept.document_sha256
    with blob_open(kept.text) as fh:
        assert COPIED[0][:20] in fh.read().decode()
    assert not BidText.objects.filter(bid=world.bidders[1].bid).exists()  # not decrypted yet


def test_a_document_too_large_is_skipped_and_named(clock, settings, django_capture_on_commit_callbacks):
    from monitoring.models import BidText

    settings.MONITORING_TEXT_MAX_BYTES = 100
    world = _world(clock, ["4012345.00", "4188000.00", "3950500.00"], [COPIED, COPIED, COPIED])
    to_decryption(world, clock)
    b = world.bidders[0]
    with django_capture_on_commit_callbacks(execute=True):
        hall.bid_decrypt(bid=b.bid, cek=envelope.b64u(b.cek), actor=b.user)
    kept = BidText.objects.get(bid=b.bid)
    assert (kept.skipped, kept.text, kept.chars) == ("too_large", None, 0)
