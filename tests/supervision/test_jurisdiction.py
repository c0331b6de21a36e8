"""Supervising departments and jurisdiction (issue 7 item 1): a tender is assigned the departments
whose region, regimes and categories cover it when it is published; each regulator sees the tenders of
its departments, and all departments see the ones they share."""

from __future__ import annotations

import pytest

from archive.models import JournalEntry
from archive.providers import collect
from core.errors import AccessDenied, Conflict, ValidationFailed
from supervision import rules
from supervision.selectors import may_supervise, supervised_tenders, tender_departments
from supervision.services import department_create, member_add, supervisors_assign
from tests.factories import TenderFactory, UserFactory
from trading.models import Tender
from trading.signals import tender_published

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("dept", "tender", "covered"),
    [
        ("450000", "450100", True),  # the province covers its cities
        ("450000", "450126", True),  # and their counties
        ("450100", "450126", True),  # a city covers its counties
        ("450100", "450100", True),
        ("450100", "450200", False),  # not a neighbouring city
        ("450126", "450100", False),  # a county does not cover its city
        ("450000", "440100", False),  # nor another province
    ],
)
def test_region_covers(dept, tender, covered):
    assert rules.region_covers(dept, tender) is covered


def test_region_codes_are_checked():
    for bad in ("4501", "45010a", "", "4501000"):
        with pytest.raises(ValueError):
            rules.region_prefix(bad)


@pytest.fixture
def admin():
    return UserFactory(role="admin")


@pytest.fixture
def departments(admin):
    works = department_create(
        actor=admin,
        name="南宁市住房和城乡建设局",
        kind="industry",
        region_code="450100",
        regimes=["TB"],
        categories=["works"],
    )
    finance = department_create(
        actor=admin, name="广西壮族自治区财政厅", kind="finance", region_code="450000", regimes=["GP"]
    )
    office = department_create(
        actor=admin, name="南宁市政务服务监督管理办公室", kind="service_office", region_code="450100"
    )
    return works, finance, office


def test_department_input_is_validated_and_admin_only(admin, departments):
    with pytest.raises(AccessDenied):
        department_create(actor=UserFactory(role="regulator"), name="x", kind="audit", region_code="450000")
    with pytest.raises(ValidationFailed) as exc:
        department_create(
            actor=admin, name="", kind="army", region_code="45", regimes=["XX"], categories=["ships"]
        )
    assert exc.value.code == "department_invalid"
    assert set(exc.value.params["fields"]) == {"name", "kind", "region_code", "regimes", "categories"}
    with pytest.raises(Conflict) as exc:
        department_create(actor=admin, name="南宁市住房和城乡建设局", kind="industry", region_code="450100")
    assert exc.value.code == "department_exists"
    with pytest.raises(ValidationFailed) as exc:
        member_add(actor=admin, department=departments[0], user=UserFactory(role="centre"))
    assert exc.value.code == "member_not_regulator"


def test_publication_assigns_the_covering_departments_and_each_sees_its_own(
    admin, departments, clock, settings
):
    settings.SUPERVISION_UNATTACHED_REGULATORS = "none"  # the production default
    works, finance, office = departments
    a, b = UserFactory(role="regulator"), UserFactory(role="regulator")
    member_add(actor=admin, department=works, user=a)
    member_add(actor=admin, department=finance, user=b)
    nanning_works = TenderFactory(region_code="450102", regime="TB", category="works")
    guangxi_goods = TenderFactory(region_code="450200", regime="GP", category="goods")
    nanning_gp = TenderFactory(region_code="450100", regime="GP", category="services")
    for tender in (nanning_works, guangxi_goods, nanning_gp):
        tender_published.send(sender=Tender, tender=tender, actor=admin)

    assert list(tender_departments(nanning_works)) == [works, office]
    assert list(tender_departments(guangxi_goods)) == [finance]
    assert list(tender_departments(nanning_gp)) == [finance, office]  # shared
    assert set(supervised_tenders(a)) == {nanning_works}
    assert set(supervised_tenders(b)) == {guangxi_goods, nanning_gp}
    assert may_supervise(b, nanning_gp) and not may_supervise(a, nanning_gp)
    unattached = UserFactory(role="regulator")
    assert not supervised_tenders(unattached).exists()  # no department, no tenders
    settings.SUPERVISION_UNATTACHED_REGULATORS = "all"  # a platform-wide supervision office
    assert supervised_tenders(unattached).count() == Tender.objects.count()
    assert set(supervised_tenders(a)) == {nanning_works}  # members stay within their departments
    assert not supervised_tenders(UserFactory(role="centre")).exists()
    assert supervised_tenders(admin).count() == Tender.objects.count()

    entry = JournalEntry.objects.get(stream=nanning_works.stream, action="supervision.assigned")
    assert entry.payload["departments"] == [works.pk, office.pk]
    assert supervisors_assign(tender=nanning_works) == []  # idempotent
    items = dict(collect(nanning_works.stream))
    assert "supervision/supervisors.json" in items
