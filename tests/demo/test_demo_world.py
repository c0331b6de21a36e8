"""The demo world `make run` serves: a realistic small market, built through the real services."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from archive.blobs import blob_open
from archive.journal import verify_all
from demo.world import DEMO_PASSWORD
from demo.world.clients import CAFE_IP
from experts import documents
from experts.models import (
    Assignment,
    Award,
    Draw,
    EvaluationRoom,
    Expert,
    ExpertSpecialty,
    ProfileChange,
    Publicity,
    PublicityObjection,
    Rating,
    Relationship,
    Report,
    ResultNotice,
    Unavailability,
)
from experts.services.draw import committee_assignments, draw_verify
from tests.factories import MarketEntityFactory
from trading.models import (
    ActivityEvidence,
    BankAccount,
    Lot,
    MarketEntity,
    Regime,
    Role,
    Shareholder,
    Tender,
    TenderState,
    User,
)
from trading.selectors import entity_is_blacklisted
from trading.services.accounts import user_authenticate

pytestmark = pytest.mark.django_db

STORY_TENDER = "南宁市公交站台提升改造工程施工"  # two bidders collude (demo/world/tender_table.STORY)
CAFE_TENDER = "柳州市第十二中学教学楼新建工程施工"  # two bidders upload from one internet café
COLLUDER_NAMES = ("南宁市鑫泰市政工程有限公司", "柳州润和市政工程有限公司")


def pdf_bytes(blob) -> bytes:
    with blob_open(blob) as fh:
        return fh.read()


def assert_market_every_role_can_use():
    # a market: 20+ entities with people, shareholders, devices and accounts
    assert MarketEntity.objects.count() >= 20
    bidders = MarketEntity.objects.filter(is_bidder=True)
    assert bidders.count() >= 18
    assert Shareholder.objects.filter(person__isnull=False).count() >= 20
    assert BankAccount.objects.filter(entity__in=bidders).count() >= 18
    assert ActivityEvidence.objects.exclude(hardware={}).exclude(ip=None).count() >= 20
    # a dozen tenders in different states, experts, and a blacklisted bidder
    assert Tender.objects.count() >= 12
    assert len(set(Tender.objects.values_list("state", flat=True))) >= 7
    assert Expert.objects.count() >= 10
    assert any(entity_is_blacklisted(e) for e in bidders)
    # every role has a demo account that logs in with the documented password
    for role in Role.values:
        user = User.objects.filter(role=role).order_by("pk").first()
        assert user is not None, role
        assert user_authenticate(username=user.username, password=DEMO_PASSWORD).pk == user.pk
    # a tender opening soon holds sealed bids (ciphertext only) from several bidders with key files
    from bidding.models import Bid

    assert Bid.objects.filter(status=Bid.Status.ACTIVE, content_key="").count() >= 3
    from django.conf import settings

    assert len(list(settings.DEMO_KEYS_DIR.glob("*.key.json"))) >= 20


def assert_expert_pool():
    # about sixty experts; expert, expert2 … expert12 log in with the demo password
    assert 55 <= Expert.objects.count() <= 70
    for name in ["expert"] + [f"expert{i}" for i in range(2, 13)]:
        user = user_authenticate(username=name, password=DEMO_PASSWORD)
        assert user.role == Role.EXPERT and user.expert is not None
    # every lot's committee names specialties summing to its expert seats, and the pool can fill them
    for lot in Lot.objects.exclude(tender__state=TenderState.DRAFT):
        groups = lot.committee["specialties"]
        assert sum(g["count"] for g in groups) == lot.committee["experts"], lot
        for g in groups:
            mains = ExpertSpecialty.objects.filter(is_main=True, specialty__code__startswith=g["code"])
            assert mains.count() > g["count"], (lot, g)
    # what the draw's conflict checks see, and what the centre has to review
    assert Expert.objects.filter(employments__employer__is_bidder=True).distinct().count() >= 3
    assert Relationship.objects.filter(kind=Relationship.Kind.KIN).count() >= 1
    suspended = Expert.objects.get(status=Expert.Status.SUSPENDED)
    assert suspended.suspended_from and suspended.suspended_until > suspended.suspended_from
    assert Unavailability.objects.count() >= 1
    assert ProfileChange.objects.filter(state=ProfileChange.State.PROPOSED).count() == 1
    assert Rating.objects.filter(lot__status=Lot.Status.AWARDED).count() >= 10
    # every draw seated a full committee, each group from a pool larger than it
    for draw in Draw.objects.select_related("lot"):
        assert sum(len(g["members"]) for g in draw.groups) == draw.lot.committee["experts"], draw
        assert all(len(g["pool"]) > g["count"] for g in draw.groups), draw
    reasons = {r for d in Draw.objects.all() for rs in d.excluded.values() for r in rs}
    assert {"recent_employee", "kin", "unavailable"} <= reasons


def assert_open_room_with_the_demo_expert():
    # a TB tender in evaluation: its committee drawn and confirmed, `expert` seated in an open room
    room = EvaluationRoom.objects.get(
        lot__tender__regime=Regime.TB,
        lot__tender__state=TenderState.EVALUATION,
        members__user__username="expert",
    )
    assert room.closed_at is None and room.phase == EvaluationRoom.Phase.QUALIFICATION
    assert room.ends_at > timezone.now()  # the demo's open room has not run out of time
    assert room.draw.state == Draw.State.DRAWN
    seated = committee_assignments(room.draw)
    assert all(a.status == Assignment.Status.CONFIRMED for a in seated)
    assert "expert" in [a.expert.user.username for a in seated]
    # the sealed draw already re-runs for a regulator (the seed stays secret until the award)
    assert all(check.ok for check in draw_verify(room.draw, use_sealed=True))


def assert_reports_awards_and_revealed_draws():
    # finalized reports, each with its PDF
    finals = Report.objects.exclude(finalized_at=None)
    assert finals.count() >= 5
    for report in finals:
        assert pdf_bytes(report.pdf).startswith(b"%PDF")
        assert documents.verify(report.data, report.platform_signature)
    # a report waiting for its last signature
    signing = EvaluationRoom.objects.get(phase=EvaluationRoom.Phase.SIGNING)
    assert Report.objects.filter(finalized_at=None, room=signing).exists()
    assert signing.signing_due_at > timezone.now()  # still open to sign, not deemed by run_experts
    # a TB tender in publicity with its candidates announced
    publicity = Publicity.objects.get(lot__tender__state=TenderState.PUBLICITY)
    assert publicity.state == Publicity.State.OPEN and publicity.candidates
    assert publicity.announcement.kind == "candidates"
    # awards with signed notices (PDF), result notices to the other bidders, contracts recorded
    awards = Award.objects.select_related("lot__tender")
    assert {a.lot.tender.regime for a in awards} == {Regime.TB, Regime.GP}
    for award in awards:
        assert documents.verify(award.notice, award.notice_signature)
        assert pdf_bytes(award.notice_pdf).startswith(b"%PDF")
        assert ResultNotice.objects.filter(award=award).count() >= 2
        assert award.lot.tender.state in (TenderState.AWARDED, TenderState.ARCHIVED)
    assert awards.exclude(contract_signed_on=None).exists()
    # an objection to the candidates, raised and answered before the award
    objection = PublicityObjection.objects.get()
    assert objection.answered_at is not None and objection.upheld is False
    assert Award.objects.filter(lot=objection.publicity.lot).exists()
    # GP: the result announcement lists the experts of the committee
    gp = awards.filter(lot__tender__regime=Regime.GP).first()
    names = [m["name"] for m in gp.report.data["members"] if m["kind"] == "expert"]
    assert names and all(name in gp.announcement.body_text for name in names)
    # every awarded lot's draw is revealed, re-runs to the same committee, and verify_draw says so
    revealed = Draw.objects.filter(state=Draw.State.REVEALED)
    assert revealed.count() == awards.count()
    for draw in revealed:
        assert all(check.ok for check in draw_verify(draw))
    out = io.StringIO()
    call_command("verify_draw", str(revealed.first().pk), stdout=out)
    assert "MATCHES" in out.getvalue()


def assert_monitoring():
    from bidding.models import Bid, BidSecurity
    from monitoring.models import Alert, LotAnalysis, MarketRun, ModelVersion, MonitoringReport
    from monitoring.rules import STATUTORY

    # every upload and decryption carries the bidder's IP and hardware, every upload the file's authorship
    uploads = ActivityEvidence.objects.filter(action=ActivityEvidence.Action.UPLOAD)
    assert uploads.count() == Bid.objects.count()
    for row in uploads:
        assert row.ip and row.hardware.get("machine_code") and row.hardware.get("mac"), row.pk
        assert row.file_meta.get("author") and row.file_meta.get("creator_tool"), row.pk
        if row.tender.title != STORY_TENDER:  # there, both colluders' files name the first as company
            assert row.file_meta["company"] == row.entity.name, row.pk
    assert not ActivityEvidence.objects.filter(action=ActivityEvidence.Action.DECRYPT, ip=None).exists()
    # distinct bidders work from distinct computers, outside the two stories
    machines = {}
    for row in uploads.exclude(tender__title__in=[STORY_TENDER, CAFE_TENDER]):
        machines.setdefault(row.hardware["machine_code"], set()).add(row.entity_id)
    assert all(len(entities) == 1 for entities in machines.values())

    # a supervised model trained at seed time is active, and the live checks used it
    model = ModelVersion.objects.get(active=True)
    assert model.kind == ModelVersion.Kind.SUPERVISED and model.training_tenders == 1500
    live = LotAnalysis.objects.filter(lot__tender__title=STORY_TENDER).get()
    assert live.model_version_id == model.pk

    # the collusion story: one level-1 alert, open, naming the two colluders with statutory indicators
    colluders = set(MarketEntity.objects.filter(name__in=COLLUDER_NAMES).values_list("pk", flat=True))
    story = Alert.objects.get(lot__tender__title=STORY_TENDER, node=Alert.Node.OPENING)
    assert story.level == 1 and story.status == Alert.Status.OPEN
    assert story.tender.state == TenderState.FAILED
    assert colluders <= set(story.entities.values_list("pk", flat=True))
    fired = {i["code"]: i for i in story.indicators}
    assert {"same_preparer", "same_deposit_account", "identical_documents"} <= set(fired)
    for code in ("same_preparer", "same_deposit_account", "identical_documents"):
        assert fired[code]["statutory"] is True and fired[code]["legal_source"].startswith(
            "《招标投标法实施条例》"
        )
        assert {int(p) for p in fired[code]["parties"]} == colluders
    # prepared on one computer by one author; the café pair shares the IP and nothing else
    story_uploads = list(uploads.filter(tender__title=STORY_TENDER, entity__in=colluders))
    cafe_uploads = list(uploads.filter(tender__title=CAFE_TENDER, ip=CAFE_IP))
    assert len(story_uploads) == len(cafe_uploads) == 2
    for key in ("machine_code", "mac", "cpu_id", "disk_serial"):
        assert len({r.hardware[key] for r in story_uploads}) == 1
        assert len({r.hardware[key] for r in cafe_uploads}) == 2
    assert len({r.ip for r in story_uploads}) == len({r.file_meta["author"] for r in story_uploads}) == 1
    assert len({r.file_meta["author"] for r in cafe_uploads}) == 2
    # both guarantees paid from one account: the first colluder's basic account
    payers = set(
        BidSecurity.objects.filter(lot=story.lot, entity__in=colluders).values_list(
            "payer_account_number", flat=True
        )
    )
    assert (
        len(payers) == 1 and BankAccount.objects.filter(account_number__in=payers, is_basic=True).count() == 1
    )
    # the other bidders of that lot are tied to no one
    others = BidSecurity.objects.filter(lot=story.lot).exclude(entity__in=colluders)
    assert others.count() == 2 and all(
        s.payer_account_number == s.entity.bank_accounts.get(is_basic=True).account_number for s in others
    )

    # the internet-café case: a shared IP only, never a statutory finding; any alert of it is dismissed
    cafe = LotAnalysis.objects.get(lot__tender__title=CAFE_TENDER)
    codes = {f["code"] for f in cafe.findings}
    assert "same_ip" in codes and not codes & set(STATUTORY)
    for alert in Alert.objects.filter(lot=cafe.lot):
        assert alert.level != 1 and alert.status == Alert.Status.DISMISSED
        assert alert.decided_by.username == "regulator" and alert.decision_reason
    # the queue holds decided alerts next to open ones: weak alerts the regulators checked and dismissed
    dismissed = Alert.objects.filter(status=Alert.Status.DISMISSED)
    assert dismissed.exists() and not dismissed.filter(level=1).exists()
    assert all(a.decided_by.role == Role.REGULATOR and a.decision_signature for a in dismissed)
    # the demo's statutory alerts are the story's
    assert set(Alert.objects.filter(level=1).values_list("lot__tender__title", flat=True)) == {STORY_TENDER}

    # the market batch ran; every tender that ended has its signed monitoring report
    assert MarketRun.objects.exclude(finished_at=None).count() == 1
    ended = Tender.objects.filter(
        state__in=[TenderState.AWARDED, TenderState.FAILED, TenderState.TERMINATED, TenderState.ARCHIVED]
    )
    assert ended.count() >= 7
    for tender in ended:
        report = MonitoringReport.objects.get(tender=tender)
        assert documents.verify(report.data, report.platform_signature)
        assert pdf_bytes(report.pdf).startswith(b"%PDF")
    failed = MonitoringReport.objects.get(tender__title=STORY_TENDER)
    assert failed.data["summary"]["highest_level"] == 1 and failed.data["summary"]["open"] >= 1


def assert_archive():
    """Finished projects are archived unless an alert waits for the regulator; the suspended one has an
    interim package; every package verifies and the published root covers them all."""
    from archive.models import ArchivePackage, ArchiveRoot
    from archive.verify import verify_package

    archived = Tender.objects.filter(state=TenderState.ARCHIVED)
    assert archived.count() >= 3
    packages = ArchivePackage.objects.all()
    assert {p.project for p in packages if not p.interim} == {t.stream for t in archived}
    story = Tender.objects.get(title=STORY_TENDER)
    assert story.state == TenderState.FAILED and not packages.filter(project=story.stream).exists()
    suspended = Tender.objects.get(state=TenderState.SUSPENDED)
    assert packages.get(project=suspended.stream).interim
    for package in packages:
        report = verify_package(package)
        assert report.ok, report.lines()
    assert ArchiveRoot.objects.order_by("-tree_size").first().tree_size == packages.count()


def assert_supervision():
    from supervision.models import Complaint, Instruction, Invitation, TenderSupervision, TipOff
    from supervision.selectors import supervised_tenders

    # every tender past its draft has its supervising departments; each regulator sees its own
    public = Tender.objects.exclude(state="draft")
    assert not public.exclude(pk__in=TenderSupervision.objects.values("tender")).exists()
    liuzhou = User.objects.get(username="regulator_lz")
    assert supervised_tenders(liuzhou).exists()
    assert all(t.region_code.startswith("4502") for t in supervised_tenders(liuzhou))
    assert all(t.regime == "GP" for t in supervised_tenders(User.objects.get(username="regulator_gp")))
    # the suspended tender is suspended on an accepted complaint, after an answered 质疑
    suspended = Complaint.objects.get(status="accepted", suspended_tender=True)
    assert suspended.tender.state == "suspended" and suspended.prior["kind"] == "gp_challenge"
    assert suspended.evidence.count() == 1
    # a complaint waits for acceptance; a tip-off, an instruction and an invitation are there to act on
    assert Complaint.objects.filter(status="filed").count() == 1
    assert TipOff.objects.filter(status="received", reporter__isnull=True).count() == 1
    assert Instruction.objects.filter(status="issued", addressee="centre").count() == 1
    assert Invitation.objects.filter(supervisor__user__username="supervisor", stage="opening").count() == 1


# Committed transactions, as in `manage.py seed_demo`: the live checks run when a read-out commits.
@pytest.mark.django_db(transaction=True)
def test_seed_demo_builds_a_market_every_role_can_use():
    # when the demo world is seeded
    call_command("seed_demo", verbosity=0)

    # then it is a market every role can use
    assert_market_every_role_can_use()
    # with an expert pool, and tenders through the draw, the evaluation room and the award
    assert_expert_pool()
    assert_open_room_with_the_demo_expert()
    assert_reports_awards_and_revealed_draws()
    # and collusion monitoring as a regulator meets it: evidence, a model, alerts, the batch, reports
    assert_monitoring()
    # and the finished projects archived in packages that verify
    assert_archive()
    # and the supervision system: departments, complaints, a tip-off, an instruction, an invitation
    assert_supervision()
    # and the journal of everything that happened verifies
    assert verify_all() == []
    # and the OCDS export of every public tender (and every daily bulk file) validates against 1.1.5
    call_command("ocds_validate", "--all", verbosity=0)


def test_seed_demo_refuses_a_database_with_data_unless_if_empty():
    MarketEntityFactory()  # any data at all
    before = MarketEntity.objects.count()
    with pytest.raises(CommandError, match="not_empty"):
        call_command("seed_demo", verbosity=0)
    call_command("seed_demo", "--if-empty", verbosity=0)
    assert MarketEntity.objects.count() == before
