"""`manage.py simulate`: complete tenders on the synthetic market, end to end through the services.

Seed 24's three tenders: a GP scoring tender that fails at the opening (one of its three bidders does
not decrypt), a clean TB scoring tender and a GP lowest-price tender rigged by a cover-bidding ring —
so the run goes through 流标, both regimes, both methods, a confirmed and a dismissed alert.
"""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from archive.models import ArchivePackage
from archive.verify import verify_package
from bidding.models import Bid
from demo.simulate import TITLE_PREFIX
from demo.simulate.world import SIM_EXPERT_REGION
from experts.models import Assignment, Award
from monitoring.models import Alert
from trading.models import Lot, Tender, TenderState

SEED = 24
FIGURES = ("tenders", "completed", "failed", "awarded", "errors", "bids", "alerts", "archive", "states")


def simulate(**kwargs) -> dict:
    out = io.StringIO()
    call_command("simulate", stdout=out, **kwargs)
    lines = out.getvalue().splitlines()
    data = json.loads(lines[0])  # one JSON line first, then the human summary (unless --json)
    assert len(lines) == (1 if kwargs.get("json") else 5)  # the summary: tenders, alerts, archive, time
    return data


@pytest.mark.django_db(transaction=True)  # the live checks run when the read-out commits
def test_simulate_runs_complete_tenders_and_reports_what_the_database_holds():
    # when three tenders are simulated on a freshly migrated database
    data = simulate(tenders="3", seed=str(SEED))
    tenders = Tender.objects.filter(title__startswith=TITLE_PREFIX)
    # then each ran to its archival package: one failed for too few opened bids, two awarded
    assert (data["tenders"], data["completed"], data["errors"]) == (3, 3, 0)
    assert (data["failed"], data["awarded"]) == (1, 2)
    assert tenders.count() == 3
    assert set(tenders.values_list("state", flat=True)) == {TenderState.ARCHIVED}
    assert Lot.objects.filter(tender__in=tenders, status=Lot.Status.FAILED).count() == data["failed"]
    assert Award.objects.filter(lot__tender__in=tenders, contract_signed_on__isnull=False).count() == 2
    assert Bid.objects.filter(lot__tender__in=tenders).count() == data["bids"]
    # the alerts counted are the alerts raised, every one decided as the synthetic truth says
    alerts = Alert.objects.filter(tender__in=tenders)
    assert data["alerts"]["total"] == alerts.count() >= 2
    assert not alerts.filter(status=Alert.Status.OPEN).exists()
    assert data["alerts"]["confirmed"] == alerts.filter(status=Alert.Status.CONFIRMED).count() >= 1
    assert data["alerts"]["dismissed"] == alerts.filter(status=Alert.Status.DISMISSED).count() >= 1
    assert data["alerts"]["true_positive"] == data["alerts"]["confirmed"]
    assert sum(data["alerts"]["by_level"].values()) == alerts.count()
    # one package per tender, and each verifies
    packages = ArchivePackage.objects.filter(project__in=[t.stream for t in tenders])
    assert data["archive"]["sealed"] == data["archive"]["verified_ok"] == packages.count() == 3
    assert data["archive"]["failed"] == 0
    assert all(verify_package(p).ok for p in packages)
    # committees came from the simulated pool only; every phase was timed
    assert set(
        Assignment.objects.filter(draw__lot__tender__in=tenders).values_list("expert__region_code", flat=True)
    ) == {SIM_EXPERT_REGION}
    assert all(data["phases"][name] > 0 for name in ("bidding", "opening", "evaluation", "archive", "verify"))

    # when the same seed runs again on this database: its entities, accounts and experts are reused,
    # its tenders are new, and it reports the same figures
    again = simulate(tenders="3", seed=str(SEED), json=True)
    assert {k: again[k] for k in FIGURES} == {k: data[k] for k in FIGURES}
    assert again["world"]["experts_admitted"] == 0 and again["world"]["entities"] == data["world"]["entities"]
    assert Tender.objects.filter(title__startswith=TITLE_PREFIX).count() == 6


@pytest.mark.parametrize(
    "options,code",
    [
        ({"tenders": "0"}, "tenders_out_of_range"),
        ({"tenders": "10001"}, "tenders_out_of_range"),
        ({"tenders": "two"}, "tenders_invalid"),
        ({"tenders": "3", "seed": "-1"}, "seed_out_of_range"),
        ({"tenders": "3", "seed": "1.5"}, "seed_invalid"),
    ],
)
@pytest.mark.django_db
def test_simulate_refuses_bad_input_with_a_code_and_writes_nothing(options, code):
    with pytest.raises(CommandError) as info:
        call_command("simulate", stdout=io.StringIO(), **options)
    assert str(info.value).startswith(f"{code}:")
    assert not Tender.objects.exists()
