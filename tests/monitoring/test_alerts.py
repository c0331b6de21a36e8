"""Raising alerts and the regulator's review: assign, confirm (credit records, blacklist), dismiss."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from archive.models import JournalEntry
from core.errors import DomainError
from experts.documents.common import verify
from monitoring.models import Alert
from monitoring.services import alerts as svc
from tests.factories import BidderUserFactory, LotFactory, MarketEntityFactory, UserFactory
from trading.models import CreditRecord, Role

pytestmark = pytest.mark.django_db


def _finding(code="same_deposit_account", parties=("1", "2"), statutory=True):
    return {
        "code": code,
        "statutory": statutory,
        "legal_source": "《招标投标法实施条例》第四十条第（六）项",
        "weight": 1.0,
        "parties": list(parties),
        "value": "6222****0001",
        "threshold": None,
        "paths": [[f"entity:{parties[0]}", "account:62220001", f"entity:{parties[1]}"]],
        "detail": {},
        "fired": True,
    }


@pytest.fixture
def world(clock):
    lot = LotFactory()
    a, b = MarketEntityFactory(), MarketEntityFactory()
    regulator = UserFactory(role=Role.REGULATOR)
    alert, outcome = svc.alert_raise(
        lot=lot,
        node=Alert.Node.OPENING,
        score=0.97,
        level=Alert.Level.HIGH,
        message="保证金从同一账户转出",
        indicators=[_finding(parties=(str(a.pk), str(b.pk)))],
        graph={"nodes": [], "edges": []},
        features={"cv": 0.01},
        entity_ids=[a.pk, b.pk],
    )
    assert outcome == "raised"
    return {"lot": lot, "a": a, "b": b, "regulator": regulator, "alert": alert}


def _code(fn, **kwargs) -> str:
    with pytest.raises(DomainError) as info:
        fn(**kwargs)
    return info.value.code


def test_a_raised_alert_is_journalled_in_the_tender_stream_with_its_entities(world):
    alert = world["alert"]
    assert set(alert.entities.values_list("pk", flat=True)) == {world["a"].pk, world["b"].pk}
    entry = JournalEntry.objects.get(stream=f"tender:{alert.tender_id}", action="monitoring.alert_raised")
    assert entry.payload["codes"] == ["same_deposit_account"]
    assert entry.payload["level"] == 1


def test_the_same_finding_again_changes_nothing_and_a_new_one_updates_the_open_alert(world):
    lot, a, b = world["lot"], world["a"], world["b"]
    same, outcome = svc.alert_raise(
        lot=lot,
        node=Alert.Node.OPENING,
        score=0.9,
        level=1,
        message="x",
        indicators=[_finding(parties=(str(a.pk), str(b.pk)))],
        graph={},
        features={},
        entity_ids=[a.pk, b.pk],
    )
    assert (same.pk, outcome) == (world["alert"].pk, "unchanged")
    # The batch finding the same at another node does not repeat it either.
    _, outcome = svc.alert_raise(
        lot=lot,
        node=Alert.Node.MARKET,
        score=0.9,
        level=1,
        message="x",
        indicators=[_finding(parties=(str(a.pk), str(b.pk)))],
        graph={},
        features={},
        entity_ids=[a.pk, b.pk],
    )
    assert outcome == "unchanged"
    more = [_finding(parties=(str(a.pk), str(b.pk))), _finding("same_agent", parties=(str(a.pk), str(b.pk)))]
    updated, outcome = svc.alert_raise(
        lot=lot,
        node=Alert.Node.OPENING,
        score=0.99,
        level=1,
        message="y",
        indicators=more,
        graph={},
        features={},
        entity_ids=[a.pk, b.pk],
    )
    assert (updated.pk, outcome, updated.revision) == (world["alert"].pk, "updated", 2)
    assert Alert.objects.filter(lot=lot).count() == 1


def test_confirming_with_a_disqualification_blacklists_each_chosen_entity_for_its_years(world, clock):
    alert, regulator, a = world["alert"], world["regulator"], world["a"]
    done = svc.alert_confirm(
        alert=alert,
        actor=regulator,
        legal_basis="《招标投标法实施条例》第四十条、第六十七条",
        reason="两家投标人的保证金由同一账户转出，经调查属实。",
        entity_ids=[a.pk],
        sanction="disqualification",
        years=2,
    )
    assert done.status == Alert.Status.CONFIRMED and done.credit_entered
    record = CreditRecord.objects.get(pk=done.credit_records[0])
    assert record.entity_id == a.pk and record.blocks_participation
    assert record.source == f"alert:{alert.pk}"
    assert record.starts_on == clock().date()
    assert record.ends_on == dt.date(clock().year + 2, clock().month, clock().day) - dt.timedelta(days=1)
    assert not CreditRecord.objects.filter(entity=world["b"]).exists()
    entry = JournalEntry.objects.get(action="monitoring.alert_confirmed")
    assert entry.payload["digest"] == done.decision_digest
    decision = {k: v for k, v in entry.payload.items() if k != "digest"}
    assert verify(decision, done.decision_signature)
    assert not verify({**decision, "years": 3}, done.decision_signature)


def test_confirming_with_a_fine_records_the_amount_and_without_a_sanction_enters_nothing(world):
    alert = world["alert"]
    done = svc.alert_confirm(
        alert=alert,
        actor=world["regulator"],
        legal_basis="条例67",
        reason="属实",
        entity_ids=[world["a"].pk, world["b"].pk],
        sanction="fine",
        fine_amount="50000",
    )
    amounts = sorted(
        CreditRecord.objects.filter(source=f"alert:{alert.pk}").values_list("fine_amount", flat=True)
    )
    assert amounts == [Decimal("50000.00"), Decimal("50000.00")]
    assert done.credit_entered


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"legal_basis": " "}, "legal_basis_required"),
        ({"reason": ""}, "reason_required"),
        ({"sanction": "prison"}, "sanction_unknown"),
        ({"sanction": "warning", "entity_ids": []}, "entities_required"),
        ({"sanction": "disqualification", "years": 4}, "years_invalid"),
        ({"sanction": "disqualification", "years": None}, "years_invalid"),
        ({"sanction": "fine", "fine_amount": "-1"}, "fine_amount_invalid"),
        ({"sanction": "fine", "fine_amount": "abc"}, "fine_amount_invalid"),
        ({"entity_ids": ["x"]}, "entities_invalid"),
    ],
)
def test_a_bad_confirmation_is_refused_with_its_code_and_nothing_is_written(world, kwargs, code):
    args = {
        "alert": world["alert"],
        "actor": world["regulator"],
        "legal_basis": "条例40",
        "reason": "属实",
        "entity_ids": [world["a"].pk],
        "sanction": "warning",
        **kwargs,
    }
    assert _code(svc.alert_confirm, **args) == code
    world["alert"].refresh_from_db()
    assert world["alert"].status == Alert.Status.OPEN
    assert not CreditRecord.objects.exists()


def test_an_entity_outside_the_alert_cannot_be_sanctioned_through_it(world):
    stranger = MarketEntityFactory()
    code = _code(
        svc.alert_confirm,
        alert=world["alert"],
        actor=world["regulator"],
        legal_basis="条例40",
        reason="属实",
        entity_ids=[stranger.pk],
        sanction="warning",
    )
    assert code == "entities_invalid"
    assert not CreditRecord.objects.exists()


@pytest.mark.parametrize("role", [Role.BIDDER, Role.CENTRE, Role.EXPERT, Role.AGENCY])
def test_only_regulators_review(world, role):
    actor = BidderUserFactory() if role == Role.BIDDER else UserFactory(role=role)
    assert _code(svc.alert_dismiss, alert=world["alert"], actor=actor, reason="误报") == "role_forbidden"
    assert (
        _code(svc.alert_assign, alert=world["alert"], actor=actor, assignee=world["regulator"])
        == "role_forbidden"
    )


def test_dismissal_needs_a_reason_and_a_decided_alert_stays_decided(world):
    alert, regulator = world["alert"], world["regulator"]
    assert _code(svc.alert_dismiss, alert=alert, actor=regulator, reason="  ") == "reason_required"
    done = svc.alert_dismiss(alert=alert, actor=regulator, reason="同一集团内部账户代付，已核实为合法代付。")
    assert done.status == Alert.Status.DISMISSED and done.decision_signature
    assert _code(svc.alert_dismiss, alert=alert, actor=regulator, reason="again") == "alert_decided"
    assert (
        _code(
            svc.alert_confirm,
            alert=alert,
            actor=regulator,
            legal_basis="x",
            reason="y",
        )
        == "alert_decided"
    )
    # The same finding found again is not raised again: the regulator has decided it.
    again, outcome = svc.alert_raise(
        lot=world["lot"],
        node=Alert.Node.MARKET,
        score=0.9,
        level=1,
        message="x",
        indicators=alert.indicators,
        graph={},
        features={},
        entity_ids=[world["a"].pk, world["b"].pk],
    )
    assert (again, outcome) == (None, "decided")


def test_assignment_goes_to_a_regulator_only(world):
    alert, regulator = world["alert"], world["regulator"]
    other = UserFactory(role=Role.REGULATOR)
    assert (
        _code(svc.alert_assign, alert=alert, actor=regulator, assignee=UserFactory(role=Role.CENTRE))
        == "assignee_invalid"
    )
    done = svc.alert_assign(alert=alert, actor=regulator, assignee=other)
    assert done.assigned_to == other and done.assigned_at is not None
    assert JournalEntry.objects.filter(action="monitoring.alert_assigned").count() == 1


def test_a_later_analysis_at_another_node_updates_the_lots_open_alert(world):
    lot, a, b = world["lot"], world["a"], world["b"]
    more = [
        _finding(parties=(str(a.pk), str(b.pk))),
        _finding("cover_bidding", parties=(str(a.pk), str(b.pk)), statutory=False),
    ]
    updated, outcome = svc.alert_raise(
        lot=lot,
        node=Alert.Node.MARKET,
        score=0.99,
        level=1,
        message="batch",
        indicators=more,
        graph={},
        features={},
        entity_ids=[a.pk, b.pk],
    )
    assert (updated.pk, outcome, updated.node) == (world["alert"].pk, "updated", Alert.Node.OPENING)
    assert Alert.objects.filter(lot=lot).count() == 1


def test_the_models_own_finding_does_not_make_a_decided_alert_new(world):
    alert, regulator = world["alert"], world["regulator"]
    svc.alert_dismiss(alert=alert, actor=regulator, reason="核实为正常竞争")
    model = {**_finding("model_anomaly", statutory=False), "value": 0.61}
    _, outcome = svc.alert_raise(
        lot=world["lot"],
        node=Alert.Node.MARKET,
        score=0.9,
        level=1,
        message="x",
        indicators=[*alert.indicators, model],
        graph={},
        features={},
        entity_ids=[world["a"].pk, world["b"].pk],
    )
    assert outcome == "decided"
