"""Worlds for the draw tests: a published lot whose committee needs experts of one specialty, a pool
of experts in that specialty, bidders and the parties' people from the registry, and the staff who
request and supervise the draw.

`committee_world` goes further for the evaluation and award tests: the opening is closed with every
bid decrypted and the committee is drawn and has confirmed (through the real services).
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from experts.models import Expert, ExpertSpecialty
from experts.services import draw as draws
from tests.factories import MarketEntityFactory, PersonFactory, UserFactory
from trading.models import Role

SPECIALTY = "A0101"  # 三级: 规划 › 国民经济和社会发展规划; its 四级 children match too
OTHER_SPECIALTY = "B0101"
_numbers = itertools.count(1)


def expert_make(
    *,
    specialty: str = SPECIALTY,
    main: bool = True,
    region: str = "450100",
    employer=None,
    person=None,
    **fields,
) -> Expert:
    n = next(_numbers)
    person = person or PersonFactory()
    user = UserFactory(role=Role.EXPERT, username=f"pool-expert-{n}", first_name=person.name)
    expert = Expert.objects.create(
        user=user,
        person=person,
        region_code=region,
        employer=employer,
        employer_name=employer.name if employer else fields.pop("employer_name", ""),
        employer_uscc=employer.uscc if employer else fields.pop("employer_uscc", ""),
        title="高级工程师",
        birth_year=fields.pop("birth_year", 1975),
        **fields,
    )
    ExpertSpecialty.objects.create(expert=expert, specialty_id=specialty, is_main=main)
    return expert


@dataclass
class DrawWorld:
    tender: object
    lot: object
    centre: object
    supervisor: object
    regulator: object
    bidders: list = field(default_factory=list)
    experts: list = field(default_factory=list)

    @property
    def starts(self) -> dt.datetime:
        return self.tender.deadline + dt.timedelta(hours=2)

    def request(self, **kwargs):
        kwargs.setdefault("groups", [{"specialty": SPECIALTY, "count": 4, "reserves": 4}])
        kwargs.setdefault("evaluation_starts_at", self.starts)
        kwargs.setdefault("evaluation_ends_at", self.starts + dt.timedelta(hours=6))
        return draws.draw_request(lot=self.lot, actor=self.centre, **kwargs)

    def perform(self, draw, nonce: str = "supervisor-nonce-1"):
        return draws.draw_perform(draw=draw, nonce=nonce, actor=self.supervisor)


def draw_world(*, clock, experts: int = 12, bidders: int = 3) -> DrawWorld:
    """A published TB tender (deadline 25 March) with one lot, `bidders` bidders that hold the
    documents, and `experts` eligible experts; the clock stays at 2 March."""
    from tests.bidding.opening_world import hall_world

    hall = hall_world(clock=clock, bids=bidders)
    world = DrawWorld(
        tender=hall.tender,
        lot=hall.lot,
        centre=UserFactory(role=Role.CENTRE),
        supervisor=UserFactory(role=Role.REGULATOR),
        regulator=UserFactory(role=Role.REGULATOR),
        bidders=[b.entity for b in hall.bidders],
    )
    world.hall = hall
    for _ in range(experts):
        world.experts.append(expert_make(employer=MarketEntityFactory(is_bidder=False)))
    return world
