"""The demo world `make run` serves: a realistic small market, built through the real services."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from archive.journal import verify_all
from demo.world import DEMO_PASSWORD
from experts.models import Expert
from trading.models import (
    ActivityEvidence,
    BankAccount,
    MarketEntity,
    Role,
    Shareholder,
    Tender,
    User,
)
from trading.selectors import entity_is_blacklisted
from trading.services.accounts import user_authenticate

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_a_market_every_role_can_use():
    # when the demo world is seeded
    call_command("seed_demo", verbosity=0)

    # then it is a market: 20+ entities with people, shareholders, devices and accounts
    assert MarketEntity.objects.count() >= 20
    bidders = MarketEntity.objects.filter(is_bidder=True)
    assert bidders.count() >= 18
    assert Shareholder.objects.filter(person__isnull=False).count() >= 20
    assert BankAccount.objects.filter(entity__in=bidders).count() >= 18
    assert ActivityEvidence.objects.exclude(hardware={}).exclude(ip=None).count() >= 20
    # a dozen tenders in different states, experts, and a blacklisted bidder
    assert Tender.objects.count() >= 12
    assert len(set(Tender.objects.values_list("state", flat=True))) >= 7
    assert Expert.objects.count() >= 10
    assert any(entity_is_blacklisted(e) for e in bidders)
    # every role has a demo account that logs in with the documented password
    for role in Role.values:
        user = User.objects.filter(role=role).order_by("pk").first()
        assert user is not None, role
        assert user_authenticate(username=user.username, password=DEMO_PASSWORD).pk == user.pk
    # a tender opening soon holds sealed bids (ciphertext only) from several bidders with key files
    from bidding.models import Bid

    assert Bid.objects.filter(status=Bid.Status.ACTIVE, content_key="").count() >= 3
    from django.conf import settings

    assert len(list(settings.DEMO_KEYS_DIR.glob("*.key.json"))) >= 20
    # and the journal of everything that happened verifies
    assert verify_all() == []
    # and the OCDS export of every public tender (and every daily bulk file) validates against 1.1.5
    call_command("ocds_validate", "--all", verbosity=0)


def test_seed_demo_refuses_a_database_with_data_unless_if_empty():
    call_command("seed_demo", verbosity=0)
    before = MarketEntity.objects.count()
    with pytest.raises(CommandError, match="not_empty"):
        call_command("seed_demo", verbosity=0)
    call_command("seed_demo", "--if-empty", verbosity=0)
    assert MarketEntity.objects.count() == before
