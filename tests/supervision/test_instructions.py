"""Online instructions (在线下达指令): a supervising department issues, the addressee acknowledges (签收) and
reports what was done, the issuer may withdraw; each step journalled in the tender's stream and notified;
the wrong addressee, the wrong department and bad input refused with a stable code and nothing written;
the pages (issue from the oversight page, the lists of each role with overdue flags, the detail forms)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from archive.models import JournalEntry
from core.errors import AccessDenied, Conflict, ValidationFailed
from supervision.models import Instruction
from supervision.selectors import oversight as sel
from supervision.services import department_create, member_add
from supervision.services.instructions import (
    instruction_acknowledge,
    instruction_issue,
    instruction_report,
    instruction_withdraw,
)
from tests.factories import AgencyUserFactory, BidderUserFactory, LotFactory, UserFactory
from trading.models import Notification, Role, Tender, TenderState
from trading.signals import tender_published

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def page_code(response) -> str:
    found = re.search(r'<code class="error-code">([^<]+)</code>', response.content.decode())
    return found.group(1) if found else ""


def client_for(user) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def world(clock):
    admin = UserFactory(role=Role.ADMIN)
    dept = department_create(
        actor=admin, name="南宁市住房和城乡建设局", kind="industry", region_code="450100"
    )
    other = department_create(
        actor=admin, name="柳州市住房和城乡建设局", kind="industry", region_code="450200"
    )
    regulator, colleague, outsider = (UserFactory(role=Role.REGULATOR) for _ in range(3))
    member_add(actor=admin, department=dept, user=regulator)
    member_add(actor=admin, department=dept, user=colleague)
    member_add(actor=admin, department=other, user=outsider)
    lot = LotFactory(tender__state=TenderState.PUBLISHED, tender__published_at=clock())
    tender = lot.tender
    tender_published.send(sender=Tender, tender=tender, actor=admin)
    return {
        "admin": admin,
        "dept": dept,
        "other": other,
        "regulator": regulator,
        "colleague": colleague,
        "outsider": outsider,
        "tender": tender,
        "centre": [UserFactory(role=Role.CENTRE), UserFactory(role=Role.CENTRE)],
        "agency": AgencyUserFactory(entity=tender.agency),
        "tenderee": AgencyUserFactory(entity=tender.tenderee),
        "stranger_agency": AgencyUserFactory(),
        "bidder": BidderUserFactory(),
    }


def counts() -> dict[str, int]:
    return {
        "instructions": Instruction.objects.count(),
        "journal": JournalEntry.objects.count(),
        "notifications": Notification.objects.count(),
    }


def journal_of(ins: Instruction) -> list[JournalEntry]:
    return list(
        JournalEntry.objects.filter(
            stream=ins.tender.stream, object_type="supervision.instruction", object_id=str(ins.pk)
        ).order_by("seq")
    )


def issue(world, **changes) -> Instruction:
    args = {
        "actor": world["regulator"],
        "tender": world["tender"],
        "addressee": "centre",
        "text": "请核查开标记录并报告",
        "due_at": None,
    }
    args.update(changes)
    return instruction_issue(**args)


# --- the services -----------------------------------------------------------------------------------------


def test_issue_acknowledge_report_to_the_centre(world, clock):
    # given an instruction to the centre, due in two days
    centre = world["centre"][0]
    ins = issue(world, due_at=clock() + 2 * DAY)
    assert (ins.status, ins.department, ins.issued_by) == ("issued", world["dept"], world["regulator"])
    # every active centre account is told
    told = Notification.objects.filter(kind="supervision.instruction", user__role=Role.CENTRE)
    assert sorted(told.values_list("user_id", flat=True)) == sorted(u.pk for u in world["centre"])
    assert told.first().link == reverse("supervision:instruction_detail", args=[ins.pk])

    # when the centre acknowledges, then reports
    clock.advance(hours=1)
    ins = instruction_acknowledge(actor=centre, instruction=ins)
    assert (ins.status, ins.acknowledged_by, ins.acknowledged_at) == ("acknowledged", centre, clock())
    clock.advance(hours=5)
    ins = instruction_report(actor=centre, instruction=ins, response="已核查，开标记录完整")
    ins.refresh_from_db()
    assert (ins.status, ins.response, ins.done_at) == ("done", "已核查，开标记录完整", clock())

    # then every step is in the tender's journal, and the issuer was told of both replies
    entries = journal_of(ins)
    assert [e.action for e in entries] == [
        "supervision.instruction_issued",
        "supervision.instruction_acknowledged",
        "supervision.instruction_done",
    ]
    assert entries[0].payload["department"] == world["dept"].pk
    assert (
        entries[0].payload["addressee"] == "centre" and entries[0].payload["text"] == "请核查开标记录并报告"
    )
    assert entries[2].payload["late"] is False and entries[2].payload["response"] == "已核查，开标记录完整"
    assert [e.actor_id for e in entries] == [str(world["regulator"].pk), str(centre.pk), str(centre.pk)]
    assert Notification.objects.filter(user=world["regulator"], kind="supervision.instruction").count() == 2


def test_an_instruction_to_the_agency_goes_to_the_agency_and_the_tenderee(world):
    ins = issue(world, addressee="agency")
    told = Notification.objects.filter(kind="supervision.instruction")
    assert sorted(told.values_list("entity_id", flat=True)) == sorted(
        [world["tender"].agency_id, world["tender"].tenderee_id]
    )
    assert not told.filter(user__isnull=False).exists()
    # the tenderee's staff may carry it out as well as the agency's
    ins = instruction_acknowledge(actor=world["tenderee"], instruction=ins)
    ins = instruction_report(actor=world["agency"], instruction=ins, response="已按要求补充公示")
    assert ins.status == "done"


@pytest.mark.parametrize(
    ("addressee", "who"),
    [
        ("centre", "agency"),
        ("centre", "regulator"),
        ("centre", "bidder"),
        ("agency", "centre"),
        ("agency", "stranger_agency"),
        ("agency", "bidder"),
        ("agency", "admin"),
    ],
)
def test_only_the_addressee_acknowledges_or_reports(world, addressee, who):
    ins = issue(world, addressee=addressee)
    before = counts()
    actor = world[who][0] if isinstance(world[who], list) else world[who]
    with pytest.raises(AccessDenied) as exc:
        instruction_acknowledge(actor=actor, instruction=ins)
    assert exc.value.code == "not_addressee"
    with pytest.raises(AccessDenied) as exc:
        instruction_report(actor=actor, instruction=ins, response="做了")
    assert exc.value.code == "not_addressee"
    ins.refresh_from_db()
    assert (ins.status, ins.acknowledged_at, ins.done_at) == ("issued", None, None)
    assert counts() == before


def test_reporting_without_acknowledging_acknowledges_and_a_late_report_is_journalled_late(world, clock):
    centre = world["centre"][1]
    ins = issue(world, due_at=clock() + DAY)
    clock.advance(days=2)
    assert sel.instruction_overdue(due_at=ins.due_at, status=ins.status, now=clock())
    ins = instruction_report(actor=centre, instruction=ins, response="已整改")
    assert (ins.status, ins.acknowledged_by, ins.acknowledged_at, ins.done_at) == (
        "done",
        centre,
        clock(),
        clock(),
    )
    done = journal_of(ins)[-1]
    assert done.payload["late"] is True and done.payload["acknowledged_now"] is True
    assert not sel.instruction_overdue(due_at=ins.due_at, status=ins.status, now=clock())
    # the timeline shows the late report
    view = sel.tender_oversight(world["tender"])
    flagged = {e.action: [a.code for a in e.anomalies] for e in view.entries}
    assert flagged["supervision.instruction_done"] == ["late_reply"]


def test_steps_out_of_order_are_conflicts(world):
    centre = world["centre"][0]
    ins = issue(world)
    instruction_acknowledge(actor=centre, instruction=ins)
    with pytest.raises(Conflict) as exc:
        instruction_acknowledge(actor=centre, instruction=ins)
    assert exc.value.code == "instruction_state"
    instruction_report(actor=centre, instruction=ins, response="完成")
    before = counts()
    for step in (
        lambda: instruction_report(actor=centre, instruction=ins, response="再次完成"),
        lambda: instruction_withdraw(actor=world["regulator"], instruction=ins, reason="撤回"),
    ):
        with pytest.raises(Conflict) as exc:
            step()
        assert exc.value.code == "instruction_state"
    assert counts() == before


def test_the_issuing_department_withdraws(world):
    ins = issue(world, addressee="agency")
    with pytest.raises(AccessDenied) as exc:
        instruction_withdraw(actor=world["outsider"], instruction=ins, reason="撤回")
    assert exc.value.code == "not_issuer"
    with pytest.raises(ValidationFailed) as exc:
        instruction_withdraw(actor=world["colleague"], instruction=ins, reason="  ")
    assert exc.value.code == "reason_required"
    before = Notification.objects.count()
    ins = instruction_withdraw(actor=world["colleague"], instruction=ins, reason="情况已变化")
    assert ins.status == "withdrawn"
    assert journal_of(ins)[-1].action == "supervision.instruction_withdrawn"
    assert journal_of(ins)[-1].payload == {"reason": "情况已变化"}
    assert Notification.objects.count() == before + 2  # the agency and the tenderee
    with pytest.raises(Conflict) as exc:
        instruction_acknowledge(actor=world["agency"], instruction=ins)
    assert exc.value.code == "instruction_state"


@pytest.mark.parametrize(
    ("changes", "error", "code"),
    [
        ({"addressee": "bidders"}, ValidationFailed, "addressee_invalid"),
        ({"text": "   "}, ValidationFailed, "text_invalid"),
        ({"text": "长" * 5001}, ValidationFailed, "text_invalid"),
        ({"due_at": "past"}, ValidationFailed, "due_at_past"),
        ({"department": "other"}, ValidationFailed, "department_invalid"),
        ({"department": 999999}, ValidationFailed, "department_invalid"),
        ({"actor": "outsider"}, AccessDenied, "outside_jurisdiction"),
        ({"actor": "centre"}, AccessDenied, "role_forbidden"),
        ({"actor": "agency"}, AccessDenied, "role_forbidden"),
        ({"actor": "bidder"}, AccessDenied, "role_forbidden"),
        ({"actor": "admin"}, ValidationFailed, "department_required"),
    ],
)
def test_bad_input_is_refused_with_a_code_and_writes_nothing(world, clock, changes, error, code):
    args = dict(changes)
    if args.get("due_at") == "past":
        args["due_at"] = clock() - dt.timedelta(minutes=1)
    if args.get("department") == "other":
        args["department"] = world["other"]
    if "actor" in args:
        actor = world[args["actor"]]
        args["actor"] = actor[0] if isinstance(actor, list) else actor
    before = counts()
    with pytest.raises(error) as exc:
        issue(world, **args)
    assert exc.value.code == code
    assert counts() == before


def test_an_admin_names_a_supervising_department(world):
    ins = issue(world, actor=world["admin"], department=world["dept"].pk)
    assert ins.department == world["dept"]
    with pytest.raises(ValidationFailed) as exc:
        issue(world, actor=world["admin"], department=world["other"].pk)  # not supervising this tender
    assert exc.value.code == "department_invalid"


def test_a_regulator_of_two_supervising_departments_chooses(world):
    province = department_create(
        actor=world["admin"], name="广西壮族自治区住房和城乡建设厅", kind="industry", region_code="450000"
    )
    lot = LotFactory(tender__state=TenderState.PUBLISHED)
    tender_published.send(sender=Tender, tender=lot.tender, actor=world["admin"])
    member_add(actor=world["admin"], department=province, user=world["regulator"])
    with pytest.raises(ValidationFailed) as exc:
        issue(world, tender=lot.tender)
    assert exc.value.code == "department_required"
    assert issue(world, tender=lot.tender, department=province.pk).department == province


def test_a_regulator_without_a_department_cannot_issue(world, settings):
    unattached = UserFactory(role=Role.REGULATOR)  # sees every tender in the test settings
    with pytest.raises(AccessDenied) as exc:
        issue(world, actor=unattached)
    assert exc.value.code == "no_department"


# --- the pages ----------------------------------------------------------------------------------------------


def new_url(world) -> str:
    return reverse("supervision:instruction_new", args=[world["tender"].pk])


def detail_url(ins) -> str:
    return reverse("supervision:instruction_detail", args=[ins.pk])


def test_issuing_from_the_oversight_page(world, clock):
    due = (clock() + 3 * DAY).strftime("%Y-%m-%dT%H:%M")
    response = client_for(world["regulator"]).post(
        new_url(world), {"addressee": "agency", "text": "暂停发售招标文件", "due_at": due}
    )
    ins = Instruction.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(ins)
    assert (ins.addressee, ins.text, ins.due_at, ins.department) == (
        "agency",
        "暂停发售招标文件",
        clock() + 3 * DAY,
        world["dept"],
    )
    page = client_for(world["regulator"]).get(
        reverse("supervision:tender_oversight", args=[world["tender"].pk])
    )
    body = page.content.decode()
    assert f'data-instruction="{ins.pk}" data-status="issued" data-overdue="0"' in body
    assert 'data-action="supervision.instruction_issued"' in body


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        ({"addressee": "centre", "text": ""}, 400, "text_invalid"),
        ({"addressee": "nobody", "text": "x"}, 400, "addressee_invalid"),
        ({"addressee": "centre", "text": "x", "due_at": "明天"}, 400, "due_at_invalid"),
        ({"addressee": "centre", "text": "x", "due_at": "2020-01-01T09:00"}, 400, "due_at_past"),
    ],
)
def test_a_bad_form_re_renders_the_page_with_its_code_and_writes_nothing(world, data, status, code):
    before = counts()
    response = client_for(world["regulator"]).post(new_url(world), data)
    assert (response.status_code, page_code(response)) == (status, code)
    assert 'id="instruction-form"' in response.content.decode()
    assert counts() == before


def test_only_supervisors_post_instructions(world):
    before = counts()
    data = {"addressee": "centre", "text": "x"}
    for who, code in (
        ("outsider", "outside_jurisdiction"),
        ("bidder", "role_forbidden"),
        ("agency", "role_forbidden"),
    ):
        response = client_for(world[who]).post(new_url(world), data)
        assert (response.status_code, page_code(response)) == (403, code), who
    response = client_for(world["centre"][0]).post(new_url(world), data)
    assert (response.status_code, page_code(response)) == (403, "role_forbidden")
    assert client_for(None).post(new_url(world), data).status_code == 302
    assert counts() == before


def test_each_role_lists_its_instructions_with_overdue_flags(world, clock):
    to_centre = issue(world, due_at=clock() + DAY)
    to_agency = issue(world, addressee="agency")
    elsewhere = LotFactory(tender__state=TenderState.PUBLISHED, tender__region_code="450200")
    tender_published.send(sender=Tender, tender=elsewhere.tender, actor=world["admin"])
    theirs = issue(world, actor=world["outsider"], tender=elsewhere.tender, addressee="agency")
    clock.advance(days=2)
    address = reverse("supervision:instruction_list")

    def listed(user, query="") -> dict[int, str]:
        body = client_for(user).get(address + query).content.decode()
        return {
            int(pk): overdue
            for pk, overdue in re.findall(r'data-instruction="(\d+)"[^>]*data-overdue="([01])"', body)
        }

    assert listed(world["centre"][0]) == {to_centre.pk: "1"}
    assert listed(world["agency"]) == {to_agency.pk: "0"}
    assert listed(world["stranger_agency"]) == {}
    assert listed(world["regulator"]) == {to_centre.pk: "1", to_agency.pk: "0"}
    assert listed(world["outsider"]) == {theirs.pk: "0"}
    assert listed(world["admin"]) == {to_centre.pk: "1", to_agency.pk: "0", theirs.pk: "0"}
    assert listed(world["regulator"], "?overdue=1") == {to_centre.pk: "1"}
    assert listed(world["regulator"], "?status=issued") == {to_centre.pk: "1", to_agency.pk: "0"}
    response = client_for(world["bidder"]).get(address)
    assert (response.status_code, page_code(response)) == (403, "role_forbidden")
    response = client_for(world["regulator"]).get(address + "?status=lost")
    assert (response.status_code, page_code(response)) == (400, "invalid_filter")


def test_the_detail_page_and_who_reads_it(world):
    ins = issue(world, addressee="agency")
    for who in ("regulator", "colleague", "agency", "tenderee", "admin"):
        response = client_for(world[who]).get(detail_url(ins))
        assert response.status_code == 200, who
    assert client_for(world["centre"][0]).get(detail_url(ins)).status_code == 200
    for who, code in (
        ("outsider", "outside_jurisdiction"),
        ("bidder", "instruction_forbidden"),
        ("stranger_agency", "instruction_forbidden"),
    ):
        response = client_for(world[who]).get(detail_url(ins))
        assert (response.status_code, page_code(response)) == (403, code), who
    missing = client_for(world["regulator"]).get(reverse("supervision:instruction_detail", args=[999999]))
    assert (missing.status_code, page_code(missing)) == (404, "instruction_not_found")
    agency_page = client_for(world["agency"]).get(detail_url(ins)).content.decode()
    assert 'id="ack-form"' in agency_page and 'id="done-form"' in agency_page
    assert 'id="withdraw-form"' not in agency_page
    issuer_page = client_for(world["colleague"]).get(detail_url(ins)).content.decode()
    assert 'id="withdraw-form"' in issuer_page and 'id="ack-form"' not in issuer_page


def test_acknowledge_and_report_through_the_pages(world):
    ins = issue(world, addressee="agency")
    agency = client_for(world["agency"])
    response = agency.post(reverse("supervision:instruction_ack", args=[ins.pk]))
    assert response.status_code == 302
    ins.refresh_from_db()
    assert ins.status == "acknowledged"
    before = counts()
    response = agency.post(reverse("supervision:instruction_done", args=[ins.pk]), {"response": ""})
    assert (response.status_code, page_code(response)) == (400, "response_invalid")
    assert counts() == before
    response = agency.post(reverse("supervision:instruction_done", args=[ins.pk]), {"response": "已补充公示"})
    assert response.status_code == 302
    body = agency.get(detail_url(ins)).content.decode()
    assert 'data-status="done"' in body and "已补充公示" in body
    response = agency.post(reverse("supervision:instruction_ack", args=[ins.pk]))
    assert (response.status_code, page_code(response)) == (409, "instruction_state")


def test_the_wrong_addressee_is_refused_by_the_pages(world):
    ins = issue(world, addressee="agency")
    before = counts()
    response = client_for(world["centre"][0]).post(reverse("supervision:instruction_ack", args=[ins.pk]))
    assert (response.status_code, page_code(response)) == (403, "not_addressee")
    response = client_for(world["stranger_agency"]).post(
        reverse("supervision:instruction_ack", args=[ins.pk])
    )
    assert (response.status_code, page_code(response)) == (403, "instruction_forbidden")
    response = client_for(world["outsider"]).post(
        reverse("supervision:instruction_withdraw", args=[ins.pk]), {"reason": "撤回"}
    )
    assert (response.status_code, page_code(response)) == (403, "outside_jurisdiction")
    assert counts() == before


def test_withdraw_through_the_page(world):
    ins = issue(world)
    response = client_for(world["regulator"]).post(
        reverse("supervision:instruction_withdraw", args=[ins.pk]), {"reason": ""}
    )
    assert (response.status_code, page_code(response)) == (400, "reason_required")
    response = client_for(world["regulator"]).post(
        reverse("supervision:instruction_withdraw", args=[ins.pk]), {"reason": "已另行处理"}
    )
    assert response.status_code == 302
    ins.refresh_from_db()
    assert ins.status == "withdrawn"
