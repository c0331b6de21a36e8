"""Jurisdiction applied to the pages and services below supervision (issue 7 item 1): a regulator sees
and acts on the alerts, the monitoring tab, the archiving and the suspension of the tenders its
departments supervise, and of the tenders it shares with others — nothing of another department's."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.errors import AccessDenied, ValidationFailed
from monitoring.models import Alert
from monitoring.services.alerts import alert_assign, alert_dismiss
from supervision.services import department_create, member_add
from tests.factories import LotFactory, MarketEntityFactory, TenderFactory, UserFactory
from trading.access import in_jurisdiction, tender_access_supervise, tenders_in_jurisdiction
from trading.models import Tender, TenderState
from trading.services.tenders import tender_suspend
from trading.signals import tender_published

pytestmark = pytest.mark.django_db


def _alert(tender: Tender) -> Alert:
    lot = LotFactory(tender=tender)
    a, b = MarketEntityFactory(), MarketEntityFactory()
    alert = Alert.objects.create(
        tender=tender,
        lot=lot,
        node=Alert.Node.OPENING,
        level=Alert.Level.HIGH,
        score=0.9,
        message="同一IP上传",
        indicators=[{"code": "same_ip", "parties": [str(a.pk), str(b.pk)], "fired": True}],
        fingerprint=f"fp-{tender.pk}",
        created_at=timezone.now(),
        updated_at=timezone.now(),
    )
    alert.entities.set([a, b])
    return alert


@pytest.fixture
def world(clock, settings):
    settings.SUPERVISION_UNATTACHED_REGULATORS = "none"
    admin = UserFactory(role="admin")
    nanning = department_create(actor=admin, name="南宁市住建局", kind="industry", region_code="450100")
    liuzhou = department_create(actor=admin, name="柳州市住建局", kind="industry", region_code="450200")
    office = department_create(
        actor=admin, name="广西政务服务监管办", kind="service_office", region_code="450000"
    )
    ours, theirs, provincial = (UserFactory(role="regulator") for _ in range(3))
    member_add(actor=admin, department=nanning, user=ours)
    member_add(actor=admin, department=liuzhou, user=theirs)
    member_add(actor=admin, department=office, user=provincial)

    def published(region: str) -> Tender:
        tender = TenderFactory(state=TenderState.PUBLISHED, published_at=clock(), region_code=region)
        tender_published.send(sender=Tender, tender=tender, actor=admin)
        return tender

    t_nanning, t_liuzhou = published("450102"), published("450202")
    return {
        "admin": admin,
        "ours": ours,
        "theirs": theirs,
        "provincial": provincial,
        "t_nanning": t_nanning,
        "t_liuzhou": t_liuzhou,
        "a_nanning": _alert(t_nanning),
        "a_liuzhou": _alert(t_liuzhou),
    }


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_access_helpers_follow_the_departments(world):
    ours, provincial = world["ours"], world["provincial"]
    assert set(tenders_in_jurisdiction(ours)) == {world["t_nanning"]}
    # the provincial office covers both cities: each city tender is shared with it
    assert set(tenders_in_jurisdiction(provincial)) == {world["t_nanning"], world["t_liuzhou"]}
    assert in_jurisdiction(world["theirs"], world["t_liuzhou"])
    with pytest.raises(AccessDenied) as exc:
        tender_access_supervise(user=ours, tender=world["t_liuzhou"])
    assert exc.value.code == "outside_jurisdiction"
    centre = UserFactory(role="centre")
    assert tenders_in_jurisdiction(centre).count() == Tender.objects.count()  # the centre operates all
    assert not tenders_in_jurisdiction(UserFactory(role="expert")).exists()


def test_the_alert_queue_lists_only_the_departments_tenders(world):
    page = _client(world["ours"]).get(reverse("monitoring:queue"))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-alert-id="{world["a_nanning"].pk}"' in html
    assert f'data-alert-id="{world["a_liuzhou"].pk}"' not in html
    shared = _client(world["provincial"]).get(reverse("monitoring:queue")).content.decode()
    assert (
        f'data-alert-id="{world["a_nanning"].pk}"' in shared
        and f'data-alert-id="{world["a_liuzhou"].pk}"' in shared
    )


@pytest.mark.parametrize(
    "name,key",
    [
        ("monitoring:alert", "alert_id"),
        ("monitoring:tender", "tender_id"),
    ],
)
def test_another_departments_alert_and_tender_tab_are_refused(world, name, key):
    target = world["a_liuzhou"]
    arg = target.pk if key == "alert_id" else target.tender_id
    refused = _client(world["ours"]).get(reverse(name, kwargs={key: arg}))
    assert refused.status_code == 403
    assert b"outside_jurisdiction" in refused.content
    allowed = _client(world["theirs"]).get(reverse(name, kwargs={key: arg}))
    assert allowed.status_code == 200


def test_a_regulator_cannot_decide_or_archive_another_departments_tender(world):
    ours, alert = world["ours"], world["a_liuzhou"]
    with pytest.raises(AccessDenied) as exc:
        alert_dismiss(alert=alert, actor=ours, reason="误报")
    assert exc.value.code == "outside_jurisdiction"
    alert.refresh_from_db()
    assert alert.status == Alert.Status.OPEN
    response = _client(ours).post(reverse("monitoring:alert-dismiss", args=[alert.pk]), {"reason": "误报"})
    assert response.status_code == 403
    response = _client(ours).post(reverse("monitoring:tender-archive", args=[alert.tender_id]), {})
    assert response.status_code == 403
    # its own department's alert it may dismiss
    alert_dismiss(alert=world["a_nanning"], actor=ours, reason="误报：同一网吧")
    assert Alert.objects.get(pk=world["a_nanning"].pk).status == Alert.Status.DISMISSED


def test_an_alert_is_assigned_only_to_a_regulator_who_supervises_its_tender(world):
    with pytest.raises(ValidationFailed) as exc:
        alert_assign(alert=world["a_nanning"], actor=world["ours"], assignee=world["theirs"])
    assert exc.value.code == "assignee_outside_jurisdiction"
    alert_assign(alert=world["a_nanning"], actor=world["ours"], assignee=world["provincial"])
    assert Alert.objects.get(pk=world["a_nanning"].pk).assigned_to == world["provincial"]


def test_a_regulator_suspends_only_the_tenders_it_supervises(world):
    with pytest.raises(AccessDenied) as exc:
        tender_suspend(tender=world["t_liuzhou"], actor=world["ours"], reason="投诉处理")
    assert exc.value.code == "outside_jurisdiction"
    assert Tender.objects.get(pk=world["t_liuzhou"].pk).state == TenderState.PUBLISHED
    # the tender page offers the suspension to its own regulators only
    page = _client(world["ours"]).get(reverse("trading:tender_detail", args=[world["t_liuzhou"].pk]))
    assert page.status_code == 200 and b'id="suspend-title"' not in page.content
    page = _client(world["theirs"]).get(reverse("trading:tender_detail", args=[world["t_liuzhou"].pk]))
    assert b'id="suspend-title"' in page.content
    tender_suspend(tender=world["t_liuzhou"], actor=world["theirs"], reason="投诉处理")
    assert Tender.objects.get(pk=world["t_liuzhou"].pk).state == TenderState.SUSPENDED
