"""The regulator review pages: who may see and act (every role), the queue's filters and pages, the alert
page that explains itself, assign / confirm / dismiss through the services, bad input refused with a
code and nothing written, the committee's JSON of a lot's alerts, the market view and the tender tab.

The world at the top (one lot, two bidders, an open alert made with the ORM, a user of every role) is
shared with tests/monitoring/test_consumer.py and tests/e2e/test_monitoring_browser.py."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import pytest
from django.test import Client
from django.urls import URLPattern, reverse
from django.utils import timezone

from archive.blobs import blob_put
from archive.models import JournalEntry
from experts.models import Draw, EvaluationRoom, Member
from monitoring.models import Alert, LotAnalysis, MarketRun, MonitoringReport
from monitoring.urls import urlpatterns
from tests.factories import AgencyUserFactory, BidderUserFactory, LotFactory, MarketEntityFactory, UserFactory
from trading.models import CreditRecord, Lot, MarketEntity, Role, TenderState, User

pytestmark = pytest.mark.django_db

# --- the world ------------------------------------------------------------------------------------------

DEPOSIT_SOURCE = "《招标投标法实施条例》第四十条第（六）项"


def finding(
    code: str, parties: tuple[str, ...], *, statutory: bool, legal_source: str = "", paths=(), **extra
) -> dict:
    """A stored finding, shaped like monitoring.evidence.Finding (as the pipeline stores it)."""
    return {
        "code": code,
        "statutory": statutory,
        "legal_source": legal_source,
        "weight": extra.pop("weight", 1.0 if statutory else 0.3),
        "parties": list(parties),
        "value": extra.pop("value", None),
        "threshold": extra.pop("threshold", None),
        "paths": [list(p) for p in paths],
        "detail": extra.pop("detail", {}),
        **extra,
    }


def evidence_graph(a: MarketEntity, b: MarketEntity, *, a_label: str | None = None) -> dict:
    return {
        "nodes": [
            {"id": f"entity:{a.pk}", "kind": "entity", "label": a_label or a.name, "role": "bidder"},
            {"id": f"entity:{b.pk}", "kind": "entity", "label": b.name, "role": "bidder"},
            {"id": "account:6222020001", "kind": "account", "label": "6222 **** 0001", "role": ""},
            {"id": "ip:10.0.0.7", "kind": "ip", "label": "10.0.0.7", "role": ""},
        ],
        "edges": [
            {
                "source": f"entity:{a.pk}",
                "target": "account:6222020001",
                "relation": "deposit_account",
                "label": "保证金转出账户",
            },
            {
                "source": f"entity:{b.pk}",
                "target": "account:6222020001",
                "relation": "bank_account",
                "label": "基本户",
            },
            {"source": f"entity:{a.pk}", "target": "ip:10.0.0.7", "relation": "upload_ip", "label": "上传IP"},
            {"source": f"entity:{b.pk}", "target": "ip:10.0.0.7", "relation": "upload_ip", "label": "上传IP"},
        ],
    }


def make_alert(lot: Lot, entities: list[MarketEntity], *, a_label: str | None = None, **fields) -> Alert:
    a, b = entities[0], entities[1]
    now = timezone.now()
    keys = (str(a.pk), str(b.pk))
    defaults = {
        "tender": lot.tender,
        "lot": lot,
        "node": Alert.Node.OPENING,
        "level": Alert.Level.HIGH,
        "score": 0.93,
        "message": "两家投标人的投标保证金从同一账户转出，且从同一IP上传投标文件。",
        "indicators": [
            finding(
                "same_deposit_account",
                keys,
                statutory=True,
                legal_source=DEPOSIT_SOURCE,
                value="6222****0001",
                paths=[(f"entity:{a.pk}", "account:6222020001", f"entity:{b.pk}")],
            ),
            finding(
                "same_ip",
                keys,
                statutory=False,
                value=2,
                threshold=2,
                weight=0.35,
                paths=[(f"entity:{a.pk}", "ip:10.0.0.7", f"entity:{b.pk}")],
            ),
            finding("low_cv", (), statutory=False, value=0.0123, threshold=0.03, weight=0.2, fired=False),
        ],
        "graph": evidence_graph(a, b, a_label=a_label),
        "fingerprint": "f" * 64,
        "created_at": now,
        "updated_at": now,
    }
    defaults.update(fields)
    alert = Alert.objects.create(**defaults)
    alert.entities.set(entities)
    return alert


@dataclass
class World:
    lot: Lot
    a: MarketEntity
    b: MarketEntity
    alert: Alert
    users: dict[str, User | None] = field(default_factory=dict)


def build_world() -> World:
    lot = LotFactory(tender__state=TenderState.PUBLISHED)
    a = MarketEntityFactory(name="广西甲建设有限公司")
    b = MarketEntityFactory(name="广西乙建设有限公司")
    alert = make_alert(lot, [a, b])
    users = {
        "anonymous": None,
        "bidder": BidderUserFactory(entity=a),
        "agency": AgencyUserFactory(entity=lot.tender.agency),
        "expert": UserFactory(role=Role.EXPERT),
        "centre": UserFactory(role=Role.CENTRE),
        "regulator": UserFactory(role=Role.REGULATOR, first_name="监管", last_name="王"),
        "admin": UserFactory(role=Role.ADMIN),
    }
    return World(lot=lot, a=a, b=b, alert=alert, users=users)


def seat_member(lot: Lot, user: User, *, seat: int = 1, **member_fields) -> Member:
    """A committee seat on the lot (the room's own machinery is not needed to test who may read)."""
    now = timezone.now()
    room = EvaluationRoom.objects.filter(lot=lot).first()
    if room is None:
        requester = UserFactory(role=Role.CENTRE)
        draw = Draw.objects.create(
            lot=lot,
            request={"v": 1},
            request_digest="0" * 64,
            seed_commitment="0" * 64,
            seed_sealed="sealed",
            requested_by=requester,
            requested_at=now,
        )
        room = EvaluationRoom.objects.create(lot=lot, draw=draw, phase_changed_at=now, opens_at=now)
    return Member.objects.create(room=room, user=user, seat=seat, **member_fields)


def page_code(response) -> str:
    """The stable code of a refused request, from the error page or a JSON body."""
    if response["Content-Type"].startswith("application/json"):
        return response.json()["error"]["code"]
    found = re.search(r'<code class="error-code">([^<]+)</code>', response.content.decode())
    return found.group(1) if found else ""


REVIEW_PAGES = ("queue", "alert", "market", "tender")
OUTSIDERS = ("bidder", "agency", "expert")


@pytest.fixture
def world(clock):
    return build_world()


def client_for(user) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def url(name: str, world) -> str:
    return {
        "queue": reverse("monitoring:queue"),
        "alert": reverse("monitoring:alert", args=[world.alert.pk]),
        "market": reverse("monitoring:market"),
        "tender": reverse("monitoring:tender", args=[world.lot.tender_id]),
        "assign": reverse("monitoring:alert-assign", args=[world.alert.pk]),
        "confirm": reverse("monitoring:alert-confirm", args=[world.alert.pk]),
        "dismiss": reverse("monitoring:alert-dismiss", args=[world.alert.pk]),
        "lot": reverse("monitoring:lot-alerts", args=[world.lot.pk]),
    }[name]


def nothing_written(world, journal_before: int) -> None:
    world.alert.refresh_from_db()
    assert world.alert.status == Alert.Status.OPEN
    assert world.alert.assigned_to_id is None
    assert CreditRecord.objects.count() == 0
    assert JournalEntry.objects.count() == journal_before


def good_confirm(world, **changes) -> dict:
    data = {
        "legal_basis": DEPOSIT_SOURCE,
        "reason": "两家投标保证金由同一账户转出，经核实属实。",
        "entities": [str(world.a.pk), str(world.b.pk)],
        "sanction": "disqualification",
        "years": "2",
        "fine_amount": "",
    }
    data.update(changes)
    return data


# --- who may see and act --------------------------------------------------------------------------------


@pytest.mark.parametrize("page", REVIEW_PAGES)
def test_readers_see_the_pages_and_outsiders_are_refused(world, page):
    address = url(page, world)
    for role in ("centre", "regulator", "admin"):
        assert client_for(world.users[role]).get(address).status_code == 200, role
    anonymous = client_for(None).get(address)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    for role in OUTSIDERS:
        response = client_for(world.users[role]).get(address)
        assert (response.status_code, page_code(response)) == (403, "role_forbidden"), role


@pytest.mark.parametrize("action", ["assign", "confirm", "dismiss"])
def test_only_regulators_and_admins_act_and_a_refusal_writes_nothing(world, action):
    journal = JournalEntry.objects.count()
    data = {"assignee": "me", "reason": "无", **good_confirm(world)}
    for role in ("centre", *OUTSIDERS):
        response = client_for(world.users[role]).post(url(action, world), data)
        assert (response.status_code, page_code(response)) == (403, "role_forbidden"), role
    assert client_for(None).post(url(action, world), data).status_code == 302
    nothing_written(world, journal)


def test_centre_staff_read_the_alert_without_the_forms(world):
    body = client_for(world.users["centre"]).get(url("alert", world)).content.decode()
    assert 'id="alert-indicators"' in body
    assert (
        'id="confirm-form"' not in body and 'id="dismiss-form"' not in body and 'id="assign-form"' not in body
    )


def test_the_nav_links_to_the_queue_for_reviewers_only(world):
    home = reverse("trading:workbench")
    assert 'id="nav-monitoring"' in client_for(world.users["regulator"]).get(home).content.decode()
    assert 'id="nav-monitoring"' in client_for(world.users["centre"]).get(home).content.decode()
    assert 'id="nav-monitoring"' not in client_for(world.users["bidder"]).get(home).content.decode()


def test_no_monitoring_endpoint_answers_garbage_with_a_server_error_or_a_write(world):
    journal = JournalEntry.objects.count()
    garbage = {
        "assignee": "\x00",
        "entities": ["x", "-1"],
        "sanction": "death",
        "years": "99",
        "fine_amount": "1e400",
        "legal_basis": "",
        "reason": "",
        "status": "sideways",
        "level": "9",
        "order": "random()",
        "page": "-3",
    }
    failures = []
    for role, user in world.users.items():
        client = client_for(user)
        for p in urlpatterns:
            assert isinstance(p, URLPattern)
            for pk in (world.alert.pk, 999_999):
                kwargs = dict.fromkeys(p.pattern.converters, pk)
                if "tender_id" in kwargs:
                    kwargs["tender_id"] = world.lot.tender_id if pk != 999_999 else pk
                if "lot_id" in kwargs:
                    kwargs["lot_id"] = world.lot.pk if pk != 999_999 else pk
                address = reverse(f"monitoring:{p.name}", kwargs=kwargs)
                for method in ("get", "post"):
                    response = getattr(client, method)(address, garbage)
                    if response.status_code >= 500:
                        failures.append((role, method, address, response.status_code))
    assert failures == []
    nothing_written(world, journal)


# --- the queue ----------------------------------------------------------------------------------------


def rows(response) -> list[int]:
    return [int(x) for x in re.findall(r'<tr data-alert-id="(\d+)"', response.content.decode())]


def test_the_queue_filters_by_status_level_node_assignment_and_search(world, clock):
    regulator = world.users["regulator"]
    other_lot = LotFactory(tender__title="柳州市某学校食堂采购", tender__state="published")
    c, d = MarketEntityFactory(name="桂林丙贸易有限公司"), MarketEntityFactory()
    clock.advance(hours=1)
    low = make_alert(other_lot, [c, d], level=Alert.Level.LOW, score=0.41, node=Alert.Node.MARKET)
    clock.advance(hours=1)
    done = make_alert(other_lot, [c, d], status=Alert.Status.DISMISSED, score=0.6, assigned_to=regulator)
    client = client_for(regulator)
    top = world.alert.pk
    assert rows(client.get(reverse("monitoring:queue"))) == [top, done.pk, low.pk]  # by score
    assert rows(client.get(reverse("monitoring:queue"), {"order": "-created_at"})) == [done.pk, low.pk, top]
    assert rows(client.get(reverse("monitoring:queue"), {"status": "open"})) == [top, low.pk]
    assert rows(client.get(reverse("monitoring:queue"), {"level": "3"})) == [low.pk]
    assert rows(client.get(reverse("monitoring:queue"), {"node": "market"})) == [low.pk]
    assert rows(client.get(reverse("monitoring:queue"), {"assigned": "me"})) == [done.pk]
    assert rows(client.get(reverse("monitoring:queue"), {"assigned": "none"})) == [top, low.pk]
    assert rows(client.get(reverse("monitoring:queue"), {"q": "桂林丙"})) == [done.pk, low.pk]
    assert rows(client.get(reverse("monitoring:queue"), {"q": world.lot.tender.code})) == [top]


@pytest.mark.parametrize(
    "params",
    [
        {"status": "sideways"},
        {"level": "9"},
        {"node": "x"},
        {"assigned": "you"},
        {"order": "pk"},
        {"q": "x" * 101},
    ],
)
def test_a_filter_outside_its_choices_is_refused_with_a_code(world, params):
    response = client_for(world.users["regulator"]).get(reverse("monitoring:queue"), params)
    assert (response.status_code, page_code(response)) == (400, "invalid_filter")


def test_the_queue_pages_by_25_and_only_the_first_unfiltered_page_is_live(world):
    for i in range(25):  # decided alerts: any number may share a lot and node
        make_alert(world.lot, [world.a, world.b], status=Alert.Status.DISMISSED, score=0.5 - i / 100)
    client = client_for(world.users["regulator"])
    first = client.get(reverse("monitoring:queue"))
    second = client.get(reverse("monitoring:queue"), {"page": "2"})
    assert len(rows(first)) == 25 and len(rows(second)) == 1
    assert 'data-live="1"' in first.content.decode()
    assert 'data-live="0"' in second.content.decode()
    assert 'data-ws-path="/ws/monitoring/"' in first.content.decode()


# --- the alert page -----------------------------------------------------------------------------------


def test_the_alert_page_explains_itself(world):
    body = client_for(world.users["regulator"]).get(url("alert", world)).content.decode()
    # the indicators that fired, statutory first, with value, threshold and legal source; not the unfired one
    assert re.findall(r'data-indicator="(\w+)" data-statutory="(\d)"', body) == [
        ("same_deposit_account", "1"),
        ("same_ip", "0"),
    ]
    assert DEPOSIT_SOURCE in body and "6222****0001" in body
    assert 'data-indicator="low_cv"' not in body
    # the evidence path is spelled with the graph's labels
    assert f"{world.a.name} → 6222 **** 0001 → {world.b.name}" in body
    # the picture: one inline svg with the four nodes, inside the page (no image request)
    figure = re.search(r'<figure class="graph-figure" id="alert-graph">(.*?)</figure>', body, re.S).group(1)
    assert figure.startswith("<svg") and 'data-nodes="4"' in figure
    assert set(re.findall(r'data-node="([^"]+)"', figure)) == {
        f"entity:{world.a.pk}",
        f"entity:{world.b.pk}",
        "account:6222020001",
        "ip:10.0.0.7",
    }
    # the confirm form starts from the statutory finding's source and ticks its parties
    assert re.search(r'<textarea id="id-legal-basis"[^>]*>' + re.escape(DEPOSIT_SOURCE) + "</textarea>", body)
    assert re.search(rf'value="{world.a.pk}" data-entity="{world.a.pk}" checked', body)
    # data spec 402: handled? no; credit? no
    assert 'data-credit="0"' in body


def test_a_label_in_the_graph_is_escaped_on_the_page(world):
    alert = make_alert(
        world.lot, [world.a, world.b], node=Alert.Node.AWARD, a_label='<script>alert("x")</script>'
    )
    body = client_for(world.users["regulator"]).get(reverse("monitoring:alert", args=[alert.pk])).content
    assert b'<script>alert("x")' not in body
    assert b"&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body


def test_similar_past_cases_are_decided_alerts_sharing_indicators(world, clock):
    other = LotFactory(tender__state="published")
    c, d = MarketEntityFactory(), MarketEntityFactory()
    alike = make_alert(other, [c, d], status=Alert.Status.CONFIRMED, decided_at=clock())
    unlike = make_alert(
        other, [c, d], status=Alert.Status.DISMISSED, indicators=[{"code": "near_ceiling", "parties": []}]
    )
    still_open = make_alert(other, [c, d], node=Alert.Node.MARKET)
    body = client_for(world.users["regulator"]).get(url("alert", world)).content.decode()
    similar = re.search(r'<ul class="plain" id="alert-similar">(.*?)</ul>', body, re.S).group(1)
    shown = [int(x) for x in re.findall(r'data-alert-id="(\d+)"', similar)]
    assert shown == [alike.pk]
    assert unlike.pk not in shown and still_open.pk not in shown


def test_unknown_alert_is_404_with_its_code(world):
    response = client_for(world.users["regulator"]).get(reverse("monitoring:alert", args=[999_999]))
    assert (response.status_code, page_code(response)) == (404, "alert_not_found")


# --- acting -------------------------------------------------------------------------------------------


def test_a_regulator_assigns_the_alert_to_themself_or_to_another_regulator(world):
    regulator = world.users["regulator"]
    client = client_for(regulator)
    assert client.post(url("assign", world), {"assignee": "me"}).status_code == 302
    world.alert.refresh_from_db()
    assert world.alert.assigned_to == regulator
    colleague = UserFactory(role=Role.REGULATOR)
    assert client.post(url("assign", world), {"assignee": str(colleague.pk)}).status_code == 302
    world.alert.refresh_from_db()
    assert world.alert.assigned_to == colleague


@pytest.mark.parametrize("assignee", ["", "abc", "999999", "bidder", "centre"])
def test_an_assignment_to_anyone_but_a_regulator_is_refused(world, assignee):
    journal = JournalEntry.objects.count()
    if assignee in world.users:
        assignee = str(world.users[assignee].pk)
    response = client_for(world.users["regulator"]).post(url("assign", world), {"assignee": assignee})
    assert (response.status_code, page_code(response)) == (400, "assignee_invalid")
    nothing_written(world, journal)


def test_confirming_with_a_disqualification_enters_each_entity_in_the_credit_platform(world, clock):
    regulator = world.users["regulator"]
    response = client_for(regulator).post(url("confirm", world), good_confirm(world))
    assert response.status_code == 302 and response["Location"] == url("alert", world)
    world.alert.refresh_from_db()
    assert (world.alert.status, world.alert.decided_by, world.alert.credit_entered) == (
        "confirmed",
        regulator,
        True,
    )
    records = CreditRecord.objects.order_by("entity_id")
    assert [(r.entity_id, r.kind, r.source) for r in records] == [
        (world.a.pk, "disqualification", f"alert:{world.alert.pk}"),
        (world.b.pk, "disqualification", f"alert:{world.alert.pk}"),
    ]
    # two years from today (2026-03-02): the bar ends the day before the anniversary
    assert {r.ends_on for r in records} == {dt.date(2028, 3, 1)}
    assert all(r.blocks_participation and r.legal_basis == DEPOSIT_SOURCE for r in records)
    page = client_for(regulator).get(url("alert", world)).content.decode()
    assert 'data-credit="1"' in page and 'id="confirm-form"' not in page


def test_confirming_with_a_fine_records_the_amount_for_the_chosen_entity_only(world):
    data = good_confirm(world, sanction="fine", years="", fine_amount="50000.00", entities=[str(world.a.pk)])
    assert client_for(world.users["admin"]).post(url("confirm", world), data).status_code == 302
    record = CreditRecord.objects.get()
    assert (record.entity_id, record.kind, str(record.fine_amount)) == (world.a.pk, "fine", "50000.00")


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"years": "5"}, "alert_form_invalid"),
        ({"years": ""}, "alert_form_invalid"),
        ({"sanction": "death"}, "alert_form_invalid"),
        ({"entities": ["abc"]}, "alert_form_invalid"),
        ({"sanction": "fine", "fine_amount": "1e400"}, "alert_form_invalid"),
        ({"sanction": "fine", "fine_amount": "-5"}, "alert_form_invalid"),
        ({"sanction": "fine", "fine_amount": "12.345"}, "alert_form_invalid"),
        ({"legal_basis": "   "}, "alert_form_invalid"),
        ({"reason": ""}, "alert_form_invalid"),
        ({"entities": []}, "entities_required"),  # the service's own check
        ({"entities": ["999999"]}, "entities_invalid"),  # not an entity of this alert
    ],
)
def test_a_bad_confirmation_is_refused_with_a_code_and_writes_nothing(world, changes, code):
    journal = JournalEntry.objects.count()
    response = client_for(world.users["regulator"]).post(
        url("confirm", world), good_confirm(world, **changes)
    )
    assert (response.status_code, page_code(response)) == (400, code)
    # the page comes back with what was typed
    assert 'id="confirm-form"' in response.content.decode()
    nothing_written(world, journal)


def test_a_dismissal_needs_a_reason_and_a_decided_alert_cannot_be_decided_again(world):
    client = client_for(world.users["regulator"])
    journal = JournalEntry.objects.count()
    refused = client.post(url("dismiss", world), {"reason": "  "})
    assert (refused.status_code, page_code(refused)) == (400, "reason_required")
    nothing_written(world, journal)
    assert client.post(url("dismiss", world), {"reason": "同一网吧IP，属正常现象。"}).status_code == 302
    world.alert.refresh_from_db()
    assert (world.alert.status, world.alert.decision_reason) == ("dismissed", "同一网吧IP，属正常现象。")
    again = client.post(url("confirm", world), good_confirm(world))
    assert (again.status_code, page_code(again)) == (409, "alert_decided")
    assert CreditRecord.objects.count() == 0


# --- the committee's JSON -----------------------------------------------------------------------------


def test_a_committee_member_reads_the_lots_alerts_without_the_reviewers_link(world):
    member = UserFactory(role=Role.EXPERT)
    seat_member(world.lot, member)
    make_alert(world.lot, [world.a, world.b], node=Alert.Node.MARKET, status=Alert.Status.DISMISSED)
    data = client_for(member).get(url("lot", world)).json()
    assert data["lot"] == world.lot.pk
    assert [a["id"] for a in data["alerts"]] == [world.alert.pk]  # the dismissed one is not shown
    first = data["alerts"][0]
    assert first["url"] is None and first["level"] == 1
    assert [i["code"] for i in first["indicators"]] == ["same_deposit_account", "same_ip"]
    assert first["indicators"][0]["parties"] == [world.a.name, world.b.name]
    regulator = client_for(world.users["regulator"]).get(url("lot", world)).json()
    assert len(regulator["alerts"]) == 2 and regulator["alerts"][0]["url"] == url("alert", world)


def test_the_lots_alerts_are_refused_to_outsiders_and_to_a_recused_member(world, clock):
    recused = UserFactory(role=Role.EXPERT)
    seat_member(world.lot, recused, seat=2, recused_at=clock())
    for user in (world.users["bidder"], world.users["agency"], world.users["expert"], recused):
        response = client_for(user).get(url("lot", world))
        assert (response.status_code, response.json()["error"]["code"]) == (403, "alerts_forbidden")
    assert client_for(None).get(url("lot", world)).status_code == 302
    missing = client_for(world.users["regulator"]).get(reverse("monitoring:lot-alerts", args=[999_999]))
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "lot_not_found")


# --- market view and tender tab -----------------------------------------------------------------------


def test_the_market_view_draws_the_latest_run(world, clock):
    client = client_for(world.users["centre"])
    assert 'id="market-empty"' in client.get(reverse("monitoring:market")).content.decode()
    a, b = str(world.a.pk), str(world.b.pk)
    MarketRun.objects.create(
        started_at=clock(),
        finished_at=clock.advance(seconds=40),
        tenders=120,
        lots=130,
        bids=900,
        alerts_raised=7,
        figures={"seconds": 40.0},
        market={
            "cobidding": [{"a": a, "b": b, "weight": 9}, {"a": a, "b": "F77", "weight": 2}],
            "communities": [[a, b, "F77"]],
            "cover_bidding": [{"loser": b, "winner": a, "meetings": 9, "losses_to_winner": 9, "share": 1.0}],
            "rotation": [{"members": [a, b], "tenders": 12, "evenness": 0.875}],
            "names": {"F77": "<b>外地公司</b>"},
        },
    )
    body = client.get(reverse("monitoring:market")).content.decode()
    figure = re.search(r'<figure class="graph-figure" id="market-graph">(.*?)</figure>', body, re.S).group(1)
    assert 'data-nodes="3"' in figure and 'data-edges="2"' in figure
    assert "&lt;b&gt;外地公司&lt;/b&gt;" in body and "<b>外地公司" not in body
    cover = re.search(r'<table class="data" id="market-cover">(.*?)</table>', body, re.S).group(1)
    assert world.b.name in cover and world.a.name in cover
    assert "0.875" in body


def test_the_tender_tab_shows_screens_alerts_and_reports(world, clock):
    LotAnalysis.objects.create(
        lot=world.lot,
        tender=world.lot.tender,
        source="live",
        analysed_at=clock(),
        bids=4,
        features={"screens": {"n": 4, "cv": 0.012345, "rd": None}},
        findings=[{"code": "same_deposit_account"}],
        score=0.93,
    )
    blob = blob_put(data=b"%PDF-1.7 monitoring report", content_type="application/pdf")
    MonitoringReport.objects.create(
        tender=world.lot.tender,
        revision=1,
        data={"tender": world.lot.tender.code},
        data_sha256="a" * 64,
        pdf=blob,
        platform_signature="sig",
        created_at=clock(),
    )
    client = client_for(world.users["regulator"])
    body = client.get(url("tender", world)).content.decode()
    assert re.search(r'data-screen="cv">0.01235<', body) and re.search(r'data-screen="rd">—<', body)
    assert f'data-alert-id="{world.alert.pk}"' in body
    tender_id = world.lot.tender_id
    pdf = client.get(reverse("monitoring:report-pdf", args=[tender_id, 1]))
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content) == b"%PDF-1.7 monitoring report"
    signed = client.get(reverse("monitoring:report-json", args=[tender_id, 1])).json()
    assert signed["data"] == {"tender": world.lot.tender.code} and signed["platform_signature"] == "sig"
    missing = client.get(reverse("monitoring:report-pdf", args=[tender_id, 2]))
    assert (missing.status_code, page_code(missing)) == (404, "report_not_found")
