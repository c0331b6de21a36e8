"""One tender of the synthetic market: bidders, prices, award, evidence links, texts and the truth."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from monitoring.evidence import BidRow, Link, LotEvidence, NodeKind, Party, PartyRole, Relation

from . import params as P
from . import prices, texts
from .world import BID

if TYPE_CHECKING:
    from .generate import Ring, _Builder
    from .world import Firm

DEVICE_LEAKS = (Relation.MACHINE_CODE, Relation.MAC)


class _Bid:
    """A bid being built: mutable until it becomes a BidRow and the bidder's Party."""

    __slots__ = (
        "agent",
        "author",
        "contact",
        "deposit",
        "device",
        "digest",
        "firm",
        "manager",
        "price",
        "text",
        "time",
        "upload",
    )

    def __init__(self, firm: Firm, rng, p: P.MarketParams):
        self.firm = firm
        self.manager = firm.managers[rng.randrange(len(firm.managers))]
        self.agent = firm.agent
        self.contact = firm.contact
        self.deposit = None if rng.random() < p.guarantee_share else firm.account
        self.upload = firm.office_ip
        self.device = None if rng.random() < p.missing_device_share else firm.device
        self.author = firm.author
        self.digest = f"{rng.getrandbits(256):064x}"
        self.price = 0.0
        self.text = None
        self.time = None

    def party(self, cache: dict) -> Party:
        f = self.firm
        links = [
            *f.registry,
            self.manager,
            self.agent,
            *self.contact,
            _cached(cache, NodeKind.IP, self.upload, Relation.UPLOAD_IP, "上传 IP"),
            _cached(cache, NodeKind.IP, f.office_ip, Relation.DECRYPT_IP, "解密 IP"),
            f.dongle,
            self.author,
            _cached(cache, NodeKind.DOCUMENT, self.digest, Relation.FILE_DIGEST, "投标文件 SHA-256"),
        ]
        if self.device:
            links += self.device
        if self.deposit:
            links.append(
                _cached(
                    cache,
                    NodeKind.ACCOUNT,
                    self.deposit,
                    Relation.DEPOSIT_ACCOUNT,
                    f"****{self.deposit[-4:]}",
                )
            )
        return Party(key=f.key, name=f.name, role=PartyRole.BIDDER, uscc=f.uscc, links=tuple(links))


def _cached(cache: dict, kind: str, value: str, relation: str, label: str) -> Link:
    """Links are immutable: one object per (value, relation) is shared by every lot that needs it."""
    key = (value, relation)
    link = cache.get(key)
    if link is None:
        link = cache[key] = Link(kind, value, relation, BID, label)
    return link


def _members(b: _Builder, ring: Ring | None) -> tuple[list[Firm], int]:
    """The ring's members bidding in this tender and the number of outsiders to add."""
    rng, p = b.rng, b.p
    if ring is None:
        return [], prices.bidder_count(rng, p.mean_bidders, p.max_bidders)
    firms = [b.by_key[k] for k in ring.members]
    kind = ring.kind
    if kind in (P.COVER, P.ROTATION, P.REGULAR_STEPS):
        present = [f for f in firms if rng.random() > 0.1]
        present = present if len(present) >= 2 else firms[:2]
        return present, max(0, 3 - len(present))
    if kind == P.SUPPRESSION:
        return rng.sample(firms, 2), rng.choice((1, 1, 2))
    if kind == P.INCOMPLETE:
        present = rng.sample(firms, rng.randint(2, min(4, len(firms))))
        return present, max(1, prices.bidder_count(rng, p.mean_bidders, p.max_bidders) - len(present))
    if kind == P.TENDEREE:
        return firms, max(2, prices.bidder_count(rng, p.mean_bidders, p.max_bidders) - 1)
    present = rng.sample(firms, rng.randint(2, len(firms)))
    outsiders = 0 if rng.random() < 0.4 else rng.randint(1, 7)
    return present, max(outsiders, 3 - len(present))


def _designate(b: _Builder, ring: Ring, present: list[Firm], comp: dict[str, float]) -> Firm:
    rng = b.rng
    if ring.kind == P.COVER:
        leader = b.by_key[ring.leader]
        return leader if leader in present and rng.random() < 0.8 else rng.choice(present)
    if ring.kind == P.ROTATION:
        keys = {f.key for f in present}
        for step in range(len(ring.members)):
            key = ring.members[(ring.turn + step) % len(ring.members)]
            if key in keys:
                ring.turn += step + 1
                return b.by_key[key]
    if rng.random() < 0.5:  # cost-based allocation (Ticino's "convention"), else a share-out
        return min(present, key=lambda f: comp[f.key])
    return rng.choice(present)


def build_tender(b: _Builder, number: int, date: dt.date, ring: Ring | None):
    rng, p = b.rng, b.p
    tender, lot = f"T{number:06d}", f"T{number:06d}-1"
    if ring:
        region, category = ring.region, ring.category
    else:
        region, category = rng.choice(b.regions), rng.choices(P.CATEGORIES, P.CATEGORY_WEIGHTS)[0]
    regime = "TB" if category == "A" or rng.random() < 0.3 else "GP"
    estimate = round(p.estimate_median * rng.lognormvariate(0.0, p.estimate_sigma), 2)
    ceiling = round(estimate * rng.uniform(0.98, 1.05), 2)
    kind = ring.kind if ring else ""
    lowest = kind != P.TENDEREE and rng.random() < p.lowest_price_share
    price_weight = rng.uniform(0.1, 0.4) if category == "C" else rng.uniform(0.3, 0.6)
    sigma = rng.uniform(*p.cost_sigma)
    agencies, tenderees = b.agencies[region], b.tenderees[region]
    agency = agencies[ring.agency] if kind == P.TENDEREE else rng.choice(agencies)
    tenderee = tenderees[ring.tenderee] if kind == P.TENDEREE else rng.choice(tenderees)

    benign = ""
    if p.benign_share and rng.random() < p.benign_share:
        choices = [k for k in P.BENIGN_KINDS if p.benign_weights.get(k) and (k != P.SAME_REGION or not ring)]
        if choices:
            benign = rng.choices(choices, [p.benign_weights[k] for k in choices])[0]

    # --- bidders -----------------------------------------------------------------------------------
    present, n_out = _members(b, ring)
    taken = {f.key for f in present}
    outsiders: list[Firm] = []
    if benign == P.SAME_REGION:
        local = [c for c in b.clusters if c[0].region == region] or b.clusters
        if local:
            group = local[rng.randrange(len(local))]
            outsiders = rng.sample(group, rng.randint(2, len(group)))
            taken.update(f.key for f in outsiders)
        if len(outsiders) < 2:
            benign, outsiders = "", []
    outsiders += b.pick(region, category, max(0, n_out - len(outsiders)), taken, avoid_clusters=True)
    n = len(present) + len(outsiders)
    comp = {
        f.key: prices.competitive_bid(
            rng,
            estimate=estimate,
            ceiling=ceiling,
            cost_ratio=p.cost_ratio,
            effect=f.effect,
            sigma=sigma,
            n=n,
        )
        for f in (*present, *outsiders)
    }
    designated = _designate(b, ring, present, comp) if ring else None
    if designated:
        present.remove(designated)
        present.insert(0, designated)
    bids = [_Bid(f, rng, p) for f in (*present, *outsiders)]
    for bid in bids:
        bid.price = comp[bid.firm.key]
    if ring and kind != P.TENDEREE:
        overcharge = ring.overcharge * 0.6 ** len(outsiders)
        rigged = prices.rigged_prices(
            rng,
            competitive=[comp[f.key] for f in present],
            ceiling=ceiling,
            overcharge=overcharge,
            discipline=ring.discipline,
            steps=kind == P.REGULAR_STEPS,
        )
        for bid, price in zip(bids, rigged, strict=False):
            bid.price = price
    elif kind == P.TENDEREE:
        bids[0].price = min(ceiling * rng.uniform(0.95, 0.99), bids[0].price * (1.0 + ring.overcharge))
    for bid in bids:
        bid.price = round(max(bid.price, 1.0), 2)

    # --- award -------------------------------------------------------------------------------------
    tech = None
    if not lowest:
        tech = [min(100.0, max(40.0, rng.gauss(72.0, 7.0))) for _ in bids]
        if ring:
            tech[0] = min(
                100.0, tech[0] + (rng.uniform(15, 25) if kind == P.TENDEREE else rng.uniform(4, 12))
            )
            for i in range(1, len(present)):
                tech[i] = max(40.0, tech[i] - rng.uniform(3, 10))
    winner = bids[
        prices.award([x.price for x in bids], lowest_price=lowest, tech=tech, price_weight=price_weight)
    ]

    # --- evidence ----------------------------------------------------------------------------------
    deadline = dt.datetime(date.year, date.month, date.day, 9, 30, tzinfo=P.SHANGHAI)
    for bid in bids:
        bid.time = deadline - dt.timedelta(seconds=min(864000.0, rng.expovariate(1 / 72000.0)) + 60)
    evidence, pairs, leakers = _leak(b, ring, bids[: len(present)], agency)
    if benign in (P.INTERNET_CAFE, P.SHARED_AGENCY):
        free = [x for x in bids if x.firm.key not in leakers]
        if len(free) >= 2:
            chosen = rng.sample(free, min(len(free), rng.randint(2, 3)))
            ip = rng.choice(b.cafes[region]) if benign == P.INTERNET_CAFE else agency.hall_ip
            for bid in chosen:
                bid.upload = ip
            outsiders_benign = [x.firm.key for x in chosen]
        else:
            benign, outsiders_benign = "", []
    elif benign == P.SAME_REGION:
        outsiders_benign = [f.key for f in outsiders if f.cluster >= 0][:3]
    else:
        outsiders_benign = []

    template = None
    if p.texts:
        template = texts.template_text(rng, f"{tender} 模拟项目")
        share = 8 if benign == P.COMMON_TEMPLATE else 3
        for bid in bids:
            bid.text = texts.bid_text(
                rng,
                template=template,
                firm_name=bid.firm.name,
                manager=bid.manager.label,
                price=bid.price,
                template_share=share,
            )
        if kind == P.SHARED_DOCUMENT:
            _copy_texts(rng, bids[: len(present)], pairs, identical=Relation.FILE_DIGEST in ring.variant)
    if benign == P.COMMON_TEMPLATE:
        outsiders_benign = [x.firm.key for x in bids]

    bids.sort(key=lambda x: (x.time, x.firm.key))
    rows, labels = [], {}
    members = {f.key for f in present}
    for j, bid in enumerate(bids, start=1):
        key = f"{lot}-B{j:02d}"
        rows.append(
            BidRow(
                bid=key,
                party=bid.firm.key,
                price=bid.price,
                submitted_at=bid.time,
                is_winner=bid is winner,
                text=bid.text,
                file_sha256=bid.digest,
            )
        )
        labels[key] = int(bid.firm.key in members)
    parties = [x.party(b.links) for x in bids]
    parties.append(Party(key=tenderee.key, name=tenderee.name, role=PartyRole.TENDEREE, links=tenderee.links))
    parties.append(Party(key=agency.key, name=agency.name, role=PartyRole.AGENCY, links=agency.links))
    lot_ev = LotEvidence(
        tender=tender,
        lot=lot,
        regime=regime,
        category=category,
        region=region,
        date=date,
        ceiling=ceiling,
        estimate=estimate,
        template_text=template,
        bids=tuple(rows),
        parties=tuple(parties),
    )
    truth = {
        "label": int(bool(ring)),
        "kind": kind,
        "ring": ring.index if ring else -1,
        "members": [f.key for f in present],
        "designated": designated.key if designated else "",
        "winner": winner.firm.key,
        "evidence": evidence,
        "evidence_pairs": pairs,
        "benign": benign,
        "benign_parties": outsiders_benign,
        "award": "lowest_price" if lowest else "scoring",
    }
    return lot_ev, truth, labels


def _leak(
    b: _Builder, ring: Ring | None, members: list[_Bid], agency
) -> tuple[list[str], list[list[str]], set[str]]:
    """Apply the ring's evidence leak: covers take the preparer's (designated winner's) nodes."""
    if ring is None or ring.kind not in P.EVIDENCE_KINDS:
        return [], [], set()
    rng = b.rng
    preparer = members[0]
    if ring.kind == P.TENDEREE:
        if Relation.MACHINE_CODE in ring.variant:
            device = preparer.device or preparer.firm.device
            preparer.device = (
                Link(NodeKind.DEVICE, agency.device, Relation.MACHINE_CODE, BID, "机器码"),
                device[1],
            )
        else:
            person, name = agency.staff[rng.randrange(len(agency.staff))]
            preparer.agent = Link(NodeKind.PERSON, person, Relation.AGENT, BID, name)
        return list(ring.variant), [[preparer.firm.key, agency.key]], {preparer.firm.key}
    covers = [m for m in members[1:] if rng.random() < 0.85] or members[1:2]
    relations: set[str] = set()
    for cover in covers:
        for rel in ring.variant:
            if rel in DEVICE_LEAKS:
                cover.time = None  # one computer: the uploads come minutes apart
                preparer.device = preparer.device or preparer.firm.device
                own = cover.device or cover.firm.device
                cover.device = (
                    (preparer.device[0], own[1])
                    if rel == Relation.MACHINE_CODE
                    else (own[0], preparer.device[1])
                )
                if Relation.MACHINE_CODE in ring.variant and Relation.MAC in ring.variant:
                    cover.device = preparer.device
            elif rel == Relation.UPLOAD_IP:
                cover.upload = preparer.upload
                cover.time = None  # clustered: set below
            elif rel == Relation.AGENT:
                cover.agent = preparer.agent
            elif rel == Relation.PROJECT_MANAGER:
                cover.manager = preparer.manager
            elif rel == Relation.CONTACT:
                cover.contact = (preparer.contact[0], cover.contact[1])
            elif rel == Relation.PHONE:
                cover.contact = (cover.contact[0], preparer.contact[1])
            elif rel == "own_account":
                cover.deposit = preparer.firm.account
            elif rel == "third_account":
                preparer.deposit = cover.deposit = ring.third_account
            elif rel == Relation.AUTHOR:
                cover.author = preparer.author
            elif rel == Relation.FILE_DIGEST:
                cover.digest = preparer.digest
            relations.add(Relation.DEPOSIT_ACCOUNT if rel.endswith("_account") else rel)
        if cover.time is None:
            cover.time = preparer.time - dt.timedelta(seconds=rng.uniform(30, 900))
    return (
        sorted(relations),
        [[preparer.firm.key, c.firm.key] for c in covers],
        {preparer.firm.key, *(c.firm.key for c in covers)},
    )


def _copy_texts(rng, members: list[_Bid], pairs: list[list[str]], identical: bool) -> None:
    preparer = members[0]
    preparer.text = preparer.text.rstrip("。") + f"。{rng.choice(texts.TYPOS)}按规范执行。"
    copies = {b for _, b in pairs}
    for cover in members[1:]:
        if cover.firm.key not in copies:
            continue
        if identical:
            cover.text = preparer.text
        else:
            cover.text = texts.copied_text(
                source=preparer.text,
                source_name=preparer.firm.name,
                firm_name=cover.firm.name,
                source_price=preparer.price,
                price=cover.price,
                leave_name=rng.random() < 0.3,
            )
