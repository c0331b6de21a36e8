"""Files of a simulated market: the bid table (monitoring_eval's format), the evidence and the truth."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from pathlib import Path

from monitoring.evidence import BidRow, Link, LotEvidence, Party

from .generate import SimulatedMarket

# The first six are monitoring_eval's input; `kind` and `benign` are for per-group reporting only and
# must never be used as features.
CSV_COLUMNS = ("tender_id", "bid_amount", "bidder_id", "estimate", "is_winner", "label", "kind", "benign")


def _atomic(path: Path):
    """Write beside the target and rename: a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    return tmp, lambda: os.replace(tmp, path)


def write_bids_csv(market: SimulatedMarket, path) -> int:
    """One row per bid, tender_id = the lot key; returns the number of rows."""
    path = Path(path)
    tmp, commit = _atomic(path)
    rows = 0
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(CSV_COLUMNS)
        for lot in market.lots:
            truth = market.truth[lot.lot]
            estimate = f"{lot.estimate:.2f}" if lot.estimate is not None else ""
            for bid in lot.bids:
                out.writerow(
                    (
                        lot.lot,
                        f"{bid.price:.2f}",
                        bid.party,
                        estimate,
                        int(bool(bid.is_winner)),
                        market.bid_labels[bid.bid],
                        truth["kind"],
                        truth["benign"],
                    )
                )
                rows += 1
    commit()
    return rows


def _lot_json(lot: LotEvidence) -> dict:
    return {
        "tender": lot.tender,
        "lot": lot.lot,
        "regime": lot.regime,
        "category": lot.category,
        "region": lot.region,
        "date": lot.date.isoformat() if lot.date else None,
        "ceiling": lot.ceiling,
        "estimate": lot.estimate,
        "template_text": lot.template_text,
        "bids": [
            {
                "bid": b.bid,
                "party": b.party,
                "price": b.price,
                "submitted_at": b.submitted_at.isoformat() if b.submitted_at else None,
                "is_winner": b.is_winner,
                "text": b.text,
                "file_sha256": b.file_sha256,
            }
            for b in lot.bids
        ],
        "parties": [
            {
                "key": p.key,
                "name": p.name,
                "role": p.role,
                "uscc": p.uscc,
                "links": [[x.kind, x.value, x.relation, x.source, x.label] for x in p.links],
            }
            for p in lot.parties
        ],
    }


def write_evidence_jsonl(market: SimulatedMarket, path) -> int:
    """One JSON object per lot (no labels in it: the truth is a separate file)."""
    path = Path(path)
    tmp, commit = _atomic(path)
    with tmp.open("w", encoding="utf-8") as fh:
        for lot in market.lots:
            fh.write(json.dumps(_lot_json(lot), ensure_ascii=False, separators=(",", ":")))
            fh.write("\n")
    commit()
    return len(market.lots)


def write_truth_json(market: SimulatedMarket, path) -> None:
    path = Path(path)
    tmp, commit = _atomic(path)
    data = {
        "summary": market.summary(),
        "lots": market.truth,
        "rings": [
            {
                "index": r.index,
                "kind": r.kind,
                "members": r.members,
                "overcharge": round(r.overcharge, 4),
                "discipline": round(r.discipline, 4),
                "evidence": list(r.variant),
                "tenders": r.tenders,
            }
            for r in market.rings
        ],
    }
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    commit()


def read_evidence_jsonl(path) -> list[LotEvidence]:
    """The lots written by write_evidence_jsonl, as LotEvidence again."""
    lots = []
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            d = json.loads(line)
            bids = tuple(
                BidRow(
                    bid=b["bid"],
                    party=b["party"],
                    price=b["price"],
                    submitted_at=dt.datetime.fromisoformat(b["submitted_at"]) if b["submitted_at"] else None,
                    is_winner=b["is_winner"],
                    text=b["text"],
                    file_sha256=b["file_sha256"],
                )
                for b in d["bids"]
            )
            parties = tuple(
                Party(
                    key=p["key"],
                    name=p["name"],
                    role=p["role"],
                    uscc=p["uscc"],
                    links=tuple(Link(*x) for x in p["links"]),
                )
                for p in d["parties"]
            )
            lots.append(
                LotEvidence(
                    tender=d["tender"],
                    lot=d["lot"],
                    regime=d["regime"],
                    category=d["category"],
                    region=d["region"],
                    date=dt.date.fromisoformat(d["date"]) if d["date"] else None,
                    ceiling=d["ceiling"],
                    estimate=d["estimate"],
                    template_text=d["template_text"],
                    bids=bids,
                    parties=parties,
                )
            )
    return lots
