"""The regulator's dashboard (/supervision/): jurisdiction (a department counts its own tenders and the
shared ones, never another's), the clocks' buckets at their boundaries, alerts by score band and level,
tenders by state with the suspended ones, tip-offs and instructions waiting, the monthly trend, who may
see it, the department filter, the charts' geometry and accessible markup, and a fixed number of
queries."""

from __future__ import annotations

import datetime as dt
import math
import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from archive.models import JournalEntry
from monitoring.models import Alert
from supervision.models import Complaint, Instruction, TipOff
from supervision.selectors.dashboard import (
    bar_chart,
    dashboard_figures,
    dashboard_scope,
    months_back,
    nice_axis,
)
from supervision.services import department_create, member_add
from supervision.services.complaints import (
    challenge_file,
    challenge_reply,
    complaint_accept,
    complaint_file,
    complaint_suspend_tender,
)
from supervision.services.tipoffs import tipoff_submit, tipoff_triage
from tests.conftest import SHANGHAI
from tests.factories import AgencyUserFactory, BidderUserFactory, TenderFactory, UserFactory
from trading.models import Role, Tender, TenderState
from trading.signals import tender_published

SECOND = dt.timedelta(seconds=1)
URL = "/supervision/"


# --- the world ------------------------------------------------------------------------------------------
# Three departments: A (Nanning, every category), F (Nanning, goods only) and B (Liuzhou). A works tender
# in Nanning is A's alone, a goods tender in Nanning is shared by A and F, a Liuzhou tender is B's.


class World:
    def __init__(self, clock):
        self.clock = clock
        self.admin = UserFactory(role=Role.ADMIN)
        self.dept_a = department_create(
            actor=self.admin, name="南宁市住房和城乡建设局", kind="industry", region_code="450100"
        )
        self.dept_f = department_create(
            actor=self.admin, name="南宁市财政局", kind="finance", region_code="450100", categories=["goods"]
        )
        self.dept_b = department_create(
            actor=self.admin, name="柳州市住房和城乡建设局", kind="industry", region_code="450200"
        )
        self.reg_a = self.regulator(self.dept_a)
        self.reg_b = self.regulator(self.dept_b)
        self.reg_f = self.regulator(self.dept_f)
        self.reg_af = self.regulator(self.dept_a, self.dept_f)
        self.t_a = self.tender(region="450100", category="works")
        self.t_shared = self.tender(region="450100", category="goods")
        self.t_b = self.tender(region="450200", category="works")
        self.bidder = BidderUserFactory()

    def regulator(self, *departments):
        user = UserFactory(role=Role.REGULATOR)
        for d in departments:
            member_add(actor=self.admin, department=d, user=user)
        return user

    def tender(self, *, region: str, category: str) -> Tender:
        t = TenderFactory(
            state=TenderState.PUBLISHED, published_at=self.clock(), region_code=region, category=category
        )
        tender_published.send(sender=Tender, tender=t, actor=self.admin)
        return t

    def complain(self, tender: Tender, text: str = "代理机构泄露投标人名单") -> Complaint:
        return complaint_file(
            actor=self.bidder, tender=tender, matter="process", text=text, known_at=self.clock()
        )

    def instruct(self, tender: Tender, department, *, due_at=None, status=Instruction.Status.ISSUED):
        # Issued with the ORM: the instruction services are another page's (supervision/services/instructions).
        return Instruction.objects.create(
            tender=tender,
            department=department,
            addressee=Instruction.Addressee.CENTRE,
            text="补充提交开标录像",
            due_at=due_at,
            issued_by=self.reg_a,
            issued_at=self.clock(),
            status=status,
        )


def raise_alert(
    tender: Tender, *, score: float, level: int = Alert.Level.MEDIUM, status="open", at=None
) -> Alert:
    now = at or timezone.now()
    return Alert.objects.create(
        tender=tender,
        node=Alert.Node.MARKET,
        level=level,
        score=score,
        message="报价呈规律性差异",
        fingerprint="a" * 64,
        created_at=now,
        updated_at=now,
        status=status,
    )


@pytest.fixture
def world(db, clock):
    return World(clock)


def figures(user, department: str | None = None) -> dict:
    return dashboard_figures(scope=dashboard_scope(user=user, department=department))


def client_for(user) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def page(user, query: str = "") -> str:
    response = client_for(user).get(URL + query)
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def attr_count(html: str, marker: str) -> int:
    """The data-count of the element carrying `marker` (an attribute such as data-figure="x")."""
    found = re.search(rf'{marker}[^>]*?data-count="(\d+)"', html)
    assert found, marker
    return int(found.group(1))


def bucket(html: str, clock_status: str, key: str) -> int:
    row = re.search(rf'<tr data-clock="{clock_status}">(.*?)</tr>', html, re.S)
    assert row, clock_status
    return attr_count(row.group(1), f'data-bucket="{key}"')


def error_code(response) -> str:
    found = re.search(r'<code class="error-code">([^<]+)</code>', response.content.decode())
    return found.group(1) if found else ""


# --- jurisdiction -----------------------------------------------------------------------------------------


def test_a_department_counts_its_tenders_and_the_shared_ones_never_another_departments(world):
    # given a complaint, an open alert and a waiting tip-off on each of the three tenders
    for t in (world.t_a, world.t_shared, world.t_b):
        world.complain(t)
        raise_alert(t, score=0.5)
        tipoff_submit(text="围标", tender_id=t.pk, anonymous=True)
    # when each department's regulator opens the dashboard
    a, b, f = figures(world.reg_a), figures(world.reg_b), figures(world.reg_f)
    # then A counts its own and the shared tender, F only the shared one, B only its own
    assert [x["complaints"]["totals"]["total"] for x in (a, b, f)] == [2, 1, 1]
    assert [x["alerts"]["total"] for x in (a, b, f)] == [2, 1, 1]
    assert [x["tenders"]["total"] for x in (a, b, f)] == [2, 1, 1]
    assert [x["tipoffs"]["received"] for x in (a, b, f)] == [2, 1, 1]
    assert {row["complaint"].tender_id for row in a["complaints"]["nearest"]} == {
        world.t_a.pk,
        world.t_shared.pk,
    }
    assert {row["complaint"].tender_id for row in f["complaints"]["nearest"]} == {world.t_shared.pk}
    assert {al.tender_id for al in b["alerts"]["top"]} == {world.t_b.pk}
    # and the page says the same
    html = page(world.reg_b)
    assert bucket(html, "filed", "total") == 1
    assert attr_count(html, 'data-total="alerts"') == 1
    assert f'data-complaint="{Complaint.objects.get(tender=world.t_a).pk}"' not in html


def test_admins_and_centre_staff_see_every_tender(world):
    world.complain(world.t_a)
    world.complain(world.t_b)
    for user in (world.admin, UserFactory(role=Role.CENTRE)):
        data = figures(user)
        assert data["complaints"]["totals"]["total"] == 2
        assert data["tenders"]["total"] == 3


def test_centre_staff_see_no_tipoffs_and_only_the_instructions_to_the_centre(world, clock):
    # a tip-off may be about the centre's own conduct (as in the tip-off list, which centre staff do not see)
    tipoff_submit(text="交易中心工作人员泄露信息", tender_id=world.t_a.pk, anonymous=True)
    world.instruct(world.t_a, world.dept_a, due_at=clock() - SECOND)
    to_agency = world.instruct(world.t_a, world.dept_a, due_at=clock() - SECOND)
    Instruction.objects.filter(pk=to_agency.pk).update(addressee=Instruction.Addressee.AGENCY)
    centre = UserFactory(role=Role.CENTRE)
    data = figures(centre)
    assert data["tipoffs"] == {"shown": False}
    assert data["instructions"]["overdue"] == 1
    assert figures(world.admin)["instructions"]["overdue"] == 2
    html = page(centre)
    assert 'data-figure="tipoffs-received"' not in html
    assert attr_count(html, 'data-figure="instructions-overdue"') == 1
    assert attr_count(page(world.admin), 'data-figure="tipoffs-received"') == 1


def test_the_header_names_the_departments_and_offers_the_filter_only_to_a_regulator_of_several(world):
    single = page(world.reg_a)
    assert f'data-dept="{world.dept_a.pk}"' in single and 'id="department-filter"' not in single
    several = page(world.reg_af)
    assert 'id="department-filter"' in several
    options = re.findall(r'<option value="(\d+)"', several)
    assert sorted(options) == sorted([str(world.dept_a.pk), str(world.dept_f.pk)])
    assert str(world.dept_b.pk) not in options


def test_the_department_filter_narrows_to_that_departments_tenders(world):
    world.complain(world.t_a)
    world.complain(world.t_shared)
    raise_alert(world.t_a, score=0.9)
    world.instruct(world.t_a, world.dept_a, due_at=world.clock() - SECOND)
    world.instruct(world.t_shared, world.dept_f, due_at=world.clock() - SECOND)
    both = figures(world.reg_af)
    only_f = figures(world.reg_af, department=str(world.dept_f.pk))
    assert both["complaints"]["totals"]["total"] == 2 and only_f["complaints"]["totals"]["total"] == 1
    assert both["alerts"]["total"] == 1 and only_f["alerts"]["total"] == 0
    assert both["instructions"]["overdue"] == 2 and only_f["instructions"]["overdue"] == 1
    html = page(world.reg_af, f"?department={world.dept_f.pk}")
    assert f'data-department="{world.dept_f.pk}"' in html
    assert re.search(rf'<option value="{world.dept_f.pk}" selected>', html)
    # an admin may narrow to any department
    assert figures(world.admin, department=str(world.dept_b.pk))["tenders"]["total"] == 1


@pytest.mark.parametrize("value", ["other", "abc", "-1", "999999", "1.0", " "])
def test_a_department_that_is_not_the_regulators_is_refused_with_a_code_and_nothing_written(world, value):
    journal = JournalEntry.objects.count()
    department = {"other": str(world.dept_b.pk)}.get(value, value)
    response = client_for(world.reg_a).get(URL, {"department": department})
    assert response.status_code == 400
    assert error_code(response) == "invalid_filter"
    json = client_for(world.reg_a).get(URL, {"department": department}, HTTP_ACCEPT="application/json")
    assert json.status_code == 400 and json.json()["error"]["code"] == "invalid_filter"
    assert json.json()["error"]["params"]["filter"] == "department"
    assert JournalEntry.objects.count() == journal


def test_an_unattached_regulator_has_no_department_to_pick(world):
    # test settings make a regulator without a department platform-wide
    loner = UserFactory(role=Role.REGULATOR)
    assert figures(loner)["tenders"]["total"] == 3
    response = client_for(loner).get(URL, {"department": world.dept_a.pk})
    assert response.status_code == 400 and error_code(response) == "invalid_filter"


# --- access --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["regulator", "admin", "centre"])
def test_regulators_admins_and_centre_staff_see_the_dashboard(world, role):
    response = client_for(UserFactory(role=role)).get(URL)
    assert response.status_code == 200
    assert 'id="supervision-dashboard"' in response.content.decode()


@pytest.mark.parametrize("role", ["bidder", "agency", "expert", "supervisor"])
def test_other_roles_are_refused(world, role):
    user = {"bidder": BidderUserFactory, "agency": AgencyUserFactory}.get(role, UserFactory)(role=role)
    response = client_for(user).get(URL)
    assert response.status_code == 403
    assert error_code(response) == "role_forbidden"


def test_anonymous_visitors_are_sent_to_log_in(world):
    response = client_for(None).get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("trading:login"))


def test_the_dashboard_only_reads(world):
    response = client_for(world.reg_a).post(URL)
    assert response.status_code == 405


# --- complaints by clock --------------------------------------------------------------------------------


def test_the_acceptance_clock_is_not_overdue_at_its_deadline_and_overdue_one_second_after(world, clock):
    complaint = world.complain(world.t_a)
    due = complaint.accept_due_at
    clock.set(due - dt.timedelta(days=3) - SECOND)
    assert _buckets(world.reg_a, "filed") == {"overdue": 0, "soon": 0, "later": 1, "total": 1}
    clock.set(due - dt.timedelta(days=3))
    assert _buckets(world.reg_a, "filed") == {"overdue": 0, "soon": 1, "later": 0, "total": 1}
    clock.set(due)
    assert _buckets(world.reg_a, "filed") == {"overdue": 0, "soon": 1, "later": 0, "total": 1}
    html = page(world.reg_a)
    assert (
        f'data-complaint="{complaint.pk}" data-status="filed" data-clock="acceptance" data-overdue="0"'
        in html
    )
    clock.set(due + SECOND)
    assert _buckets(world.reg_a, "filed") == {"overdue": 1, "soon": 0, "later": 0, "total": 1}
    html = page(world.reg_a)
    assert (
        f'data-complaint="{complaint.pk}" data-status="filed" data-clock="acceptance" data-overdue="1"'
        in html
    )
    assert bucket(html, "filed", "overdue") == 1 and bucket(html, "accepted", "total") == 0


def test_an_accepted_complaint_runs_the_decision_clock(world, clock):
    complaint = complaint_accept(actor=world.reg_a, complaint=world.complain(world.t_a))
    clock.set(complaint.decision_due_at)
    assert _buckets(world.reg_a, "accepted") == {"overdue": 0, "soon": 1, "later": 0, "total": 1}
    assert _buckets(world.reg_a, "filed")["total"] == 0
    clock.set(complaint.decision_due_at + SECOND)
    assert _buckets(world.reg_a, "accepted")["overdue"] == 1
    row = figures(world.reg_a)["complaints"]["nearest"][0]
    assert row["clock"] == "decision" and row["overdue"] and row["due"] == complaint.decision_due_at


def test_closed_complaints_are_not_counted_and_the_nearest_are_ten_by_deadline(world, clock):
    made = []
    for i in range(12):
        clock.set(dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI) + dt.timedelta(hours=i))
        made.append(world.complain(world.t_a, text=f"投诉{i}"))
    Complaint.objects.filter(pk=made[0].pk).update(status=Complaint.Status.WITHDRAWN)
    data = figures(world.reg_a)["complaints"]
    assert data["totals"]["total"] == 11
    nearest = [row["complaint"].pk for row in data["nearest"]]
    assert nearest == [c.pk for c in made[1:11]]  # earliest deadline first, ten of them


def test_challenges_unanswered_past_their_reply_deadline(world, clock):
    challenge = challenge_file(actor=world.bidder, tender=world.t_a, text="资格条件排斥", known_at=clock())
    challenge_file(actor=world.bidder, tender=world.t_b, text="资格条件排斥", known_at=clock())
    clock.set(challenge.reply_due_at)
    assert figures(world.reg_a)["complaints"]["challenges_overdue"] == 0
    clock.set(challenge.reply_due_at + SECOND)
    assert figures(world.reg_a)["complaints"]["challenges_overdue"] == 1  # B's tender not counted
    html = page(world.reg_a)
    assert 'data-challenges-overdue="1"' in html
    challenge_reply(actor=AgencyUserFactory(entity=world.t_a.agency), challenge=challenge, reply="已答复")
    assert figures(world.reg_a)["complaints"]["challenges_overdue"] == 0


# --- alerts, tenders, tip-offs, instructions ------------------------------------------------------------


def test_open_alerts_by_score_band_and_level_and_the_ten_highest(world):
    for score in (0.0, 0.19999, 0.2, 0.5, 0.79, 0.8, 1.0):
        raise_alert(world.t_a, score=score, level=Alert.Level.LOW)
    raise_alert(world.t_a, score=0.95, level=Alert.Level.HIGH)
    raise_alert(world.t_a, score=0.99, level=Alert.Level.HIGH, status=Alert.Status.DISMISSED)
    raise_alert(world.t_a, score=0.97, status=Alert.Status.CONFIRMED)
    data = figures(world.reg_a)["alerts"]
    assert data["total"] == 8
    assert [b["count"] for b in data["bands"]] == [2, 1, 1, 1, 3]
    assert [b["label"] for b in data["bands"]] == ["0.0–0.2", "0.2–0.4", "0.4–0.6", "0.6–0.8", "0.8–1.0"]
    assert [(lv["level"], lv["count"]) for lv in data["levels"]] == [(1, 1), (2, 0), (3, 7)]
    assert [a.score for a in data["top"]][:3] == [1.0, 0.95, 0.8]
    for i in range(5):
        raise_alert(world.t_a, score=0.6 + i / 100)
    assert len(figures(world.reg_a)["alerts"]["top"]) == 10


def test_tenders_by_state_and_the_suspended_ones_with_since_when(world, clock):
    complaint = complaint_accept(actor=world.reg_a, complaint=world.complain(world.t_a))
    clock.advance(hours=2)
    suspended_at = clock()
    complaint_suspend_tender(actor=world.reg_a, complaint=complaint, reason="投诉调查期间暂停")
    clock.advance(days=1)
    data = figures(world.reg_a)["tenders"]
    counts = {s["state"]: s["count"] for s in data["states"]}
    assert counts[TenderState.SUSPENDED] == 1 and counts[TenderState.PUBLISHED] == 1
    assert set(counts) == set(TenderState.values)
    assert [t.pk for t in data["suspended"]] == [world.t_a.pk]
    assert data["suspended"][0].state_changed_at == suspended_at
    html = page(world.reg_a)
    assert f'<tr data-tender="{world.t_a.pk}">' in html
    assert suspended_at.isoformat() in html
    assert attr_count(html, f'data-state="{TenderState.SUSPENDED}"') == 1
    assert figures(world.reg_b)["tenders"]["suspended_count"] == 0


def test_tipoffs_received_and_under_investigation_and_those_naming_no_tender(world):
    mine, _code = tipoff_submit(text="串通投标", tender_id=world.t_a.pk, anonymous=True)
    tipoff_submit(text="串通投标", tender_id=world.t_shared.pk, anonymous=True)
    tipoff_submit(text="串通投标", tender_id=world.t_b.pk, anonymous=True)
    tipoff_submit(text="某公司挂靠资质")  # names no tender
    tipoff_triage(actor=world.reg_a, tip=mine, action="investigate")
    closed, _code = tipoff_submit(text="已处理", tender_id=world.t_a.pk)
    TipOff.objects.filter(pk=closed.pk).update(status=TipOff.Status.CLOSED)
    data = figures(world.reg_a)["tipoffs"]
    assert (data["received"], data["investigating"], data["untied_received"]) == (1, 1, 1)
    narrowed = figures(world.reg_af, department=str(world.dept_f.pk))["tipoffs"]
    assert (narrowed["received"], narrowed["investigating"], narrowed["untied_received"]) == (1, 0, 0)
    html = page(world.reg_a)
    assert attr_count(html, 'data-figure="tipoffs-received"') == 1
    assert attr_count(html, 'data-figure="tipoffs-investigating"') == 1
    assert attr_count(html, 'data-figure="tipoffs-untied"') == 1


def test_instructions_not_carried_out_with_the_overdue_ones(world, clock):
    now = clock()
    late = world.instruct(world.t_a, world.dept_a, due_at=now - SECOND)
    world.instruct(world.t_a, world.dept_a, due_at=now, status=Instruction.Status.ACKNOWLEDGED)  # at due
    world.instruct(world.t_a, world.dept_a, due_at=None)
    world.instruct(world.t_a, world.dept_a, due_at=now - SECOND, status=Instruction.Status.DONE)
    world.instruct(world.t_b, world.dept_b, due_at=now - SECOND)
    data = figures(world.reg_a)["instructions"]
    assert (data["issued"], data["acknowledged"], data["overdue"], data["open"]) == (2, 1, 1, 3)
    assert [i.pk for i in data["overdue_list"]] == [late.pk]
    html = page(world.reg_a)
    assert f'data-instruction="{late.pk}" data-status="issued" data-overdue="1"' in html
    assert attr_count(html, 'data-figure="instructions-overdue"') == 1
    assert figures(world.reg_b)["instructions"]["overdue"] == 1


# --- trend ------------------------------------------------------------------------------------------------


def test_months_back_crosses_the_year_and_starts_at_local_midnight():
    months = months_back(dt.datetime(2026, 2, 28, 17, 0, tzinfo=dt.UTC))  # 01:00 on 1 March in Shanghai
    assert len(months) == 12
    assert timezone.localtime(months[0]).date() == dt.date(2025, 4, 1)
    assert timezone.localtime(months[-1]).date() == dt.date(2026, 3, 1)
    assert all(timezone.localtime(m).hour == 0 for m in months)


def test_the_trend_counts_complaints_filed_and_alerts_raised_per_month_over_twelve_months(world, clock):
    for when in ((2025, 3, 31, 23), (2025, 4, 1, 0), (2025, 12, 15, 10), (2026, 3, 2, 9)):
        clock.set(dt.datetime(*when, tzinfo=SHANGHAI))
        world.complain(world.t_a)
        raise_alert(world.t_a, score=0.4, status=Alert.Status.DISMISSED)
    clock.set(dt.datetime(2025, 12, 31, 23, 30, tzinfo=SHANGHAI))  # still December in Shanghai
    raise_alert(world.t_a, score=0.4)
    raise_alert(world.t_b, score=0.4)  # another department's
    clock.set(dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI))
    trend = figures(world.reg_a)["trend"]
    assert [r["label"] for r in trend][:2] == ["2025-04", "2025-05"] and trend[-1]["label"] == "2026-03"
    by_month = {r["label"]: (r["complaints"], r["alerts"]) for r in trend}
    assert by_month["2025-04"] == (1, 1)  # the one of 31 March is outside the twelve months
    assert by_month["2025-12"] == (1, 2)
    assert by_month["2026-03"] == (1, 1)
    assert sum(c for c, _a in by_month.values()) == 3
    html = page(world.reg_a)
    assert re.search(r'<th scope="row">2025-12</th><td>1</td><td>2</td>', html)


# --- charts -----------------------------------------------------------------------------------------------


def test_nice_axis_rounds_up_to_whole_steps():
    assert nice_axis(0) == (1, 1)
    assert nice_axis(1) == (1, 1)
    assert nice_axis(3) == (3, 1)
    assert nice_axis(7) == (8, 2)
    assert nice_axis(10) == (10, 5)
    assert nice_axis(37) == (40, 10)
    assert nice_axis(1234) == (1500, 500)


def test_bar_chart_geometry_is_proportional_and_stays_in_the_plot():
    c = bar_chart(
        [{"label": "a", "n": 0}, {"label": "b", "n": 5}, {"label": "c", "n": 10}],
        series=[("n", "Count", "s")],
        title="T",
        width=400,
        height=200,
    )
    bars = [g["bars"][0] for g in c["groups"]]
    assert c["axis_max"] == 10
    plot_h = c["bottom"] - c["top"]
    assert bars[0]["h"] == 0 and bars[0]["y"] == c["bottom"]  # a zero sits on the baseline
    assert bars[2]["h"] == plot_h and bars[2]["y"] == c["top"]  # the largest reaches the axis maximum
    assert bars[1]["h"] == pytest.approx(plot_h / 2, abs=0.1)
    for b in bars:
        assert c["left"] <= b["x"] and b["x"] + b["w"] <= c["right"]
        assert b["y"] + b["h"] == pytest.approx(c["bottom"], abs=0.1)
    xs = [b["x"] for b in bars]
    assert xs == sorted(xs) and all(xs[i] + bars[i]["w"] < xs[i + 1] for i in range(2))
    assert [t["label"] for t in c["yticks"]] == ["0", "5", "10"]
    assert c["yticks"][0]["y"] == c["bottom"] and c["yticks"][-1]["y"] == c["top"]
    assert bars[1]["title"] == "b · Count: 5"
    assert c["summary"] == "T: a 0; b 5; c 10."
    assert c["rows"] == [
        {"label": "a", "values": [0]},
        {"label": "b", "values": [5]},
        {"label": "c", "values": [10]},
    ]


def test_grouped_bars_sit_side_by_side_within_their_band():
    c = bar_chart(
        [{"label": "m1", "x": 1, "y": 2}, {"label": "m2", "x": 3, "y": 0}],
        series=[("x", "X", "sx"), ("y", "Y", "sy")],
        title="T",
        width=244,
        height=100,
    )
    band = (c["right"] - c["left"]) / 2
    for i, g in enumerate(c["groups"]):
        x_bar, y_bar = g["bars"]
        assert x_bar["x"] + x_bar["w"] <= y_bar["x"]
        assert c["left"] + i * band <= x_bar["x"] and y_bar["x"] + y_bar["w"] <= c["left"] + (i + 1) * band
        assert g["lx"] == pytest.approx(c["left"] + i * band + band / 2, abs=0.1)
    assert [b["css"] for b in c["groups"][0]["bars"]] == ["sx", "sy"]
    assert c["summary"] == "T: m1: X 1, Y 2; m2: X 3, Y 0."


def test_slanted_labels_get_room_below_the_axis_for_their_length():
    short = bar_chart([{"label": "草稿", "n": 1}], series=[("n", "N", "s")], title="T", rotate_labels=True)
    long = bar_chart(
        [{"label": "Candidate publicity", "n": 1}], series=[("n", "N", "s")], title="T", rotate_labels=True
    )
    assert long["rotate"] == short["rotate"] == -35
    # the label's far end hangs width × sin(35°) below its anchor, which sits 16px under the axis
    drop = 19 * 11 * 0.56 * math.sin(math.radians(35))
    assert long["height"] - long["xlabel_y"] >= drop
    assert long["bottom"] < short["bottom"]  # the plot gives up the height the label needs
    assert bar_chart([{"label": "x", "n": 1}], series=[("n", "N", "s")], title="T")["rotate"] == 0


def test_an_empty_chart_still_draws_an_axis():
    c = bar_chart([], series=[("n", "N", "s")], title="T")
    assert c["groups"] == [] and c["axis_max"] == 1 and len(c["yticks"]) == 2


def test_the_charts_are_accessible_images_with_the_figures_in_a_hidden_table(world):
    raise_alert(world.t_a, score=0.85)
    raise_alert(world.t_a, score=0.9)
    html = page(world.reg_a)
    svg = re.search(r'<figure class="chart sv-chart" data-chart="alert-bands">(.*?)</figure>', html, re.S)
    assert svg
    body = svg.group(1)
    label = unescape(re.search(r'<svg[^>]*role="img"[^>]*aria-label="([^"]+)"', body).group(1))
    assert "0.8–1.0 2" in label and "0.0–0.2 0" in label
    assert re.search(r'<rect class="sv-alerts"[^>]*data-value="2"><title>0.8–1.0 · [^<]+: 2</title>', body)
    table = re.search(
        r'<table class="visually-hidden" data-chart-table="alert-bands">(.*?)</table>', body, re.S
    )
    assert table and re.search(r'<th scope="row">0.8–1.0</th><td>2</td>', table.group(1))
    assert "<script" not in html.split('id="supervision-dashboard"')[1]  # no inline script (CSP)
    for key in ("tender-states", "trend"):
        assert f'data-chart="{key}"' in html and f'data-chart-table="{key}"' in html


# --- links ------------------------------------------------------------------------------------------------


def test_every_figure_links_into_the_list_it_summarises(world, clock):
    complaint = world.complain(world.t_a)
    alert = raise_alert(world.t_a, score=0.9, level=Alert.Level.HIGH)
    late = world.instruct(world.t_a, world.dept_a, due_at=clock() - SECOND)
    html = unescape(page(world.reg_a))
    complaints = reverse("supervision:complaint_list")
    assert f'data-bucket="overdue" data-count="0" href="{complaints}?status=filed&overdue=1"' in html
    assert f'data-bucket="soon" data-count="0" href="{complaints}?status=accepted"' in html
    assert f'href="{reverse("supervision:complaint_detail", args=[complaint.pk])}"' in html
    assert f'href="{reverse("supervision:challenge_list")}?overdue=1"' in html
    queue = reverse("monitoring:queue")
    assert f'href="{queue}?status=open&level=1&order=-score"' in html
    assert f'href="{queue}?status=open&order=-score"' in html
    assert f'href="{reverse("monitoring:alert", args=[alert.pk])}"' in html
    assert f'href="{reverse("trading:tender_list")}?state=suspended"' in html
    assert f'href="{reverse("trading:tender_detail", args=[world.t_a.pk])}"' in html
    tipoffs = reverse("supervision:tipoff_list")
    assert f'href="{tipoffs}?status=received"' in html and f'href="{tipoffs}?status=investigating"' in html
    instructions = reverse("supervision:instruction_list")
    assert f'href="{instructions}?status=issued"' in html and f'href="{instructions}?overdue=1"' in html
    assert f'href="{reverse("supervision:instruction_detail", args=[late.pk])}"' in html
    assert reverse("supervision:dashboard") == URL


# --- speed ------------------------------------------------------------------------------------------------


def _buckets(user, status: str) -> dict:
    row = next(r for r in figures(user)["complaints"]["clocks"] if r["status"] == status)
    return {k: row[k] for k in ("overdue", "soon", "later", "total")}


def _fill(world, n: int) -> None:
    for i in range(n):
        world.complain(world.t_a, text=f"投诉{i}")
        world.complain(world.t_shared, text=f"投诉{i}")
        raise_alert(world.t_a, score=i / n)
        world.instruct(world.t_a, world.dept_a, due_at=world.clock() - SECOND)
        tipoff_submit(text="围标", tender_id=world.t_a.pk, anonymous=True)
    complaint_suspend_tender(
        actor=world.reg_a,
        complaint=complaint_accept(actor=world.reg_a, complaint=world.complain(world.t_a)),
        reason="调查",
    )


def _queries(user, query: str, django_assert_max_num_queries, limit: int) -> int:
    client = client_for(user)
    with django_assert_max_num_queries(limit) as captured:
        response = client.get(URL + query)
    assert response.status_code == 200
    return len(captured.captured_queries)


# session and user, the viewer's departments (and membership), then one query per figure family
MAX_QUERIES = 16


def test_the_page_runs_a_fixed_number_of_queries_whatever_the_data(world, django_assert_max_num_queries):
    few = _queries(world.reg_af, "", django_assert_max_num_queries, MAX_QUERIES)
    few_narrowed = _queries(
        world.reg_af, f"?department={world.dept_a.pk}", django_assert_max_num_queries, MAX_QUERIES
    )
    few_admin = _queries(world.admin, "", django_assert_max_num_queries, MAX_QUERIES)
    _fill(world, 15)
    assert _queries(world.reg_af, "", django_assert_max_num_queries, MAX_QUERIES) == few
    assert (
        _queries(world.reg_af, f"?department={world.dept_a.pk}", django_assert_max_num_queries, MAX_QUERIES)
        == few_narrowed
    )
    assert _queries(world.admin, "", django_assert_max_num_queries, MAX_QUERIES) == few_admin
