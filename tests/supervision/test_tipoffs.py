"""Tip-offs (issue 7 item 3): anyone reports, anonymously if they wish, and follows up with a receipt
code the platform keeps only hashed; a supervising regulator triages into an investigation, an alert of
collusion monitoring (joined to the lot's open alert) or no action; the tip-off is archived."""

from __future__ import annotations

import pytest

from archive.models import JournalEntry
from archive.services import ProjectInfo, package_seal
from archive.verify import verify_package
from core.errors import AccessDenied, Conflict, NotFound, ValidationFailed
from monitoring.models import Alert
from monitoring.services.alerts import alert_raise
from supervision.models import TipOff
from supervision.services import department_create, member_add
from supervision.services.tipoffs import tipoff_lookup, tipoff_submit, tipoff_triage
from tests.factories import LotFactory, MarketEntityFactory, TenderFactory, UserFactory
from tests.monitoring.test_views import finding
from trading.models import Tender, TenderState
from trading.signals import tender_published

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(clock):
    admin = UserFactory(role="admin")
    dept = department_create(
        actor=admin, name="南宁市住房和城乡建设局", kind="industry", region_code="450100"
    )
    other = department_create(
        actor=admin, name="柳州市住房和城乡建设局", kind="industry", region_code="450200"
    )
    regulator, outsider = UserFactory(role="regulator"), UserFactory(role="regulator")
    member_add(actor=admin, department=dept, user=regulator)
    member_add(actor=admin, department=other, user=outsider)
    tender = TenderFactory(state=TenderState.PUBLISHED, published_at=clock())
    lot = LotFactory(tender=tender, number=1)
    tender_published.send(sender=Tender, tender=tender, actor=admin)
    a, b = MarketEntityFactory(), MarketEntityFactory()
    return {"regulator": regulator, "outsider": outsider, "tender": tender, "lot": lot, "a": a, "b": b}


def test_anonymous_tipoff_follows_up_with_its_code_kept_hashed(world):
    tip, code = tipoff_submit(
        text="两家公司由同一人编制投标文件", tender_id=world["tender"].pk, entity_ids=[world["a"].pk, world["b"].pk],
        contact="138xxxx", anonymous=True, evidence=[("照片.jpg", b"\xff\xd8\xff fake")],
    )  # fmt: skip
    assert tip.reporter is None and tip.contact == ""
    assert len(code.replace("-", "")) == 16
    assert tipoff_lookup(code.lower().replace("-", " ")) == tip
    stored = TipOff.objects.filter(pk=tip.pk).values().get()
    assert code.replace("-", "") not in str(stored)  # only its digest
    with pytest.raises(NotFound):
        tipoff_lookup("AAAA-BBBB-CCCC-DDDD")
    assert JournalEntry.objects.filter(
        stream=world["tender"].stream, action="supervision.tipoff_received"
    ).exists()


def test_bad_tipoffs_are_refused_with_a_code(world):
    cases = [
        ({"text": " "}, "text_invalid"),
        ({"tender_id": "x"}, "tender_not_found"),
        ({"tender_id": 999999}, "tender_not_found"),
        ({"entity_ids": ["nobody"]}, "entity_not_found"),
        ({"contact": "x" * 201}, "contact_invalid"),
    ]
    for override, code in cases:
        with pytest.raises(ValidationFailed) as exc:
            tipoff_submit(**{"text": "线索", **override})
        assert exc.value.code == code
    assert not TipOff.objects.exists()


def test_triage_into_the_lots_open_alert_by_the_supervising_department(world):
    lot, a, b = world["lot"], world["a"], world["b"]
    existing, _ = alert_raise(
        lot=lot, node=Alert.Node.OPENING, score=0.7, level=Alert.Level.LOW, message="报价呈规律性差异。",
        indicators=[finding("low_cv", (str(a.pk), str(b.pk)), statutory=False)], graph={"nodes": [], "edges": []},
        features={}, entity_ids=[a.pk, b.pk],
    )  # fmt: skip
    tip, _code = tipoff_submit(text="同一人编制", tender_id=world["tender"].pk, entity_ids=[a.pk])
    with pytest.raises(AccessDenied):
        tipoff_triage(actor=world["outsider"], tip=tip, action="investigate")
    with pytest.raises(ValidationFailed):
        tipoff_triage(actor=world["regulator"], tip=tip, action="ignore")
    tip = tipoff_triage(actor=world["regulator"], tip=tip, action="investigate", note="调取上传记录")
    tip = tipoff_triage(actor=world["regulator"], tip=tip, action="alert", reply="已转入围标串标预警")
    alert = Alert.objects.get(pk=tip.alert_id)
    assert alert.pk == existing.pk and alert.status == Alert.Status.OPEN
    assert [i["code"] for i in alert.indicators] == ["low_cv", "tipoff"]
    assert alert.level == Alert.Level.MEDIUM  # raised by the tip-off
    with pytest.raises(Conflict):
        tipoff_triage(actor=world["regulator"], tip=tip, action="dismiss")
    assert tipoff_lookup(_code).reply == "已转入围标串标预警"


def test_a_tipoff_about_a_tender_is_archived_and_verifies(world, clock):
    tip, _code = tipoff_submit(text="线索", tender_id=world["tender"].pk, evidence=[("a.txt", b"evidence")])
    tipoff_triage(actor=world["regulator"], tip=tip, action="dismiss", reply="查无实据")
    t = world["tender"]
    info = ProjectInfo(project=t.stream, title=t.title, code=t.code, regime="TB", category="works", state="suspended", ended_on=clock().date(), interim=True)  # fmt: skip
    package = package_seal(info=info, actor="tester")
    paths = set(package.files.values_list("path", flat=True))
    assert {
        f"supervision/tipoffs/{tip.pk:04d}/tipoff.json",
        f"supervision/tipoffs/{tip.pk:04d}/evidence/01.bin",
    } <= paths
    assert verify_package(package).ok
