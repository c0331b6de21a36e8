"""Supervision's records in the tender's archival package (issue 7 acceptance): complaints with evidence,
tip-offs, instructions, sanctions and invitations are archived with the tender, and the package verifies —
and a tampered supervision file is caught and named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archive.blobs import blob_open
from archive.services import ProjectInfo, package_seal
from archive.verify import verify_package
from supervision.services import department_create, member_add
from supervision.services.complaints import complaint_file
from supervision.services.instructions import instruction_issue
from supervision.services.invitations import invitation_create, social_supervisor_add
from supervision.services.sanctions import sanction_decide
from supervision.services.tipoffs import tipoff_submit
from tests.factories import BidderUserFactory, TenderFactory, UserFactory
from trading.models import Role, Tender, TenderState
from trading.signals import tender_published

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervised(clock):
    admin = UserFactory(role=Role.ADMIN)
    dept = department_create(
        actor=admin, name="南宁市住房和城乡建设局", kind="industry", region_code="450100"
    )
    regulator = UserFactory(role=Role.REGULATOR)
    member_add(actor=admin, department=dept, user=regulator)
    tender = TenderFactory(state=TenderState.PUBLISHED, published_at=clock(), region_code="450102")
    tender_published.send(sender=Tender, tender=tender, actor=admin)
    bidder = BidderUserFactory()
    complaint = complaint_file(
        actor=bidder,
        tender=tender,
        matter="process",
        text="代理机构泄露潜在投标人名称",
        known_at=clock(),
        evidence=[("录音说明.txt", "通话记录".encode())],
    )
    tip, _code = tipoff_submit(text="两家单位同一人编制标书", tender_id=tender.pk, anonymous=True)
    instruction = instruction_issue(
        actor=regulator, tender=tender, addressee="centre", text="开标全程录音录像并留存备查。"
    )
    sanction = sanction_decide(
        actor=regulator,
        kind="warning",
        legal_basis="招标投标法实施条例第六十八条",
        reason="提供虚假材料",
        entity=bidder.entity,
        tender=tender,
    )
    deputy = social_supervisor_add(
        actor=admin, name="李代表", kind="deputy", user=UserFactory(role=Role.SUPERVISOR)
    )
    invitation = invitation_create(actor=regulator, tender=tender, supervisor=deputy, stage="opening")
    info = ProjectInfo(
        project=tender.stream,
        title=tender.title,
        code=tender.code,
        regime="TB",
        category="works",
        state="published",
        ended_on=clock().date(),
        interim=True,
    )
    package = package_seal(info=info, actor="tester")
    return {
        "package": package,
        "complaint": complaint,
        "tip": tip,
        "instruction": instruction,
        "sanction": sanction,
        "invitation": invitation,
    }


def _json(package, path: str) -> dict:
    with blob_open(package.files.get(path=path).blob) as handle:
        return json.loads(handle.read())


def test_every_supervision_record_is_in_the_package_and_it_verifies(supervised):
    package = supervised["package"]
    paths = set(package.files.values_list("path", flat=True))
    complaint, tip = supervised["complaint"], supervised["tip"]
    assert {
        "supervision/supervisors.json",
        f"supervision/complaints/{complaint.pk:04d}/complaint.json",
        f"supervision/complaints/{complaint.pk:04d}/evidence/01.bin",
        f"supervision/tipoffs/{tip.pk:04d}/tipoff.json",
        "supervision/instructions.json",
        "supervision/sanctions.json",
        "supervision/invitations.json",
    } <= paths
    assert (
        _json(package, "supervision/instructions.json")["instructions"][0]["id"]
        == supervised["instruction"].pk
    )
    sanctions = _json(package, "supervision/sanctions.json")["sanctions"]
    assert [(s["id"], s["kind"]) for s in sanctions] == [(supervised["sanction"].pk, "warning")]
    invitations = _json(package, "supervision/invitations.json")["invitations"]
    assert invitations[0]["stage"] == "opening" and invitations[0]["name"] == "李代表"
    tipoff = _json(package, f"supervision/tipoffs/{tip.pk:04d}/tipoff.json")
    assert tipoff["anonymous"] is True and "code" not in json.dumps(tipoff)
    report = verify_package(package)
    assert report.ok, report.lines()


def test_a_changed_supervision_file_is_detected_and_named(supervised, settings):
    package = supervised["package"]
    path = "supervision/sanctions.json"
    stored = Path(settings.MEDIA_ROOT) / package.files.get(path=path).blob.storage_name
    stored.write_bytes(stored.read_bytes().replace(b"warning", b"nothing"))
    report = verify_package(package)
    assert not report.ok
    assert ("integrity", "file_modified", path) in {(f.property, f.code, f.path) for f in report.findings}
