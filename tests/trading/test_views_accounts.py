"""Login, logout, the key-login gate, the per-role workbench and notifications (trading.views.accounts)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import (
    SH,
    AgencyUserFactory,
    BidderUserFactory,
    MarketEntityFactory,
    TenderFactory,
    UserFactory,
)
from trading.models import (
    DocumentDownload,
    EntityStatus,
    EntityVersion,
    Notification,
    Role,
    TenderState,
)
from trading.services.credit import credit_record_create

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"
LOGIN = reverse("trading:login")
WORKBENCH = reverse("trading:workbench")


def _login(client, username, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra})


# --- login ----------------------------------------------------------------------------------------


def test_login_page_carries_a_csrf_token():
    response = Client().get(LOGIN)

    assert response.status_code == 200
    assert b'name="csrfmiddlewaretoken"' in response.content


def test_login_without_csrf_token_is_refused():
    user = UserFactory()
    client = Client(enforce_csrf_checks=True)

    response = _login(client, user.username)

    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_successful_login_rotates_the_session_and_opens_the_workbench(client):
    # given a visitor who already has a session
    user = UserFactory()
    session = client.session
    session["visited"] = True
    session.save()
    before = session.session_key

    # when they log in
    response = _login(client, user.username)

    # then the session key is new and they land on the workbench
    assert response.status_code == 302
    assert response["Location"] == WORKBENCH
    assert client.session.session_key != before
    assert client.session["_auth_user_id"] == str(user.pk)


def test_wrong_password_shows_login_failed(client):
    user = UserFactory()

    response = _login(client, user.username, "wrong password")

    assert response.status_code == 401
    assert b"login_failed" in response.content
    assert "_auth_user_id" not in client.session


def test_unknown_user_fails_like_a_wrong_password(client):
    response = _login(client, "nobody-here")

    assert response.status_code == 401
    assert b"login_failed" in response.content


def test_empty_form_is_refused_with_a_code(client):
    response = client.post(LOGIN, {"username": "", "password": ""})

    assert response.status_code == 400
    assert b"credentials_required" in response.content


def test_repeated_failures_lock_the_account_and_show_the_unlock_time(client, clock, settings):
    # given a user who has mistyped the password up to the limit
    settings.LOGIN_MAX_FAILURES = 3
    settings.LOGIN_LOCKOUT_MINUTES = 15
    user = UserFactory()
    for _ in range(2):
        assert _login(client, user.username, "wrong").status_code == 401

    # when the last allowed attempt also fails
    response = _login(client, user.username, "wrong")

    # then the account is locked until 09:15 Beijing time, which the page says
    assert response.status_code == 423
    assert b"account_locked" in response.content
    assert "2026-03-02 09:15" in response.content.decode()


def test_a_locked_account_refuses_even_the_right_password(client, clock, settings):
    settings.LOGIN_MAX_FAILURES = 2
    user = UserFactory()
    _login(client, user.username, "wrong")
    _login(client, user.username, "wrong")

    response = _login(client, user.username)

    assert response.status_code == 423
    assert "_auth_user_id" not in client.session


def test_the_lock_ends_after_its_period(client, clock, settings):
    settings.LOGIN_MAX_FAILURES = 2
    settings.LOGIN_LOCKOUT_MINUTES = 15
    user = UserFactory()
    _login(client, user.username, "wrong")
    _login(client, user.username, "wrong")

    clock.advance(minutes=16)
    response = _login(client, user.username)

    assert response.status_code == 302


def test_login_follows_a_same_site_next(client):
    user = UserFactory()

    response = _login(client, user.username, next="/registry/blacklist/")

    assert response["Location"] == "/registry/blacklist/"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_login_ignores_an_off_site_next(client, target):
    user = UserFactory()

    response = _login(client, user.username, next=target)

    assert response["Location"] == WORKBENCH


def test_key_login_users_are_sent_to_the_key_step(client):
    user = UserFactory(require_key_login=True)

    response = _login(client, user.username, next="/registry/blacklist/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/key-login/?next=")
    assert "%2Fregistry%2Fblacklist%2F" in response["Location"]


def test_signed_in_pages_stay_closed_until_the_key_is_proven(client):
    # given a user who must log in with a key and has only given the password
    user = UserFactory(require_key_login=True)
    _login(client, user.username)

    # when they open the workbench, they are sent to the key login page
    response = client.get(WORKBENCH)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/key-login/")

    # and once the key login page has verified the signature, the workbench opens
    session = client.session
    session["key_verified"] = "01ab"
    session.save()
    assert client.get(WORKBENCH).status_code == 200


def test_logout_needs_post(client):
    client.force_login(UserFactory())

    assert client.get(reverse("trading:logout")).status_code == 405
    assert "_auth_user_id" in client.session


def test_logout_ends_the_session(client):
    client.force_login(UserFactory())

    response = client.post(reverse("trading:logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert client.get(WORKBENCH).status_code == 302


# --- workbench -----------------------------------------------------------------------------------


def test_workbench_needs_a_login(client):
    response = client.get(WORKBENCH)

    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={WORKBENCH}"


def test_bidder_workbench_shows_its_entity_credit_and_obtained_documents(client, clock):
    # given a bidder whose entity is blacklisted and who obtained one tender's documents
    bidder = BidderUserFactory()
    entity = bidder.entity
    regulator = UserFactory(role=Role.REGULATOR)
    credit_record_create(
        actor=regulator,
        entity=entity,
        kind="disqualification",
        legal_basis="条例67",
        starts_on=dt.date(2026, 3, 1),
        ends_on=dt.date(2027, 2, 28),
    )
    tender = TenderFactory(state=TenderState.PUBLISHED)
    DocumentDownload.objects.create(tender=tender, entity=entity, user=bidder, first_at=clock())
    other = TenderFactory(state=TenderState.PUBLISHED)
    client.force_login(bidder)

    # when it opens the workbench
    response = client.get(WORKBENCH, HTTP_ACCEPT_LANGUAGE="en")

    # then it sees its entity, the bar and its end, the tender, and the certificate link
    body = response.content.decode()
    assert response.status_code == 200
    assert entity.name in body and entity.uscc in body
    assert "2027-02-28" in body and "条例67" in body
    assert tender.title in body
    assert other.title not in body
    assert 'href="/pki/certificates/"' in body


def test_agency_workbench_lists_only_its_own_tenders_by_state(client):
    agency = AgencyUserFactory()
    own_draft = TenderFactory(agency=agency.entity)
    own_published = TenderFactory(agency=agency.entity, state=TenderState.PUBLISHED)
    foreign = TenderFactory()
    client.force_login(agency)

    body = client.get(WORKBENCH).content.decode()

    assert own_draft.title in body and own_published.title in body
    assert foreign.title not in body
    assert reverse("trading:tender_edit", args=[own_draft.pk]) in body
    assert reverse("trading:tender_edit", args=[own_published.pk]) not in body


def test_centre_workbench_shows_pending_registrations_changes_and_tender_counts(client, clock):
    pending = MarketEntityFactory(status=EntityStatus.PENDING)
    verified = MarketEntityFactory()
    change = EntityVersion.objects.create(
        entity=verified, data={}, digest="0" * 64, reason="新地址", submitted_at=clock()
    )
    TenderFactory.create_batch(2, state=TenderState.PUBLISHED)
    client.force_login(UserFactory(role=Role.CENTRE))

    response = client.get(WORKBENCH)

    body = response.content.decode()
    assert pending.name in body
    assert reverse("trading:entity_change_detail", args=[change.pk]) in body
    counts = {row["state"]: row["count"] for row in response.context["state_counts"]}
    assert counts["published"] == 2
    assert counts["draft"] == 0


def test_regulator_workbench_shows_credit_records_and_the_blacklist(client, clock):
    regulator = UserFactory(role=Role.REGULATOR)
    barred = MarketEntityFactory()
    credit_record_create(
        actor=regulator,
        entity=barred,
        kind="disqualification",
        legal_basis="条例68",
        starts_on=dt.date(2026, 3, 1),
        ends_on=dt.date(2026, 12, 31),
    )
    client.force_login(regulator)

    response = client.get(WORKBENCH)

    body = response.content.decode()
    assert barred.name in body and "2026-12-31" in body
    assert len(response.context["credit_records"]) == 1


def test_expert_workbench_shows_only_the_name(client):
    expert = UserFactory(role=Role.EXPERT, first_name="专家", last_name="王")
    TenderFactory(state=TenderState.PUBLISHED)
    client.force_login(expert)

    response = client.get(WORKBENCH)

    assert response.status_code == 200
    assert expert.display_name in response.content.decode()
    assert "groups" not in response.context and "state_counts" not in response.context


def test_admin_workbench_counts_users_per_role(client):
    admin = UserFactory(role=Role.ADMIN)
    BidderUserFactory.create_batch(3)
    client.force_login(admin)

    response = client.get(WORKBENCH)

    counts = {row["role"]: row["count"] for row in response.context["role_counts"]}
    assert counts["bidder"] == 3
    assert counts["admin"] == 1
    assert counts["expert"] == 0


# --- notifications -------------------------------------------------------------------------------


def test_entity_notifications_reach_its_staff_only(client, clock):
    bidder = BidderUserFactory()
    stranger = BidderUserFactory()
    Notification.objects.create(
        entity=bidder.entity, kind="tender.amended", subject="招标文件已变更", created_at=clock()
    )

    client.force_login(bidder)
    assert "招标文件已变更" in client.get(reverse("trading:notifications")).content.decode()
    client.force_login(stranger)
    assert "招标文件已变更" not in client.get(reverse("trading:notifications")).content.decode()


def test_opening_a_notification_marks_it_read_and_follows_its_link(client, clock):
    bidder = BidderUserFactory()
    note = Notification.objects.create(
        user=bidder, kind="x", subject="s", link="/announcements/5/", created_at=clock()
    )
    client.force_login(bidder)

    response = client.post(reverse("trading:notification_read", args=[note.pk]))

    assert response["Location"] == "/announcements/5/"
    note.refresh_from_db()
    assert note.read_at == clock()


def test_someone_elses_notification_cannot_be_marked(client, clock):
    owner = BidderUserFactory()
    note = Notification.objects.create(user=owner, kind="x", subject="s", created_at=clock())
    client.force_login(BidderUserFactory())

    client.post(reverse("trading:notification_read", args=[note.pk]))

    note.refresh_from_db()
    assert note.read_at is None


def test_mark_all_read(client, clock):
    bidder = BidderUserFactory()
    for i in range(3):
        Notification.objects.create(user=bidder, kind="x", subject=f"s{i}", created_at=clock())
    client.force_login(bidder)

    client.post(reverse("trading:notifications_read"))

    assert not Notification.objects.filter(user=bidder, read_at__isnull=True).exists()


def test_an_off_site_notification_link_is_not_followed(client, clock):
    bidder = BidderUserFactory()
    note = Notification.objects.create(
        user=bidder, kind="x", subject="s", link="https://evil.example/", created_at=clock()
    )
    client.force_login(bidder)

    response = client.post(reverse("trading:notification_read", args=[note.pk]))

    assert response["Location"] == reverse("trading:notifications")


def test_tender_deadlines_on_the_workbench_are_beijing_time(client, clock):
    agency = AgencyUserFactory()
    TenderFactory(
        agency=agency.entity, state=TenderState.PUBLISHED, deadline=dt.datetime(2026, 3, 25, 9, 30, tzinfo=SH)
    )
    client.force_login(agency)

    assert "2026-03-25 09:30" in client.get(WORKBENCH).content.decode()
