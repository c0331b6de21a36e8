"""The evaluation report (DOMAIN C8, C9) and reading the decrypted bids in the room: computed with
experts.rules, signed by the platform, signed by every member with agreement or a written dissent,
printed to PDF; bid documents decrypted again and journalled with the reader's evidence."""

from __future__ import annotations

from decimal import Decimal

import pytest

from archive.blobs import blob_open
from archive.models import JournalEntry
from experts import documents
from experts.models import ReportSignature
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
    to_summary,
)
from trading.models import ActivityEvidence, EvaluationMethod

pytestmark = pytest.mark.django_db

BETTER_TECH = {(seat, 2, "tech"): "38" for seat in range(1, 6)}


def built(clock, **kwargs):
    world = room_world(clock=clock, **kwargs)
    to_summary(world, BETTER_TECH)
    report = ev.report_build(room=world.room, actor=chair_user(world))
    return world, report


def test_the_report_computes_price_scores_totals_ranks_and_candidates(clock):
    world, report = built(clock)
    data = report.data
    by_bid = {b["bid"]: b for b in data["bids"]}
    first, second, third = (by_bid[str(b.pk)] for b in world.bids)
    # price: base = lowest evaluated price; score = base / price × 40 (87号令55)
    assert (first["price_score"], second["price_score"], third["price_score"]) == ("40.00", "39.90", "39.80")
    assert third["scores"]["tech"] == {"by_seat": {str(s): "38.00" for s in range(1, 6)}, "average": "38.00"}
    # totals = Σ averages + price score; the best total ranks first
    assert (first["total"], second["total"], third["total"]) == ("90.00", "89.90", "97.80")
    assert (third["rank"], first["rank"], second["rank"]) == (1, 2, 3)
    assert [c["bid"] for c in data["candidates"]] == [third["bid"], first["bid"], second["bid"]]
    assert data["price_base"] == "4000000.00" and data["price_points"] == "40"
    assert [c["code"] for c in data["criteria"]] == ["tech", "biz"]
    assert [m["seat"] for m in data["members"]] == [1, 2, 3, 4, 5] and data["members"][0]["chair"]
    assert documents.verify(data, report.platform_signature)
    assert world.refresh().phase == "signing"


def test_a_bid_rejected_in_review_is_listed_with_the_seats_and_reasons_and_not_ranked(clock):
    world = room_world(clock=clock)
    declare_all(world)
    elect(world)
    review_all(world, "qualification", fail={(1, "credit"): (1, 2, 4)})
    complete(world)
    review_all(world, "preliminary")
    complete(world)
    score_all(world)
    complete(world)
    report = ev.report_build(room=world.room, actor=chair_user(world))
    rejected = next(b for b in report.data["bids"] if b["bid"] == str(world.bids[1].pk))
    assert rejected["qualified"] is False and rejected["rank"] is None and rejected["total"] is None
    assert rejected["rejections"] == [
        {
            "stage": "qualification",
            "criterion": "credit",
            "seats": [1, 2, 4],
            "reasons": ["不满足招标文件要求"] * 3,
        }
    ]
    assert len(report.data["candidates"]) == 2


def test_the_lowest_price_method_ranks_by_evaluated_price(clock):
    world = room_world(
        clock=clock,
        prices=("4020000.00", "4000000.00", "4010000.00"),
        lot_fields={
            "evaluation_method": EvaluationMethod.LOWEST_PRICE,
            "evaluation": {"criteria": [], "price_formula": {"kind": "lowest"}},
        },
    )
    to_summary(world)
    data = ev.report_build(room=world.room, actor=chair_user(world)).data
    assert data["method"] == "lowest_price"
    assert [c["price"] for c in data["candidates"]] == ["4000000.00", "4010000.00", "4020000.00"]
    assert all(b["total"] is None for b in data["bids"])


def test_only_the_chair_draws_up_the_report_in_the_summary_once(clock):
    world = room_world(clock=clock)
    to_summary(world)
    member = world.member(2)
    assert refused(ev.report_build, room=world.room, actor=member.user) == "chair_only"
    ev.report_build(room=world.room, actor=chair_user(world))
    assert refused(ev.report_build, room=world.room, actor=chair_user(world)) == "phase_invalid"


def test_the_report_waits_for_the_summary(clock):
    world = room_world(clock=clock)
    declare_all(world)
    elect(world)
    assert refused(ev.report_build, room=world.room, actor=chair_user(world)) == "phase_invalid"


def test_a_dissent_needs_written_reasons_and_an_agreement_has_none(clock):
    world, _report = built(clock)
    m = world.member(2)
    assert refused(ev.report_sign, member=m, actor=m.user, agrees=False, dissent="") == "dissent_required"
    assert refused(ev.report_sign, member=m, actor=m.user, agrees=True, dissent="不同意") == (
        "dissent_requires_disagreement"
    )
    assert refused(ev.report_sign, member=m, actor=world.member(3).user, agrees=True) == "not_member"
    ev.report_sign(member=m, actor=m.user, agrees=True)
    assert refused(ev.report_sign, member=m, actor=m.user, agrees=True) == "already_signed"


def test_when_every_member_has_signed_the_report_is_final_with_its_pdf_and_the_room_closes(clock):
    # given the report is drawn up
    world, report = built(clock)
    body = report.data_sha256

    # when four members agree and seat 3 signs with a dissent
    for m in world.active():
        if m.seat == 3:
            ev.report_sign(member=m, actor=m.user, agrees=False, dissent="我认为第三名的技术方案评分偏高。")
        else:
            ev.report_sign(member=m, actor=m.user, agrees=True)

    # then the report is final: signatures in its data, signed again, printed and stored
    report.refresh_from_db()
    assert report.finalized_at == clock()
    assert report.data["body_sha256"] == body
    assert [(s["seat"], s["agrees"]) for s in report.data["signatures"]] == [
        (1, True),
        (2, True),
        (3, False),
        (4, True),
        (5, True),
    ]
    assert report.data["signatures"][2]["dissent"] == "我认为第三名的技术方案评分偏高。"
    assert documents.verify(report.data, report.platform_signature)
    assert set(ReportSignature.objects.filter(report=report).values_list("data_sha256", flat=True)) == {body}
    with blob_open(report.pdf) as fh:
        assert fh.read(5) == b"%PDF-"
    room = world.refresh()
    assert room.phase == "closed" and room.closed_at == clock()
    final = JournalEntry.objects.get(stream=world.tender.stream, action="experts.report_finalized")
    assert final.payload["pdf_sha256"] == report.pdf.sha256


def test_signing_waits_for_the_report(clock):
    world = room_world(clock=clock)
    to_summary(world)
    m = world.member(1)
    assert refused(ev.report_sign, member=m, actor=m.user, agrees=True) == "phase_invalid"


# --- reading the bids ------------------------------------------------------------------------------------


def test_a_member_downloads_a_bid_document_decrypted_again_and_the_reading_is_journalled(clock):
    world = room_world(clock=clock)
    declare_all(world)
    m = world.member(2)
    bid = world.bids[1]

    document = ev.bid_document_open(room=world.room, bid_id=bid.pk, actor=m.user)

    assert document.file.read() == b"%PDF-1.7 tender"
    assert (document.name, document.content_type) == ("投标文件.pdf", "application/pdf")
    evidence = ActivityEvidence.objects.get(action="download", user=m.user)
    assert evidence.file_meta["bid"] == str(bid.pk) and evidence.file_sha256 == document.sha256
    entry = JournalEntry.objects.get(stream=world.tender.stream, action="experts.bid_document_read")
    assert entry.payload["evidence"] == evidence.pk and entry.payload["seat"] == 2


def test_bids_are_read_only_by_declared_members(clock):
    world = room_world(clock=clock)
    m = world.member(1)
    bid = world.bids[0]
    assert (
        refused(ev.bid_document_open, room=world.room, bid_id=bid.pk, actor=m.user) == "declaration_required"
    )
    assert (
        refused(ev.bid_document_open, room=world.room, bid_id=bid.pk, actor=world.bidders[0].user)
        == "not_member"
    )
    declare_all(world)
    assert refused(ev.bid_document_open, room=world.room, bid_id="0" * 32, actor=m.user) == "bid_not_found"
    assert not ActivityEvidence.objects.filter(action="download").exists()


def test_a_tampered_ciphertext_is_never_served(clock):
    world = room_world(clock=clock)
    declare_all(world)
    bid = world.bids[0]
    bid.content_key = bid.content_key[:-2] + ("AA" if not bid.content_key.endswith("AA") else "BA")
    bid.save(update_fields=["content_key"])
    m = world.member(1)
    code = refused(ev.bid_document_open, room=world.room, bid_id=bid.pk, actor=m.user)
    assert code.startswith("envelope_")
    assert not JournalEntry.objects.filter(action="experts.bid_document_read").exists()


def test_scores_in_the_report_use_only_active_members(clock):
    # given seat 5 recused before scoring and no reserve was left
    world = room_world(clock=clock, reserves=0)
    declare_all(world)
    fifth = world.member(5)
    ev.member_declare(member=fifth, actor=fifth.user, recuse=True, reason="与投标人有亲属关系")
    elect(world)
    review_all(world, "qualification")
    complete(world)
    review_all(world, "preliminary")
    complete(world)
    score_all(world)
    complete(world)
    data = ev.report_build(room=world.room, actor=chair_user(world)).data
    assert [m["seat"] for m in data["members"]] == [1, 2, 3, 4]
    assert data["recusals"][0]["seat"] == 5
    assert set(data["bids"][0]["scores"]["tech"]["by_seat"]) == {"1", "2", "3", "4"}
    assert Decimal(data["bids"][0]["total"]) == Decimal("90.00")
