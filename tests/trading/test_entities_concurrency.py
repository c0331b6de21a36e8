"""Two registrations of the same company racing each other (PostgreSQL): one wins, one gets entity_exists."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection

from core.errors import DomainError
from tests.trading.test_entities import form
from trading.models import MarketEntity
from trading.services.entities import entity_register

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"),
]


def test_concurrent_duplicate_registration_is_refused_with_entity_exists():
    # given the same registration form submitted twice at the same moment
    data = form()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def submit():
        close_old_connections()
        try:
            barrier.wait(timeout=10)
            entity_register(data=data)
            outcomes.append("registered")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    # when both run
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    # then exactly one entity exists and the other submission got the domain error, not a crash
    assert sorted(outcomes) == ["entity_exists", "registered"]
    assert MarketEntity.objects.filter(uscc=data["uscc"]).count() == 1
