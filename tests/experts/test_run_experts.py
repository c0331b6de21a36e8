"""`manage.py run_experts --once`: the clock's work of the experts app, one pass."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command

from experts.models import Assignment, Expert
from experts.services import draw as draws
from tests.experts.world import draw_world, expert_make

pytestmark = pytest.mark.django_db


def run(capsys) -> dict:
    call_command("run_experts", once=True)
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])["run_experts"]


def test_one_pass_passes_unanswered_calls_on_and_ends_suspensions(clock, capsys):
    world = draw_world(clock=clock, experts=8)
    draw = world.perform(world.request())
    for a in draws.committee_assignments(draw)[1:]:
        draws.assignment_confirm(assignment=a, actor=a.expert.user)
    ended = expert_make(
        status=Expert.Status.SUSPENDED,
        suspended_from=dt.date(2026, 1, 1),
        suspended_until=clock().date() - dt.timedelta(days=1),
    )
    running = expert_make(
        status=Expert.Status.SUSPENDED,
        suspended_from=dt.date(2026, 1, 1),
        suspended_until=clock().date() + dt.timedelta(days=30),
    )
    clock.advance(minutes=31)

    counts = run(capsys)

    assert counts["draw_calls_expired"] == 1 and counts["suspensions_ended"] == 1
    assert Assignment.objects.filter(draw=draw, status=Assignment.Status.NO_REPLY).count() == 1
    assert Expert.objects.get(pk=ended.pk).status == Expert.Status.ACTIVE
    assert Expert.objects.get(pk=running.pk).status == Expert.Status.SUSPENDED
    again = run(capsys)
    assert again["draw_calls_expired"] == 0 and again["suspensions_ended"] == 0
