"""The generator: plan the rings and the tenders, then draw every tender's bidders, prices and evidence."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from monitoring.evidence import LotEvidence, Relation

from . import params as P
from .world import Agency, Firm, Ids, Tenderee, make_agency, make_firm, make_tenderee, set_cluster_address

RING_SIZE = {
    P.COVER: (3, 6),
    P.ROTATION: (3, 6),
    P.SUPPRESSION: (4, 7),
    P.INCOMPLETE: (3, 5),
    P.REGULAR_STEPS: (3, 5),
    P.SHARED_DEVICE: (2, 4),
    P.SHARED_AGENT: (2, 4),
    P.SHARED_ACCOUNT: (2, 4),
    P.SHARED_DOCUMENT: (2, 4),
    P.TENDEREE: (1, 1),
}
EVIDENCE_VARIANTS = {
    P.SHARED_DEVICE: (
        (Relation.MACHINE_CODE, Relation.MAC, Relation.UPLOAD_IP),
        (Relation.MACHINE_CODE,),
        (Relation.MAC, Relation.UPLOAD_IP),
    ),
    P.SHARED_AGENT: (
        (Relation.AGENT,),
        (Relation.PROJECT_MANAGER,),
        (Relation.CONTACT, Relation.PHONE),
        (Relation.PHONE,),
    ),
    P.SHARED_ACCOUNT: (("own_account",), ("third_account",)),
    P.SHARED_DOCUMENT: ((Relation.AUTHOR,), (Relation.AUTHOR,), (Relation.FILE_DIGEST,)),
    P.TENDEREE: ((Relation.MACHINE_CODE,), (Relation.AGENT,)),
}


@dataclass
class Ring:
    """A cartel: its members (firm keys), how it rigs and what it leaks."""

    index: int
    kind: str
    region: str
    category: str
    members: list[str]
    overcharge: float
    discipline: float  # share of covers that follow the script
    variant: tuple[str, ...] = ()  # the relations it leaks (evidence kinds)
    leader: str = ""
    tenders: int = 0  # tenders planned
    turn: int = 0
    third_account: str = ""
    agency: int = -1  # tenderee kind: index of the agency in the plot (in its region)
    tenderee: int = -1


@dataclass
class SimulatedMarket:
    seed: int
    params: P.MarketParams
    lots: list[LotEvidence]
    truth: dict[str, dict]
    bid_labels: dict[str, int]
    rings: list[Ring] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict:
        kinds = dict.fromkeys(P.CARTEL_KINDS, 0)
        benign = dict.fromkeys(P.BENIGN_KINDS, 0)
        for t in self.truth.values():
            if t["kind"]:
                kinds[t["kind"]] += 1
            if t["benign"]:
                benign[t["benign"]] += 1
        return {
            "seed": self.seed,
            "tenders": len(self.lots),
            "bids": sum(len(lot.bids) for lot in self.lots),
            "collusive_tenders": sum(1 for t in self.truth.values() if t["label"]),
            "collusive_bids": sum(self.bid_labels.values()),
            "rings": len(self.rings),
            "firms": len({b.party for lot in self.lots for b in lot.bids}),
            "cartels": kinds,
            "benign": benign,
            "seconds": round(self.seconds, 3),
        }


def _allocate(total: int, weights: dict[str, float], order: tuple[str, ...]) -> dict[str, int]:
    """Largest-remainder split of `total` by weights (deterministic)."""
    norm = sum(weights.get(k, 0.0) for k in order)
    raw = {k: total * weights.get(k, 0.0) / norm for k in order}
    out = {k: int(v) for k, v in raw.items()}
    rest = sorted(order, key=lambda k: (-(raw[k] - out[k]), order.index(k)))
    for k in rest[: total - sum(out.values())]:
        out[k] += 1
    return out


class _Builder:
    def __init__(self, tenders: int, seed: int, params: P.MarketParams):
        self.n_tenders, self.p = tenders, params
        self.rng = random.Random(seed)
        self.ids = Ids(self.rng)
        self.regions = [f"R{i + 1:02d}" for i in range(params.regions or max(2, min(12, tenders // 500)))]
        self.firms: list[Firm] = []
        self.by_key: dict[str, Firm] = {}
        self.cells: dict[tuple[str, str], list[Firm]] = {}
        self.by_category: dict[str, list[Firm]] = {c: [] for c in P.CATEGORIES}
        self.clusters: list[list[Firm]] = []
        self.rings: list[Ring] = []
        self.cafes = {r: [self.ids.ip(112) for _ in range(3)] for r in self.regions}
        self.links: dict = {}  # shared Link objects (see tender._cached)

    # --- the world -------------------------------------------------------------------------------
    def add_firm(self, region: str, category: str) -> Firm:
        firm = make_firm(self.ids, self.rng, region, category, self.p.firm_sigma)
        self.firms.append(firm)
        self.by_key[firm.key] = firm
        self.cells.setdefault((region, category), []).append(firm)
        self.by_category[category].append(firm)
        return firm

    def world(self) -> None:
        rng, p = self.rng, self.p
        count = p.firms or max(60, round(self.n_tenders * p.mean_bidders / 40))
        for _ in range(count):
            self.add_firm(rng.choice(self.regions), rng.choices(P.CATEGORIES, P.CATEGORY_WEIGHTS)[0])
        for region in self.regions:  # about 9 % of a region's firms share a cluster address, by threes
            local = [f for f in self.firms if f.region == region]
            rng.shuffle(local)
            for i in range(0, int(len(local) * 0.09) // 3 * 3, 3):
                address = self.ids.address(region) + "-CLUSTER"
                group = local[i : i + 3]
                for firm in group:
                    set_cluster_address(firm, address, len(self.clusters))
                self.clusters.append(group)
        self.agencies: dict[str, list[Agency]] = {
            r: [make_agency(self.ids, rng, r) for _ in range(2)] for r in self.regions
        }
        self.tenderees: dict[str, list[Tenderee]] = {
            r: [make_tenderee(self.ids, rng, r) for _ in range(8)] for r in self.regions
        }

    def free_firms(self, region: str, category: str, k: int) -> list[Firm]:
        pool = [f for f in self.cells.get((region, category), []) if f.ring < 0 and f.cluster < 0]
        self.rng.shuffle(pool)
        while len(pool) < k:
            pool.append(self.add_firm(region, category))
        return pool[:k]

    def plan_rings(self, collusive: int) -> list[int]:
        """Rings per kind and the list of ring indices, one per collusive tender."""
        rng, p = self.rng, self.p
        slots: list[int] = []
        for kind, count in _allocate(collusive, p.kind_weights, P.CARTEL_KINDS).items():
            while count > 0:
                size = min(count, rng.randint(1, 4) if kind == P.TENDEREE else rng.randint(4, 30))
                count -= size
                region = rng.choice(self.regions)
                category = rng.choices(P.CATEGORIES, P.CATEGORY_WEIGHTS)[0]
                lo, hi = RING_SIZE[kind]
                members = self.free_firms(region, category, rng.randint(lo, hi))
                ring = Ring(
                    index=len(self.rings),
                    kind=kind,
                    region=region,
                    category=category,
                    members=[f.key for f in members],
                    overcharge=min(
                        0.6, max(0.03, p.overcharge_median * rng.lognormvariate(0.0, p.overcharge_sigma))
                    ),
                    discipline=rng.uniform(0.7, 1.0) if kind == P.REGULAR_STEPS else rng.uniform(0.0, 1.0),
                    variant=rng.choice(EVIDENCE_VARIANTS.get(kind, ((),))),
                    leader=members[0].key,
                    tenders=size,
                    third_account=self.ids.account(),
                )
                if kind == P.TENDEREE:
                    ring.agency = rng.randrange(len(self.agencies[region]))
                    ring.tenderee = rng.randrange(len(self.tenderees[region]))
                for firm in members:
                    firm.ring = ring.index
                self.rings.append(ring)
                slots += [ring.index] * size
        return slots

    # --- one tender ------------------------------------------------------------------------------
    def pick(self, region: str, category: str, k: int, taken: set[str], avoid_clusters: bool) -> list[Firm]:
        """k competitive bidders, mostly local (80 %), never twice, no two from one cluster address."""
        rng = self.rng
        cell = self.cells.get((region, category), [])
        wide = self.by_category[category]
        out: list[Firm] = []
        clusters = {self.by_key[key].cluster for key in taken} - {-1}
        tries = 0
        while len(out) < k and tries < 50 * k + 100:
            tries += 1
            pool = cell if cell and rng.random() < 0.8 else wide
            firm = pool[rng.randrange(len(pool))]
            if firm.key in taken or (avoid_clusters and firm.cluster >= 0 and firm.cluster in clusters):
                continue
            taken.add(firm.key)
            if firm.cluster >= 0:
                clusters.add(firm.cluster)
            out.append(firm)
        return out


def simulate_market(tenders: int, seed: int, **options) -> SimulatedMarket:
    """A synthetic market of `tenders` one-lot tenders with labelled cartels and benign collisions.

    Deterministic for (tenders, seed, options). Options are the fields of `MarketParams`.
    """
    import gc
    import time

    from .tender import build_tender

    if tenders < 1:
        raise ValueError("tenders is at least 1")
    started = time.perf_counter()
    params = P.MarketParams.from_options(options)
    b = _Builder(tenders, seed, params)
    b.world()
    collusive = round(tenders * params.cartel_share)
    slots = b.plan_rings(collusive)
    slots += [-1] * (tenders - len(slots))
    b.rng.shuffle(slots)
    days = params.years * 365
    dates = sorted(params.start + dt.timedelta(days=b.rng.randrange(days)) for _ in range(tenders))
    lots, truth, labels = [], {}, {}
    collecting = gc.isenabled()
    gc.disable()  # hundreds of thousands of small acyclic records: the cycle collector only slows us
    try:
        for i, (slot, date) in enumerate(zip(slots, dates, strict=True)):
            lot, lot_truth, bid_labels = build_tender(b, i + 1, date, b.rings[slot] if slot >= 0 else None)
            lots.append(lot)
            truth[lot.lot] = lot_truth
            labels.update(bid_labels)
    finally:
        if collecting:
            gc.enable()
    return SimulatedMarket(
        seed=seed,
        params=params,
        lots=lots,
        truth=truth,
        bid_labels=labels,
        rings=b.rings,
        seconds=time.perf_counter() - started,
    )
