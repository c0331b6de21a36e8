"""Shared fixtures: a movable clock, fast hashing, isolated media and keys, factories."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock:
    """Stands in for django.utils.timezone.now; tests move it instead of sleeping."""

    def __init__(self, start: dt.datetime):
        self.current = start

    def __call__(self) -> dt.datetime:
        return self.current

    def set(self, when: dt.datetime) -> None:
        if when.tzinfo is None:
            when = when.replace(tzinfo=SHANGHAI)
        self.current = when

    def advance(self, **delta) -> dt.datetime:
        self.current = self.current + dt.timedelta(**delta)
        return self.current


@pytest.fixture
def clock(monkeypatch):
    c = Clock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI))  # a Monday, a working day
    monkeypatch.setattr(timezone, "now", c)
    return c


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.KEYS_DIR = tmp_path / "keys"
    settings.DEMO_KEYS_DIR = tmp_path / "demo-keys"
    settings.SECURE_COOKIES = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    # Regulators made by factories belong to no department: they supervise every tender, as before
    # issue 7. Jurisdiction tests attach their regulators to departments (then only those count) or
    # set "none".
    settings.SUPERVISION_UNATTACHED_REGULATORS = "all"
    # Rate-limit counters live in the cache: every test starts with none.
    from django.core.cache import cache

    cache.clear()
    # Each test gets a fresh platform CA / signing key directory.
    from trading import pki_state

    pki_state.reset()


@pytest.fixture(scope="session", autouse=True)
def _no_stray_database_sessions(django_db_setup, django_db_blocker):
    """Websocket consumers run ORM calls in asgiref's worker threads, whose connections outlive the
    tests; on PostgreSQL they would block dropping the test database. End them before teardown."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True)
def _specialty_tree(request):
    """The 316号 specialty tree comes from a data migration; a transactional test's flush empties the
    table for the tests after it, so a database test finds it loaded again."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None and not {"db", "transactional_db"} & set(request.fixturenames):
        return
    transactional = (
        bool(marker and marker.kwargs.get("transaction")) or "transactional_db" in request.fixturenames
    )
    request.getfixturevalue("transactional_db" if transactional else "db")
    from experts.models import Specialty
    from experts.specialties import specialties_load

    if not Specialty.objects.exists():
        specialties_load(Specialty)
