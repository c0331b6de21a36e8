"""The pool's pages (experts.views.pool): who may open them, forms that show refused fields with
their codes, and the expert's own pages that reach only their own rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from experts.models import Expert, ProfileChange, Relationship, Sanction, Unavailability
from experts.services import pool
from tests.experts.test_import import SAMPLE
from tests.experts.test_pool import centre, make_expert, rid
from tests.factories import AgencyUserFactory, BidderUserFactory, UserFactory
from trading.models import CreditRecord, Role

pytestmark = pytest.mark.django_db
LIST = reverse("experts:pool_list")
ME = reverse("experts:me")


def as_posted(sections) -> dict:
    """What a browser submits for a rendered form (its fields and rows as they were filled in)."""
    fields = [f for s in sections for f in s.get("fields") or []]
    fields += [f for s in sections for row in s.get("rows") or [] for f in row]
    post = {}
    for f in fields:
        if f["kind"] == "checkbox":
            if f["value"]:
                post[f["name"]] = "1"
        else:
            post[f["name"]] = "" if f["value"] is None else str(f["value"])
    return post


def login(client, user):
    client.force_login(user)
    return user


# --- access -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("pool_list", []),
        ("pool_create", []),
        ("pool_import", []),
        ("pool_changes", []),
    ],
)
def test_centre_pages_are_closed_to_other_roles(client, clock, name, args):
    make_expert(1)
    for user in (AgencyUserFactory(), BidderUserFactory(), Expert.objects.get().user):
        login(client, user)
        response = client.get(reverse(f"experts:{name}", args=args))
        assert response.status_code == 403 and b"role_forbidden" in response.content


def test_anonymous_visitors_are_sent_to_log_in(client):
    assert client.get(LIST).status_code == 302
    assert client.get(ME).status_code == 302


def test_regulators_read_the_pool_but_do_not_manage_it(client, clock):
    expert = make_expert(2)
    login(client, UserFactory(role=Role.REGULATOR))
    assert client.get(LIST).status_code == 200
    assert client.get(reverse("experts:pool_detail", args=[expert.pk])).status_code == 200
    response = client.post(
        reverse("experts:pool_status", args=[expert.pk]), {"status": "removed", "reason": "x"}
    )
    assert response.status_code == 403


# --- the pool list and an expert's file ------------------------------------------------------------------


def test_the_pool_list_filters_by_specialty_prefix_region_status_and_text(client, clock):
    a = make_expert(3, region_code="450200", specialties=[{"code": "B080201", "main": True}])
    b = make_expert(4, employer_name="柳州设计院")
    pool.expert_set_status(expert=b, actor=centre(), status="removed", reason="退出")
    login(client, centre())

    def names(**params):
        page = client.get(LIST, params).context["rows"]
        return {r["expert"].person.name for r in page}

    assert names() == {"覃专家3", "覃专家4"}
    assert names(specialty="b08") == {"覃专家3"}
    assert names(region="450200") == {"覃专家3"}
    assert names(region="450000") == {"覃专家3", "覃专家4"}
    assert names(status="removed") == {"覃专家4"}
    assert names(q="柳州") == {"覃专家4"}
    assert names(q=rid(3)) == {"覃专家3"}
    assert client.get(LIST, {"status": "odd"}).status_code == 400
    assert a.public_id.encode() in client.get(LIST).content


def test_the_pool_list_pages(client, clock, monkeypatch):
    monkeypatch.setattr("experts.views.pool.centre.PAGE_SIZE", 2)
    for n in range(5, 10):
        make_expert(n)
    login(client, centre())
    second = client.get(LIST, {"page": 2})
    assert len(second.context["rows"]) == 2 and second.context["page"].paginator.num_pages == 3


def test_an_experts_file_shows_specialties_history_and_sanctions(client, clock):
    expert = make_expert(10)
    pool.expert_set_status(
        expert=expert,
        actor=centre(),
        status="suspended",
        suspended_from=dt.date(2026, 3, 2),
        suspended_until=dt.date(2026, 4, 30),
        reason="出差",
    )
    pool.sanction_impose(
        expert=expert,
        actor=UserFactory(role=Role.REGULATOR),
        kind="warning",
        legal_basis="实施条例第七十五条",
        starts_on=dt.date(2026, 3, 2),
    )
    login(client, centre())

    response = client.get(reverse("experts:pool_detail", args=[expert.pk]))

    body = response.content.decode()
    assert "A010101" in body and "总体规划" in body and "出差" in body and "实施条例第七十五条" in body
    assert [link.is_main for link in response.context["specialties"]] == [True, False]
    assert rid(10) not in body  # only the masked ID number


def test_centre_suspends_an_expert_and_a_missing_period_is_shown_with_its_code(client, clock):
    expert = make_expert(11)
    login(client, centre())
    url = reverse("experts:pool_status", args=[expert.pk])

    refused = client.post(url, {"status": "suspended", "reason": "体检"})
    assert refused.status_code == 400 and b"suspension_period_required" in refused.content

    done = client.post(
        url,
        {
            "status": "suspended",
            "suspended_from": "2026-03-02",
            "suspended_until": "2026-03-31",
            "reason": "体检",
        },
    )
    assert done.status_code == 302
    assert Expert.objects.get(pk=expert.pk).status == "suspended"


# --- admission and import ------------------------------------------------------------------------------


def create_form(**over) -> dict:
    data = {
        "name": "班专家",
        "id_number": rid(500),
        "phone": "13907715000",
        "region_code": "450100",
        "title": "高级工程师",
        "title_level": "senior",
        "group": "economic",
        "main_specialty": "C0502",
        "other_specialties": "C0402；C0310",
        "remote_ok": "1",
        "qualifications[0].name": "注册会计师",
        "qualifications[0].valid_until": "2029-12-31",
        "employments[0].employer_name": "南宁会计师事务所",
        "employments[0].start_date": "2010-01-01",
        "employments[1].employer_name": "",
    }
    data.update(over)
    return data


def test_centre_admits_an_expert_through_the_form(client, clock):
    login(client, centre())
    assert b'name="main_specialty"' in client.get(reverse("experts:pool_create")).content

    response = client.post(reverse("experts:pool_create"), create_form())

    expert = Expert.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "experts:pool_detail", args=[expert.pk]
    )
    assert expert.group == "economic" and expert.employments.count() == 1
    assert set(expert.specialty_links.values_list("specialty_id", flat=True)) == {"C0502", "C0402", "C0310"}


def test_a_refused_admission_shows_each_field_with_its_code(client, clock):
    login(client, centre())

    response = client.post(
        reverse("experts:pool_create"), create_form(main_specialty="X1", employer_uscc="91450100MA5L000000")
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert "expert_invalid" in body and 'aria-invalid="true"' in body
    assert response.context["error"]["field_map"].keys() >= {"main_specialty", "employer_uscc"}
    assert not Expert.objects.exists()


def test_the_import_page_shows_the_row_report_and_a_dry_run_writes_nothing(client, clock):
    login(client, centre())
    with SAMPLE.open("rb") as fh:
        dry = client.post(reverse("experts:pool_import"), {"file": fh, "dry_run": "1"})
    assert dry.status_code == 200 and dry.context["counts"]["created"] == 5
    assert not Expert.objects.exists()

    bad = b"name,id_number,phone,region_code,main_specialty\n\xe9\xbb\x84,1,13900000000,450100,A01\n"
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(reverse("experts:pool_import"), {"file": SimpleUploadedFile("x.csv", bad)})
    assert b"id_number_invalid" in response.content and response.context["counts"]["rejected"] == 1

    with SAMPLE.open("rb") as fh:
        real = client.post(reverse("experts:pool_import"), {"file": fh})
    assert real.context["counts"]["created"] == 5 and Expert.objects.count() == 5


def test_the_import_page_needs_a_file(client, clock):
    login(client, centre())
    response = client.post(reverse("experts:pool_import"), {})
    assert response.status_code == 400 and b"file_required" in response.content


# --- the review queue ------------------------------------------------------------------------------------


def test_an_expert_proposes_and_the_centre_approves_from_the_queue(client, clock):
    expert = make_expert(12)
    login(client, expert.user)
    form = client.get(reverse("experts:me_change"))
    assert form.context["sections"][0]["fields"][0]["value"] == "450100"  # prefilled from the profile
    post = as_posted(form.context["sections"])
    post["region_code"] = "450300"
    assert client.post(reverse("experts:me_change"), post).status_code == 302
    change = ProfileChange.objects.get()
    assert list(change.data) == ["region_code"]  # only what differs is proposed
    assert b"450300" in client.get(reverse("experts:me_change")).content  # the pending proposal is shown

    login(client, centre())
    queue = client.get(reverse("experts:pool_changes"))
    assert list(queue.context["changes"]) == [change]
    assert reverse("experts:pool_change", args=[change.pk]).encode() in queue.content
    page = client.get(reverse("experts:pool_change", args=[change.pk]))
    assert page.context["diff"][0]["field"] == "region_code"
    assert (
        client.post(reverse("experts:pool_change", args=[change.pk]), {"decision": "reject"}).status_code
        == 400
    )
    assert (
        client.post(reverse("experts:pool_change", args=[change.pk]), {"decision": "approve"}).status_code
        == 302
    )
    assert Expert.objects.get(pk=expert.pk).region_code == "450300"


def test_a_bad_proposal_is_refused_with_field_codes(client, clock):
    expert = make_expert(13)
    login(client, expert.user)
    response = client.post(reverse("experts:me_change"), {"region_code": "12", "main_specialty": "A010101"})
    assert response.status_code == 400 and b"region_invalid" in response.content
    assert not ProfileChange.objects.exists()


# --- the expert's own page -----------------------------------------------------------------------------


def test_my_page_is_for_experts_only(client, clock):
    login(client, centre())
    response = client.get(ME)
    assert response.status_code == 404 and b"not_an_expert" in response.content


def test_the_expert_manages_the_calendar(client, clock):
    expert = make_expert(14)
    login(client, expert.user)
    add = reverse("experts:me_unavailable_add")

    assert (
        client.post(
            add, {"starts_at": "2026-03-10T08:00", "ends_at": "2026-03-12T18:00", "reason": "出国"}
        ).status_code
        == 302
    )
    overlap = client.post(add, {"starts_at": "2026-03-11T08:00", "ends_at": "2026-03-13T18:00"})
    assert overlap.status_code == 409 and b"unavailability_overlap" in overlap.content
    missing = client.post(add, {"starts_at": "", "ends_at": "2026-03-13T18:00"})
    assert missing.status_code == 400 and b"form_invalid" in missing.content

    page = client.get(ME, {"month": "2026-03"})
    busy = [
        d["date"].day
        for week in page.context["calendar"]["weeks"]
        for d in week
        if d["busy"] and d["in_month"]
    ]
    assert busy == [10, 11, 12]

    period = Unavailability.objects.get()
    assert client.post(reverse("experts:me_unavailable_remove", args=[period.pk])).status_code == 302
    assert not Unavailability.objects.exists()


def test_an_expert_cannot_reach_another_experts_rows(client, clock):
    mine, other = make_expert(15), make_expert(16)
    period = pool.unavailability_add(
        expert=other,
        actor=other.user,
        starts_at=dt.datetime(2026, 3, 10, tzinfo=dt.UTC),
        ends_at=dt.datetime(2026, 3, 11, tzinfo=dt.UTC),
    )
    rel = pool.relationship_declare(expert=other, actor=other.user, kind="other", note="顾问")
    login(client, mine.user)
    assert client.post(reverse("experts:me_unavailable_remove", args=[period.pk])).status_code == 404
    assert client.post(reverse("experts:me_relationship_withdraw", args=[rel.pk])).status_code == 404
    assert Unavailability.objects.count() == 1 and Relationship.objects.count() == 1


def test_the_expert_declares_and_withdraws_a_relationship(client, clock):
    expert = make_expert(17)
    login(client, expert.user)
    url = reverse("experts:me_relationship_declare")

    refused = client.post(url, {"kind": "kin", "person_name": "覃某"})
    assert refused.status_code == 400 and b"relationship_invalid" in refused.content

    assert (
        client.post(
            url, {"kind": "kin", "relation": "配偶", "person_name": "覃某", "person_id_number": rid(170)}
        ).status_code
        == 302
    )
    rel = Relationship.objects.get()
    assert rel.person_name == "覃某" and b"\xe8\xa6\x83\xe6\x9f\x90" in client.get(ME).content
    assert client.post(reverse("experts:me_relationship_withdraw", args=[rel.pk])).status_code == 302
    assert Relationship.objects.get().withdrawn_at is not None
    assert b"\xe8\xa6\x83\xe6\x9f\x90" not in client.get(ME).content  # no longer listed


# --- sanctions -------------------------------------------------------------------------------------------


def test_a_regulator_sanctions_through_the_form(client, clock):
    expert = make_expert(18)
    url = reverse("experts:pool_sanction", args=[expert.pk])
    login(client, centre())
    assert client.get(url).status_code == 403

    login(client, UserFactory(role=Role.REGULATOR))
    refused = client.post(
        url,
        {
            "kind": "fine",
            "legal_basis": "实施条例第七十五条",
            "starts_on": "2026-03-02",
            "fine_amount": "100",
        },
    )
    assert refused.status_code == 422 and b"fine_out_of_range" in refused.content

    done = client.post(
        url,
        {
            "kind": "suspension",
            "legal_basis": "实施条例第七十五条",
            "starts_on": "2026-03-02",
            "ends_on": "2027-03-01",
        },
    )
    assert done.status_code == 302
    assert Sanction.objects.get().kind == "suspension"
    assert CreditRecord.objects.get().person == expert.person
    assert Expert.objects.get(pk=expert.pk).status == "suspended"


def test_a_sanction_lot_must_be_one_the_expert_was_drawn_for(client, clock):
    expert = make_expert(19)
    login(client, UserFactory(role=Role.REGULATOR))
    response = client.post(
        reverse("experts:pool_sanction", args=[expert.pk]),
        {"kind": "warning", "legal_basis": "x", "starts_on": "2026-03-02", "lot": "999"},
    )
    assert response.status_code == 400 and response.context["error"]["field_map"]["lot"]


# --- the specialty search --------------------------------------------------------------------------------


def test_specialty_search_by_code_prefix_and_name(client, clock):
    login(client, make_expert(20).user)
    by_code = client.get(reverse("experts:specialties_json"), {"q": "A0101"}).json()["results"]
    assert [r["code"] for r in by_code][:2] == ["A0101", "A010101"]
    assert by_code[1]["path"] == ["工程", "规划", "国民经济和社会发展规划"]
    by_name = client.get(reverse("experts:specialties_json"), {"q": "普通外科"}).json()["results"]
    assert [r["code"] for r in by_name] == ["B080201"]
    children = client.get(reverse("experts:specialties_json"), {"parent": "A01", "limit": "500"}).json()[
        "results"
    ]
    assert children and all(r["parent"] == "A01" for r in children)


# --- every page renders ----------------------------------------------------------------------------------


def _full_world(clock):
    """An expert with a pending proposal, a calendar entry, a declaration, a late rating and a sanction."""
    from tests.experts.test_pool_conduct import sat_on
    from tests.factories import LotFactory

    expert = make_expert(30)
    pool.profile_change_propose(
        expert=expert, actor=expert.user, data={"title": "研究员", "remote_ok": False}
    )
    pool.unavailability_add(
        expert=expert,
        actor=expert.user,
        starts_at=dt.datetime(2026, 3, 5, 8, tzinfo=dt.UTC),
        ends_at=dt.datetime(2026, 3, 6, 8, tzinfo=dt.UTC),
    )
    pool.relationship_declare(expert=expert, actor=expert.user, kind="other", note="曾任顾问")
    lot = LotFactory()
    sat_on(lot, expert, closed_at=clock())
    clock.advance(days=10)
    pool.rating_record(expert=expert, lot=lot, actor=centre(), score=88, marks={"discipline": 5})
    pool.sanction_impose(
        expert=expert,
        actor=UserFactory(role=Role.REGULATOR),
        kind="fine",
        legal_basis="实施条例第七十五条",
        starts_on=dt.date(2026, 3, 12),
        fine_amount="3000",
        lot=lot,
    )
    return expert


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_every_page_renders_in_both_languages(client, clock, settings, lang):
    expert = _full_world(clock)
    change = ProfileChange.objects.get()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    login(client, centre())
    for url in (
        LIST,
        reverse("experts:pool_detail", args=[expert.pk]),
        reverse("experts:pool_create"),
        reverse("experts:pool_import"),
        reverse("experts:pool_changes"),
        reverse("experts:pool_change", args=[change.pk]),
    ):
        assert client.get(url).status_code == 200, url
    login(client, UserFactory(role=Role.REGULATOR))
    assert client.get(reverse("experts:pool_sanction", args=[expert.pk])).status_code == 200
    login(client, expert.user)
    page = client.get(ME)
    assert page.status_code == 200 and client.get(reverse("experts:me_change")).status_code == 200
    assert ('<html lang="en"' in page.content.decode()) == (lang == "en")


def test_ratings_stay_hidden_from_the_centre_while_the_roster_is_sealed(client, clock):
    expert = _full_world(clock)
    url = reverse("experts:pool_detail", args=[expert.pk])
    login(client, centre())
    assert client.get(url).context["ratings"] == []
    login(client, UserFactory(role=Role.REGULATOR))
    ratings = client.get(url).context["ratings"]
    assert [(r["rating"].score, r["late"]) for r in ratings] == [(88, True)]
