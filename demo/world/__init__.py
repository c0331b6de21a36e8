"""Build the demo world through the real services, under a simulated clock, so that every
journal entry, announcement and timeline is what the platform itself would have produced.

The builder is assembled from one mixin per part of the world: registry (people, entities, users,
certificates), pool (the expert pool and what its experts declared), tenders (the tender table),
lifecycle (each tender past its deadline: bids, draw, opening, publicity, award) with room (the evaluation room),
bidding (sealing bids with the demo key files, and the tender whose opening is about to start),
clients (the computers and files bidders work with: the evidence monitoring reads), monitoring (the
model the live checks use, the market batch and the tenders' monitoring reports), supervision (the
departments and their regulators, social supervisors, complaints, a tip-off, an invitation to watch).
"""

from __future__ import annotations

import datetime as dt
import random

from django.conf import settings
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone

from archive.journal import journal_anchor
from demo.world.bidding import BiddingMixin, OpeningSoonMixin
from demo.world.clock import simulated_now
from demo.world.lifecycle import LifecycleMixin
from demo.world.monitoring import MonitoringMixin
from demo.world.pool import PoolMixin
from demo.world.registry import USCC_ALPHABET, RegistryMixin
from demo.world.room import RoomMixin
from demo.world.supervision import SupervisionMixin
from demo.world.tenders import TendersMixin
from trading.models import MarketEntity, Tender, User
from trading.services.entities import entity_register

DEMO_PASSWORD = "Demo@2026"


class WorldBuilder(
    RegistryMixin,
    PoolMixin,
    TendersMixin,
    BiddingMixin,
    LifecycleMixin,
    RoomMixin,
    OpeningSoonMixin,
    MonitoringMixin,
    SupervisionMixin,
):
    def __init__(
        self, *, seed: int = 2026, password: str = DEMO_PASSWORD, now: dt.datetime | None = None, out=None
    ):
        self.rng = random.Random(seed)
        self.password = password
        self.now = now or timezone.now()
        self.out = out
        self.rf = RequestFactory()
        self.entities: dict[str, MarketEntity] = {}
        self.users: dict[str, User] = {}

    def log(self, msg: str) -> None:
        if self.out:
            self.out.write(msg)

    def build(self) -> dict:
        start = self.now - dt.timedelta(days=400)
        with simulated_now(start), transaction.atomic():
            self.build_registry()
        with simulated_now(start + dt.timedelta(days=1)), transaction.atomic():
            self.build_certificates()
            self.build_tenderee_staff()
        self.build_pool(start + dt.timedelta(days=2))
        self.build_model(start + dt.timedelta(days=3))
        self.build_tenders()
        self.pool_agenda_run(self.now)
        self.build_opening_soon()
        self.build_monitoring_batch(self.now)
        self.build_archive(self.now)
        self.build_supervision(self.now)
        with simulated_now(self.now - dt.timedelta(days=1)), transaction.atomic():
            # Yesterday's registration, waiting in the centre's verification queue.
            entity_register(
                data=self.entity_form(
                    "南宁市新起点建设有限公司",
                    "450100",
                    qual=("建筑业企业资质", "建筑工程施工总承包", "三级"),
                )
            )
        with simulated_now(self.now), transaction.atomic():
            journal_anchor()
        return {
            "entities": MarketEntity.objects.count(),
            "tenders": Tender.objects.count(),
            "users": User.objects.count(),
        }


def build_world(
    *, seed: int = 2026, password: str = DEMO_PASSWORD, now: dt.datetime | None = None, out=None
) -> dict:
    if not settings.DEBUG and not password:
        raise ValueError("a password is required")
    return WorldBuilder(seed=seed, password=password, now=now, out=out).build()


__all__ = ["DEMO_PASSWORD", "USCC_ALPHABET", "WorldBuilder", "build_world", "simulated_now"]
