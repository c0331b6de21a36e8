"""The synthetic market's knobs: cartel and benign kinds, their default proportions, the options.

Every default is documented with its provenance in docs/synthetic-market.md ([S]ourced or [G]uessed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Cartel kinds. The first five leave no statutory evidence link: only prices (and, at market level,
# who bids with whom and who wins) betray them. The last five leak the links of DOMAIN D1.
COVER = "cover"  # complementary bidding: a leader wins most of the ring's tenders, the others cover
ROTATION = "rotation"  # the ring's members take turns at winning
SUPPRESSION = "suppression"  # members stay away: thin tenders, high winning prices
INCOMPLETE = "incomplete"  # some of the bidders collude, outsiders compete in the same tender
REGULAR_STEPS = "regular_steps"  # cover prices in arithmetic/geometric steps or identical (规律性差异)
SHARED_DEVICE = "shared_device"  # one computer made/sent several bids: machine code, MAC, IP
SHARED_AGENT = "shared_agent"  # one agent, project manager or contact (and phone) for several bidders
SHARED_ACCOUNT = "shared_account"  # bid securities paid from one account
SHARED_DOCUMENT = "shared_document"  # identical file digest or the same authoring metadata
TENDEREE = "tenderee"  # the tenderee / agency favours one bidder (条例41): shared author or device

CARTEL_KINDS = (
    COVER,
    ROTATION,
    SUPPRESSION,
    INCOMPLETE,
    REGULAR_STEPS,
    SHARED_DEVICE,
    SHARED_AGENT,
    SHARED_ACCOUNT,
    SHARED_DOCUMENT,
    TENDEREE,
)
PRICE_ONLY_KINDS = (COVER, ROTATION, SUPPRESSION, INCOMPLETE)
EVIDENCE_KINDS = (SHARED_DEVICE, SHARED_AGENT, SHARED_ACCOUNT, SHARED_DOCUMENT, TENDEREE)

# Benign collisions: coincidences a careless detector mistakes for collusion. None of them creates a
# statutory link by itself.
INTERNET_CAFE = "internet_cafe"  # several bidders upload from one public IP (UPLOAD_IP only)
SHARED_AGENCY = "shared_agency"  # bidders upload from the agency's / centre's self-service hall IP
COMMON_TEMPLATE = "common_template"  # bids written on the tender's template (texts), same boilerplate
SAME_REGION = "same_region"  # firms registered at one cluster address (集群注册) of the region

BENIGN_KINDS = (INTERNET_CAFE, SHARED_AGENCY, COMMON_TEMPLATE, SAME_REGION)

# Share of the collusive tenders per kind [G]: no published census of cartel mechanisms exists; cover
# bidding and rotation dominate the decided cases (COMCO Ticino, See-Gaster; Montreal), the
# statutory-evidence kinds follow the Chinese enforcement cases' emphasis on 同一台电脑 / 同一账户.
KIND_WEIGHTS = {
    COVER: 0.18,
    ROTATION: 0.16,
    SUPPRESSION: 0.08,
    INCOMPLETE: 0.16,
    REGULAR_STEPS: 0.06,
    SHARED_DEVICE: 0.09,
    SHARED_AGENT: 0.08,
    SHARED_ACCOUNT: 0.07,
    SHARED_DOCUMENT: 0.07,
    TENDEREE: 0.05,
}
BENIGN_WEIGHTS = {INTERNET_CAFE: 0.3, SHARED_AGENCY: 0.2, COMMON_TEMPLATE: 0.25, SAME_REGION: 0.25}

CATEGORIES = ("A", "B", "C")  # 工程 / 货物 / 服务 (标段分类 first character, DOMAIN F4)
CATEGORY_WEIGHTS = (0.55, 0.25, 0.20)  # [G]


@dataclass(frozen=True)
class MarketParams:
    """Options of `simulate_market`; every one has a default (see docs/synthetic-market.md)."""

    cartel_share: float = 0.2  # share of collusive tenders
    benign_share: float = 0.15  # share of tenders carrying one benign collision
    texts: bool = False  # generate a short text per bid and a template per tender
    firms: int | None = None  # size of the firm pool; None: about 40 bids per firm
    regions: int | None = None  # None: from 2 (small markets) to 12
    mean_bidders: float = 11.0  # mean bids per competitive tender (minimum 3: 招标投标法第二十八条)
    max_bidders: int = 40
    lowest_price_share: float = 0.5  # awarded to the lowest price; the rest by scoring
    estimate_median: float = 2_000_000.0  # yuan
    estimate_sigma: float = 1.1  # log-normal spread of estimates across tenders
    cost_ratio: float = 0.86  # median private cost / estimate
    cost_sigma: tuple[float, float] = (0.03, 0.10)  # per-tender idiosyncratic cost spread range
    firm_sigma: float = 0.04  # persistent cost advantage of a firm
    overcharge_median: float = 0.17  # cartel overcharge over the competitive winning price
    overcharge_sigma: float = 0.5  # log-normal spread of a ring's overcharge
    guarantee_share: float = 0.3  # bids secured by a bank guarantee: no deposit account link
    missing_device_share: float = 0.1  # bids without hardware fingerprints (old client, export)
    start: dt.date = dt.date(2021, 1, 1)
    years: int = 4
    kind_weights: dict = field(default_factory=lambda: dict(KIND_WEIGHTS))
    benign_weights: dict = field(default_factory=lambda: dict(BENIGN_WEIGHTS))

    def __post_init__(self):
        if not 0 <= self.cartel_share < 1:
            raise ValueError("cartel_share is in [0, 1)")
        if not 0 <= self.benign_share <= 1:
            raise ValueError("benign_share is in [0, 1]")
        if not 0 <= self.lowest_price_share <= 1:
            raise ValueError("lowest_price_share is in [0, 1]")
        if self.mean_bidders < 3 or self.max_bidders < 4:
            raise ValueError("mean_bidders is at least 3 and max_bidders at least 4")
        if self.firms is not None and self.firms < 12:
            raise ValueError("firms is at least 12")
        if set(self.kind_weights) - set(CARTEL_KINDS) or not any(self.kind_weights.values()):
            raise ValueError("kind_weights: unknown kind or all zero")
        if set(self.benign_weights) - set(BENIGN_KINDS):
            raise ValueError("benign_weights: unknown kind")

    @classmethod
    def from_options(cls, options: dict) -> MarketParams:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise TypeError(f"unknown option(s): {', '.join(unknown)}")
        return cls(**options)
