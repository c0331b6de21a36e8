"""The room's time (DOMAIN C6, C9): the scheduled end from the draw request, an extension when more
than a third of the members find the time insufficient (条例48), and the signing deadline after
which a member who has not signed is deemed to agree (条例53, 87号令61) — `room_tick`."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils.dateparse import parse_datetime

from archive.blobs import blob_open
from archive.models import JournalEntry
from experts import documents
from experts.models import Member, ReportSignature
from experts.services import evaluation as ev
from tests.bidding.opening_world import refused
from tests.experts.room_world import chair_user, declare_all, elect, room_world, to_detailed, to_summary
from tests.experts.test_documents import pages
from trading.models import Notification

pytestmark = pytest.mark.django_db


def flag(world, seat, value=True):
    m = world.member(seat)
    return ev.time_insufficient_set(member=m, actor=m.user, value=value)


def journal(world, action):
    return list(
        JournalEntry.objects.filter(stream=world.tender.stream, action=f"experts.{action}").order_by("seq")
    )


# --- the scheduled end and extensions --------------------------------------------------------------------


def test_the_room_ends_when_the_draw_request_says(clock):
    world = room_world(clock=clock)
    expected = parse_datetime(world.draw.request["evaluation_ends_at"])
    assert world.refresh().ends_at == expected
    assert world.room.extended_until is None
    assert parse_datetime(journal(world, "room_opened")[0].payload["ends_at"]) == expected


def test_more_than_a_third_of_the_members_extend_the_time_and_the_flags_are_cleared(clock):
    # given five members at detailed scoring, the scheduled end 9 hours after the draw
    world = room_world(clock=clock)
    to_detailed(world)
    ends_at = world.refresh().ends_at

    # when one member finds the time insufficient (1 of 5 is not more than a third)
    assert flag(world, 2).time_insufficient is True
    assert world.refresh().extended_until is None

    # and a second one does (2 of 5 is)
    member = flag(world, 4)

    # then the room's end is extended by 2 hours [G] from the scheduled end, and every flag is cleared
    room = world.refresh()
    assert room.extended_until == ends_at + dt.timedelta(hours=2)
    assert member.time_insufficient is False
    assert not Member.objects.filter(room=room, time_insufficient=True).exists()
    extended = journal(world, "room_extended")
    assert len(extended) == 1 and extended[0].payload["flagged"] == [2, 4]
    assert [e.payload["value"] for e in journal(world, "time_insufficient")] == [True, True]

    # when one member flags again, a new majority is needed: nothing moves
    flag(world, 1)
    assert world.refresh().extended_until == ends_at + dt.timedelta(hours=2)

    # and with a second flag the end moves again, from the last extension
    flag(world, 3)
    assert world.refresh().extended_until == ends_at + dt.timedelta(hours=4)


def test_exactly_a_third_is_not_enough(clock):
    # six members (five experts and a tenderee representative): 2 of 6 is a third, not more
    world = room_world(clock=clock, reps=1)
    declare_all(world)
    elect(world)
    flag(world, 1)
    flag(world, 6)
    assert world.refresh().extended_until is None
    flag(world, 3)
    assert world.refresh().extended_until is not None


def test_a_member_withdraws_the_flag_and_setting_it_twice_changes_nothing(clock):
    world = room_world(clock=clock)
    to_detailed(world)
    flag(world, 2)
    version = world.refresh().version
    flag(world, 2)  # already set
    assert world.refresh().version == version
    flag(world, 2, False)
    flag(world, 3)
    assert world.refresh().extended_until is None  # seat 2 withdrew: only 1 of 5
    assert [e.payload["value"] for e in journal(world, "time_insufficient")] == [True, False, True]


def test_after_the_scheduled_end_the_extension_runs_from_now(clock, settings):
    settings.EXPERT_RULES = {"extension_hours": 3}
    world = room_world(clock=clock)
    to_detailed(world)
    clock.advance(hours=12)  # past the scheduled end
    flag(world, 1)
    flag(world, 2)
    assert world.refresh().extended_until == clock() + dt.timedelta(hours=3)


def test_a_recused_member_s_flag_no_longer_counts(clock):
    # given six members (a representative too) and no reserves; seat 5 flags then recuses
    world = room_world(clock=clock, reserves=0, reps=1)
    to_detailed(world)
    flag(world, 5)
    fifth = world.member(5)
    ev.member_declare(member=fifth, actor=fifth.user, recuse=True, reason="与投标人存在利害关系")
    # when one more member flags: 1 of 5 active is not more than a third
    flag(world, 1)
    assert world.refresh().extended_until is None
    flag(world, 2)
    assert world.refresh().extended_until is not None


def test_the_flag_is_a_declared_member_s_own_yes_or_no_while_the_committee_works(clock):
    world = room_world(clock=clock)
    m = world.member(1)
    assert refused(ev.time_insufficient_set, member=m, actor=m.user, value=True) == "declaration_required"
    declare_all(world)
    elect(world)
    assert refused(ev.time_insufficient_set, member=m, actor=m.user, value="yes") == "flag_invalid"
    assert refused(ev.time_insufficient_set, member=m, actor=world.member(2).user, value=True) == "not_member"
    assert refused(ev.time_insufficient_set, member=m, actor=world.host, value=True) == "not_member"


def test_no_flag_once_the_report_is_being_signed(clock):
    world = room_world(clock=clock)
    to_summary(world)
    ev.report_build(room=world.room, actor=chair_user(world))
    m = world.member(2)
    assert refused(ev.time_insufficient_set, member=m, actor=m.user, value=True) == "phase_invalid"


# --- the signing deadline and deemed agreement -------------------------------------------------------------


def built(clock, **kwargs):
    world = room_world(clock=clock, **kwargs)
    to_summary(world)
    report = ev.report_build(room=world.room, actor=chair_user(world))
    return world, report


def test_building_the_report_sets_its_body_digest_and_the_signing_deadline(clock):
    world, report = built(clock)
    assert report.body_sha256 == report.data_sha256 == documents.sign(report.data)[0]
    assert world.refresh().signing_due_at == clock() + dt.timedelta(hours=2)
    assert report.data["revision"] == 1 and report.data["supersedes"] is None


def test_the_signing_time_is_a_setting(clock, settings):
    settings.EXPERT_RULES = {"signing_hours": 5}
    world, _report = built(clock)
    assert world.refresh().signing_due_at == clock() + dt.timedelta(hours=5)


def test_members_who_have_not_signed_by_the_deadline_are_deemed_to_agree_and_the_report_is_final(clock):
    # given the report is built and seats 1 and 3 signed, seat 3 with a dissent
    world, report = built(clock)
    due = world.refresh().signing_due_at
    for seat, agrees, dissent in ((1, True, ""), (3, False, "第二名的商务评分依据不足。")):
        m = world.member(seat)
        ev.report_sign(member=m, actor=m.user, agrees=agrees, dissent=dissent)

    # when the tick runs before the deadline, nothing happens
    clock.set(due)
    assert ev.room_tick() == 0
    assert world.refresh().phase == "signing"

    # when it runs after the deadline
    clock.advance(minutes=1)
    assert ev.room_tick() == 1

    # then seats 2, 4 and 5 are deemed to agree, at the deadline, and the report is final
    report.refresh_from_db()
    deemed = ReportSignature.objects.filter(report=report, deemed=True).order_by("member__seat")
    assert [s.member.seat for s in deemed] == [2, 4, 5]
    assert all(s.agrees and s.dissent == "" and s.signed_at == due for s in deemed)
    assert all(s.data_sha256 == report.body_sha256 for s in deemed)
    assert report.finalized_at == clock()
    assert [(s["seat"], s["agrees"], s["deemed"]) for s in report.data["signatures"]] == [
        (1, True, False),
        (2, True, True),
        (3, False, False),
        (4, True, True),
        (5, True, True),
    ]
    assert documents.verify(report.data, report.platform_signature)
    room = world.refresh()
    assert room.phase == "closed" and room.closed_at == clock()
    entry = journal(world, "report_deemed_signed")[0]
    assert entry.payload["seats"] == [2, 4, 5] and entry.actor_label == "system"
    assert journal(world, "report_finalized")[0].payload["deemed"] == [2, 4, 5]
    assert Notification.objects.filter(kind="evaluation.report_deemed").count() == 3

    # and the PDF says who was deemed to agree
    with blob_open(report.pdf) as fh:
        assert fh.read(5) == b"%PDF-"
    text = "".join(
        pages(documents.report_pdf(report.data, signature=report.platform_signature, language="en"))
    )
    assert text.count("Deemed") == 3

    # and the tick is idempotent
    assert ev.room_tick() == 0
    assert ReportSignature.objects.filter(report=report).count() == 5


def test_after_the_deadline_a_member_can_no_longer_sign(clock):
    world, _report = built(clock)
    clock.advance(hours=2, minutes=1)
    m = world.member(2)
    assert (
        refused(ev.report_sign, member=m, actor=m.user, agrees=False, dissent="迟到的异议")
        == "signing_overdue"
    )


def test_the_tick_leaves_rooms_that_are_not_signing(clock):
    world = room_world(clock=clock)
    to_detailed(world)
    clock.advance(days=3)
    assert ev.room_tick() == 0
    assert world.refresh().phase == "detailed"


def test_a_tick_with_an_explicit_time(clock):
    world, _report = built(clock)
    assert ev.room_tick(now=clock() + dt.timedelta(hours=1)) == 0
    assert ev.room_tick(now=clock() + dt.timedelta(hours=3)) == 1
    assert world.refresh().phase == "closed"
