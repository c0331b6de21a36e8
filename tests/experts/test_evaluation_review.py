"""Review verdicts, scores, outliers, closing stages, low prices and clarifications in the evaluation
room (DOMAIN C6–C8): each rule with a case that breaks it, asserted by error code."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from archive.models import JournalEntry
from core.errors import Conflict
from experts.models import Clarification, LowPriceJustification, Outlier, Review, Score
from experts.services import evaluation as ev
from experts.services.evaluation.outcome import Snapshot, evaluated_price
from tests.bidding.opening_world import refused
from tests.experts.room_world import (
    chair_user,
    complete,
    declare_all,
    elect,
    review_all,
    room_world,
    score_all,
    to_detailed,
)
from trading.models import EvaluationMethod, Notification

pytestmark = pytest.mark.django_db


def at_qualification(clock, **kwargs):
    world = room_world(clock=clock, **kwargs)
    declare_all(world)
    elect(world)
    return world


def review(world, seat, bid_index, *, stage="qualification", criterion="licence", passed=True, reason=""):
    m = world.member(seat)
    return ev.review_submit(
        member=m,
        actor=m.user,
        bid=world.bids[bid_index],
        stage=stage,
        criterion=criterion,
        passed=passed,
        reason=reason,
    )


# --- review verdicts -------------------------------------------------------------------------------------


def test_a_member_passes_a_criterion_and_may_change_it_while_the_stage_is_open(clock):
    world = at_qualification(clock)
    review(world, 1, 0)
    review(world, 1, 0, passed=False, reason="营业执照已过期")
    r = Review.objects.get(member=world.member(1), bid=world.bids[0], criterion="licence")
    assert (r.passed, r.reason) == (False, "营业执照已过期")
    assert JournalEntry.objects.filter(stream=world.tender.stream, action="experts.review").count() == 2


def test_a_fail_needs_a_reason(clock):
    world = at_qualification(clock)
    assert refused(review, world=world, seat=1, bid_index=0, passed=False) == "reason_required"


def test_a_verdict_names_a_known_stage_and_criterion(clock):
    world = at_qualification(clock)
    assert refused(review, world=world, seat=1, bid_index=0, criterion="nonsense") == "criterion_unknown"
    assert refused(review, world=world, seat=1, bid_index=0, stage="detailed") == "stage_invalid"


def test_the_tender_s_own_review_criteria_replace_the_defaults(clock):
    world = at_qualification(
        clock,
        lot_fields={
            "evaluation": {**_scoring(), "qualification": [{"code": "safety", "name": "安全生产许可证"}]}
        },
    )
    review(world, 1, 0, criterion="safety")
    assert refused(review, world=world, seat=1, bid_index=0, criterion="licence") == "criterion_unknown"


def test_reviews_wait_for_their_stage(clock):
    world = at_qualification(clock)
    assert (
        refused(review, world=world, seat=1, bid_index=0, stage="preliminary", criterion="price")
        == "phase_invalid"
    )


def test_an_undeclared_member_does_not_review(clock):
    world = room_world(clock=clock)
    assert refused(review, world=world, seat=1, bid_index=0) == "declaration_required"


def test_only_the_chair_closes_a_stage_and_only_when_every_verdict_is_given(clock):
    world = at_qualification(clock)
    member = world.member(2)
    assert refused(ev.stage_complete, room=world.room, actor=member.user) == "chair_only"
    review(world, 1, 0)
    with pytest.raises(Conflict) as info:
        complete(world)
    assert info.value.code == "stage_incomplete"
    # 5 members × 3 bids × 5 criteria, one given
    assert info.value.params["count"] == 5 * 3 * 5 - 1
    assert {"seat", "bid", "stage", "criterion"} <= set(info.value.params["missing"][0])


def test_a_majority_failing_one_criterion_puts_a_bid_out_of_the_next_stage(clock):
    # given seats 1–3 fail bid 0 on the credit record and seats 1–2 fail bid 1 on finances
    world = at_qualification(clock)
    review_all(world, "qualification", fail={(0, "credit"): (1, 2, 3), (1, "finance"): (1, 2)})

    # when the chair closes the qualification review
    complete(world)

    # then bid 0 is out (3 of 5) and bid 1 stays (2 of 5 is no majority)
    snap = Snapshot.load(world.refresh())
    assert [b.pk for b in snap.in_play("preliminary")] == [world.bids[1].pk, world.bids[2].pk]
    assert snap.rejections(world.bids[0], "qualification") == [
        {
            "stage": "qualification",
            "criterion": "credit",
            "seats": [1, 2, 3],
            "reasons": ["不满足招标文件要求"] * 3,
        }
    ]
    assert (
        refused(review, world=world, seat=1, bid_index=0, stage="preliminary", criterion="price")
        == "bid_not_in_stage"
    )


def test_a_closed_stage_keeps_its_given_verdicts(clock):
    world = at_qualification(clock)
    review_all(world, "qualification")
    complete(world)
    assert refused(review, world=world, seat=1, bid_index=0, passed=False, reason="改判") == "stage_closed"


# --- scores ----------------------------------------------------------------------------------------------


def _scoring():
    return {
        "criteria": [
            {"code": "tech", "name": "技术方案", "group": "technical", "max": 40},
            {"code": "biz", "name": "商务", "group": "commercial", "max": 20},
            {"code": "price", "name": "价格", "group": "price", "max": 40},
        ],
        "price_formula": {"kind": "gp_base_over_price"},
    }


def score(world, seat, bid_index, value, criterion="tech"):
    m = world.member(seat)
    return ev.score_submit(
        member=m, actor=m.user, bid=world.bids[bid_index], criterion=criterion, value=value
    )


def test_a_member_scores_a_criterion_within_its_range_with_two_decimals(clock):
    world = room_world(clock=clock)
    to_detailed(world)
    s = score(world, 1, 0, "35.50")
    assert s.value == Decimal("35.50") and s.at == clock()
    assert refused(score, world=world, seat=1, bid_index=0, value="40.01") == "score_out_of_range"
    assert refused(score, world=world, seat=1, bid_index=0, value="-1") == "score_out_of_range"
    assert refused(score, world=world, seat=1, bid_index=0, value="12.345") == "score_out_of_range"
    assert refused(score, world=world, seat=1, bid_index=0, value="many") == "score_invalid"
    assert refused(score, world=world, seat=1, bid_index=0, value=12.5) == "score_invalid"
    assert Score.objects.get(member=world.member(1), bid=world.bids[0], criterion="tech").value == Decimal(
        "35.50"
    )


def test_the_price_score_is_never_typed(clock):
    world = room_world(clock=clock)
    to_detailed(world)
    assert (
        refused(score, world=world, seat=1, bid_index=0, value="40", criterion="price")
        == "price_score_computed"
    )
    assert (
        refused(score, world=world, seat=1, bid_index=0, value="4", criterion="other") == "criterion_unknown"
    )


def test_scores_wait_for_detailed_scoring(clock):
    world = at_qualification(clock)
    assert refused(score, world=world, seat=1, bid_index=0, value="30") == "phase_invalid"


def test_a_bid_that_failed_a_review_is_not_scored(clock):
    world = at_qualification(clock)
    review_all(world, "qualification", fail={(2, "licence"): (1, 2, 3, 4, 5)})
    complete(world)
    review_all(world, "preliminary")
    complete(world)
    assert refused(score, world=world, seat=1, bid_index=2, value="30") == "bid_not_in_stage"


def test_a_score_far_from_the_others_is_flagged_and_cleared_when_it_comes_back(clock):
    # given five members score bid 0's technical plan 30, 31, 29, 30 and seat 5 gives 5 (max 40)
    world = room_world(clock=clock)
    to_detailed(world)
    for seat, value in zip((1, 2, 3, 4), ("30", "31", "29", "30"), strict=True):
        score(world, seat, 0, value)
    score(world, 5, 0, "5")

    # then seat 5 is an outlier: |5 − 30| / 40 = 0.625 > 0.30
    outlier = Outlier.objects.get(room=world.room)
    assert (outlier.member.seat, outlier.value, outlier.median) == (5, Decimal("5.00"), Decimal("30.00"))
    assert outlier.deviation == Decimal("0.6250") and outlier.threshold == Decimal("0.3000")
    assert JournalEntry.objects.filter(stream=world.tender.stream, action="experts.outliers").exists()

    # when seat 5 corrects the score, the flag goes
    score(world, 5, 0, "28")
    assert not Outlier.objects.filter(room=world.room).exists()


def test_the_chair_closes_detailed_scoring_only_when_everyone_has_scored(clock):
    world = room_world(clock=clock)
    to_detailed(world)
    score(world, 1, 0, "30")
    with pytest.raises(Conflict) as info:
        complete(world)
    assert info.value.code == "stage_incomplete"
    score_all(world)
    assert complete(world).phase == "summary"


def test_the_lowest_price_method_reviews_but_scores_nothing(clock):
    world = room_world(
        clock=clock,
        lot_fields={
            "evaluation_method": EvaluationMethod.LOWEST_PRICE,
            "evaluation": {"criteria": [], "price_formula": {"kind": "lowest"}},
        },
    )
    to_detailed(world)
    assert refused(score, world=world, seat=1, bid_index=0, value="30") == "criterion_unknown"
    assert complete(world).phase == "summary"


# --- abnormally low prices -------------------------------------------------------------------------------


LOW = ("4000000.00", "4100000.00", "4200000.00", "2000000.00")


def test_an_abnormally_low_price_must_be_justified_and_a_rejection_fails_the_bid(clock):
    # given four bids, one at about half of the others' mean
    world = room_world(clock=clock, prices=LOW)
    low = world.bidders[3]

    # when detailed scoring starts
    to_detailed(world)

    # then only the low bid is asked to justify, and its bidder is notified
    j = LowPriceJustification.objects.get()
    assert j.bid == low.bid and j.ratio == Decimal("0.4878") and j.due_at == clock() + dt.timedelta(hours=24)
    note = Notification.objects.get(kind="evaluation.low_price")
    assert note.entity == low.entity and note.link.endswith(f"/justifications/{j.pk}/")

    # and detailed scoring cannot close while the committee has not decided
    score_all(world)
    with pytest.raises(Conflict) as info:
        complete(world)
    assert info.value.code == "justification_pending"
    assert refused(ev.justification_decide, justification=j, actor=chair_user(world), accepted=False) == (
        "justification_awaited"
    )

    # when another bidder tries to answer, it is refused; the bidder itself answers
    other = world.bidders[0].user
    assert refused(ev.justification_submit, justification=j, actor=other, text="我们成本低") == "not_your_bid"
    assert refused(ev.justification_submit, justification=j, actor=low.user, text=" ") == "text_required"
    ev.justification_submit(justification=j, actor=low.user, text="我公司自有设备，材料已提前锁价。")
    assert (
        refused(ev.justification_submit, justification=j, actor=low.user, text="再补充")
        == "justification_answered"
    )

    # and only the chair decides; a rejection puts the bid out
    member = world.member(2)
    assert (
        refused(ev.justification_decide, justification=j, actor=member.user, accepted=False) == "chair_only"
    )
    ev.justification_decide(justification=j, actor=chair_user(world), accepted=False)
    snap = Snapshot.load(world.refresh())
    assert low.bid.pk not in {b.pk for b in snap.in_play("detailed")}
    assert complete(world).phase == "summary"


def test_a_justification_after_its_due_time_is_refused_and_can_only_be_rejected(clock):
    world = room_world(clock=clock, prices=LOW)
    to_detailed(world)
    j = LowPriceJustification.objects.get()
    clock.advance(hours=25)
    assert refused(ev.justification_submit, justification=j, actor=world.bidders[3].user, text="迟到") == (
        "justification_overdue"
    )
    assert refused(ev.justification_decide, justification=j, actor=chair_user(world), accepted=True) == (
        "justification_unanswered"
    )
    ev.justification_decide(justification=j, actor=chair_user(world), accepted=False)


def test_no_justification_is_asked_when_no_price_is_abnormally_low(clock):
    world = room_world(clock=clock)
    to_detailed(world)
    assert not LowPriceJustification.objects.exists()


# --- clarifications --------------------------------------------------------------------------------------


def test_a_member_asks_a_bidder_in_writing_and_the_bidder_answers_before_the_due_time(clock):
    world = at_qualification(clock)
    m = world.member(2)
    c = ev.clarification_ask(
        member=m, actor=m.user, bid=world.bids[1], question="请说明项目经理的在建项目情况。"
    )
    assert c.due_at == clock() + dt.timedelta(hours=24)
    note = Notification.objects.get(kind="evaluation.clarification")
    assert note.entity == world.bidders[1].entity and note.link.endswith(f"/clarifications/{c.pk}/")

    assert (
        refused(ev.clarification_answer, clarification=c, actor=world.bidders[0].user, answer="x")
        == "not_your_bid"
    )
    ev.clarification_answer(clarification=c, actor=world.bidders[1].user, answer="项目经理无在建项目。")
    c.refresh_from_db()
    assert c.answered_by == world.bidders[1].user and c.answered_at == clock()
    assert refused(ev.clarification_answer, clarification=c, actor=world.bidders[1].user, answer="再答") == (
        "clarification_answered"
    )
    assert {"experts.clarification_asked", "experts.clarification_answered"} <= set(
        JournalEntry.objects.filter(stream=world.tender.stream).values_list("action", flat=True)
    )


def test_an_answer_after_the_due_time_is_refused(clock):
    world = at_qualification(clock)
    m = world.member(1)
    c = ev.clarification_ask(member=m, actor=m.user, bid=world.bids[0], question="请澄清工期。")
    clock.advance(hours=24, seconds=1)
    assert refused(ev.clarification_answer, clarification=c, actor=world.bidders[0].user, answer="180天") == (
        "clarification_overdue"
    )


def test_a_question_needs_text_and_an_open_stage(clock):
    world = room_world(clock=clock)
    declare_all(world)
    m = world.member(1)
    assert (
        refused(ev.clarification_ask, member=m, actor=m.user, bid=world.bids[0], question="?")
        == "phase_invalid"
    )
    elect(world)
    assert refused(ev.clarification_ask, member=m, actor=m.user, bid=world.bids[0], question="  ") == (
        "question_required"
    )
    assert not Clarification.objects.exists()


def test_an_unanswered_clarification_holds_detailed_scoring_open_until_its_due_time(clock):
    world = room_world(clock=clock)
    to_detailed(world)
    m = world.member(1)
    ev.clarification_ask(member=m, actor=m.user, bid=world.bids[0], question="请说明技术方案中的工艺。")
    score_all(world)
    with pytest.raises(Conflict) as info:
        complete(world)
    assert info.value.code == "clarification_pending"
    clock.advance(hours=25)
    assert complete(world).phase == "summary"


# --- policy discounts ------------------------------------------------------------------------------------


def test_a_small_enterprise_s_declared_discount_lowers_its_evaluated_price(clock):
    world = room_world(
        clock=clock, lot_fields={"evaluation": {**_scoring(), "discounts": {"small_enterprise_pct": "10"}}}
    )
    bid = world.bids[0]
    bid.form = {**bid.form, "items": {"small_enterprise": "是"}}
    bid.save(update_fields=["form"])
    assert evaluated_price(world.lot, bid) == Decimal("3600000.00")
    assert evaluated_price(world.lot, world.bids[1]) == Decimal("4010000.00")
