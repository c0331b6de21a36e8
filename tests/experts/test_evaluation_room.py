"""The evaluation room's opening, declarations, recusals, seats for reserves and the chair's election
(DOMAIN C1, C5–C7): every rule with a case that breaks it, asserted by error code."""

from __future__ import annotations

import pytest

from archive.models import JournalEntry
from core.errors import Conflict
from experts.models import Assignment, EvaluationRoom, Member
from experts.services import evaluation as ev
from experts.services.draw import assignment_confirm
from experts.services.evaluation.declaration import declaration_text
from tests.bidding.opening_world import refused, to_readout
from tests.experts.room_world import (
    complete,
    declare_all,
    elect,
    make_draw,
    review_all,
    room_world,
)
from tests.factories import BidderUserFactory
from trading.models import Notification, Regime, TenderState

pytestmark = pytest.mark.django_db


def actions(world) -> list[str]:
    return list(JournalEntry.objects.filter(stream=world.tender.stream).values_list("action", flat=True))


# --- opening the room ------------------------------------------------------------------------------------


def test_centre_opens_the_room_with_seats_in_draw_order_and_the_tender_goes_to_evaluation(clock):
    # given a closed opening and five confirmed experts, and one tenderee representative
    world = room_world(clock=clock, reps=1, open_room=False)
    world.reps = [world.reps[0]]

    # when the centre opens the room
    room = ev.room_open(lot=world.lot, actor=world.host, tenderee_reps=world.reps)

    # then seats 1–5 are the experts in the draw's order, seat 6 the representative
    members = list(Member.objects.filter(room=room).order_by("seat"))
    assert [m.seat for m in members] == [1, 2, 3, 4, 5, 6]
    assert [m.assignment_id for m in members[:5]] == [a.pk for a in world.assignments]
    assert members[5].kind == Member.Kind.TENDEREE_REP and members[5].user == world.reps[0]
    assert room.phase == EvaluationRoom.Phase.DECLARATIONS and room.version == 1
    world.tender.refresh_from_db()
    assert world.tender.state == TenderState.EVALUATION
    assert Notification.objects.filter(kind="evaluation.room_opened").count() == 6
    assert "experts.room_opened" in actions(world)


def test_only_centre_staff_open_a_room(clock):
    world = room_world(clock=clock, open_room=False)
    expert = world.assignments[0].expert.user
    assert refused(ev.room_open, lot=world.lot, actor=expert) == "role_forbidden"
    assert not EvaluationRoom.objects.exists()


def test_a_room_opens_once(clock):
    world = room_world(clock=clock)
    assert refused(ev.room_open, lot=world.lot, actor=world.host) == "room_exists"


def test_the_opening_must_be_closed(clock):
    from tests.bidding.opening_world import hall_world

    hall = hall_world(clock=clock, bids=3)
    to_readout(hall, clock)
    make_draw(lot=hall.lot, host=hall.host, clock=clock, experts=5, reserves=0)
    assert refused(ev.room_open, lot=hall.lot, actor=hall.host) == "opening_not_closed"


def test_every_drawn_expert_must_have_confirmed(clock):
    world = room_world(clock=clock, open_room=False)
    Assignment.objects.filter(pk=world.assignments[2].pk).update(status=Assignment.Status.NOTIFIED)
    assert refused(ev.room_open, lot=world.lot, actor=world.host) == "committee_not_confirmed"


def test_the_committee_must_be_drawn(clock):
    world = room_world(clock=clock, open_room=False)
    world.draw.state = "committed"
    world.draw.save()
    assert refused(ev.room_open, lot=world.lot, actor=world.host) == "draw_not_ready"


def test_a_tenderee_representative_is_staff_of_the_tenderee(clock):
    world = room_world(clock=clock, open_room=False)
    outsider = BidderUserFactory()
    code = refused(ev.room_open, lot=world.lot, actor=world.host, tenderee_reps=[outsider])
    assert code == "tenderee_rep_invalid"
    assert not EvaluationRoom.objects.exists()


# --- declarations ----------------------------------------------------------------------------------------


def test_a_member_signs_the_declaration_with_its_digest_and_all_signed_opens_the_chair_election(clock):
    world = room_world(clock=clock)
    first = world.member(1)

    ev.member_declare(member=first, actor=first.user)

    first.refresh_from_db()
    assert first.declared_at == clock()
    text = declaration_text(Regime.TB)
    assert first.declaration["text"] == text
    import hashlib

    assert first.declaration["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert world.refresh().phase == "declarations"
    declare_all(world)
    assert world.refresh().phase == "chair"


def test_the_declaration_lists_the_regime_s_recusal_cases(clock):
    tb, gp = declaration_text(Regime.TB), declaration_text(Regime.GP)
    assert "close relative of a bidder" in tb or "近亲属" in tb
    assert tb != gp
    assert ("three years" in gp) or ("三年" in gp) or ("3年" in gp)


def test_only_the_seat_s_own_user_declares(clock):
    world = room_world(clock=clock)
    first, second = world.member(1), world.member(2)
    assert refused(ev.member_declare, member=first, actor=second.user) == "not_member"


def test_a_declaration_is_signed_once(clock):
    world = room_world(clock=clock)
    first = world.member(1)
    ev.member_declare(member=first, actor=first.user)
    assert refused(ev.member_declare, member=first, actor=first.user) == "already_declared"


def test_a_recusal_needs_a_reason(clock):
    world = room_world(clock=clock)
    first = world.member(1)
    assert (
        refused(ev.member_declare, member=first, actor=first.user, recuse=True, reason=" ")
        == "reason_required"
    )
    assert Assignment.objects.get(pk=world.assignments[0].pk).status == Assignment.Status.CONFIRMED


def test_a_recusal_locks_the_member_out_and_calls_a_reserve_who_takes_a_new_seat(clock):
    # given four members have declared
    world = room_world(clock=clock)
    for seat in (2, 3, 4, 5):
        m = world.member(seat)
        ev.member_declare(member=m, actor=m.user)

    # when the first member recuses
    first = world.member(1)
    ev.member_declare(member=first, actor=first.user, recuse=True, reason="投标人法定代表人是我的配偶")

    # then the seat is locked, the draw recorded the recusal and called the first reserve
    first.refresh_from_db()
    assert first.recused_at == clock() and not first.active
    assert Assignment.objects.get(pk=world.assignments[0].pk).status == Assignment.Status.RECUSED
    reserve = Assignment.objects.get(pk=world.reserves[0].pk)
    assert reserve.status == Assignment.Status.NOTIFIED
    # and the room waits for the reserve although every active member has declared
    assert world.refresh().phase == "declarations"
    assert refused(ev.member_declare, member=first, actor=first.user) == "member_recused"

    # when the reserve confirms, the draw service adds a seat
    assignment_confirm(assignment=reserve, actor=reserve.expert.user)
    new = Member.objects.get(room=world.room, assignment=reserve)
    assert new.seat == 6
    first.refresh_from_db()
    assert first.voided
    # and once the new member declares the chair is elected next
    ev.member_declare(member=new, actor=new.user)
    assert world.refresh().phase == "chair"
    assert {"experts.member_recused", "experts.assignment_recused", "experts.seat_added"} <= set(
        actions(world)
    )


def test_a_replacement_must_give_the_verdicts_of_the_stages_already_started(clock):
    # given the qualification review is under way and seat 3 recuses
    world = room_world(clock=clock)
    declare_all(world)
    elect(world)
    review_all(world, "qualification")
    third = world.member(3)
    ev.member_declare(member=third, actor=third.user, recuse=True, reason="发现与投标人存在经济利益关系")
    reserve = Assignment.objects.get(pk=world.reserves[0].pk)
    assignment_confirm(assignment=reserve, actor=reserve.expert.user)
    new = Member.objects.get(room=world.room, assignment=reserve)
    ev.member_declare(member=new, actor=new.user)

    # then the chair cannot close the stage: the new seat's verdicts are missing
    with pytest.raises(Conflict) as info:
        complete(world)
    assert info.value.code == "stage_incomplete"
    assert {m["seat"] for m in info.value.params["missing"]} == {new.seat}

    # when the new member reviews, the stage closes
    review_all(world, "qualification")
    assert complete(world).phase == "preliminary"


def test_seats_are_not_added_once_the_report_is_being_signed(clock):
    world = room_world(clock=clock)
    EvaluationRoom.objects.filter(pk=world.room.pk).update(phase="signing")
    reserve = world.reserves[0]
    Assignment.objects.filter(pk=reserve.pk).update(status=Assignment.Status.CONFIRMED)
    assert refused(ev.room_seat_add, assignment=reserve) == "phase_invalid"


def test_a_seat_is_added_only_for_a_confirmed_expert(clock):
    world = room_world(clock=clock)
    assert refused(ev.room_seat_add, assignment=world.reserves[0]) == "assignment_not_confirmed"


# --- the chair -------------------------------------------------------------------------------------------


def test_a_majority_elects_the_chair_and_the_qualification_review_starts(clock):
    world = room_world(clock=clock)
    declare_all(world)
    third = world.member(3)
    for seat in (1, 2):
        m = world.member(seat)
        ev.chair_vote(member=m, actor=m.user, candidate=third)
    assert world.refresh().chair_id is None  # 2 of 5 is not a majority
    m = world.member(4)
    room = ev.chair_vote(member=m, actor=m.user, candidate=third)
    assert room.chair_id == third.pk and room.phase == "qualification"
    assert "experts.chair_elected" in actions(world)


def test_without_a_majority_the_most_voted_then_the_lower_seat_is_elected(clock):
    world = room_world(clock=clock)
    declare_all(world)
    votes = {1: 4, 2: 4, 3: 5, 4: 5, 5: 1}  # seats 4 and 5 have two votes each, seat 1 one
    for voter, seat in votes.items():
        m = world.member(voter)
        ev.chair_vote(member=m, actor=m.user, candidate=world.member(seat))
    room = world.refresh()
    assert room.chair == world.member(4)


def test_votes_wait_for_the_chair_phase_and_the_declaration(clock):
    world = room_world(clock=clock)
    first = world.member(1)
    assert refused(ev.chair_vote, member=first, actor=first.user, candidate=first) == "declaration_required"
    ev.member_declare(member=first, actor=first.user)
    assert refused(ev.chair_vote, member=first, actor=first.user, candidate=first) == "phase_invalid"


def test_in_government_procurement_the_purchaser_s_representative_cannot_chair(clock):
    world = room_world(clock=clock, reps=1, regime=Regime.GP)
    declare_all(world)
    first, rep = world.member(1), world.member(6)
    assert refused(ev.chair_vote, member=first, actor=first.user, candidate=rep) == "chair_tenderee_rep"
    # the representative may vote
    ev.chair_vote(member=rep, actor=rep.user, candidate=first)
    assert world.member(6).chair_vote_id == first.pk


def test_under_the_bidding_law_a_tenderee_representative_may_be_elected(clock):
    world = room_world(clock=clock, reps=1)
    declare_all(world)
    rep = world.member(6)
    elect(world, seat=6)
    assert world.refresh().chair_id == rep.pk


def test_a_chair_who_recuses_is_replaced_by_a_new_election_in_the_same_phase(clock):
    world = room_world(clock=clock)
    declare_all(world)
    elect(world, seat=2)
    chair = world.member(2)
    ev.member_declare(member=chair, actor=chair.user, recuse=True, reason="与投标人存在利害关系")
    room = world.refresh()
    assert room.chair_id is None and room.phase == "qualification"
    assert refused(ev.stage_complete, room=room, actor=chair.user) == "chair_only"
    assert not Member.objects.filter(room=room, chair_vote__isnull=False).exists()
    # the others elect again without leaving the phase
    elect(world, seat=1)
    room = world.refresh()
    assert room.chair == world.member(1) and room.phase == "qualification"


def test_a_member_replaced_by_the_draw_is_locked_out_and_their_verdicts_no_longer_count(clock):
    # given the qualification review under way, seat 2 failing bid 0 on its licence
    world = room_world(clock=clock)
    declare_all(world)
    elect(world)
    review_all(world, "qualification", fail={(0, "licence"): (2,)})

    # when the draw replaces seat 2's expert with a confirmed reserve
    reserve = world.reserves[0]
    Assignment.objects.filter(pk=reserve.pk).update(
        status=Assignment.Status.CONFIRMED, replaces=world.assignments[1]
    )
    new = ev.room_seat_add(assignment=Assignment.objects.get(pk=reserve.pk))

    # then seat 2 is void and cannot act; seat 7's verdicts are now needed instead
    second = world.member(2)
    assert second.voided and not second.active
    assert (
        refused(ev.member_declare, member=second, actor=second.user, recuse=True, reason="x")
        == "member_replaced"
    )
    code = refused(
        ev.review_submit,
        member=second,
        actor=second.user,
        bid=world.bids[0],
        stage="qualification",
        criterion="licence",
        passed=True,
    )
    assert code == "member_replaced"
    with pytest.raises(Conflict) as info:
        complete(world)
    assert {m["seat"] for m in info.value.params["missing"]} == {new.seat}
    assert refused(ev.room_seat_add, assignment=Assignment.objects.get(pk=reserve.pk)) == "already_member"


def test_a_vote_goes_to_an_active_declared_member(clock):
    world = room_world(clock=clock)
    declare_all(world)
    first, fifth = world.member(1), world.member(5)
    ev.member_declare(member=fifth, actor=fifth.user, recuse=True, reason="与投标人有利害关系")
    assert refused(ev.chair_vote, member=first, actor=first.user, candidate=fifth) == "candidate_invalid"


def test_the_room_waits_while_another_lots_opening_runs(clock):
    # given a tender whose first lot's hall is closed but whose second lot has live bids and no closed hall
    from tests.experts.room_world import room_world
    from tests.factories import LotFactory
    from trading.models import Tender, TenderState

    world = room_world(clock=clock, open_room=False)
    LotFactory(tender=world.tender, number=2)
    Tender.objects.filter(pk=world.tender.pk).update(state=TenderState.OPENING)

    # when the centre opens the first lot's room, then it is refused and the tender stays at the opening
    assert refused(ev.room_open, lot=world.lot, actor=world.host) == "openings_running"
    assert Tender.objects.get(pk=world.tender.pk).state == TenderState.OPENING
