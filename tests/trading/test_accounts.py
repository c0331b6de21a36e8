"""Password login with lock-out: 5 failures lock the account for 15 minutes, journalled."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import RequestFactory

from archive.journal import verify_all
from archive.models import JournalEntry
from core.errors import DomainError
from tests.factories import BidderUserFactory, UserFactory
from trading.models import ActivityEvidence, Role, User
from trading.services.accounts import user_authenticate, user_create

pytestmark = pytest.mark.django_db
GOOD = "correct horse battery"


def _fail(username: str, times: int) -> list[str]:
    codes = []
    for _ in range(times):
        with pytest.raises(DomainError) as exc:
            user_authenticate(username=username, password="wrong password")
        codes.append(exc.value.code)
    return codes


def test_login_with_the_right_password_succeeds_and_is_evidenced(clock):
    # given
    user = BidderUserFactory(username="alice")
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="10.1.2.3", HTTP_USER_AGENT="UA/1")

    # when
    got = user_authenticate(username="alice", password=GOOD, request=request)

    # then
    assert got.pk == user.pk
    got.refresh_from_db()
    assert got.last_login == clock()
    ev = ActivityEvidence.objects.get(action=ActivityEvidence.Action.LOGIN)
    assert (ev.user_id, ev.entity_id, ev.ip, ev.user_agent) == (user.pk, user.entity_id, "10.1.2.3", "UA/1")


def test_wrong_password_and_unknown_user_fail_with_the_same_code():
    # given
    UserFactory(username="bob")

    # when
    with pytest.raises(DomainError) as wrong:
        user_authenticate(username="bob", password="nope")
    with pytest.raises(DomainError) as unknown:
        user_authenticate(username="nobody", password="nope")

    # then
    assert wrong.value.code == unknown.value.code == "login_failed"
    assert wrong.value.status == unknown.value.status == 401
    assert str(wrong.value.message) == str(unknown.value.message)


def test_inactive_user_fails_like_an_unknown_one():
    UserFactory(username="gone", is_active=False)
    with pytest.raises(DomainError) as exc:
        user_authenticate(username="gone", password=GOOD)
    assert exc.value.code == "login_failed"


def test_failures_below_the_limit_do_not_lock(clock, settings):
    # given
    UserFactory(username="carol")

    # when
    codes = _fail("carol", settings.LOGIN_MAX_FAILURES - 1)

    # then
    assert codes == ["login_failed"] * (settings.LOGIN_MAX_FAILURES - 1)
    assert user_authenticate(username="carol", password=GOOD).username == "carol"


def test_a_success_resets_the_failure_count(clock, settings):
    # given four failures, then a success
    UserFactory(username="carol")
    _fail("carol", settings.LOGIN_MAX_FAILURES - 1)
    user_authenticate(username="carol", password=GOOD)

    # when four more failures
    codes = _fail("carol", settings.LOGIN_MAX_FAILURES - 1)

    # then still not locked
    assert "account_locked" not in codes
    assert User.objects.get(username="carol").locked_until is None


def test_fifth_failure_locks_for_fifteen_minutes(clock, settings):
    # given
    assert (settings.LOGIN_MAX_FAILURES, settings.LOGIN_LOCKOUT_MINUTES) == (5, 15)
    UserFactory(username="dave")

    # when
    codes = _fail("dave", 5)

    # then the fifth attempt already reports the lock
    assert codes == ["login_failed"] * 4 + ["account_locked"]
    assert User.objects.get(username="dave").locked_until == clock() + dt.timedelta(minutes=15)


def test_locked_account_refuses_even_the_right_password(clock):
    # given
    UserFactory(username="dave")
    _fail("dave", 5)
    clock.advance(minutes=14, seconds=59)

    # when / then
    with pytest.raises(DomainError) as exc:
        user_authenticate(username="dave", password=GOOD)
    assert exc.value.code == "account_locked"
    assert exc.value.status == 423


def test_account_unlocks_once_the_clock_passes_the_lock(clock):
    # given
    UserFactory(username="dave")
    _fail("dave", 5)

    # when
    clock.advance(minutes=15, seconds=1)
    user = user_authenticate(username="dave", password=GOOD)

    # then
    assert user.username == "dave"
    user.refresh_from_db()
    assert (user.locked_until, user.failed_logins) == (None, 0)


def test_a_wrong_password_after_the_lock_expired_counts_afresh(clock):
    # given
    UserFactory(username="dave")
    _fail("dave", 5)
    clock.advance(minutes=16)

    # when
    codes = _fail("dave", 1)

    # then
    assert codes == ["login_failed"]


def test_lock_is_journalled(clock):
    # given
    user = UserFactory(username="erin")

    # when
    _fail("erin", 5)

    # then
    entry = JournalEntry.objects.get(action="account.locked")
    assert entry.stream == f"user:{user.pk}"
    assert entry.object_id == str(user.pk)
    assert entry.payload["until"] == "2026-03-02T01:15:00.000000Z"  # 09:15 Shanghai
    assert verify_all() == []


def test_lock_of_bidder_staff_is_journalled_in_its_entity_stream():
    user = BidderUserFactory(username="frank")
    _fail("frank", 5)
    assert JournalEntry.objects.get(action="account.locked").stream == f"entity:{user.entity_id}"


def test_user_create_journals_and_hashes_the_password():
    # given
    actor = UserFactory(role=Role.ADMIN)

    # when
    user = user_create(username="new-centre", password="a long password 1", role=Role.CENTRE, actor=actor)

    # then
    assert user.check_password("a long password 1")
    assert user.password != "a long password 1"
    assert JournalEntry.objects.filter(action="user.created", object_id=str(user.pk)).exists()


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"role": "pirate"}, "unknown_role"),
        ({"role": Role.BIDDER}, "entity_required"),
        ({"role": Role.AGENCY}, "entity_required"),
        ({"role": Role.CENTRE, "username": "taken"}, "username_taken"),
    ],
)
def test_user_create_refuses_bad_input_and_writes_nothing(kwargs, code):
    # given
    UserFactory(username="taken")
    before = (User.objects.count(), JournalEntry.objects.count())

    # when
    with pytest.raises(DomainError) as exc:
        user_create(**{"username": "someone", "password": "a long password 1", **kwargs})

    # then
    assert exc.value.code == code
    assert (User.objects.count(), JournalEntry.objects.count()) == before
