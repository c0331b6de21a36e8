"""The award part's services (DOMAIN A7–A9): the TB candidate publicity and its content, objections that
suspend and answers that resume, the award (rank 1 unless passed over with a ground and a reason), the
signed notices, the result announcement (GP: with the experts and the documents), the contract."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from archive.blobs import blob_open
from archive.journal import verify_all
from archive.models import JournalEntry
from bidding.models import Bid
from experts import documents
from experts import rules as xrules
from experts.models import (
    Award,
    EvaluationRoom,
    Publicity,
    PublicityObjection,
    Report,
    ReportRevision,
    ResultNotice,
)
from experts.selectors_award import award_deadlines, contracts_overdue
from experts.services import award as svc
from tests.bidding.opening_world import refused
from tests.experts.test_award_world import award_world, document_holder, publicity_over, second_lot
from tests.factories import AgencyUserFactory, BidderUserFactory, UserFactory
from trading.models import Announcement, AnnouncementKind, Lot, Notification, Regime, Role, TenderState
from trading.services.tenders import tender_suspend

pytestmark = pytest.mark.django_db


def actions(tender, prefix="experts.") -> list[str]:
    return list(
        JournalEntry.objects.filter(stream=tender.stream, action__startswith=prefix)
        .order_by("seq")
        .values_list("action", flat=True)
    )


def journal_of(tender, action: str) -> JournalEntry:
    return JournalEntry.objects.filter(stream=tender.stream, action=action).order_by("-seq").first()


@pytest.fixture
def world(clock):
    return award_world(clock)


@pytest.fixture
def published(world):
    svc.publicity_start(lot=world.lot, actor=world.agency)
    world.tender.refresh_from_db()
    return world


# --- publicity (A7) -----------------------------------------------------------------------------------


def test_the_candidates_are_published_with_the_content_the_law_requires(world, clock):
    publicity = svc.publicity_start(lot=world.lot, actor=world.agency)

    ann = publicity.announcement
    assert (ann.kind, ann.state, ann.lot_id) == (
        AnnouncementKind.CANDIDATES,
        Announcement.State.PUBLISHED,
        world.lot.pk,
    )
    assert [c["rank"] for c in publicity.candidates] == [1, 2, 3]
    first = publicity.candidates[0]
    bidder = world.bidder(0)
    assert first["bidder"] == bidder.entity.name and first["price"] == "4000000.00"
    # name, price, quality, duration, project manager and certificate, qualification response, channel
    body = ann.body_html
    for text in (
        bidder.entity.name,
        "4000000.00",
        "合格",
        "180",
        f"项目经理{bidder.user.pk}",
        f"桂1452000{bidder.user.pk:04d}",
        f"/experts/award/lots/{world.lot.pk}/objection/",
    ):
        assert text in body
    assert first["qualification"] == [
        {"criterion": "licence", "name": first["qualification"][0]["name"], "passed": 5, "of": 5},
        {"criterion": "record", "name": first["qualification"][1]["name"], "passed": 5, "of": 5},
    ]
    # the bidder that failed qualification is not a candidate
    assert world.bidder(3).entity.name not in body


def test_publicity_lasts_at_least_three_days_and_moves_the_tender_to_publicity(world, clock):
    publicity = svc.publicity_start(lot=world.lot, actor=world.agency)

    assert publicity.starts_at == clock()
    assert publicity.ends_at == xrules.publicity_ends(starts_at=clock())
    assert publicity.ends_at - publicity.starts_at >= dt.timedelta(days=3)
    assert publicity.announcement.open_until == publicity.ends_at
    world.tender.refresh_from_db()
    assert world.tender.state == TenderState.PUBLICITY
    entry = journal_of(world.tender, "experts.publicity_started")
    assert entry.payload["late"] is False and entry.payload["report_sha256"] == world.report.data_sha256


def test_a_publicity_more_than_three_days_after_the_report_is_published_and_recorded_late(world, clock):
    clock.advance(days=5)
    svc.publicity_start(lot=world.lot, actor=world.agency)

    entry = journal_of(world.tender, "experts.publicity_started")
    assert entry.payload["late"] is True and entry.payload["latest_start"]


def test_no_publicity_before_the_report_is_final(world):
    type(world.report).objects.filter(pk=world.report.pk).update(finalized_at=None)
    assert refused(svc.publicity_start, lot=world.lot, actor=world.agency) == "report_not_final"
    assert not Publicity.objects.exists()


def test_government_procurement_has_no_candidate_publicity(clock):
    world = award_world(clock, regime=Regime.GP)
    assert refused(svc.publicity_start, lot=world.lot, actor=world.agency) == "gp_no_publicity"


def test_only_the_tenders_managers_publish_and_only_once(world):
    assert refused(svc.publicity_start, lot=world.lot, actor=world.bidder(0).user) == "tender_not_yours"
    assert refused(svc.publicity_start, lot=world.lot, actor=AgencyUserFactory()) == "tender_not_yours"
    svc.publicity_start(lot=world.lot, actor=world.agency)
    assert refused(svc.publicity_start, lot=world.lot, actor=world.agency) == "publicity_exists"
    assert Announcement.objects.filter(kind=AnnouncementKind.CANDIDATES).count() == 1


# --- objections (条例54) --------------------------------------------------------------------------------


def test_an_objection_suspends_the_publicity_and_the_tender_until_answered(published, clock):
    world = published
    clock.advance(hours=5)
    objection = svc.objection_raise(
        publicity=world.lot.publicity, actor=world.bidder(3).user, text="第一名业绩造假"
    )

    world.tender.refresh_from_db()
    publicity = Publicity.objects.get(pk=world.lot.publicity.pk)
    assert publicity.state == Publicity.State.SUSPENDED
    assert (world.tender.state, world.tender.state_before_suspension) == (
        TenderState.SUSPENDED,
        TenderState.PUBLICITY,
    )
    assert objection.reply_due_at == xrules.objection_reply_due(raised_at=clock())
    assert objection.entity == world.bidder(3).entity
    assert Notification.objects.filter(entity=world.tender.agency, kind="experts.objection").exists()
    assert actions(world.tender)[-1] == "experts.objection_raised"
    assert journal_of(world.tender, "experts.objection_raised").payload["tender_suspended"] is True


def test_the_answer_resumes_the_publicity_extended_by_the_time_suspended(published, clock):
    world = published
    publicity = world.lot.publicity
    first_end = publicity.ends_at
    clock.advance(hours=5)
    objection = svc.objection_raise(publicity=publicity, actor=world.bidder(3).user, text="异议")
    clock.advance(hours=30)

    svc.objection_answer(objection=objection, actor=world.agency, answer="经核查，异议不成立。", upheld=False)

    publicity.refresh_from_db()
    world.tender.refresh_from_db()
    assert publicity.state == Publicity.State.OPEN
    assert publicity.ends_at == first_end + dt.timedelta(hours=30)
    assert Announcement.objects.get(pk=publicity.announcement_id).open_until == publicity.ends_at
    assert world.tender.state == TenderState.PUBLICITY
    assert Notification.objects.filter(
        entity=world.bidder(3).entity, kind="experts.objection_answered"
    ).exists()
    assert actions(world.tender)[-3:] == [
        "experts.objection_raised",
        "experts.objection_answered",
        "experts.publicity_resumed",
    ]


def test_the_process_stays_suspended_while_any_objection_is_open(published, clock):
    world = published
    publicity = world.lot.publicity
    first_end = publicity.ends_at
    clock.advance(hours=1)
    a = svc.objection_raise(publicity=publicity, actor=world.bidder(3).user, text="异议一")
    clock.advance(hours=2)
    b = svc.objection_raise(publicity=publicity, actor=world.bidder(2).user, text="异议二")
    clock.advance(hours=2)
    svc.objection_answer(objection=a, actor=world.agency, answer="不成立", upheld=False)

    publicity.refresh_from_db()
    world.tender.refresh_from_db()
    assert publicity.state == Publicity.State.SUSPENDED and world.tender.state == TenderState.SUSPENDED

    clock.advance(hours=4)
    svc.objection_answer(objection=b, actor=world.agency, answer="不成立", upheld=False)
    publicity.refresh_from_db()
    world.tender.refresh_from_db()
    # suspended from the first objection (t+1h) until the last answer (t+9h): 8 hours, counted once
    assert publicity.ends_at == first_end + dt.timedelta(hours=8)
    assert world.tender.state == TenderState.PUBLICITY


def test_a_holder_of_the_documents_may_object_but_an_outsider_may_not(published):
    world = published
    holder = document_holder(world)
    assert (
        svc.objection_raise(publicity=world.lot.publicity, actor=holder, text="异议").entity == holder.entity
    )

    outsider = BidderUserFactory()
    code = refused(svc.objection_raise, publicity=world.lot.publicity, actor=outsider, text="异议")
    assert code == "objection_not_interested_party"
    code = refused(svc.objection_raise, publicity=world.lot.publicity, actor=world.agency, text="异议")
    assert code == "objection_not_interested_party"


def test_an_objection_needs_its_text(published):
    world = published
    code = refused(svc.objection_raise, publicity=world.lot.publicity, actor=world.bidder(1).user, text="  ")
    assert code == "objection_text_required"
    assert not PublicityObjection.objects.exists()


def test_no_objection_after_the_publicity_period(published, clock):
    world = published
    publicity_over(world, clock)
    code = refused(
        svc.objection_raise, publicity=world.lot.publicity, actor=world.bidder(1).user, text="迟到的异议"
    )
    assert code == "objection_window_closed"
    world.tender.refresh_from_db()
    assert world.tender.state == TenderState.PUBLICITY


def test_an_objection_is_answered_once_by_the_tenders_managers(published):
    world = published
    objection = svc.objection_raise(publicity=world.lot.publicity, actor=world.bidder(3).user, text="异议")
    code = refused(
        svc.objection_answer, objection=objection, actor=world.bidder(0).user, answer="x", upheld=False
    )
    assert code == "tender_not_yours"
    assert refused(
        svc.objection_answer, objection=objection, actor=world.agency, answer=" ", upheld=False
    ) == ("answer_required")
    svc.objection_answer(objection=objection, actor=world.agency, answer="不成立", upheld=False)
    code = refused(svc.objection_answer, objection=objection, actor=world.agency, answer="again", upheld=True)
    assert code == "objection_already_answered"


def test_a_late_answer_is_recorded_late(published, clock):
    world = published
    objection = svc.objection_raise(publicity=world.lot.publicity, actor=world.bidder(3).user, text="异议")
    clock.set(objection.reply_due_at + dt.timedelta(minutes=1))
    svc.objection_answer(objection=objection, actor=world.agency, answer="迟复", upheld=False)
    assert journal_of(world.tender, "experts.objection_answered").payload["late"] is True


def test_an_upheld_objection_that_changes_the_result_sends_the_lot_back_to_the_committee(published, clock):
    world = published
    objection = svc.objection_raise(
        publicity=world.lot.publicity, actor=world.bidder(3).user, text="第一名资格不符"
    )
    code = refused(
        svc.objection_answer,
        objection=objection,
        actor=world.agency,
        answer="x",
        upheld=False,
        reevaluate=True,
    )
    assert code == "reevaluate_requires_upheld"

    svc.objection_answer(
        objection=objection, actor=world.agency, answer="异议成立，重新评审。", upheld=True, reevaluate=True
    )

    publicity = Publicity.objects.get(pk=world.lot.publicity.pk)
    world.tender.refresh_from_db()
    assert publicity.state == Publicity.State.ENDED and svc.publicity_voided(publicity)
    assert publicity.announcement.state == Announcement.State.WITHDRAWN
    assert world.tender.state == TenderState.EVALUATION
    changes = [
        e.payload["to"]
        for e in JournalEntry.objects.filter(
            stream=world.tender.stream, action="tender.state_changed"
        ).order_by("seq")
    ]
    assert changes[-3:] == [TenderState.SUSPENDED, TenderState.PUBLICITY, TenderState.EVALUATION]
    assert actions(world.tender)[-3:] == [
        "experts.objection_answered",
        "experts.publicity_voided",
        "experts.room_reevaluation",
    ]
    # the room re-opened at detailed scoring; the signed report is kept as revision 1
    old_data, old_sha = world.report.data, world.report.data_sha256
    report = Report.objects.get(pk=world.report.pk)
    room = EvaluationRoom.objects.get(pk=report.room_id)
    assert (report.revision, report.finalized_at, room.phase) == (2, None, EvaluationRoom.Phase.DETAILED)
    kept = ReportRevision.objects.get(room=room)
    assert (kept.revision, kept.data_sha256, kept.data) == (1, old_sha, old_data)
    assert "异议成立，重新评审。" in kept.reason
    # no award and no new publicity until the committee signs again
    publicity_over(world, clock)
    assert refused(svc.award_decide, lot=world.lot, actor=world.agency) == "report_not_final"
    assert refused(svc.publicity_start, lot=world.lot, actor=world.agency) == "report_not_final"
    # a report finalized before the voiding is not the re-evaluated one
    Report.objects.filter(pk=report.pk).update(data=old_data, finalized_at=world.report.finalized_at)
    assert refused(svc.publicity_start, lot=world.lot, actor=world.agency) == "report_not_reevaluated"

    Report.objects.filter(pk=report.pk).update(finalized_at=timezone.now())
    again = svc.publicity_start(lot=world.lot, actor=world.agency)
    world.tender.refresh_from_db()
    assert again.pk == publicity.pk and again.state == Publicity.State.OPEN
    assert again.announcement_id != publicity.announcement_id
    assert Announcement.objects.get(pk=publicity.announcement_id).state == Announcement.State.WITHDRAWN
    assert world.tender.state == TenderState.PUBLICITY


def test_a_regulators_suspension_is_not_lifted_by_answering_an_objection(published):
    world = published
    tender_suspend(tender=world.tender, actor=world.regulator, reason="投诉处理中")
    objection = svc.objection_raise(publicity=world.lot.publicity, actor=world.bidder(3).user, text="异议")
    assert journal_of(world.tender, "experts.objection_raised").payload["tender_suspended"] is False

    svc.objection_answer(objection=objection, actor=world.agency, answer="不成立", upheld=False)

    world.tender.refresh_from_db()
    assert world.tender.state == TenderState.SUSPENDED
    assert Publicity.objects.get(pk=world.lot.publicity.pk).state == Publicity.State.OPEN


# --- the award (TB) ------------------------------------------------------------------------------------


def test_no_award_before_the_publicity_ends(published):
    world = published
    assert refused(svc.award_decide, lot=world.lot, actor=world.agency) == "publicity_not_ended"
    assert not Award.objects.exists()


def test_no_award_without_publicity_in_the_bidding_law_regime(world, clock):
    clock.advance(days=10)
    assert refused(svc.award_decide, lot=world.lot, actor=world.agency) == "publicity_required"


def test_no_award_while_an_objection_is_open(published, clock):
    world = published
    svc.objection_raise(publicity=world.lot.publicity, actor=world.bidder(3).user, text="异议")
    publicity_over(world, clock)
    clock.advance(days=5)
    # the tender is suspended: nothing is decided until it resumes
    assert refused(svc.award_decide, lot=world.lot, actor=world.agency) == "tender_suspended"


def test_the_award_sends_signed_notices_to_the_winner_and_every_other_opened_bid(published, clock):
    world = published
    # bidder 3's bid did not open (the bidder's fault): it was never a valid bid and gets no notice
    Bid.objects.filter(lot=world.lot, entity=world.bidder(3).entity).update(
        decryption=Bid.Decryption.FAILED_BIDDER
    )
    publicity_over(world, clock)

    award = svc.award_decide(lot=world.lot, actor=world.agency)

    winner = world.bidder(0)
    assert (award.winner, award.rank, award.amount) == (winner.entity, 1, Decimal("4000000.00"))
    assert award.notice["kind"] == "award_notice" and award.notice["winner"]["uscc"] == winner.entity.uscc
    assert documents.verify(award.notice, award.notice_signature)
    assert blob_open(award.notice_pdf).read().startswith(b"%PDF")
    tampered = {**award.notice, "amount": "1.00"}
    assert not documents.verify(tampered, award.notice_signature)

    notices = list(ResultNotice.objects.filter(award=award).order_by("pk"))
    assert [n.entity for n in notices] == [world.bidder(1).entity, world.bidder(2).entity]
    for n in notices:
        assert n.data["kind"] == "result_notice" and n.data["winner"]["name"] == winner.entity.name
        assert n.data["bidder"]["uscc"] == n.entity.uscc
        assert documents.verify(n.data, n.signature)
        assert blob_open(n.pdf).read().startswith(b"%PDF")
    assert Notification.objects.filter(entity=winner.entity, kind="experts.award_notice").count() == 1
    assert Notification.objects.filter(kind="experts.result_notice").count() == 2


def test_the_award_closes_the_lot_and_the_tender_and_sets_the_deadlines(published, clock):
    world = published
    publicity_over(world, clock)

    award = svc.award_decide(lot=world.lot, actor=world.agency)

    lot = Lot.objects.get(pk=world.lot.pk)
    assert (lot.status, lot.awarded_to, lot.award_amount, lot.awarded_at) == (
        Lot.Status.AWARDED,
        world.bidder(0).entity,
        Decimal("4000000.00"),
        clock(),
    )
    today = timezone.localdate(clock())
    assert award.contract_due_on == xrules.contract_due(awarded_on=today)
    assert award.report_due_on == xrules.supervisor_report_due(awarded_on=today)
    world.tender.refresh_from_db()
    assert world.tender.state == TenderState.AWARDED
    assert Publicity.objects.get(lot=world.lot).state == Publicity.State.ENDED
    result = award.announcement
    assert (result.kind, result.state) == (AnnouncementKind.RESULT, Announcement.State.PUBLISHED)
    # TB: the experts' names are not part of the result announcement
    assert "王评审" not in result.body_html
    assert actions(world.tender)[-3:] == [
        "experts.award_decided",
        "experts.result_notices_sent",
        "experts.result_announced",
    ]
    assert verify_all() == []


def test_a_lot_is_awarded_once(published, clock):
    world = published
    publicity_over(world, clock)
    svc.award_decide(lot=world.lot, actor=world.agency)
    assert refused(svc.award_decide, lot=world.lot, actor=world.agency) == "lot_not_active"


def test_the_first_candidate_wins_a_state_funded_tender_unless_passed_over_with_a_ground_and_reason(
    published, clock
):
    world = published
    publicity_over(world, clock)
    assert refused(svc.award_decide, lot=world.lot, actor=world.agency, rank=2) == "pass_over_ground_required"
    code = refused(svc.award_decide, lot=world.lot, actor=world.agency, rank=2, ground="declined")
    assert code == "award_reason_required"
    assert refused(svc.award_decide, lot=world.lot, actor=world.agency, rank=4) == "rank_not_candidate"
    assert not Award.objects.exists()

    award = svc.award_decide(
        lot=world.lot, actor=world.agency, rank=2, ground="declined", reason="第一中标候选人书面放弃中标。"
    )

    assert (award.winner, award.rank, award.reason) == (
        world.bidder(1).entity,
        2,
        "第一中标候选人书面放弃中标。",
    )
    assert journal_of(world.tender, "experts.award_decided").payload["ground"] == "declined"
    # the first candidate is told the result like every other bidder
    assert ResultNotice.objects.filter(award=award, entity=world.bidder(0).entity).exists()


def test_a_privately_funded_tenderee_chooses_among_the_candidates(clock):
    world = award_world(clock, state_funded=False)
    svc.publicity_start(lot=world.lot, actor=world.agency)
    publicity_over(world, clock)
    award = svc.award_decide(lot=world.lot, actor=world.agency, rank=3)
    assert award.winner == world.bidder(2).entity


def test_the_live_draw_is_revealed_when_the_result_is_decided(published, clock, monkeypatch):
    from experts.models import Draw
    from experts.services import draw as draws

    world = published
    draw = world.report.room.draw
    Draw.objects.filter(pk=draw.pk).update(state=Draw.State.DRAWN, seed="", revealed_at=None)
    seen = []
    monkeypatch.setattr(draws, "draw_reveal", lambda *, draw, actor=None: seen.append((draw.pk, actor)))
    publicity_over(world, clock)

    svc.award_decide(lot=world.lot, actor=world.agency)

    assert seen == [(draw.pk, world.agency)]


# --- the award (GP) ------------------------------------------------------------------------------------


def test_gp_awards_straight_after_the_report_and_announces_the_experts_and_documents(clock):
    world = award_world(clock, regime=Regime.GP, documents=True)

    award = svc.award_decide(lot=world.lot, actor=world.agency)

    assert not Publicity.objects.exists()
    world.tender.refresh_from_db()
    assert world.tender.state == TenderState.AWARDED
    body = award.announcement.body_html
    for name in ("王评审", "李评审", "赵评审", "钱评审", "孙评审"):
        assert name in body
    assert "/files/" in body and "招标文件.pdf" in body
    assert award.announcement.open_until is not None and award.announcement.open_until > clock()
    entry = journal_of(world.tender, "experts.result_announced")
    assert entry.payload["experts_listed"] is True
    assert dt.datetime.fromisoformat(entry.payload["due_at"].replace("Z", "+00:00")) == xrules.gp_result_due(
        decided_at=clock()
    )


def test_gp_result_notices_tell_a_failed_bidder_why(clock):
    world = award_world(clock, regime=Regime.GP)
    award = svc.award_decide(lot=world.lot, actor=world.agency)
    failed = ResultNotice.objects.get(award=award, entity=world.bidder(3).entity)
    assert failed.data["bidder"]["reason"]
    second = ResultNotice.objects.get(award=award, entity=world.bidder(1).entity)
    assert second.data["bidder"]["rank"] == 2


def test_gp_also_awards_in_the_committees_order(clock):
    world = award_world(clock, regime=Regime.GP)
    assert refused(svc.award_decide, lot=world.lot, actor=world.agency, rank=2) == "pass_over_ground_required"


# --- several lots --------------------------------------------------------------------------------------


def test_the_tender_enters_publicity_with_its_first_lot_and_is_awarded_with_its_last(world, clock):
    lot2, _report2 = second_lot(world, clock)
    svc.publicity_start(lot=world.lot, actor=world.agency)
    world.tender.refresh_from_db()
    assert world.tender.state == TenderState.PUBLICITY

    svc.publicity_start(lot=lot2, actor=world.agency)
    publicity_over(world, clock)
    svc.award_decide(lot=world.lot, actor=world.agency)
    world.tender.refresh_from_db()
    assert world.tender.state == TenderState.PUBLICITY

    svc.award_decide(lot=lot2, actor=world.agency)
    world.tender.refresh_from_db()
    assert world.tender.state == TenderState.AWARDED


def test_an_objection_on_one_lot_holds_the_award_of_the_other(world, clock):
    lot2, _report2 = second_lot(world, clock)
    svc.publicity_start(lot=world.lot, actor=world.agency)
    svc.publicity_start(lot=lot2, actor=world.agency)
    clock.advance(days=1)
    objection = svc.objection_raise(publicity=lot2.publicity, actor=world.bidder(3).user, text="异议")
    publicity_over(world, clock)
    assert refused(svc.award_decide, lot=world.lot, actor=world.agency) == "tender_suspended"

    svc.objection_answer(objection=objection, actor=world.agency, answer="不成立", upheld=False)
    assert Publicity.objects.get(lot=world.lot).state == Publicity.State.OPEN
    svc.award_decide(lot=world.lot, actor=world.agency)
    # lot 2's own period was extended by its suspension: it is still running
    assert refused(svc.award_decide, lot=lot2, actor=world.agency) == "publicity_not_ended"


# --- the contract (A9) ---------------------------------------------------------------------------------


@pytest.fixture
def awarded(published, clock):
    publicity_over(published, clock)
    return svc.award_decide(lot=published.lot, actor=published.agency)


def test_the_contract_is_recorded_with_the_awarded_price(published, awarded, clock):
    world = published
    clock.advance(days=10)
    today = timezone.localdate(clock())
    code = refused(
        svc.contract_record, award=awarded, actor=world.agency, signed_on=today, amount="3990000.00"
    )
    assert code == "contract_amount_differs"
    code = refused(
        svc.contract_record,
        award=awarded,
        actor=world.agency,
        signed_on=today - dt.timedelta(days=30),
        amount="4000000.00",
    )
    assert code == "contract_before_award"
    code = refused(
        svc.contract_record,
        award=awarded,
        actor=world.agency,
        signed_on=today + dt.timedelta(days=1),
        amount="4000000",
    )
    assert code == "contract_date_future"
    assert refused(svc.contract_record, award=awarded, actor=world.agency, signed_on=today, amount="abc") == (
        "contract_amount_invalid"
    )
    assert refused(
        svc.contract_record, award=awarded, actor=world.bidder(0).user, signed_on=today, amount="1"
    ) == ("tender_not_yours")

    award = svc.contract_record(award=awarded, actor=world.agency, signed_on=today, amount="4000000")

    assert (award.contract_signed_on, award.contract_amount) == (today, Decimal("4000000.00"))
    assert journal_of(world.tender, "experts.contract_recorded").payload["late"] is False
    code = refused(svc.contract_record, award=award, actor=world.agency, signed_on=today, amount="4000000")
    assert code == "contract_already_recorded"


def test_a_late_contract_is_flagged_and_listed_overdue_until_recorded(published, awarded, clock):
    world = published
    assert list(contracts_overdue(clock())) == []
    clock.set(
        timezone.make_aware(dt.datetime.combine(awarded.contract_due_on + dt.timedelta(days=2), dt.time(10)))
    )
    assert list(contracts_overdue(clock())) == [awarded]

    svc.contract_record(
        award=awarded, actor=world.agency, signed_on=timezone.localdate(clock()), amount="4000000.00"
    )

    assert journal_of(world.tender, "experts.contract_recorded").payload["late"] is True
    assert list(contracts_overdue(clock())) == []


def test_the_workbench_lists_near_and_passed_deadlines_of_the_users_own_tenders(published, awarded, clock):
    world = published
    assert award_deadlines(user=world.agency, now=clock()) == []
    # a week before the supervisor report is due it appears; the contract follows later
    clock.set(
        timezone.make_aware(dt.datetime.combine(awarded.report_due_on - dt.timedelta(days=7), dt.time(9)))
    )
    rows = award_deadlines(user=world.agency, now=clock())
    assert [(r["kind"], r["overdue"]) for r in rows] == [("report", False)]

    clock.set(
        timezone.make_aware(dt.datetime.combine(awarded.contract_due_on + dt.timedelta(days=1), dt.time(9)))
    )
    rows = award_deadlines(user=world.agency, now=clock())
    # the report is not filed: it stays listed, late, with the late contract
    late_by = (timezone.localdate(clock()) - awarded.report_due_on).days
    assert [(r["kind"], r["overdue"], r["days_left"]) for r in rows] == [
        ("report", True, -late_by),
        ("contract", True, -1),
    ]
    svc.supervisor_report_record(award=awarded, actor=world.agency, filed_on=timezone.localdate(clock()))
    rows = award_deadlines(user=world.agency, now=clock())
    assert [(r["kind"], r["overdue"], r["days_left"]) for r in rows] == [("contract", True, -1)]
    assert award_deadlines(user=UserFactory(role=Role.REGULATOR), now=clock()) == rows
    assert award_deadlines(user=AgencyUserFactory(), now=clock()) == []
