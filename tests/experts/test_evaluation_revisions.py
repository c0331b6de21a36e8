"""Re-evaluation after an upheld objection (条例54/71): the final report is kept whole as a revision,
the room reopens at detailed scoring, and the committee builds and signs report revision 2."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from archive.blobs import blob_open
from archive.models import JournalEntry
from experts import documents
from experts.models import Award, Report, ReportRevision, ReportSignature
from experts.selectors_evaluation import room_access, room_state
from experts.services import evaluation as ev
from tests.bidding.opening_world import refused
from tests.experts.room_world import chair_user, complete, room_world, to_summary
from tests.factories import AgencyUserFactory, BidderUserFactory
from trading.models import Notification

pytestmark = pytest.mark.django_db

REASON = "异议成立：第一中标候选人的项目经理有在建项目，评标委员会应重新评审。"


def signed_world(clock, *, dissent_seat=None):
    world = room_world(clock=clock)
    to_summary(world)
    ev.report_build(room=world.room, actor=chair_user(world))
    for m in world.active():
        if m.seat == dissent_seat:
            ev.report_sign(member=m, actor=m.user, agrees=False, dissent="我不同意第一名的技术评分。")
        else:
            ev.report_sign(member=m, actor=m.user, agrees=True)
    return world, Report.objects.get(room=world.room)


def test_a_final_report_is_superseded_and_the_room_reopens_at_detailed_scoring(clock):
    # given a final report, seat 2 dissenting
    world, report = signed_world(clock, dissent_seat=2)
    final = (report.data, report.data_sha256, report.platform_signature, report.pdf_id, report.finalized_at)
    agency = AgencyUserFactory(entity=world.tender.agency)
    clock.advance(days=2)

    # when the tender's agency sends the lot back to the committee
    room = ev.room_reevaluate(room=world.room, actor=agency, reason=REASON)

    # then the final report is kept whole as revision 1, with when and why it was superseded
    revision = ReportRevision.objects.get(room=room)
    assert revision.revision == 1
    assert (
        revision.data,
        revision.data_sha256,
        revision.platform_signature,
        revision.pdf_id,
        revision.finalized_at,
    ) == final
    assert revision.superseded_at == clock() and revision.reason == REASON
    assert [s["seat"] for s in revision.data["signatures"] if not s["agrees"]] == [2]
    assert documents.verify(revision.data, revision.platform_signature)

    # and the report is emptied for revision 2, its signatures deleted (kept in the revision's data)
    report.refresh_from_db()
    assert report.revision == 2 and report.finalized_at is None and report.pdf is None
    assert (report.data, report.data_sha256, report.body_sha256, report.platform_signature) == (
        {},
        "",
        "",
        "",
    )
    assert not ReportSignature.objects.filter(report=report).exists()

    # and the room is open again at detailed scoring, with the same chair
    room = world.refresh()
    assert room.phase == "detailed" and room.closed_at is None and room.signing_due_at is None
    assert room.chair.seat == 1
    entry = JournalEntry.objects.get(stream=world.tender.stream, action="experts.room_reevaluation")
    assert entry.payload["superseded"] == 1 and entry.payload["revision"] == 2
    assert entry.payload["reason"] == REASON and entry.payload["data_sha256"] == final[1]
    assert Notification.objects.filter(kind="evaluation.reevaluation").count() == 5


def test_the_committee_corrects_builds_and_signs_revision_two(clock):
    world, first = signed_world(clock)
    first_sha = first.data_sha256
    ev.room_reevaluate(room=world.room, actor=world.host, reason=REASON)

    # when the committee changes what the objection showed and closes the scoring again
    for m in world.active():
        ev.score_submit(member=m, actor=m.user, bid=world.bids[0], criterion="tech", value="20")
    complete(world)
    report = ev.report_build(room=world.room, actor=chair_user(world))

    # then the new report is revision 2, says what it supersedes, and is signed as before
    assert report.data["revision"] == 2
    assert report.data["supersedes"]["revision"] == 1
    assert report.data["supersedes"]["data_sha256"] == first_sha
    assert report.data["supersedes"]["reason"] == REASON
    assert report.body_sha256 == report.data_sha256 and report.body_sha256 != first_sha
    assert world.refresh().signing_due_at == clock() + dt.timedelta(hours=2)
    by_bid = {b["bid"]: b for b in report.data["bids"]}
    assert by_bid[str(world.bids[0].pk)]["scores"]["tech"]["average"] == "20.00"
    assert report.data["corrections"] == []  # scored again at detailed scoring, not corrected
    for m in world.active():
        ev.report_sign(member=m, actor=m.user, agrees=True)
    report.refresh_from_db()
    assert report.finalized_at == clock() and report.revision == 2
    assert report.data["revision"] == 2 and len(report.data["signatures"]) == 5
    assert Decimal(by_bid[str(world.bids[0].pk)]["total"]) < Decimal("90")
    with blob_open(report.pdf) as fh:
        assert fh.read(5) == b"%PDF-"
    assert world.refresh().phase == "closed"
    assert ReportRevision.objects.filter(room=world.room).count() == 1


def test_only_a_final_report_is_re_evaluated(clock):
    world = room_world(clock=clock)
    to_summary(world)
    assert refused(ev.room_reevaluate, room=world.room, actor=world.host, reason=REASON) == "report_not_final"
    ev.report_build(room=world.room, actor=chair_user(world))
    assert refused(ev.room_reevaluate, room=world.room, actor=world.host, reason=REASON) == "report_not_final"
    for m in world.active():
        ev.report_sign(member=m, actor=m.user, agrees=True)
    ev.room_reevaluate(room=world.room, actor=world.host, reason=REASON)
    # the reopened room has no final report until revision 2 is signed
    assert refused(ev.room_reevaluate, room=world.room, actor=world.host, reason=REASON) == "report_not_final"
    assert ReportRevision.objects.count() == 1


def test_only_the_centre_or_those_managing_the_tender_re_evaluate_with_a_reason(clock):
    world, report = signed_world(clock)
    member = world.member(1)
    bidder = BidderUserFactory(entity=world.bidders[0].entity)
    assert (
        refused(ev.room_reevaluate, room=world.room, actor=member.user, reason=REASON) == "tender_not_yours"
    )
    assert refused(ev.room_reevaluate, room=world.room, actor=bidder, reason=REASON) == "tender_not_yours"
    assert refused(ev.room_reevaluate, room=world.room, actor=world.host, reason=" ") == "reason_required"
    report.refresh_from_db()
    assert report.revision == 1 and report.finalized_at is not None


def test_an_awarded_lot_is_not_re_evaluated(clock):
    world, report = signed_world(clock)
    bid = world.bids[0]
    Award.objects.create(
        lot=world.lot,
        report=report,
        winner=bid.entity,
        bid=bid,
        amount=Decimal("4000000.00"),
        decided_by=world.host,
        decided_at=clock(),
        contract_due_on=clock().date(),
        report_due_on=clock().date(),
    )
    assert refused(ev.room_reevaluate, room=world.room, actor=world.host, reason=REASON) == "lot_awarded"
    assert not ReportRevision.objects.exists()


def test_the_room_shows_the_superseded_report_and_its_pdf(clock):
    world, _report = signed_world(clock)
    ev.room_reevaluate(room=world.room, actor=world.host, reason=REASON)
    member = world.member(3)
    state = room_state(viewer=room_access(user=member.user, lot=world.lot))
    assert state["report"] is None and state["room"]["phase"] == "detailed"
    assert [(r["revision"], r["reason"]) for r in state["revisions"]] == [(1, REASON)]
    url = state["revisions"][0]["pdf_url"]
    assert url == reverse("experts:evaluation-revision-pdf", args=[world.lot.pk, 1])
    client = Client()
    client.force_login(member.user)
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    assert client.get(reverse("experts:evaluation-revision-pdf", args=[world.lot.pk, 2])).status_code == 404
    stranger = BidderUserFactory(entity=world.bidders[0].entity)
    client.force_login(stranger)
    assert client.get(url).status_code == 403
