"""Scores after the summary (87号令64): locked, except a correction by the member who gave the score in
one of the four cases of the law, which discards a report not yet final; and who decided a low-price
justification, and when."""

from __future__ import annotations

from decimal import Decimal

import pytest

from archive.models import JournalEntry
from experts import documents
from experts.models import LowPriceJustification, Outlier, Report, ReportSignature, Score
from experts.services import evaluation as ev
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
    to_summary,
)
from tests.experts.test_documents import pages

pytestmark = pytest.mark.django_db


def correct(world, seat, bid_index, value, *, criterion="tech", case="sum_error", reason="汇总时误录分值"):
    m = world.member(seat)
    return ev.score_correct(
        member=m,
        actor=m.user,
        bid=world.bids[bid_index],
        criterion=criterion,
        value=value,
        case=case,
        reason=reason,
    )


def rescore(world, seat, bid_index, value, criterion="tech"):
    m = world.member(seat)
    return ev.score_submit(
        member=m, actor=m.user, bid=world.bids[bid_index], criterion=criterion, value=value
    )


def sign_all(world):
    for m in world.active():
        ev.report_sign(member=m, actor=m.user, agrees=True)


def the_score(world, seat, bid_index, criterion="tech"):
    return Score.objects.get(member=world.member(seat), bid=world.bids[bid_index], criterion=criterion)


# --- locked after the summary --------------------------------------------------------------------------------


def test_after_the_summary_a_given_score_is_locked(clock):
    world = room_world(clock=clock)
    to_summary(world)
    assert refused(rescore, world=world, seat=2, bid_index=0, value="31") == "score_locked"
    ev.report_build(room=world.room, actor=chair_user(world))
    assert refused(rescore, world=world, seat=2, bid_index=0, value="31") == "score_locked"
    sign_all(world)
    assert refused(rescore, world=world, seat=2, bid_index=0, value="31") == "score_locked"
    assert refused(correct, world=world, seat=2, bid_index=0, value="31") == "score_locked"
    assert the_score(world, 2, 0).value == Decimal("30.00")


def test_before_the_summary_a_score_is_changed_by_scoring_again_not_by_a_correction(clock):
    world = room_world(clock=clock)
    to_detailed(world)
    rescore(world, 1, 0, "30")
    assert refused(correct, world=world, seat=1, bid_index=0, value="31") == "phase_invalid"
    assert rescore(world, 1, 0, "31").value == Decimal("31.00")


# --- corrections -------------------------------------------------------------------------------------------


def test_a_member_corrects_their_score_in_the_summary_in_a_case_of_the_law(clock):
    # given the summary, seat 3 gave bid 0's technical plan 30
    world = room_world(clock=clock)
    to_summary(world)
    version = world.refresh().version

    # when seat 3 corrects it to 34 for a summation error
    score = correct(world, 3, 0, "34", reason="第3项分项得分汇总错误")

    # then the score is 34, keeps the value at the summary and the case, and the room stays in the summary
    assert (score.value, score.corrected_from, score.correction_case) == (
        Decimal("34.00"),
        Decimal("30.00"),
        "sum_error",
    )
    room = world.refresh()
    assert room.phase == "summary" and room.version == version + 1
    entry = JournalEntry.objects.get(stream=world.tender.stream, action="experts.score_corrected")
    assert entry.payload["seat"] == 3 and entry.payload["from"] == "30.00" and entry.payload["to"] == "34.00"
    assert entry.payload["case"] == "sum_error" and entry.payload["reason"] == "第3项分项得分汇总错误"
    assert entry.payload["source"] == "87号令第六十四条"

    # and a second correction keeps the value at the summary
    score = correct(world, 3, 0, "33", case="extreme", reason="经评标委员会认定评分畸高")
    assert (score.value, score.corrected_from, score.correction_case) == (
        Decimal("33.00"),
        Decimal("30.00"),
        "extreme",
    )

    # and the report lists the correction with its reason, and averages the corrected value
    report = ev.report_build(room=world.room, actor=chair_user(world))
    first = next(b for b in report.data["bids"] if b["bid"] == str(world.bids[0].pk))
    assert first["scores"]["tech"]["by_seat"]["3"] == "33.00"
    assert first["scores"]["tech"]["average"] == "30.60"
    assert report.data["corrections"] == [
        {
            "seat": 3,
            "bid": str(world.bids[0].pk),
            "bidder": first["bidder"],
            "criterion": "tech",
            "from": "30.00",
            "to": "33.00",
            "case": "extreme",
            "reason": "经评标委员会认定评分畸高",
            "at": report.data["corrections"][0]["at"],
        }
    ]
    text = "".join(
        pages(documents.report_pdf(report.data, signature=report.platform_signature, language="en"))
    )
    assert "Scores corrected after the summary" in text


def test_a_correction_while_signing_discards_the_report_and_the_room_goes_back_to_the_summary(clock):
    # given the report is built and two members have signed
    world = room_world(clock=clock)
    to_summary(world)
    report = ev.report_build(room=world.room, actor=chair_user(world))
    built_sha = report.data_sha256
    for seat in (1, 2):
        m = world.member(seat)
        ev.report_sign(member=m, actor=m.user, agrees=True)

    # when seat 4 corrects a commercial score that was out of the scoring rules' range
    correct(world, 4, 1, "15", criterion="biz", case="out_of_range", reason="该项评分标准最高15分")

    # then the report is discarded: no signatures, emptied, the same revision, and the room is in the summary
    report.refresh_from_db()
    assert not ReportSignature.objects.filter(report=report).exists()
    assert (report.data, report.data_sha256, report.body_sha256, report.revision) == ({}, "", "", 1)
    room = world.refresh()
    assert room.phase == "summary" and room.signing_due_at is None
    discarded = JournalEntry.objects.get(stream=world.tender.stream, action="experts.report_discarded")
    assert discarded.payload["data_sha256"] == built_sha and discarded.payload["signatures_cleared"] == [1, 2]

    # when the chair builds it again, everyone signs again and it is final with the correction
    report = ev.report_build(room=world.room, actor=chair_user(world))
    assert report.pk == Report.objects.get(room=room).pk and report.data_sha256 != built_sha
    assert [c["case"] for c in report.data["corrections"]] == ["out_of_range"]
    sign_all(world)
    report.refresh_from_db()
    assert report.finalized_at is not None and len(report.data["signatures"]) == 5
    assert report.data["corrections"][0]["to"] == "15.00"


def test_a_correction_refreshes_the_outliers(clock):
    # given seat 5 gave bid 0's technical plan 5 while the others gave 30: an outlier
    world = room_world(clock=clock)
    to_summary(world, {(5, 0, "tech"): "5"})
    assert Outlier.objects.filter(room=world.room, member=world.member(5)).exists()
    # when seat 5 corrects it as extremely low, the flag goes
    correct(world, 5, 0, "29", case="extreme", reason="评分畸低，经评标委员会认定后修改")
    assert not Outlier.objects.filter(room=world.room).exists()


def test_a_correction_names_a_case_of_the_law_and_a_reason(clock):
    world = room_world(clock=clock)
    to_summary(world)
    assert refused(correct, world=world, seat=1, bid_index=0, value="31", case="changed_my_mind") == (
        "correction_case_invalid"
    )
    assert refused(correct, world=world, seat=1, bid_index=0, value="31", reason="  ") == "reason_required"
    for case in ev.CORRECTION_CASES:
        assert case in ("sum_error", "out_of_range", "objective_inconsistent", "extreme")
    assert len(ev.CORRECTION_CASES) == 4


def test_a_correction_is_the_scorer_s_own_valid_and_different_score(clock):
    world = room_world(clock=clock)
    declare_all(world)
    elect(world)
    review_all(world, "qualification", fail={(2, "licence"): (1, 2, 3, 4, 5)})
    complete(world)
    review_all(world, "preliminary")
    complete(world)
    score_all(world)
    complete(world)
    m = world.member(1)
    assert (
        refused(
            ev.score_correct,
            member=m,
            actor=world.member(2).user,
            bid=world.bids[0],
            criterion="tech",
            value="31",
            case="sum_error",
            reason="误录",
        )
        == "not_member"
    )
    assert refused(correct, world=world, seat=1, bid_index=2, value="31") == "score_not_found"
    assert refused(correct, world=world, seat=1, bid_index=0, value="41") == "score_out_of_range"
    assert refused(correct, world=world, seat=1, bid_index=0, value="30") == "correction_unchanged"
    assert refused(correct, world=world, seat=1, bid_index=0, value="30", criterion="price") == (
        "price_score_computed"
    )
    assert (
        refused(correct, world=world, seat=1, bid_index=0, value="3", criterion="nope") == "criterion_unknown"
    )
    assert the_score(world, 1, 0).corrected_from is None


# --- low-price justifications ------------------------------------------------------------------------------


def test_the_chair_s_decision_on_a_justification_records_who_and_when(clock):
    world = room_world(clock=clock, prices=("4000000.00", "4100000.00", "4200000.00", "2000000.00"))
    to_detailed(world)
    j = LowPriceJustification.objects.get()
    assert (j.decided_by, j.decided_at) == (None, None)
    ev.justification_submit(
        justification=j, actor=world.bidders[3].user, text="我公司自有设备，材料已提前锁价。"
    )
    clock.advance(minutes=10)
    ev.justification_decide(justification=j, actor=chair_user(world), accepted=True)
    j.refresh_from_db()
    assert j.accepted is True and j.decided_by == chair_user(world) and j.decided_at == clock()
    entry = JournalEntry.objects.get(stream=world.tender.stream, action="experts.justification_decided")
    assert entry.payload["accepted"] is True
