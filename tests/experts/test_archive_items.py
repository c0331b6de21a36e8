"""Experts' items in a project's archival package (issue 6 item 1), and the whole story they are taken
from: `awarded_tender` runs one tender through the services — published with its documents, a
clarification, four sealed bids (one withdrawn), the draw, the opening with a power of attorney and an
objection answered, the evaluation, the publicity with an objection answered, the award and the
contract. tests/trading and tests/bidding reuse it for their providers."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.utils import timezone

from archive.journal import journal_append
from archive.pdf import render_document
from archive.providers import collect
from bidding.models import BidSecurity
from bidding.opening import services as opening
from bidding.receipts import receipt_build, receipt_sign
from bidding.services.withdrawal import bid_withdraw
from experts import archive
from experts.documents import verify
from experts.models import Award, Draw, Member
from experts.services import award as award_services
from experts.services import draw as draws
from experts.services import evaluation as ev
from experts.services.draw.verify import record_verify
from experts.services.evaluation.common import review_criteria, scored_criteria
from tests.bidding.opening_world import DEADLINE, World, bidder_with_key, decrypt_all, seal_bid
from tests.experts.world import SPECIALTY, draw_world, expert_make
from tests.factories import AgencyUserFactory, LotFactory, MarketEntityFactory, TenderFactory, UserFactory
from trading.models import Role, TenderState
from trading.services.tenders import tender_amend, tender_document_download, tender_publish

pytestmark = pytest.mark.django_db

PRICES = ("4000000.00", "4050000.00", "4100000.00", "4150000.00")
MARKS = ((Decimal("36.00"), Decimal("18.00")), (Decimal("32.00"), Decimal("16.00")), (Decimal("28.00"), Decimal("14.00")))  # fmt: skip


@dataclass
class Story:
    tender: object
    lot: object
    world: World
    draw: Draw
    award: Award
    members: list = field(default_factory=list)

    @property
    def project(self) -> str:
        return f"tender:{self.tender.pk}"


def document_pdf(title: str) -> bytes:
    """A real (readable) PDF standing in for an uploaded document."""
    return render_document(title, [(title, "正文。")])


def receipted(bid):
    """Journal the submission and sign its receipt, as bidding.services.completion does."""
    tender = bid.lot.tender
    entry = journal_append(
        stream=tender.stream,
        action="bid.submit",
        actor=bid.user,
        obj=bid,
        payload={"lot": bid.lot.number, "ciphertext_sha256": bid.ciphertext_id},
    )
    bid.receipt = receipt_sign(
        receipt_build(
            tender=tender.code,
            lot=bid.lot.number,
            bidder=bid.entity.uscc,
            bid_id=str(bid.pk),
            header_sha256=bid.header_sha256,
            ciphertext_sha256=bid.ciphertext_id,
            ciphertext_size=bid.ciphertext_size,
            received_at=bid.submitted_at,
            journal_stream=entry.stream,
            journal_seq=entry.seq,
            journal_hash=entry.hash,
        )
    )
    bid.save(update_fields=["receipt"])
    return bid


def awarded_tender(clock) -> Story:
    """The tender of the module docstring, awarded with its contract recorded; bid n (1…4) is bidder
    n-1, bid 4 withdrawn before the deadline."""
    tender = TenderFactory(state=TenderState.DRAFT, title="南宁市某道路改造工程施工招标（归档）")
    lot = LotFactory(
        tender=tender,
        number=1,
        read_out_items=["price", "duration", "quality", "project_manager"],
        committee={"size": 5, "experts": 5, "tenderee_reps": 0},
    )
    agency = AgencyUserFactory(entity=tender.agency)
    host = UserFactory(role=Role.CENTRE, first_name="主持人")
    supervisor = UserFactory(role=Role.REGULATOR, first_name="监督人")
    tender_publish(
        tender=tender,
        actor=agency,
        documents=[("招标文件.PDF", document_pdf("招标文件"), "application/pdf")],
    )
    clock.advance(days=1)
    tender_amend(
        tender=tender,
        actor=agency,
        title="澄清公告",
        body_html="<p>工期澄清。</p>",
        affects_preparation=False,
        attachments=[("澄清文件.pdf", document_pdf("澄清文件"), "application/pdf")],
    )
    tender.refresh_from_db()
    assert tender.deadline == DEADLINE

    world = World(tender=tender, lot=lot, host=host, regulator=supervisor, agency=agency)
    for price in PRICES:
        bidder = bidder_with_key()
        tender_document_download(tender=tender, user=bidder.user)
        receipted(seal_bid(lot=lot, bidder=bidder, price=price, submitted_at=clock.advance(minutes=1)))
        BidSecurity.objects.create(
            lot=lot,
            entity=bidder.entity,
            amount=Decimal("80000.00"),
            method=BidSecurity.Method.GUARANTEE,
            received_at=clock(),
        )
        world.bidders.append(bidder)
    bid_withdraw(bid=world.bidders[3].bid, user=world.bidders[3].user)
    active = world.bidders[:3]

    for _ in range(8):
        expert_make(specialty=SPECIALTY, employer=MarketEntityFactory(is_bidder=False))
    clock.set(DEADLINE - dt.timedelta(days=1))
    draw = draws.draw_request(
        lot=lot,
        actor=host,
        groups=[{"specialty": SPECIALTY, "count": 5, "reserves": 2}],
        evaluation_starts_at=DEADLINE + dt.timedelta(hours=1),
        evaluation_ends_at=DEADLINE + dt.timedelta(hours=8),
    )
    draw = draws.draw_perform(draw=draw, nonce="监督人-20260324", actor=supervisor)
    for assignment in draws.committee_assignments(draw):
        draws.assignment_confirm(assignment=assignment, actor=assignment.expert.user)

    # the opening: one bidder signs in with a power of attorney, another objects, the host answers
    clock.set(DEADLINE - dt.timedelta(hours=1))
    opening.opening_tick(lot=lot)
    for i, b in enumerate(active):
        extra = {"attorney": document_pdf("授权委托书"), "attorney_type": "application/pdf"} if i == 0 else {}
        opening.opening_signin(lot=lot, user=b.user, **extra)
    clock.set(DEADLINE)
    opening.opening_tick(lot=lot)
    opening.opening_publish_bidders(lot=lot, actor=host)
    opening.opening_start_decryption(lot=lot, actor=host)
    decrypt_all(world, active)
    opening.opening_start_readout(lot=lot, actor=host)
    objection = opening.objection_raise(lot=lot, user=active[2].user, text="请核对第一家的工期。")
    opening.objection_answer(objection=objection, actor=host, answer="工期为180日历天，已当场核对。")
    opening.opening_start_confirmation(lot=lot, actor=host)
    clock.advance(minutes=tender.confirmation_minutes + 1)
    opening.opening_close(lot=lot, actor=host)

    # the evaluation, the report signed by all
    clock.set(DEADLINE + dt.timedelta(hours=1))
    room = ev.room_open(lot=lot, actor=host)
    members = list(Member.objects.filter(room=room).select_related("user").order_by("seat"))
    for m in members:
        ev.member_declare(member=m, actor=m.user)
    for m in members:
        room.refresh_from_db()
        if room.chair_id is not None:
            break
        ev.chair_vote(member=m, actor=m.user, candidate=members[0])
    room.refresh_from_db()
    chair = room.chair.user
    bids = [b.bid for b in active]
    for stage in ("qualification", "preliminary"):
        for m in members:
            for bid in bids:
                for c in review_criteria(lot, stage):
                    ev.review_submit(
                        member=m, actor=m.user, bid=bid, stage=stage, criterion=c["code"], passed=True
                    )
        ev.stage_complete(room=room, actor=chair)
    for m in members:
        for bid, marks in zip(bids, MARKS, strict=True):
            for c, value in zip(scored_criteria(lot), marks, strict=True):
                ev.score_submit(member=m, actor=m.user, bid=bid, criterion=c["code"], value=value)
    ev.stage_complete(room=room, actor=chair)
    ev.report_build(room=room, actor=chair)
    for m in members:
        ev.report_sign(member=m, actor=m.user, agrees=True)

    # publicity with an objection answered, the award, the contract
    clock.advance(hours=20)
    publicity = award_services.publicity_start(lot=lot, actor=agency)
    clock.advance(days=1)
    objection = award_services.objection_raise(
        publicity=publicity, actor=active[2].user, text="第一中标候选人业绩存疑。"
    )
    clock.advance(days=1)
    award_services.objection_answer(
        objection=objection, actor=agency, answer="经核查，异议不成立。", upheld=False
    )
    publicity.refresh_from_db()
    clock.set(publicity.ends_at + dt.timedelta(hours=9))
    award = award_services.award_decide(lot=lot, actor=agency)
    clock.advance(days=7)
    award = award_services.contract_record(
        award=award, actor=agency, signed_on=timezone.localdate(clock()), amount=PRICES[0]
    )
    tender.refresh_from_db()
    lot.refresh_from_db()
    draw.refresh_from_db()
    assert tender.state == TenderState.AWARDED and draw.state == Draw.State.REVEALED
    return Story(tender=tender, lot=lot, world=world, draw=draw, award=award, members=members)


def snapshot(items) -> list[tuple]:
    """Everything an item carries, for comparing two collections byte for byte."""
    return [(i.path, i.media_type, i.data, i.blob, i.title, i.public, i.sealed) for i in items]


EXPECTED = [
    "lots/1/draws/0001/record.json",
    "lots/1/draws/0001/record.pdf",
    "lots/1/draws/0001/assignments.json",
    "lots/1/evaluation/room.json",
    "lots/1/evaluation/declarations.json",
    "lots/1/evaluation/reviews.json",
    "lots/1/evaluation/scores.json",
    "lots/1/evaluation/report.json",
    "lots/1/evaluation/report.pdf",
    "lots/1/publicity.json",
    "lots/1/publicity.pdf",
    "lots/1/award/award.json",
    "lots/1/award/notice.pdf",
    "lots/1/award/contract.json",
    "lots/1/award/result-notices/0002.json",
    "lots/1/award/result-notices/0002.pdf",
    "lots/1/award/result-notices/0003.json",
    "lots/1/award/result-notices/0003.pdf",
]


def test_an_awarded_tender_archives_its_draw_evaluation_publicity_award_and_contract(clock):
    story = awarded_tender(clock)
    other = TenderFactory(state=TenderState.PUBLISHED)

    items = archive.items(story.project)

    assert [i.path for i in items] == EXPECTED
    by_path = {i.path: i for i in items}
    data = {p: json.loads(i.data) for p, i in by_path.items() if p.endswith(".json")}
    # the draw: the seed revealed, the public record re-runs, and only it is public
    draw = data["lots/1/draws/0001/record.json"]
    assert draw["record"]["seed"] == story.draw.seed and all(c.ok for c in record_verify(draw["record"]))
    assert {p for p, i in by_path.items() if i.public} == {
        "lots/1/draws/0001/record.json",
        "lots/1/draws/0001/record.pdf",
    }
    # declarations signed with their digest; the report's signatures re-check
    declarations = data["lots/1/evaluation/declarations.json"]["declarations"]
    assert len(declarations) == 5 and all(d["declaration"]["sha256"] for d in declarations)
    report = data["lots/1/evaluation/report.json"]
    assert verify(report["data"], report["signature"]) and len(report["signatures"]) == 5
    assert {s["n"] for s in data["lots/1/evaluation/scores.json"]["scores"]} == {1, 2, 3}
    # the publicity's objection with its answer; the award notice's signature; the contract
    (objection,) = data["lots/1/publicity.json"]["objections"]
    assert objection["answer"] == "经核查，异议不成立。" and objection["upheld"] is False
    award = data["lots/1/award/award.json"]
    assert award["bid"]["n"] == 1 and verify(award["notice"]["data"], award["notice"]["signature"])
    assert by_path["lots/1/award/notice.pdf"].blob == story.award.notice_pdf_id
    assert data["lots/1/award/contract.json"]["contract_amount"] == PRICES[0]
    notice = data["lots/1/award/result-notices/0002.json"]
    assert verify(notice["data"], notice["signature"])
    assert by_path["lots/1/draws/0001/record.pdf"].data.startswith(b"%PDF-")

    # the whole package collects (no unsafe or repeated path), the same bytes twice over
    first = collect(story.project)
    assert {p for p, _i in first if p.startswith("experts/")} == {f"experts/{p}" for p in EXPECTED}
    assert snapshot(i for _p, i in first) == snapshot(i for _p, i in collect(story.project))
    # nothing for another tender, another kind of project or a tender that does not exist
    assert archive.items(f"tender:{other.pk}") == []
    assert archive.items("entity:1") == archive.items("tender:999999") == []


def test_draws_never_revealed_are_archived_without_their_seed_and_kept_from_the_public(clock):
    world = draw_world(clock=clock, experts=6)
    first = draws.draw_cancel(draw=world.perform(world.request()), actor=world.centre, reason="评标时间调整")
    clock.advance(minutes=5)
    draw = world.perform(world.request())
    project = f"tender:{world.tender.pk}"

    items = archive.items(project)

    assert [i.path for i in items] == [
        f"lots/1/draws/{n}/{name}"
        for n in ("0001", "0002")
        for name in ("record.json", "record.pdf", "assignments.json")
    ]
    data = {i.path: i.data for i in items}
    cancelled, live = (json.loads(data[f"lots/1/draws/{n}/record.json"]) for n in ("0001", "0002"))
    assert (cancelled["state"], cancelled["cancelled_reason"]) == (
        Draw.State.CANCELLED,
        first.cancelled_reason,
    )
    assert live["state"] == Draw.State.DRAWN and live["record"]["seed"] is None
    assert live["record"]["commitment"] == draw.seed_commitment
    assert not any(draw.seed_sealed.encode() in i.data for i in items)
    assert not any(i.public for i in items)
    assert snapshot(archive.items(project)) == snapshot(items)
