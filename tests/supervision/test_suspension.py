"""A suspension ordered on a complaint stops every later step of the tender (issue 7 item 2): the bids,
the opening at the deadline and the hall's steps, the draw (request, performance, extension), every act
in the evaluation room, the publicity and the award — and each goes on once the decision resumes it."""

from __future__ import annotations

import datetime as dt

import pytest

from bidding.opening import services as opening
from bidding.services.submission_checks import check_lot_takes_bids
from core.errors import DomainError
from experts.models import Draw
from experts.services import award as award_svc
from experts.services import evaluation as ev
from experts.services.draw import draw_extend, draw_perform, draw_request
from supervision.models import Complaint
from supervision.services.complaints import complaint_accept, complaint_decide, complaint_suspend_tender
from tests.bidding.opening_world import hall_world, to_decryption
from tests.experts.room_world import declare_all, elect, room_world
from tests.experts.test_award_world import award_world, publicity_over
from tests.factories import BidderUserFactory, LotFactory
from trading.models import Tender, TenderState
from trading.services.tenders import tender_open_at_deadline

pytestmark = pytest.mark.django_db


def code_of(fn, **kwargs) -> str:
    try:
        fn(**kwargs)
    except DomainError as exc:
        return exc.code
    raise AssertionError(f"{fn.__name__} was not refused")


def suspend_on_complaint(tender: Tender, regulator, now) -> Complaint:
    """A complaint (of a matter needing no prior objection), accepted, with the tender suspended."""
    bidder = BidderUserFactory()
    complaint = Complaint.objects.create(
        tender=tender,
        entity=bidder.entity,
        filed_by=bidder,
        matter=Complaint.Matter.PROCESS,
        text="评标委员会组建违规",
        known_at=now,
        filed_at=now,
        filing_deadline=now + dt.timedelta(days=10),
        accept_due_at=now + dt.timedelta(days=3),
    )
    complaint = complaint_accept(actor=regulator, complaint=complaint)
    complaint = complaint_suspend_tender(actor=regulator, complaint=complaint, reason="投诉调查期间暂停")
    assert Tender.objects.get(pk=tender.pk).state == TenderState.SUSPENDED
    return complaint


def decide(complaint: Complaint, regulator) -> None:
    complaint_decide(
        actor=regulator,
        complaint=complaint,
        outcome="dismissed",
        legal_basis="招标投标法实施条例第六十一条",
        decision="投诉缺乏事实根据，驳回。",
    )


def test_while_bidding_no_bid_no_opening_and_no_draw(clock):
    world = hall_world(clock=clock, bids=1)
    complaint = suspend_on_complaint(world.tender, world.regulator, clock())
    lot = world.lot
    lot.refresh_from_db()
    assert code_of(check_lot_takes_bids, lot=lot, now=clock()) == "tender_not_open"
    starts = clock() + dt.timedelta(days=30)
    draw_args = {
        "lot": lot,
        "actor": world.host,
        "evaluation_starts_at": starts,
        "evaluation_ends_at": starts,
    }
    assert code_of(draw_request, **draw_args) == "tender_suspended"
    assert not Draw.objects.exists()
    clock.set(world.tender.deadline + dt.timedelta(minutes=1))
    assert (
        tender_open_at_deadline(tender=Tender.objects.get(pk=world.tender.pk)).state == TenderState.SUSPENDED
    )
    opening.opening_tick(lot=lot)  # the hall's clock does not open it either
    assert Tender.objects.get(pk=lot.tender_id).state == TenderState.SUSPENDED

    decide(complaint, world.regulator)  # the decision resumes the tender where it stood
    assert Tender.objects.get(pk=world.tender.pk).state == TenderState.PUBLISHED
    assert tender_open_at_deadline(tender=Tender.objects.get(pk=world.tender.pk)).state == TenderState.OPENING


def test_during_the_opening_the_hall_stops(clock):
    world = hall_world(clock=clock, bids=3)
    to_decryption(world, clock)
    complaint = suspend_on_complaint(world.tender, world.regulator, clock())
    lot = world.lot
    assert code_of(opening.opening_start_readout, lot=lot, actor=world.host) == "tender_not_opening"
    decide(complaint, world.regulator)
    assert Tender.objects.get(pk=world.tender.pk).state == TenderState.OPENING


def test_during_the_evaluation_no_draw_and_no_act_in_the_room(clock):
    world = room_world(clock=clock)
    declare_all(world)
    complaint = suspend_on_complaint(world.tender, world.regulator, clock())
    member = world.member(1)
    assert code_of(ev.chair_vote, member=member, actor=member.user, candidate=member) == "tender_suspended"
    assert code_of(ev.stage_complete, room=world.refresh(), actor=member.user) == "tender_suspended"
    assert code_of(draw_extend, draw=world.draw, actor=world.host, group=0, more=1) == "tender_suspended"
    committed = Draw.objects.create(
        lot=LotFactory(tender=world.tender, number=2),  # a second lot's draw, committed, not yet performed
        state=Draw.State.COMMITTED,
        request=dict(world.draw.request),
        request_digest="1" * 64,
        seed_commitment="1" * 64,
        seed_sealed="sealed",
        groups=world.draw.groups,
        requested_by=world.host,
        requested_at=clock(),
    )
    assert code_of(draw_perform, draw=committed, nonce="123456", actor=world.regulator) == "tender_suspended"

    decide(complaint, world.regulator)
    assert Tender.objects.get(pk=world.tender.pk).state == TenderState.EVALUATION
    elect(world)  # the room goes on
    assert world.refresh().chair_id is not None


def test_after_the_evaluation_no_publicity_and_no_award(clock):
    world = award_world(clock)
    complaint = suspend_on_complaint(world.tender, world.regulator, clock())
    assert code_of(award_svc.publicity_start, lot=world.lot, actor=world.agency) == "tender_suspended"
    decide(complaint, world.regulator)
    award_svc.publicity_start(lot=world.lot, actor=world.agency)
    publicity_over(world, clock)
    complaint = suspend_on_complaint(world.tender, world.regulator, clock())
    assert code_of(award_svc.award_decide, lot=world.lot, actor=world.agency) == "tender_suspended"
    decide(complaint, world.regulator)
    award = award_svc.award_decide(lot=world.lot, actor=world.agency)
    assert award.pk is not None


def test_an_objection_to_the_documents_suspends_until_answered_but_not_past_a_complaints_suspension(clock):
    from supervision.services.complaints import challenge_file, challenge_reply

    world = hall_world(clock=clock, bids=0)
    bidder = BidderUserFactory()
    first = challenge_file(actor=bidder, tender=world.tender, text="资格条件设置过高", known_at=clock())
    assert Tender.objects.get(pk=world.tender.pk).state == TenderState.SUSPENDED  # 条例22
    second = challenge_file(
        actor=BidderUserFactory(), tender=world.tender, text="评分标准不明确", known_at=clock()
    )
    challenge_reply(actor=world.agency, challenge=first, reply="资格条件符合法律规定。")
    assert Tender.objects.get(pk=world.tender.pk).state == TenderState.SUSPENDED  # one still unanswered
    challenge_reply(actor=world.agency, challenge=second, reply="已在澄清中明确评分细则。")
    assert Tender.objects.get(pk=world.tender.pk).state == TenderState.PUBLISHED

    # a complaint's suspension is the department's to lift: answering a later objection does not
    complaint = suspend_on_complaint(world.tender, world.regulator, clock())
    third = challenge_file(actor=bidder, tender=world.tender, text="工期要求不合理", known_at=clock())
    challenge_reply(actor=world.agency, challenge=third, reply="工期系根据项目实际确定。")
    assert Tender.objects.get(pk=world.tender.pk).state == TenderState.SUSPENDED
    decide(complaint, world.regulator)
    assert Tender.objects.get(pk=world.tender.pk).state == TenderState.PUBLISHED
