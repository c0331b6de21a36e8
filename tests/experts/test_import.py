"""Importing experts from CSV/XLSX (experts.services.importer, manage.py import_experts): the
row-by-row report, no partial state from a refused row, and a dry run that writes nothing."""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from archive.models import JournalEntry
from core.errors import DomainError
from experts.models import Expert
from experts.services.importer import import_experts
from tests.experts.test_pool import centre, counts, make_expert, rid
from tests.factories import UserFactory, make_uscc
from trading.models import Person, Role, User
from trading.services.entities import person_upsert

pytestmark = pytest.mark.django_db
SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "expert-import-sample.csv"
HEADER = "name,id_number,phone,region_code,employer_name,employer_uscc,title_level,main_specialty,other_specialties"


def row(n: int, **over) -> str:
    values = {
        "name": f"蒙专家{n}",
        "id_number": rid(n),
        "phone": f"1370771{n:04d}",
        "region_code": "450100",
        "employer_name": "广西建设职业技术学院",
        "employer_uscc": make_uscc(900 + n),
        "title_level": "正高级",
        "main_specialty": "A010101",
        "other_specialties": "A0102、A0103",
    }
    values.update(over)
    return ",".join(values[k] for k in HEADER.split(","))


def csv_bytes(*rows: str, header: str = HEADER, bom: bool = False) -> bytes:
    text = "\n".join([header, *rows]) + "\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode()


def run(data: bytes, *, filename: str = "experts.csv", dry_run: bool = False, actor=None):
    return import_experts(data=data, filename=filename, actor=actor or centre(), dry_run=dry_run)


def outcome(report) -> list[tuple]:
    return [(r.row, r.outcome, [(e.field, e.code) for e in r.errors]) for r in report.rows]


def test_the_sample_file_imports_every_row(clock):
    report = run(SAMPLE.read_bytes(), filename=SAMPLE.name)

    assert report.ok and report.counts() == {
        "rows": 5,
        "created": 5,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
    }
    expert = Expert.objects.get(person__name="韦丽华")
    assert expert.user.role == Role.EXPERT and expert.user.username == "13807720002"
    assert expert.title_level == "deputy_senior" and expert.group == "technical"
    assert expert.specialty_links.get(is_main=True).specialty_id == "A050101"
    assert expert.employments.count() == 2 and expert.qualifications[0]["valid_until"] == "2027-12-31"
    assert Expert.objects.get(person__name="陆建明").remote_ok is False
    assert Expert.objects.get(person__name="梁国栋").group == "legal"
    run_entry = JournalEntry.objects.get(stream="experts:import")
    assert run_entry.payload["created"] == 5 and run_entry.payload["sha256"] == report.sha256


def test_a_dry_run_reports_the_same_and_writes_nothing(clock):
    staff = centre()
    before = counts()
    journal_before = JournalEntry.objects.count()

    report = run(SAMPLE.read_bytes(), dry_run=True, actor=staff)

    assert report.counts()["created"] == 5 and report.dry_run
    assert counts() == before and JournalEntry.objects.count() == journal_before
    assert all(r.expert_id is None for r in report.rows)


def test_each_bad_row_is_reported_with_row_field_and_code_and_good_rows_go_in(clock):
    person_upsert(name="别人", id_number=rid(6))
    data = csv_bytes(
        row(1),
        row(2, employer_uscc="91450100MA5L000000"),
        row(3, main_specialty="Z99"),
        row(4, region_code="999999"),
        row(5, phone=""),
        row(6),  # the ID belongs to someone else in the registry
        row(7),
        row(8, id_number=rid(7)),  # the same ID twice in the file: both refused
        row(9, other_specialties="A0102;A9999"),
        row(10, id_number="450103197001010000"),
    )

    report = run(data)

    assert outcome(report) == [
        (2, "created", []),
        (3, "rejected", [("employer_uscc", "uscc_checksum")]),
        (4, "rejected", [("main_specialty", "specialty_unknown")]),
        (5, "rejected", [("region_code", "region_unknown")]),
        (6, "rejected", [("phone", "required")]),
        (7, "rejected", [("name", "name_mismatch")]),
        (8, "rejected", [("id_number", "duplicate_in_file")]),
        (9, "rejected", [("id_number", "duplicate_in_file")]),
        (10, "rejected", [("other_specialties", "specialty_unknown")]),
        (11, "rejected", [("id_number", "id_number_invalid")]),
    ]
    assert report.rows[6].errors[0].message  # a human message comes with every code
    assert Expert.objects.count() == 1
    # refused rows left no person or account behind
    assert set(Person.objects.values_list("name", flat=True)) == {"蒙专家1", "别人"}
    assert User.objects.filter(role=Role.EXPERT).count() == 1


def test_a_row_refused_while_writing_leaves_nothing_and_a_dry_run_sees_it_too(clock):
    # Two people with one phone: the second's default user name is taken by the first.
    data = csv_bytes(row(11), row(12, phone="13707710011"))
    dry = run(data, dry_run=True)
    real = run(data)
    assert (
        outcome(dry)
        == outcome(real)
        == [(2, "created", []), (3, "rejected", [("username", "username_taken")])]
    )
    assert not Person.objects.filter(name="蒙专家12").exists()


def test_a_second_import_updates_changed_rows_only(clock):
    run(csv_bytes(row(21), row(22)))

    report = run(csv_bytes(row(21), row(22, region_code="450300", other_specialties="")))

    assert outcome(report) == [(2, "unchanged", []), (3, "updated", [])]
    assert report.rows[1].changes == ["region_code"]
    expert = Expert.objects.get(person__name="蒙专家22")
    # an empty cell leaves the value as it is
    assert expert.region_code == "450300" and expert.specialty_links.count() == 3 and expert.version == 2


def test_a_removed_expert_is_not_updated(clock):
    expert = make_expert(23)
    expert.status = "removed"
    expert.save()
    report = run(csv_bytes(row(23, name="覃专家23", region_code="450300")))
    assert outcome(report) == [(2, "rejected", [("", "expert_removed")])]


def test_chinese_headers_a_bom_and_gb18030_are_understood(clock):
    header = "姓名,身份证号,手机,地区代码,工作单位,单位统一社会信用代码,职称级别,主专业,其他专业"
    assert run(csv_bytes(row(31), header=header, bom=True)).counts()["created"] == 1
    gbk = ("\n".join([header, row(32)]) + "\n").encode("gb18030")
    report = run(gbk)
    assert report.counts()["created"] == 1 and Expert.objects.filter(person__name="蒙专家32").exists()


def test_a_missing_required_column_refuses_the_file(clock):
    report = run(csv_bytes("蒙专家41,450100", header="name,region_code"))
    assert {(e.field, e.code) for e in report.file_errors} >= {
        ("id_number", "column_missing"),
        ("phone", "column_missing"),
        ("main_specialty", "column_missing"),
    }
    assert report.rows == [] and not Expert.objects.exists()


def test_unknown_columns_are_ignored_with_a_warning(clock):
    report = run(csv_bytes(row(42) + ",x", header=HEADER + ",shoe_size"))
    assert [(w.field, w.code) for w in report.warnings] == [("shoe_size", "column_unknown")]
    assert report.counts()["created"] == 1


def _xlsx(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_xlsx_file_imports_and_a_numeric_id_cell_is_refused(clock):
    header = [*HEADER.split(","), "birth_year", "qualifications"]
    good = [*row(51).split(","), 1969, "一级注册建造师|桂1450|住建部|2029-01-01"]
    numeric = row(52).split(",")
    numeric[1] = int(rid(52)[:-1] + "0")  # an ID typed as a number
    data = _xlsx([header, good, [None] * 3, [*numeric, 1970, ""]])

    report = run(data, filename="专家.xlsx")

    assert outcome(report) == [(2, "created", []), (4, "rejected", [("id_number", "id_number_not_text")])]
    expert = Expert.objects.get()
    assert expert.birth_year == 1969 and expert.qualifications[0]["issuer"] == "住建部"


def test_garbage_is_refused_as_a_file(clock):
    assert [e.code for e in run(b"PK\x03\x04garbage", filename="x.xlsx").file_errors] == ["file_unreadable"]
    assert [e.code for e in run(b"a,b", filename="x.pdf").file_errors] == ["file_format_unknown"]
    assert [e.code for e in run(b"", filename="x.csv").file_errors] == ["header_missing"]


def test_only_centre_staff_import(clock):
    with pytest.raises(DomainError) as info:
        run(SAMPLE.read_bytes(), actor=UserFactory(role=Role.AGENCY))
    assert info.value.code == "role_forbidden"


# --- the command -----------------------------------------------------------------------------------------


def test_the_command_prints_a_table_and_a_json_summary(clock, tmp_path):
    out = io.StringIO()
    call_command("import_experts", str(SAMPLE), stdout=out)
    lines = out.getvalue().strip().splitlines()
    summary = json.loads(lines[-1])
    assert (summary["created"], summary["rejected"], summary["dry_run"]) == (5, 0, False)
    assert lines[0].split()[:2] == ["row", "outcome"] and "created" in lines[1]
    assert JournalEntry.objects.get(stream="experts:import").actor_label == "manage.py import_experts"


def test_the_command_dry_run_writes_nothing_and_refused_rows_exit_1(clock, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes(row(61), row(62, region_code="1")))
    out = io.StringIO()
    with pytest.raises(CommandError) as info:
        call_command("import_experts", str(path), "--dry-run", stdout=out)
    assert info.value.returncode == 1 and "import_rows_rejected" in str(info.value)
    assert "region_invalid" in out.getvalue()
    assert json.loads(out.getvalue().strip().splitlines()[-1])["created"] == 1
    assert not Expert.objects.exists()


def test_the_command_records_the_actor_and_refuses_a_bad_file(clock, tmp_path):
    staff = centre(username="luzheng")
    path = tmp_path / "ok.csv"
    path.write_bytes(csv_bytes(row(71)))
    call_command("import_experts", str(path), "--actor", "luzheng", stdout=io.StringIO())
    assert Expert.objects.get().managed_by_region == staff.region_code
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"name\nx\n")
    with pytest.raises(CommandError) as info:
        call_command("import_experts", str(bad), stdout=io.StringIO())
    assert info.value.returncode == 2


def test_a_blank_remote_cell_means_yes_for_a_new_expert_and_no_change_for_one_in_the_pool(clock):
    header = HEADER + ",remote_ok"
    run(csv_bytes(row(81) + ",否", row(82) + ",", header=header))
    assert list(Expert.objects.order_by("pk").values_list("remote_ok", flat=True)) == [False, True]

    report = run(csv_bytes(row(81) + ",", header=header))

    assert outcome(report) == [(2, "unchanged", [])]
    assert Expert.objects.get(person__name="蒙专家81").remote_ok is False
