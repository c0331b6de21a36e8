"""A synthetic public-procurement market with labelled cartels and benign collisions (issue 5, item 6).

`simulate_market(tenders, seed, **options)` returns a `SimulatedMarket` whose `lots` are
`monitoring.evidence.LotEvidence` records (the same shape the platform's selectors produce), with the
truth per lot and per bid. The model and its calibration: docs/synthetic-market.md.
"""

from .generate import Ring, SimulatedMarket, simulate_market
from .io import CSV_COLUMNS, read_evidence_jsonl, write_bids_csv, write_evidence_jsonl, write_truth_json
from .params import BENIGN_KINDS, CARTEL_KINDS, EVIDENCE_KINDS, KIND_WEIGHTS, PRICE_ONLY_KINDS, MarketParams

__all__ = [
    "BENIGN_KINDS",
    "CARTEL_KINDS",
    "CSV_COLUMNS",
    "EVIDENCE_KINDS",
    "KIND_WEIGHTS",
    "PRICE_ONLY_KINDS",
    "MarketParams",
    "Ring",
    "SimulatedMarket",
    "read_evidence_jsonl",
    "simulate_market",
    "write_bids_csv",
    "write_evidence_jsonl",
    "write_truth_json",
]
