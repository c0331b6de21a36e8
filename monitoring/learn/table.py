"""Read a bid table (CSV) for the offline models: one row per bid, grouped into tenders.

Pure (no Django). Required columns `tender_id, bid_amount`; optional `bidder_id, estimate, is_winner,
label`; any other column is kept for reporting (`--group-column`) and output, never used as a feature.
Column names are matched case-insensitively; the delimiter (`,` `;` tab `|`) is sniffed from the header
line; UTF-8 (with or without BOM) is expected, Latin-1 is accepted as a fallback (only numbers matter).
A refused file raises `TableError` with a stable code (docs/monitoring-models.md lists them).
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REQUIRED = ("tender_id", "bid_amount")
OPTIONAL = ("bidder_id", "estimate", "is_winner", "label")
MAX_BYTES = 512 * 2**20
TRUE = {"1", "1.0", "true", "t", "yes", "y", "是"}
FALSE = {"0", "0.0", "false", "f", "no", "n", "否"}
MISSING = {"", "na", "nan", "null", "none", "-"}


class TableError(ValueError):
    """A refused bid table: `code` is stable, `params` fill the message (row numbers count the header
    as row 1, as a spreadsheet shows them)."""

    MESSAGES = {
        "bids_file_missing": "The bid file %(path)s does not exist or cannot be read.",
        "bids_file_empty": "The bid file has no header line.",
        "bids_file_too_large": "The bid file is larger than %(limit)s MB.",
        "column_missing": "The bid file has no column %(column)s.",
        "amount_invalid": "Row %(row)s: the bid amount %(value)s is not a positive number.",
        "label_invalid": "Row %(row)s: the label %(value)s is not 0 or 1.",
        "winner_invalid": "Row %(row)s: is_winner %(value)s is not 0 or 1.",
        "estimate_invalid": "Row %(row)s: the estimate %(value)s is not a positive number.",
        "tender_id_missing": "Row %(row)s has no tender_id.",
        "too_few_tenders": "The table has %(found)s tenders; at least %(minimum)s are needed.",
        "labels_one_class": "Every tender has the same label: cross-validation needs both classes.",
        "too_few_positives": "The table has %(found)s collusive tenders; at least %(minimum)s are needed.",
    }

    def __init__(self, code: str, **params):
        self.code = code
        self.params = params
        super().__init__(f"{code}: {self.message}")

    @property
    def message(self) -> str:
        template = self.MESSAGES.get(self.code, self.code)
        try:
            return template % self.params
        except (KeyError, TypeError):
            return template


@dataclass
class BidTable:
    """The bids, in file order, with the tender each belongs to.

    `tender` holds, per bid, the index of its tender in `tenders` (ids in order of first appearance).
    Optional columns absent from the file are None; missing cells of present optional columns are NaN
    (estimate, is_winner) or "" (bidder_id). `label` is int 0/1 per bid when the column is present.
    """

    tenders: list[str]
    tender: np.ndarray  # int, per bid
    amount: np.ndarray  # float > 0, per bid
    bidder: list[str] | None = None
    estimate: np.ndarray | None = None
    is_winner: np.ndarray | None = None  # float 0/1/NaN
    label: np.ndarray | None = None  # int 0/1
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)  # raw cells, for writing scores back
    extra: dict[str, list[str]] = field(default_factory=dict)  # other columns, by lower-case name
    skipped: int = 0  # rows dropped by skip_invalid

    @property
    def n_bids(self) -> int:
        return len(self.amount)

    @property
    def n_tenders(self) -> int:
        return len(self.tenders)

    def tender_labels(self) -> np.ndarray | None:
        """A tender's label is the maximum of its bids' labels."""
        if self.label is None:
            return None
        out = np.zeros(self.n_tenders, dtype=int)
        np.maximum.at(out, self.tender, self.label)
        return out

    def tender_group(self, column: str) -> list[str]:
        """Per tender, the most frequent non-empty value of `column` among its bids ("" if none)."""
        values = self.extra.get(column.strip().lower())
        if values is None:
            raise TableError("column_missing", column=column)
        counts: list[dict[str, int]] = [{} for _ in self.tenders]
        for t, v in zip(self.tender.tolist(), values, strict=True):
            v = v.strip()
            if v and v.lower() not in MISSING:
                counts[t][v] = counts[t].get(v, 0) + 1
        return [min(c, key=lambda k: (-c[k], k)) if c else "" for c in counts]

    def check_trainable(self, *, min_tenders: int = 10, min_positives: int = 2) -> None:
        """Refuse a table the supervised models cannot learn from."""
        if self.label is None:
            raise TableError("column_missing", column="label")
        if self.n_tenders < min_tenders:
            raise TableError("too_few_tenders", found=self.n_tenders, minimum=min_tenders)
        y = self.tender_labels()
        if y.min() == y.max():
            raise TableError("labels_one_class")
        if min(int(y.sum()), int(len(y) - y.sum())) < min_positives:
            raise TableError("too_few_positives", found=int(y.sum()), minimum=min_positives)

    def digest(self) -> str:
        """SHA-256 of the canonical table (the columns the models read, in file order): the same bids
        give the same digest whatever the delimiter, encoding, column order or extra columns."""
        h = hashlib.sha256()
        cols = ["tender_id", "bid_amount", *[c for c in OPTIONAL if getattr(self, _ATTR[c]) is not None]]
        h.update(("\t".join(cols) + "\n").encode())
        for i in range(self.n_bids):
            cells = [self.tenders[self.tender[i]], repr(float(self.amount[i]))]
            if self.bidder is not None:
                cells.append(self.bidder[i])
            for arr in (self.estimate, self.is_winner, self.label):
                if arr is not None:
                    cells.append(repr(float(arr[i])))
            h.update(("\t".join(cells) + "\n").encode())
        return h.hexdigest()


_ATTR = {"bidder_id": "bidder", "estimate": "estimate", "is_winner": "is_winner", "label": "label"}


def parse_number(text: str) -> float | None:
    """A number as spreadsheets of several countries write it: `1234.5`, `1 234,5`, `1,234.5`,
    `1.234,5`, `1'234.5` (Swiss), with an optional currency sign; None when it is not a number."""
    s = text.strip().replace("\u00a0", "").replace(" ", "").replace("'", "").replace("_", "")
    s = s.lstrip("$€£¥￥").rstrip("€$")
    for prefix in ("CHF", "EUR", "USD", "BRL", "R$", "JPY", "CNY", "RMB"):
        if s.upper().startswith(prefix):
            s = s[len(prefix) :]
    if "," in s and "." in s:
        s = s.replace(",", "") if s.rfind(".") > s.rfind(",") else s.replace(".", "").replace(",", ".")
    elif s.count(".") > 1:  # 1.234.567: dots group thousands
        s = s.replace(".", "")
    elif "," in s:
        parts = s.split(",")
        # several commas, or one followed by exactly three digits, group thousands (1,234,567 / 1,234);
        # otherwise the comma is the decimal mark (1234,56)
        thousands = len(parts) > 2 or len(parts[1]) == 3
        s = s.replace(",", "") if thousands else s.replace(",", ".")
    try:
        value = float(s)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _flag(text: str) -> float | None:
    t = text.strip().lower()
    if t in TRUE:
        return 1.0
    if t in FALSE:
        return 0.0
    if t in MISSING:
        return math.nan
    return None


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _dialect(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_bids(path: str | Path, *, skip_invalid: bool = False) -> BidTable:
    """Read a bid CSV file (see the module docstring); raise TableError when it is refused."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_BYTES:
            raise TableError("bids_file_too_large", limit=MAX_BYTES // 2**20)
        data = p.read_bytes()
    except OSError:
        raise TableError("bids_file_missing", path=str(p)) from None
    return parse_bids(data, skip_invalid=skip_invalid)


def parse_bids(data: bytes | str, *, skip_invalid: bool = False) -> BidTable:
    """Parse bid CSV content. With `skip_invalid`, rows with an unreadable amount, label, is_winner or
    estimate, or without a tender_id, are dropped and counted in `skipped` instead of refusing the file."""
    text = _decode(data) if isinstance(data, bytes) else data.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_dialect(text))
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise TableError("bids_file_empty")
    names = [h.strip().lower() for h in header]
    index = {}
    for i, name in enumerate(names):
        index.setdefault(name, i)
    for col in REQUIRED:
        if col not in index:
            raise TableError("column_missing", column=col)
    present = {c for c in OPTIONAL if c in index}
    extra_cols = [n for n in dict.fromkeys(names) if n and n not in REQUIRED and n not in OPTIONAL]

    tenders: dict[str, int] = {}
    tender, amount, bidder, estimate, winner, label = [], [], [], [], [], []
    extra: dict[str, list[str]] = {c: [] for c in extra_cols}
    rows: list[list[str]] = []
    skipped = 0
    for rownum, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        cells = cells + [""] * (len(header) - len(cells))

        def cell(col: str, cells=cells) -> str:
            return cells[index[col]].strip()

        try:
            tid = cell("tender_id")
            if not tid:
                raise TableError("tender_id_missing", row=rownum)
            value = parse_number(cell("bid_amount"))
            if value is None or value <= 0:
                raise TableError("amount_invalid", row=rownum, value=cell("bid_amount")[:40])
            est = math.nan
            if "estimate" in present and cell("estimate").lower() not in MISSING:
                est = parse_number(cell("estimate"))
                if est is None or est <= 0:
                    raise TableError("estimate_invalid", row=rownum, value=cell("estimate")[:40])
            win = math.nan
            if "is_winner" in present:
                win = _flag(cell("is_winner"))
                if win is None:
                    raise TableError("winner_invalid", row=rownum, value=cell("is_winner")[:40])
            lab = 0.0
            if "label" in present:
                lab = _flag(cell("label"))
                if lab is None or math.isnan(lab):
                    raise TableError("label_invalid", row=rownum, value=cell("label")[:40])
        except TableError:
            if skip_invalid:
                skipped += 1
                continue
            raise
        tender.append(tenders.setdefault(tid, len(tenders)))
        amount.append(value)
        estimate.append(est)
        winner.append(win)
        label.append(int(lab))
        if "bidder_id" in present:
            bidder.append(cell("bidder_id"))
        for c in extra_cols:
            extra[c].append(cells[index[c]])
        rows.append(cells[: len(header)])
    return BidTable(
        tenders=list(tenders),
        tender=np.asarray(tender, dtype=np.int64),
        amount=np.asarray(amount, dtype=float),
        bidder=bidder if "bidder_id" in present else None,
        estimate=np.asarray(estimate, dtype=float) if "estimate" in present else None,
        is_winner=np.asarray(winner, dtype=float) if "is_winner" in present else None,
        label=np.asarray(label, dtype=np.int64) if "label" in present else None,
        header=list(header),
        rows=rows,
        extra=extra,
        skipped=skipped,
    )


def table_from_bids(
    bids: Iterable[Sequence],
    *,
    with_bidder: bool = True,
    with_estimate: bool = True,
    with_winner: bool = True,
    with_label: bool = True,
) -> BidTable:
    """Build a table from tuples (tender_id, amount, bidder_id, estimate, is_winner, label) — the
    shape `monitoring.pipeline` and the tests have at hand. None is missing."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["tender_id", "bid_amount", "bidder_id", "estimate", "is_winner", "label"])
    for t, a, b, e, w, lab in bids:
        lab = 0 if lab is None and not with_label else lab
        writer.writerow(
            ["" if v is None else (int(v) if isinstance(v, bool) else v) for v in (t, a, b, e, w, lab)]
        )
    table = parse_bids(buf.getvalue())
    if not with_bidder:
        table.bidder = None
    if not with_estimate:
        table.estimate = None
    if not with_winner:
        table.is_winner = None
    if not with_label:
        table.label = None
    return table
