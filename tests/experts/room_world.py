"""A world for the evaluation-room tests: a lot whose opening is closed with decrypted bids
(tests/bidding/opening_world.py), a drawn committee of confirmed experts made as rows (the draw
service is not used to build it), reserves waiting, and helpers that move a room through its phases
by the services.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import Decimal

from bidding.models import Bid, BidSecurity
from bidding.opening import services as opening
from experts.models import Assignment, Draw, EvaluationRoom, Expert, Member
from experts.services import evaluation as ev
from tests.bidding.opening_world import bidder_with_key, hall_world, to_readout
from tests.factories import AgencyUserFactory, PersonFactory, UserFactory
from trading.models import Role

_experts = itertools.count(1)
PRICES = ("4000000.00", "4010000.00", "4020000.00")


@dataclass
class RoomWorld:
    hall: object
    lot: object
    tender: object
    host: object
    regulator: object
    draw: Draw
    assignments: list[Assignment]
    reserves: list[Assignment]
    reps: list = field(default_factory=list)
    room: EvaluationRoom | None = None

    @property
    def bids(self):
        """The bids as stored now (decrypted: with their forms)."""
        found = {b.pk: b for b in Bid.objects.filter(pk__in=[x.bid.pk for x in self.hall.bidders])}
        return [found[b.bid.pk] for b in self.hall.bidders]

    @property
    def bidders(self):
        return self.hall.bidders

    def members(self) -> list[Member]:
        return list(Member.objects.filter(room=self.room).select_related("user").order_by("seat"))

    def member(self, seat: int) -> Member:
        return Member.objects.select_related("user").get(room=self.room, seat=seat)

    def active(self) -> list[Member]:
        return [m for m in self.members() if m.active]

    def refresh(self) -> EvaluationRoom:
        self.room = EvaluationRoom.objects.get(pk=self.room.pk)
        return self.room


def expert_user(*, name: str | None = None):
    """A user with role expert and the Expert row of the shared pool."""
    n = next(_experts)
    user = UserFactory(role=Role.EXPERT, username=f"expert{n}", first_name=name or f"专家{n}")
    person = PersonFactory(name=name or f"评委{n}")
    Expert.objects.create(user=user, person=person, region_code="450100", employer_name=f"单位{n}")
    return user


def close_opening(hall, clock):
    """Read out, put the record to the bidders, let the window pass and close the hall."""
    to_readout(hall, clock)
    opening.opening_start_confirmation(lot=hall.lot, actor=hall.host)
    clock.advance(minutes=hall.tender.confirmation_minutes + 1)
    opening.opening_close(lot=hall.lot, actor=hall.host)


def make_draw(*, lot, host, clock, experts: int, reserves: int) -> tuple[Draw, list, list]:
    users = [expert_user() for _ in range(experts + reserves)]
    pool = [u.expert for u in users]
    order = [e.public_id for e in pool]
    draw = Draw.objects.create(
        lot=lot,
        state=Draw.State.DRAWN,
        request={
            "v": 1,
            "lot": lot.pk,
            "same_employer_limit": 1,
            "evaluation_starts_at": (clock() + dt.timedelta(hours=1)).isoformat(),
            "evaluation_ends_at": (clock() + dt.timedelta(hours=9)).isoformat(),
        },
        request_digest="0" * 64,
        seed_commitment="0" * 64,
        seed_sealed="sealed",
        groups=[
            {"group": 0, "pool": order, "order": order, "employers": [f"tag{i}" for i in range(len(order))]}
        ],
        requested_by=host,
        requested_at=clock(),
        drawn_by=host,
        drawn_at=clock(),
    )
    members, waiting = [], []
    for i, expert in enumerate(pool):
        confirmed = i < experts
        a = Assignment.objects.create(
            draw=draw,
            expert=expert,
            group=0,
            position=i,
            status=Assignment.Status.CONFIRMED if confirmed else Assignment.Status.RESERVE,
            called_at=clock() if confirmed else None,
            responded_at=clock() if confirmed else None,
        )
        (members if confirmed else waiting).append(a)
    return draw, members, waiting


def room_world(
    *,
    clock,
    prices=PRICES,
    experts: int = 5,
    reserves: int = 2,
    reps: int = 0,
    open_room: bool = True,
    lot_fields: dict | None = None,
    **tender_kwargs,
) -> RoomWorld:
    hall = hall_world(clock=clock, bids=0, **tender_kwargs)
    for name, value in (lot_fields or {}).items():
        setattr(hall.lot, name, value)
    hall.lot.save()
    for price in prices:
        bidder = bidder_with_key()
        from tests.bidding.opening_world import seal_bid

        seal_bid(lot=hall.lot, bidder=bidder, price=price, submitted_at=clock.advance(minutes=1))
        BidSecurity.objects.create(
            lot=hall.lot,
            entity=bidder.entity,
            amount=Decimal("80000.00"),
            method=BidSecurity.Method.GUARANTEE,
            received_at=clock(),
        )
        hall.bidders.append(bidder)
    close_opening(hall, clock)
    draw, members, waiting = make_draw(
        lot=hall.lot, host=hall.host, clock=clock, experts=experts, reserves=reserves
    )
    world = RoomWorld(
        hall=hall,
        lot=hall.lot,
        tender=hall.tender,
        host=hall.host,
        regulator=hall.regulator,
        draw=draw,
        assignments=members,
        reserves=waiting,
        reps=[AgencyUserFactory(entity=hall.tender.tenderee) for _ in range(reps)],
    )
    if open_room:
        world.room = ev.room_open(lot=hall.lot, actor=hall.host, tenderee_reps=world.reps)
    return world


# --- moving a room along, through the services -----------------------------------------------------------


def declare_all(world: RoomWorld):
    for m in world.active():
        if m.declared_at is None:
            ev.member_declare(member=m, actor=m.user)


def elect(world: RoomWorld, seat: int = 1):
    chosen = world.member(seat)
    for m in world.active():
        if world.refresh().chair_id is not None and world.room.phase != "chair":
            break
        ev.chair_vote(member=m, actor=m.user, candidate=chosen)
    return world.refresh()


def chair_user(world: RoomWorld):
    return world.refresh().chair.user


def review_all(world: RoomWorld, stage: str, *, fail: dict | None = None):
    """Every active member passes every criterion of `stage` for the bids in play; `fail` maps
    (bid index, criterion) → the seats that fail it."""
    from experts.services.evaluation.common import review_criteria
    from experts.services.evaluation.outcome import Snapshot

    fail = fail or {}
    snap = Snapshot.load(world.refresh())
    in_play = {b.pk for b in snap.in_play(stage)}
    for m in world.active():
        for i, bid in enumerate(world.bids):
            if bid.pk not in in_play:
                continue
            for c in review_criteria(world.lot, stage):
                failed = m.seat in fail.get((i, c["code"]), ())
                ev.review_submit(
                    member=m,
                    actor=m.user,
                    bid=bid,
                    stage=stage,
                    criterion=c["code"],
                    passed=not failed,
                    reason="不满足招标文件要求" if failed else "",
                )


def complete(world: RoomWorld):
    return ev.stage_complete(room=world.refresh(), actor=chair_user(world))


def score_all(world: RoomWorld, values: dict | None = None, default="30.00"):
    """Every active member scores every scored criterion of the bids in play; `values` maps
    (seat, bid index, criterion) → value."""
    from experts.services.evaluation.common import scored_criteria
    from experts.services.evaluation.outcome import Snapshot

    values = values or {}
    snap = Snapshot.load(world.refresh())
    in_play = {b.pk for b in snap.in_play("detailed")}
    for m in world.active():
        for i, bid in enumerate(world.bids):
            if bid.pk not in in_play:
                continue
            for c in scored_criteria(world.lot):
                value = values.get((m.seat, i, c["code"]), min(Decimal(default), Decimal(str(c["max"]))))
                ev.score_submit(member=m, actor=m.user, bid=bid, criterion=c["code"], value=value)


def to_detailed(world: RoomWorld):
    declare_all(world)
    elect(world)
    review_all(world, "qualification")
    complete(world)
    review_all(world, "preliminary")
    complete(world)
    return world.refresh()


def to_summary(world: RoomWorld, values: dict | None = None):
    to_detailed(world)
    score_all(world, values)
    complete(world)
    return world.refresh()
