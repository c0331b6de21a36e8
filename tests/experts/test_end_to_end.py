"""One tender from publication to the signed contract, through the services only (issue 4 acceptance):
published → sealed bids → opening → verifiable draw → remote evaluation → candidates → publicity with an
objection → award → contract; every step is on the tender's journal chain, in order, and the chains
verify. And the re-evaluation path: an objection upheld → the room re-opened → a new report built and
signed → the candidates published again → the award (条例54, 71)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from archive.journal import verify_all
from archive.models import JournalEntry
from bidding.models import BidSecurity
from bidding.opening import services as opening
from experts import documents
from experts.models import (
    Award,
    Draw,
    EvaluationRoom,
    Member,
    Publicity,
    Report,
    ReportRevision,
    ResultNotice,
)
from experts.services import award as award_services
from experts.services import draw as draws
from experts.services import evaluation as ev
from experts.services.evaluation.common import review_criteria, scored_criteria
from tests.bidding.opening_world import DEADLINE, World, bidder_with_key, refused, seal_bid, to_readout
from tests.experts.world import SPECIALTY, expert_make
from tests.factories import AgencyUserFactory, LotFactory, MarketEntityFactory, TenderFactory, UserFactory
from trading.models import Announcement, AnnouncementKind, Lot, Role, TenderState
from trading.services.tenders import tender_document_download, tender_publish

pytestmark = pytest.mark.django_db

PRICES = ("4000000.00", "4050000.00", "4100000.00")
# (technical of 40, commercial of 20) every member gives each bidder: bidder 0 is best.
MARKS = (
    (Decimal("36.00"), Decimal("18.00")),
    (Decimal("32.00"), Decimal("16.00")),
    (Decimal("28.00"), Decimal("14.00")),
)


def stream_actions(tender) -> list[str]:
    return list(
        JournalEntry.objects.filter(stream=tender.stream).order_by("seq").values_list("action", flat=True)
    )


def in_order(expected: list[str], actual: list[str]) -> bool:
    """Whether `expected` appears in `actual` as a subsequence (other entries may sit in between)."""
    it = iter(actual)
    return all(any(a == e for a in it) for e in expected)


@dataclass
class Evaluated:
    tender: object
    lot: object
    agency: object
    host: object
    world: World
    draw: Draw
    room: EvaluationRoom
    members: list
    chair: object
    bids: list
    report: Report


def evaluated(clock) -> Evaluated:
    """A tender run through the services up to its report signed by the whole committee."""
    # --- published: a draft that passes every legal check, published by its agency --------------------
    tender = TenderFactory(state=TenderState.DRAFT, title="南宁市某道路改造工程施工招标（全流程）")
    lot = LotFactory(
        tender=tender,
        number=1,
        read_out_items=["price", "duration", "quality", "project_manager"],
        committee={"size": 5, "experts": 5, "tenderee_reps": 0},
    )
    agency = AgencyUserFactory(entity=tender.agency)
    host = UserFactory(role=Role.CENTRE, first_name="主持人")
    supervisor = UserFactory(role=Role.REGULATOR, first_name="监督人")
    tender_publish(tender=tender, actor=agency)
    tender.refresh_from_db()
    assert tender.state == TenderState.PUBLISHED

    # --- bids: three bidders obtain the documents and seal their bids -------------------------------
    world = World(tender=tender, lot=lot, host=host, regulator=supervisor, agency=agency)
    for price in PRICES:
        bidder = bidder_with_key()
        tender_document_download(tender=tender, user=bidder.user)
        seal_bid(lot=lot, bidder=bidder, price=price, submitted_at=clock.advance(minutes=1))
        BidSecurity.objects.create(
            lot=lot,
            entity=bidder.entity,
            amount=Decimal("80000.00"),
            method=BidSecurity.Method.GUARANTEE,
            received_at=clock(),
        )
        world.bidders.append(bidder)

    # --- the draw: seed committed by the centre, nonce by the supervisor, experts confirm -------------
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

    # --- the opening: sign-in, decryption, read-out, the record to the bidders, closed ---------------
    to_readout(world, clock)
    opening.opening_start_confirmation(lot=lot, actor=host)
    clock.advance(minutes=tender.confirmation_minutes + 1)
    opening.opening_close(lot=lot, actor=host)

    # --- evaluation: the room, declarations, the chair, reviews, scores, the report signed by all -----
    clock.set(DEADLINE + dt.timedelta(hours=1))
    room = ev.room_open(lot=lot, actor=host)
    members = list(Member.objects.filter(room=room).select_related("user").order_by("seat"))
    assert len(members) == 5
    for m in members:
        ev.member_declare(member=m, actor=m.user)
    for m in members:
        room.refresh_from_db()
        if room.chair_id is not None:
            break
        ev.chair_vote(member=m, actor=m.user, candidate=members[0])
    room.refresh_from_db()
    chair = room.chair.user
    bids = [b.bid for b in world.bidders]
    for stage in ("qualification", "preliminary"):
        for m in members:
            for bid in bids:
                for c in review_criteria(lot, stage):
                    ev.review_submit(
                        member=m, actor=m.user, bid=bid, stage=stage, criterion=c["code"], passed=True
                    )
        ev.stage_complete(room=room, actor=chair)
    criteria = scored_criteria(lot)
    for m in members:
        for bid, marks in zip(bids, MARKS, strict=True):
            for c, value in zip(criteria, marks, strict=True):
                ev.score_submit(member=m, actor=m.user, bid=bid, criterion=c["code"], value=value)
    ev.stage_complete(room=room, actor=chair)
    report = ev.report_build(room=room, actor=chair)
    for m in members:
        ev.report_sign(member=m, actor=m.user, agrees=True)
    report.refresh_from_db()
    assert report.finalized_at is not None
    assert [c["bid"] for c in report.data["candidates"]] == [str(b.pk) for b in bids]
    return Evaluated(
        tender=tender,
        lot=lot,
        agency=agency,
        host=host,
        world=world,
        draw=draw,
        room=room,
        members=members,
        chair=chair,
        bids=bids,
        report=report,
    )


def test_a_tender_runs_end_to_end_and_every_step_is_journalled(clock):
    e = evaluated(clock)
    tender, lot, agency, world, draw, members = e.tender, e.lot, e.agency, e.world, e.draw, e.members

    # --- candidates: published within the 3 days, an objection suspends, the answer resumes -------------
    clock.advance(hours=20)
    publicity = award_services.publicity_start(lot=lot, actor=agency)
    assert [c["bidder"] for c in publicity.candidates] == [b.entity.name for b in world.bidders]
    clock.advance(days=1)
    objection = award_services.objection_raise(
        publicity=publicity, actor=world.bidders[2].user, text="第一中标候选人的项目经理有在建项目。"
    )
    tender.refresh_from_db()
    assert tender.state == TenderState.SUSPENDED
    clock.advance(days=1)
    award_services.objection_answer(
        objection=objection, actor=agency, answer="经核查，该项目已竣工验收，异议不成立。", upheld=False
    )
    tender.refresh_from_db()
    assert tender.state == TenderState.PUBLICITY

    # --- award: after the (extended) publicity; notices signed; the draw's seed revealed --------------
    publicity.refresh_from_db()
    clock.set(publicity.ends_at + dt.timedelta(hours=9))
    award = award_services.award_decide(lot=lot, actor=agency)
    assert award.winner == world.bidders[0].entity and award.amount == Decimal(PRICES[0])
    assert documents.verify(award.notice, award.notice_signature)
    assert sorted(n.entity_id for n in ResultNotice.objects.filter(award=award)) == sorted(
        b.entity.pk for b in world.bidders[1:]
    )
    assert Lot.objects.get(pk=lot.pk).status == Lot.Status.AWARDED
    draw.refresh_from_db()
    assert draw.state == Draw.State.REVEALED
    assert all(check.ok for check in draws.draw_verify(draw))

    clock.advance(days=7)
    award_services.contract_record(
        award=award, actor=agency, signed_on=timezone.localdate(clock()), amount=PRICES[0]
    )
    tender.refresh_from_db()
    assert tender.state == TenderState.AWARDED
    assert Award.objects.get(pk=award.pk).contract_signed_on is not None
    assert Publicity.objects.get(pk=publicity.pk).state == Publicity.State.ENDED

    # --- the journal: every step on the tender's chain, in order, and every chain intact ---------------
    actions = stream_actions(tender)
    assert in_order(
        [
            "announcement.published",  # the tender announcement
            "experts.draw_committed",
            "experts.draw_performed",
            "experts.assignment_confirmed",
            "opening.closed",
            "experts.room_opened",
            "experts.chair_elected",
            "experts.review",
            "experts.stage_completed",
            "experts.score",
            "experts.report_built",
            "experts.report_signed",
            "experts.report_finalized",
            "experts.publicity_started",
            "experts.objection_raised",
            "experts.objection_answered",
            "experts.publicity_resumed",
            "experts.award_decided",
            "experts.result_notices_sent",
            "experts.result_announced",
            "experts.draw_revealed",
            "experts.contract_recorded",
        ],
        actions,
    ), actions
    states = [
        e.payload["to"]
        for e in JournalEntry.objects.filter(stream=tender.stream, action="tender.state_changed").order_by(
            "seq"
        )
    ]
    assert states == [
        TenderState.PUBLISHED,
        TenderState.OPENING,
        TenderState.EVALUATION,
        TenderState.PUBLICITY,
        TenderState.SUSPENDED,
        TenderState.PUBLICITY,
        TenderState.AWARDED,
    ]
    assert verify_all() == []

    # --- after the evaluation: the agency rates a member from the award page (C11) ------------------
    from django.test import Client
    from django.urls import reverse

    from experts.models import Rating

    client = Client()
    client.force_login(agency)
    page = client.get(reverse("experts:award-lot", args=[lot.pk])).content.decode()
    assert 'id="rating-title"' in page
    seat = members[0]
    response = client.post(
        reverse("experts:award-rating", args=[lot.pk]), {"expert": seat.assignment.expert_id, "score": "92"}
    )
    assert response.status_code == 302
    assert Rating.objects.get(lot=lot, expert_id=seat.assignment.expert_id).score == 92
    refused = client.post(
        reverse("experts:award-rating", args=[lot.pk]), {"expert": seat.assignment.expert_id, "score": "101"}
    )
    assert refused.status_code == 400 and b"rating_" in refused.content


def test_an_upheld_objection_sends_the_lot_back_to_the_committee_and_round_again_to_the_award(clock):
    e = evaluated(clock)
    tender, lot, agency, bids, members = e.tender, e.lot, e.agency, e.bids, e.members
    first_report = Report.objects.get(pk=e.report.pk)

    # --- the candidates published; a bidder objects to the first candidate's technical marks ----------
    clock.advance(hours=20)
    publicity = award_services.publicity_start(lot=lot, actor=agency)
    first_announcement = publicity.announcement_id
    assert [c["bid"] for c in publicity.candidates] == [str(b.pk) for b in bids]
    clock.advance(days=1)
    objection = award_services.objection_raise(
        publicity=publicity, actor=e.world.bidders[1].user, text="第一中标候选人的技术方案得分与其响应不符。"
    )

    # --- upheld, and it changes the result: voided, back to evaluation, the room re-opened --------------
    clock.advance(days=1)
    award_services.objection_answer(
        objection=objection,
        actor=agency,
        answer="经核查，异议成立，评标委员会重新评审技术部分。",
        upheld=True,
        reevaluate=True,
    )
    tender.refresh_from_db()
    publicity.refresh_from_db()
    room = EvaluationRoom.objects.get(pk=e.room.pk)
    report = Report.objects.get(pk=first_report.pk)
    assert tender.state == TenderState.EVALUATION
    assert award_services.publicity_voided(publicity)
    assert Announcement.objects.get(pk=first_announcement).state == Announcement.State.WITHDRAWN
    assert (room.phase, room.closed_at) == (EvaluationRoom.Phase.DETAILED, None)
    assert (report.revision, report.finalized_at) == (2, None)
    kept = ReportRevision.objects.get(room=room)
    assert (kept.revision, kept.data_sha256, kept.pdf_id) == (
        1,
        first_report.data_sha256,
        first_report.pdf_id,
    )
    assert award_services.award_tick() == 0  # a TB lot is never deemed
    clock.advance(hours=1)
    assert refused(award_services.publicity_start, lot=lot, actor=agency) == "report_not_final"
    assert refused(award_services.award_decide, lot=lot, actor=agency) == "report_not_final"

    # --- the committee corrects the technical marks of the first bid, builds and signs a new report -----
    technical = scored_criteria(lot)[0]["code"]
    for m in members:
        ev.score_submit(member=m, actor=m.user, bid=bids[0], criterion=technical, value=Decimal("24.00"))
    ev.stage_complete(room=room, actor=e.chair)
    report = ev.report_build(room=room, actor=e.chair)
    for m in members:
        ev.report_sign(member=m, actor=m.user, agrees=True)
    report.refresh_from_db()
    assert report.finalized_at is not None and report.revision == 2
    assert report.data_sha256 != first_report.data_sha256
    new_order = [c["bid"] for c in report.data["candidates"]]
    assert new_order == [str(bids[1].pk), str(bids[0].pk), str(bids[2].pk)]

    # --- the candidates published again, in a new announcement; the old one stays withdrawn -------------
    clock.advance(hours=2)
    again = award_services.publicity_start(lot=lot, actor=agency)
    tender.refresh_from_db()
    assert tender.state == TenderState.PUBLICITY
    assert again.pk == publicity.pk and again.state == Publicity.State.OPEN
    assert again.announcement_id != first_announcement
    assert [c["bid"] for c in again.candidates] == new_order
    candidates_announcements = Announcement.objects.filter(lot=lot, kind=AnnouncementKind.CANDIDATES)
    assert sorted(candidates_announcements.values_list("state", flat=True)) == sorted(
        [Announcement.State.PUBLISHED, Announcement.State.WITHDRAWN]
    )

    # --- the award goes to the new first candidate ---------------------------------------------------
    again.refresh_from_db()
    clock.set(again.ends_at + dt.timedelta(hours=9))
    award = award_services.award_decide(lot=lot, actor=agency)
    assert (award.winner, award.rank, award.report_id) == (e.world.bidders[1].entity, 1, report.pk)
    assert award.amount == Decimal(PRICES[1])
    assert award.notice["winner"]["uscc"] == e.world.bidders[1].entity.uscc
    tender.refresh_from_db()
    assert tender.state == TenderState.AWARDED

    actions = stream_actions(tender)
    assert in_order(
        [
            "experts.report_finalized",
            "experts.publicity_started",
            "experts.objection_raised",
            "experts.objection_answered",
            "experts.publicity_voided",
            "experts.room_reevaluation",
            "experts.score",
            "experts.stage_completed",
            "experts.report_built",
            "experts.report_signed",
            "experts.report_finalized",
            "experts.publicity_started",
            "experts.award_decided",
            "experts.result_notices_sent",
            "experts.result_announced",
        ],
        actions,
    ), actions
    states = [
        entry.payload["to"]
        for entry in JournalEntry.objects.filter(
            stream=tender.stream, action="tender.state_changed"
        ).order_by("seq")
    ]
    assert states[-6:] == [
        TenderState.PUBLICITY,
        TenderState.SUSPENDED,
        TenderState.PUBLICITY,
        TenderState.EVALUATION,
        TenderState.PUBLICITY,
        TenderState.AWARDED,
    ]
    assert verify_all() == []


def test_the_agency_reads_the_finalized_report_but_not_the_room(clock):
    # given a room whose report every member has signed
    from django.test import Client
    from django.urls import reverse

    from tests.experts.room_world import room_world, to_summary

    world = room_world(clock=clock)
    to_summary(world)
    report = ev.report_build(room=world.room, actor=chair_of(world))
    agency = AgencyUserFactory(entity=world.tender.agency)
    client = Client()
    client.force_login(agency)
    pdf_url = reverse("experts:evaluation-report-pdf", args=[world.lot.pk])
    # when the report is not final yet, then the agency gets no copy
    assert client.get(pdf_url).status_code == 404
    for m in Member.objects.filter(room=world.room):
        ev.report_sign(member=m, actor=m.user, agrees=True)
    # then the finalized PDF is theirs to read, the room itself is not
    response = client.get(pdf_url)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    assert client.get(reverse("experts:evaluation-room", args=[world.lot.pk])).status_code == 403
    assert report.pk == Report.objects.get(room=world.room).pk


def chair_of(world):
    return world.room.chair.user if world.room.chair else Member.objects.filter(room=world.room).first().user
