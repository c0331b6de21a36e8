"""The award tests' world (no tests here): a tender whose lot was opened and evaluated, with a finalized
evaluation report, built as rows so the award part is tested on its own.

The bids are really sealed (tests/bidding/opening_world.py) and then marked decrypted with their forms,
as the opening would leave them; the draw, the room, its members, their qualification verdicts and the
signed report are created as the room part stores them. tests/experts/test_end_to_end.py runs the
same story through every service instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from bidding.models import Bid
from core.canonical import digest
from experts.models import Draw, EvaluationRoom, Member, Report, Review
from tests.bidding.opening_world import DEADLINE, Bidder, hall_world, seal_bid
from tests.factories import LotFactory, UserFactory
from trading.models import AnnouncementKind, DocumentDownload, Role, Tender, TenderState
from trading.services.announcements import announcement_create, announcement_publish

# Thursday after the opening (the opening world's deadline is Wednesday 25 March 2026, 09:30).
EVALUATED_AT = DEADLINE + dt.timedelta(days=1, hours=1)
EXPERT_NAMES = ("王评审", "李评审", "赵评审", "钱评审", "孙评审")
QUALIFICATION = ("licence", "record")


@dataclass
class AwardWorld:
    tender: Tender
    lot: object
    host: object
    regulator: object
    agency: object
    bidders: list[Bidder] = field(default_factory=list)
    report: Report | None = None
    experts: list = field(default_factory=list)

    @property
    def tenderee_staff(self):
        return self.agency

    def bidder(self, i: int) -> Bidder:
        return self.bidders[i]


def bid_form(price: str, bidder: Bidder) -> dict:
    return {
        "price": price,
        "currency": "CNY",
        "duration_days": 180,
        "quality": "合格",
        "project_manager": {"name": f"项目经理{bidder.user.pk}", "reg_no": f"桂1452000{bidder.user.pk:04d}"},
        "items": {},
    }


def open_bids(lot, bidders: list[Bidder], prices: list[str], *, now) -> None:
    """What the opening leaves: every bid decrypted and its form read out."""
    for b, price in zip(bidders, prices, strict=True):
        bid = Bid.objects.get(lot=lot, entity=b.entity, status=Bid.Status.ACTIVE)
        Bid.objects.filter(pk=bid.pk).update(
            decryption=Bid.Decryption.OK, decrypted_at=now, form=bid_form(price, b)
        )


def evaluate(
    lot, bidders: list[Bidder], prices: list[str], *, host, now, rejected: int | None = None
) -> Report:
    """A closed room with five experts and a report signed by all: candidates are the bidders in
    order (the last one failed qualification when `rejected` is its index)."""
    draw = Draw.objects.create(
        lot=lot,
        state=Draw.State.REVEALED,
        request={"v": 1, "lot": lot.pk},
        request_digest="0" * 64,
        seed_commitment="1" * 64,
        seed_sealed="sealed",
        seed="2" * 64,
        requested_by=host,
        requested_at=now,
        drawn_by=host,
        drawn_at=now,
        revealed_at=now,
    )
    room = EvaluationRoom.objects.create(
        lot=lot,
        draw=draw,
        phase=EvaluationRoom.Phase.CLOSED,
        phase_changed_at=now,
        opens_at=now,
        closed_at=now,
    )
    members = [
        Member.objects.create(
            room=room,
            user=UserFactory(role=Role.EXPERT, first_name=name),
            seat=i,
            joined_at=now,
            declared_at=now,
        )
        for i, name in enumerate(EXPERT_NAMES, start=1)
    ]
    bids = [Bid.objects.get(lot=lot, entity=b.entity, status=Bid.Status.ACTIVE) for b in bidders]
    for bid_index, bid in enumerate(bids):
        for member in members:
            for criterion in QUALIFICATION:
                passed = not (bid_index == rejected and criterion == "record")
                Review.objects.create(
                    member=member,
                    bid=bid,
                    stage=Review.Stage.QUALIFICATION,
                    criterion=criterion,
                    passed=passed,
                    reason="" if passed else "业绩不满足要求",
                    at=now,
                )
    ranked = [i for i in range(len(bids)) if i != rejected]
    report_bids = []
    for i, (bid, b) in enumerate(zip(bids, bidders, strict=True)):
        rank = ranked.index(i) + 1 if i in ranked else None
        report_bids.append(
            {
                "bid": str(bid.pk),
                "bidder": b.entity.name,
                "uscc": b.entity.uscc,
                "price": prices[i],
                "evaluated_price": prices[i],
                "qualified": i != rejected,
                "rejections": [] if i != rejected else [{"stage": "qualification", "criterion": "record"}],
                "scores": {},
                "price_score": None,
                "total": None if rank is None else f"{92 - 3 * rank:.2f}",
                "rank": rank,
                "tie": False,
                "low_price": None,
            }
        )
    data = {
        "v": 1,
        "tender": {"code": lot.tender.code, "title": lot.tender.title, "regime": lot.tender.regime},
        "lot": {"number": lot.number, "title": lot.title, "budget": str(lot.budget), "ceiling_price": None},
        "method": "scoring",
        "opened_at": DEADLINE.isoformat(),
        "generated_at": now.isoformat(),
        "members": [
            {"seat": m.seat, "name": m.user.first_name, "kind": "expert", "chair": m.seat == 1}
            for m in members
        ],
        "criteria": [],
        "bids": report_bids,
        "candidates": [
            {
                "rank": r["rank"],
                "bid": r["bid"],
                "bidder": r["bidder"],
                "price": r["price"],
                "total": r["total"],
            }
            for r in sorted((r for r in report_bids if r["rank"]), key=lambda r: r["rank"])[:3]
        ],
        "outliers": [],
        "clarifications": [],
        "signatures": [
            {
                "seat": m.seat,
                "name": m.user.first_name,
                "agrees": True,
                "dissent": "",
                "signed_at": now.isoformat(),
            }
            for m in members
        ],
    }
    return Report.objects.create(
        room=room,
        data=data,
        data_sha256=digest(data),
        platform_signature="signed",
        created_at=now,
        finalized_at=now,
    )


PRICES = ["4000000.00", "4010000.00", "4020000.00", "4030000.00"]


def award_world(
    clock, *, bids: int = 4, rejected: int | None = 3, documents: bool = False, **tender_kwargs
) -> AwardWorld:
    """A tender in evaluation whose lot 1 has a final report: candidates are bidders 0, 1, 2 (ranks 1–3);
    bidder 3 failed qualification. The clock stands at the report's time."""
    hall = hall_world(clock=clock, bids=bids, **tender_kwargs)
    if documents:
        # The tender documents, published with the tender (the GP result announcement links them).
        ann = announcement_create(
            tender=hall.tender,
            kind=AnnouncementKind.AMENDMENT,
            title="招标文件",
            body_html="<p>招标文件</p>",
            actor=hall.agency,
            attachments=[("招标文件.pdf", b"%PDF-1.7 tender documents", "application/pdf")],
            tender_documents=True,
        )
        announcement_publish(announcement=ann, actor=hall.agency)
    clock.set(EVALUATED_AT)
    now = timezone.now()
    prices = PRICES[:bids]
    open_bids(hall.lot, hall.bidders, prices, now=now)
    Tender.objects.filter(pk=hall.tender.pk).update(state=TenderState.EVALUATION, state_changed_at=now)
    report = evaluate(hall.lot, hall.bidders, prices, host=hall.host, now=now, rejected=rejected)
    hall.tender.refresh_from_db()
    hall.lot.refresh_from_db()
    return AwardWorld(
        tender=hall.tender,
        lot=hall.lot,
        host=hall.host,
        regulator=hall.regulator,
        agency=hall.agency,
        bidders=hall.bidders,
        report=report,
    )


def second_lot(world: AwardWorld, clock) -> tuple[object, Report]:
    """Lot 2 of the same tender, bid by the same bidders and evaluated the same way."""
    lot = LotFactory(tender=world.tender, number=2, title="第二标段")
    for i, b in enumerate(world.bidders):
        seal_bid(lot=lot, bidder=b, price=PRICES[i])
    now = timezone.now()
    open_bids(lot, world.bidders, PRICES[: len(world.bidders)], now=now)
    report = evaluate(lot, world.bidders, PRICES[: len(world.bidders)], host=world.host, now=now, rejected=3)
    return lot, report


def document_holder(world: AwardWorld):
    """A bidder that obtained the tender documents but did not bid (条例54: 其他利害关系人)."""
    from tests.factories import BidderUserFactory

    user = BidderUserFactory()
    DocumentDownload.objects.create(
        tender=world.tender, entity=user.entity, user=user, first_at=timezone.now()
    )
    return user


def publicity_over(world: AwardWorld, clock):
    """Move the clock past the lot's publicity end."""
    world.lot.publicity.refresh_from_db()
    clock.set(world.lot.publicity.ends_at + dt.timedelta(minutes=1))
