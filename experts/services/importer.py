"""Importing experts from CSV or XLSX (docs/expert-pool.md lists the columns) with a report
that says, row by row, what was created or updated and why a row was refused.

Each row is admitted (or its expert updated) in its own savepoint through the pool services,
so a refused row leaves nothing behind and the other rows still go in. A dry run does the same
work inside a transaction that is rolled back at the end: it reports exactly what a real run
would do (user names taken by an earlier row included) and writes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import zipfile
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from archive.journal import journal_append
from core.errors import DomainError
from experts.models import Expert
from experts.services.pool import MANAGE_ROLES, expert_create_prepared, expert_prepare, expert_update
from trading.access import require_role
from trading.models import Person, User
from trading.services.entities import person_id_digest

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
IMPORT_STREAM = "experts:import"

# column -> accepted header spellings (the English key and the usual Chinese headings)
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名",),
    "id_number": ("身份证号", "身份证号码", "证件号码"),
    "id_type": ("证件类型",),
    "phone": ("手机", "手机号码", "联系电话"),
    "email": ("电子邮箱", "邮箱"),
    "username": ("用户名", "登录名"),
    "region_code": ("地区代码", "行政区划代码", "所属地区"),
    "employer_name": ("工作单位", "单位名称"),
    "employer_uscc": ("单位统一社会信用代码", "单位信用代码"),
    "title": ("职称",),
    "title_level": ("职称级别", "职称等级"),
    "group": ("专家类别", "专家类型"),
    "birth_year": ("出生年份",),
    "years_in_field": ("从业年限",),
    "remote_ok": ("接受远程异地评标", "远程异地评标"),
    "main_specialty": ("主专业", "主专业代码"),
    "other_specialties": ("其他专业", "其他专业代码", "辅专业"),
    "qualifications": ("执业资格", "执业资格证书"),
    "employments": ("工作经历",),
}
REQUIRED_COLUMNS = ("name", "id_number", "phone", "region_code", "main_specialty")
PERSON_COLUMNS = ("name", "id_number", "id_type", "phone", "email", "username")
TITLE_LEVELS = {"正高级": "senior", "正高": "senior", "副高级": "deputy_senior", "副高": "deputy_senior"}
TITLE_LEVELS |= {"中级": "intermediate", "无": "none", "其他": "none"}
GROUPS = {"技术": "technical", "经济": "economic", "法律": "legal", "其他": "legal"}
_HEADER = {alias.lower(): key for key, aliases in COLUMNS.items() for alias in (key, *aliases)}


@dataclass
class RowError:
    field: str
    code: str
    message: str
    path: str = ""


@dataclass
class RowResult:
    row: int  # as the spreadsheet numbers it: the header is row 1
    outcome: str = "rejected"  # created | updated | unchanged | rejected
    name: str = ""
    id_masked: str = ""
    expert_id: int | None = None
    changes: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


@dataclass
class ImportReport:
    filename: str
    sha256: str
    dry_run: bool
    rows: list[RowResult] = field(default_factory=list)
    file_errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out = {"rows": len(self.rows), "created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
        for r in self.rows:
            out[r.outcome] += 1
        return out

    @property
    def ok(self) -> bool:
        return not self.file_errors and all(r.outcome != "rejected" for r in self.rows)

    def summary(self) -> dict[str, Any]:
        return {
            "file": self.filename,
            "sha256": self.sha256,
            "dry_run": self.dry_run,
            **self.counts(),
            "file_errors": [e.code for e in self.file_errors],
        }

    def as_dict(self) -> dict[str, Any]:
        return {**self.summary(), **asdict(self)}


class _DryRun(Exception):
    """Raised to roll back a dry run's transaction."""


# --- reading the file ---------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_csv(data: bytes) -> list[list[Any]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on a Chinese Windows saves "CSV" in GB18030 (GBK); strict UTF-8 comes first.
        text = data.decode("gb18030")
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _read_xlsx(data: bytes) -> list[list[Any]]:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 2)]
    finally:
        book.close()


def read_table(data: bytes, filename: str) -> list[list[Any]]:
    """The rows of the first sheet (XLSX) or of the CSV, raising DomainError on an unreadable file."""
    name = (filename or "").lower()
    is_xlsx = name.endswith((".xlsx", ".xlsm")) or data[:4] == b"PK\x03\x04"
    if not is_xlsx and not name.endswith((".csv", ".txt", ".tsv")) and name:
        raise DomainError(_("Upload a .csv or .xlsx file."), code="file_format_unknown")
    try:
        return _read_xlsx(data) if is_xlsx else _read_csv(data)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise DomainError(
            _("The file cannot be read: %(why)s") % {"why": exc}, code="file_unreadable"
        ) from None
    except csv.Error as exc:
        raise DomainError(
            _("The file cannot be read: %(why)s") % {"why": exc}, code="file_unreadable"
        ) from None


def _parts(value: str, keys: tuple[str, ...]) -> list[dict]:
    """ "a|b|c; d|e" -> [{keys[0]: a, ...}, ...]: entries split by ; (or ；), fields by |."""
    out = []
    for entry in value.replace("；", ";").split(";"):
        if entry.strip():
            values = [v.strip() for v in entry.split("|")]
            out.append({k: (values[i] if i < len(values) else "") for i, k in enumerate(keys)})
    return out


def row_data(raw: dict[str, str]) -> dict[str, Any]:
    """A row's cells as the pool services take them (aliases of choices resolved)."""
    data: dict[str, Any] = {k: v for k, v in raw.items() if k not in {"qualifications", "employments"}}
    if "title_level" in data:
        level = data["title_level"]
        data["title_level"] = TITLE_LEVELS.get(level, level.lower()) if level else ""
    if "group" in data:
        data["group"] = GROUPS.get(data["group"], data["group"].lower()) if data["group"] else ""
    if data.get("remote_ok"):
        data["remote_ok"] = data["remote_ok"].lower() not in {"0", "no", "n", "false", "否"}
    else:
        data.pop(
            "remote_ok", None
        )  # blank: the default (yes) for a new expert, unchanged for one in the pool
    if "qualifications" in raw:
        data["qualifications"] = _parts(raw["qualifications"], ("name", "number", "issuer", "valid_until"))
    if "employments" in raw:
        data["employments"] = _parts(
            raw["employments"], ("employer_name", "employer_uscc", "position", "start_date", "end_date")
        )
    return data


def _column(path: str) -> str:
    head = path.split(".", 1)[0].split("[", 1)[0]
    return "main_specialty" if head == "specialties" else head


def _errors_of(exc: DomainError) -> list[RowError]:
    codes = exc.params.get("codes") if isinstance(exc.params.get("codes"), dict) else {}
    messages = exc.params.get("fields") if isinstance(exc.params.get("fields"), dict) else {}
    if codes:
        return [RowError(_column(p), code, str(messages.get(p, "")), p) for p, code in codes.items()]
    return [RowError("", exc.code, str(exc.message))]


# --- importing ----------------------------------------------------------------------------------


def _masked(id_number: str) -> str:
    n = id_number.strip()
    return n[:3] + "*" * max(len(n) - 7, 0) + n[-4:] if len(n) > 7 else "****"


def _import_row(result: RowResult, raw: dict[str, str], *, actor: Any, managed_by_region: str) -> None:
    data = row_data(raw)
    id_type = data.get("id_type") or "resident_id"
    existing = Person.objects.filter(id_digest=person_id_digest(id_type, data.get("id_number", ""))).first()
    expert = Expert.objects.filter(person=existing).first() if existing else None
    if expert is None:
        prepared = expert_prepare(
            data={k: v for k, v in data.items() if k != "username"}, username=data.get("username", "")
        )
        expert = expert_create_prepared(
            actor=actor, prepared=prepared, user=None, managed_by_region=managed_by_region
        )
        result.outcome, result.expert_id = "created", expert.pk
        return
    if existing.name != data.get("name", "").strip():
        result.errors.append(
            RowError("name", "name_mismatch", str(_("This ID number is registered under another name.")))
        )
        return
    # An update changes only the columns the file has and the cells that are filled in.
    profile = {k: v for k, v in data.items() if k not in PERSON_COLUMNS and v not in ("", [], None)}
    if "main_specialty" not in profile:
        profile.pop("other_specialties", None)
    elif "other_specialties" not in profile:
        main = profile["main_specialty"].strip().upper()
        profile["other_specialties"] = [
            code
            for code in expert.specialty_links.filter(is_main=False).values_list("specialty_id", flat=True)
            if code != main
        ]
    expert, changes = expert_update(expert=expert, actor=actor, data=profile, check_access=False)
    result.expert_id = expert.pk
    result.outcome = "updated" if changes else "unchanged"
    result.changes = sorted(changes)


def import_experts(
    *,
    data: bytes,
    filename: str,
    actor: User | str | None,
    dry_run: bool = False,
    managed_by_region: str = "",
) -> ImportReport:
    """Import a CSV/XLSX file of experts; returns the row-by-row report. `actor` is centre staff,
    or a label such as "manage.py import_experts" when run from the command line."""
    if isinstance(actor, User):
        require_role(actor, *MANAGE_ROLES)
        managed_by_region = managed_by_region or actor.region_code
    report = ImportReport(filename=filename, sha256=hashlib.sha256(data).hexdigest(), dry_run=dry_run)
    if len(data) > MAX_BYTES:
        report.file_errors.append(
            RowError(
                "", "file_too_large", str(_("The file is larger than %(n)s MB.") % {"n": MAX_BYTES // 2**20})
            )
        )
        return report
    try:
        table = read_table(data, filename)
    except DomainError as exc:
        report.file_errors.append(RowError("", exc.code, str(exc.message)))
        return report
    if not table or not any(_cell(c) for c in table[0]):
        report.file_errors.append(
            RowError("", "header_missing", str(_("The first row must name the columns.")))
        )
        return report
    columns: list[str | None] = []
    for i, heading in enumerate(table[0]):
        key = _HEADER.get(_cell(heading).lstrip("\ufeff").lower())
        if key is None and _cell(heading):
            report.warnings.append(
                RowError(
                    _cell(heading), "column_unknown", str(_("Unknown column, ignored.")), f"column {i + 1}"
                )
            )
        columns.append(key if key not in columns else None)
    for key in REQUIRED_COLUMNS:
        if key not in columns:
            report.file_errors.append(
                RowError(key, "column_missing", str(_("The file has no column “%(c)s”.") % {"c": key}))
            )
    body = table[1:]
    if len(body) > MAX_ROWS:
        report.file_errors.append(
            RowError("", "too_many_rows", str(_("At most %(n)s rows per file.") % {"n": MAX_ROWS}))
        )
    if report.file_errors:
        return report

    rows: list[tuple[RowResult, dict[str, str]]] = []
    by_id: dict[str, list[int]] = defaultdict(list)
    for n, cells in enumerate(body, start=2):
        raw = {key: _cell(cells[i]) if i < len(cells) else "" for i, key in enumerate(columns) if key}
        if not any(raw.values()):
            continue  # blank line
        result = RowResult(row=n, name=raw.get("name", ""), id_masked=_masked(raw.get("id_number", "")))
        idx = columns.index("id_number")
        if idx < len(cells) and isinstance(cells[idx], int | float) and not isinstance(cells[idx], bool):
            # A spreadsheet number keeps only 15 significant digits: the ID may already be wrong.
            result.errors.append(
                RowError(
                    "id_number", "id_number_not_text", str(_("Store ID numbers as text, not as numbers."))
                )
            )
        if raw.get("id_number"):
            by_id[raw["id_number"].upper()].append(n)
        rows.append((result, raw))
    for result, raw in rows:
        others = [m for m in by_id.get(raw.get("id_number", "").upper(), []) if m != result.row]
        if others:
            result.errors.append(
                RowError(
                    "id_number",
                    "duplicate_in_file",
                    str(_("The same ID number is on rows %(rows)s.") % {"rows": ", ".join(map(str, others))}),
                )
            )

    try:
        with transaction.atomic():
            for result, raw in rows:
                report.rows.append(result)
                if result.errors:
                    continue
                try:
                    with transaction.atomic():
                        _import_row(result, raw, actor=actor, managed_by_region=managed_by_region)
                        if result.errors:
                            raise _RowRefused
                except _RowRefused:
                    result.outcome = "rejected"
                except DomainError as exc:
                    result.outcome = "rejected"
                    result.errors.extend(_errors_of(exc))
            if dry_run:
                raise _DryRun
            counts = report.counts()
            if counts["created"] or counts["updated"]:
                journal_append(
                    stream=IMPORT_STREAM,
                    action="experts.import_run",
                    actor=actor,
                    payload={"file": filename, "sha256": report.sha256, **counts},
                )
    except _DryRun:
        for result in report.rows:
            result.expert_id = None  # rolled back: these rows were never written
    return report


class _RowRefused(Exception):
    """A row found bad while importing it: its savepoint is rolled back."""
