"""The draw as a use case: commit → perform → replies and reserves → reveal → verify (DESIGN §6)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command

from archive.models import JournalEntry
from core.errors import DomainError
from experts import draw as core_draw
from experts.models import Assignment, Draw
from experts.selectors import draw_view
from experts.services import draw as draws
from tests.experts.world import SPECIALTY, draw_world, expert_make
from tests.factories import MarketEntityFactory
from trading.models import Lot, Notification, TenderState

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(clock):
    return draw_world(clock=clock, experts=12)


def code(fn, **kwargs) -> str:
    with pytest.raises(DomainError) as info:
        fn(**kwargs)
    return info.value.code


def actions(world) -> list[str]:
    return list(
        JournalEntry.objects.filter(stream=world.tender.stream, action__startswith="experts.")
        .order_by("seq")
        .values_list("action", flat=True)
    )


def members(draw) -> list[Assignment]:
    return draws.committee_assignments(draw)


def award(world):
    """What the award step does to the lot, so the names may be unsealed."""
    Lot.objects.filter(pk=world.lot.pk).update(status=Lot.Status.AWARDED)
    world.tender.state = TenderState.AWARDED
    world.tender.save(update_fields=["state"])


# --- commit and perform ----------------------------------------------------------------------------


def test_the_seed_is_committed_before_the_nonce_and_never_stored_in_clear(world):
    draw = world.request()
    assert draw.state == Draw.State.COMMITTED and draw.seed == ""
    seed = draws.draw_seed(draw)
    assert core_draw.seed_commitment(seed) == draw.seed_commitment
    assert seed.hex() not in draw.seed_sealed and seed.hex() not in json.dumps(
        list(JournalEntry.objects.values_list("payload", flat=True))
    )
    assert actions(world) == ["experts.draw_committed"]


def test_perform_calls_the_members_and_keeps_reserves_in_order(world):
    draw = world.perform(world.request())
    seats = list(draw.assignments.order_by("position"))
    called = [a for a in seats if a.status == Assignment.Status.NOTIFIED]
    assert len(called) == 4 and all(a.reply_due_at for a in called)
    assert [a.status for a in seats[4:8]] == [Assignment.Status.RESERVE] * 4
    assert draw.groups[0]["members"] == [a.expert.public_id for a in called]
    assert actions(world) == ["experts.draw_committed", "experts.draw_performed"]


def test_the_supervisor_must_not_be_the_requester(world):
    draw = world.request()
    assert (
        code(draws.draw_perform, draw=draw, nonce="abcdefgh", actor=world.centre)
        == "draw_supervisor_is_requester"
    )


@pytest.mark.parametrize("nonce", ["", "short", "x" * 65, "tab\there"])
def test_the_nonce_is_validated(world, nonce):
    draw = world.request()
    assert code(draws.draw_perform, draw=draw, nonce=nonce, actor=world.supervisor) == "draw_nonce_invalid"
    draw.refresh_from_db()
    assert draw.state == Draw.State.COMMITTED and not draw.assignments.exists()


def test_a_draw_is_performed_once_and_a_lot_has_one_live_draw(world):
    draw = world.perform(world.request())
    assert code(draws.draw_perform, draw=draw, nonce="again-123", actor=world.supervisor) == "draw_state"
    assert code(world.request) == "draw_exists"


def test_a_pool_too_small_is_refused_and_writes_nothing(clock):
    world = draw_world(clock=clock, experts=3)
    draw = world.request()
    assert code(world.perform, draw=draw) == "draw_pool_too_small"
    draw.refresh_from_db()
    assert draw.state == Draw.State.COMMITTED and not draw.assignments.exists()


def test_request_validation_codes(world):
    later = world.starts
    assert code(world.request, groups=[{"specialty": "ZZZ", "count": 4}]) == "draw_request_invalid"
    assert code(world.request, groups=[{"specialty": SPECIALTY, "count": "four"}]) == "draw_request_invalid"
    assert code(world.request, evaluation_ends_at=later - dt.timedelta(hours=1)) == "draw_time_invalid"
    assert code(world.request, region_include=["guangxi"]) == "draw_request_invalid"
    assert not Draw.objects.exists()


def test_only_centre_staff_request(world):
    assert (
        code(
            draws.draw_request,
            lot=world.lot,
            actor=world.regulator,
            evaluation_starts_at=world.starts,
            evaluation_ends_at=world.starts + dt.timedelta(hours=2),
        )
        == "role_forbidden"
    )


# --- replies and reserves --------------------------------------------------------------------------


def test_confirm_by_the_expert_only_and_in_time(world, clock):
    draw = world.perform(world.request())
    first, second = members(draw)[:2]
    assert (
        code(draws.assignment_confirm, assignment=first, actor=second.expert.user) == "assignment_not_found"
    )
    draws.assignment_confirm(assignment=first, actor=first.expert.user)
    clock.advance(minutes=31)
    assert (
        code(draws.assignment_confirm, assignment=second, actor=second.expert.user) == "assignment_reply_late"
    )


def test_a_decline_calls_the_next_reserve_and_the_journal_shows_it(world):
    draw = world.perform(world.request())
    leaving = members(draw)[1]
    reserve = draws.assignment_decline(assignment=leaving, actor=leaving.expert.user, reason="出差")
    assert reserve.position == 4 and reserve.status == Assignment.Status.NOTIFIED
    assert reserve.replaces_id == leaving.pk
    assert actions(world)[-2:] == ["experts.assignment_declined", "experts.reserve_called"]
    entry = JournalEntry.objects.get(stream=world.tender.stream, action="experts.reserve_called")
    assert (
        entry.payload["replaces"] == leaving.expert.public_id
        and entry.payload["expert"] == reserve.expert.public_id
    )


def test_a_decline_needs_a_reason(world):
    draw = world.perform(world.request())
    a = members(draw)[0]
    assert code(draws.assignment_decline, assignment=a, actor=a.expert.user, reason=" ") == "reason_required"


def test_a_recusal_calls_the_next_reserve(world):
    draw = world.perform(world.request())
    a = members(draw)[0]
    draws.assignment_confirm(assignment=a, actor=a.expert.user)
    reserve = draws.assignment_recuse(assignment=a, actor=a.expert.user, reason="与投标人存在利害关系")
    a.refresh_from_db()
    assert a.status == Assignment.Status.RECUSED and reserve.status == Assignment.Status.NOTIFIED
    assert "experts.assignment_recused" in actions(world)


def test_no_reply_in_time_passes_the_seat_on_and_the_tick_is_idempotent(world, clock):
    draw = world.perform(world.request())
    for a in members(draw)[:3]:
        draws.assignment_confirm(assignment=a, actor=a.expert.user)
    clock.advance(minutes=31)
    assert draws.draw_tick() == 1
    assert draws.draw_tick() == 0
    assert Assignment.objects.filter(draw=draw, status=Assignment.Status.NO_REPLY).count() == 1
    assert len(members(draw)) == 4


def test_reserves_skip_a_colleague_that_would_break_the_employer_limit(clock):
    world = draw_world(clock=clock, experts=0)
    firm = MarketEntityFactory()
    for _ in range(5):
        expert_make(employer=firm)
    for _ in range(3):
        expert_make()
    draw = world.perform(
        world.request(groups=[{"specialty": SPECIALTY, "count": 4, "reserves": 4}], same_employer_limit=1)
    )
    firm_ids = {e.public_id for e in firm.employed_experts.all()}
    seated = {a.expert.public_id for a in members(draw)}
    assert len(seated & firm_ids) == 1
    outsider = next(a for a in members(draw) if a.expert.public_id not in firm_ids)
    reserve = draws.assignment_decline(assignment=outsider, actor=outsider.expert.user, reason="病假")
    # Every reserve left works for the firm, which already has its one seat: nobody is called.
    assert reserve is None
    assert actions(world)[-1] == "experts.reserves_exhausted"


def test_reserves_exhausted_notifies_the_centre(clock, django_capture_on_commit_callbacks):
    world = draw_world(clock=clock, experts=4)
    draw = world.perform(world.request(groups=[{"specialty": SPECIALTY, "count": 4, "reserves": 0}]))
    a = members(draw)[0]
    with django_capture_on_commit_callbacks(execute=True):
        assert draws.assignment_decline(assignment=a, actor=a.expert.user, reason="病假") is None
    assert actions(world)[-1] == "experts.reserves_exhausted"
    assert Notification.objects.filter(kind="experts.reserves_exhausted", user=world.centre).exists()


# --- sealing ---------------------------------------------------------------------------------------


def test_names_are_sealed_from_centre_staff_and_shown_to_regulators(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        draw = world.perform(world.request())
    names = {a.expert.person.name for a in members(draw)}
    centre_view = draw_view(draw=draw, user=world.centre)
    regulator_view = draw_view(draw=draw, user=world.regulator)
    assert not centre_view["names_visible"]
    assert {s["name"] for g in centre_view["groups"] for s in g["seats"]} == {""}
    assert {s["name"] for g in regulator_view["groups"] for s in g["seats"]} == names
    # The expert's notice names the time, not the project.
    notice = Notification.objects.filter(kind="experts.drawn").first()
    assert (
        notice is not None
        and world.tender.title not in notice.subject
        and world.tender.code not in notice.subject
    )


def test_names_unsealed_for_centre_after_the_award(world):
    draw = world.perform(world.request())
    award(world)
    draw.refresh_from_db()
    assert draw_view(draw=draw, user=world.centre)["names_visible"]


# --- reveal and verify -----------------------------------------------------------------------------


def test_reveal_waits_for_the_result(world):
    draw = world.perform(world.request())
    assert code(draws.draw_reveal, draw=draw) == "draw_sealed"
    award(world)
    draw = draws.draw_reveal(draw=draw)
    assert (
        draw.state == Draw.State.REVEALED
        and core_draw.seed_commitment(bytes.fromhex(draw.seed)) == draw.seed_commitment
    )
    assert actions(world)[-1] == "experts.draw_revealed"


def test_public_verification_needs_the_reveal_and_then_matches(world):
    draw = world.perform(world.request())
    assert code(draws.draw_verify, draw=draw) == "draw_not_revealed"
    assert all(c.ok for c in draws.draw_verify(draw, use_sealed=True))
    award(world)
    draw = draws.draw_reveal(draw=draw)
    assert [c.reason for c in draws.draw_verify(draw)] == ["ok"]


def _tampered(world, mutate):
    draw = world.perform(world.request())
    award(world)
    draw = draws.draw_reveal(draw=draw)
    mutate(draw)
    draw.save()
    return [c.reason for c in draws.draw_verify(draw)]


def test_verify_detects_a_changed_seed(world):
    def change(d):
        d.seed = core_draw.seed_new().hex()

    assert _tampered(world, change) == ["seed_commitment_mismatch"]


def test_verify_detects_a_changed_nonce(world):
    def change(d):
        d.nonce = d.nonce + "x"

    assert _tampered(world, change) == ["order_mismatch"]


def test_verify_detects_a_changed_pool(world):
    def change(d):
        d.groups[0]["pool"] = d.groups[0]["pool"] + ["E99999999"]  # one more expert in the snapshot

    assert _tampered(world, change) == ["pool_mismatch"]


def test_verify_detects_changed_members(world):
    def change(d):
        g = d.groups[0]
        g["members"] = g["members"][1:] + g["order"][-1:]

    assert _tampered(world, change) == ["members_mismatch"]


def test_verify_detects_assignments_that_differ_from_the_record(world):
    def change(d):
        a, b = d.assignments.order_by("position")[:2]
        ea, eb = a.expert, b.expert
        # swap the two through a spare expert (one expert per draw is a constraint)
        spare = expert_make()
        Assignment.objects.filter(pk=a.pk).update(expert=spare)
        Assignment.objects.filter(pk=b.pk).update(expert=ea)
        Assignment.objects.filter(pk=a.pk).update(expert=eb)

    assert _tampered(world, change) == ["assignments_mismatch"]


def test_verify_detects_a_changed_request(world):
    def change(d):
        d.request = {**d.request, "region_exclude": ["4503"]}

    assert _tampered(world, change) == ["request_mismatch"]


def test_verify_draw_command_online_and_offline(world, tmp_path, capsys):
    draw = world.perform(world.request())
    award(world)
    draw = draws.draw_reveal(draw=draw)
    exported = tmp_path / "draw.json"
    call_command("verify_draw", str(draw.pk), export=str(exported))
    assert "MATCHES" in capsys.readouterr().out
    call_command("verify_draw", file=str(exported))
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(last)["ok"] is True
    record = json.loads(exported.read_text())
    record["nonce"] = "another-nonce"
    exported.write_text(json.dumps(record))
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_draw", file=str(exported))
    assert exit_info.value.code == 1
    assert "DOES NOT MATCH" in capsys.readouterr().out


def test_verify_draw_command_refuses_an_unrevealed_draw(world):
    from django.core.management.base import CommandError

    draw = world.perform(world.request())
    with pytest.raises(CommandError, match="draw_not_revealed"):
        call_command("verify_draw", str(draw.pk))
    call_command("verify_draw", str(draw.pk), sealed=True)


def test_cancel_releases_the_seats_and_allows_a_new_draw(world):
    draw = world.perform(world.request())
    assert code(draws.draw_cancel, draw=draw, actor=world.centre, reason="") == "reason_required"
    draws.draw_cancel(draw=draw, actor=world.centre, reason="评标时间变更")
    assert not members(draw)
    assert world.request().state == Draw.State.COMMITTED


# --- extending the reserves ------------------------------------------------------------------------


def test_extending_a_group_ranks_the_same_permutation_further_and_fills_the_vacant_seat(clock):
    world = draw_world(clock=clock, experts=10)
    draw = world.perform(world.request(groups=[{"specialty": SPECIALTY, "count": 4, "reserves": 0}]))
    leaver = members(draw)[0]
    assert draws.assignment_decline(assignment=leaver, actor=leaver.expert.user, reason="病假") is None
    # given the full ranking the key fixes from the start
    seed = draws.draw_seed(draw)
    full = core_draw.draw(
        seed=seed,
        nonce=draw.nonce,
        pool=draw.groups[0]["pool"],
        request_digest=draw.groups[0]["request_digest"],
        count=4,
        reserves=None,
    ).order
    # when the centre extends the group by two
    called = draws.draw_extend(draw=draw, actor=world.centre, group=0, more=2)
    draw.refresh_from_db()
    # then the order is that ranking's next two, the first of them is called for the vacant seat
    assert draw.groups[0]["order"] == full[:6]
    assert [a.expert.public_id for a in called] == [full[4]] and called[0].replaces_id == leaver.pk
    assert len(members(draw)) == 4
    assert actions(world)[-2:] == ["experts.draw_extended", "experts.reserve_called"]
    # and the extended draw still verifies
    assert all(c.ok for c in draws.draw_verify(draw, use_sealed=True))


def test_extension_refusals(clock):
    world = draw_world(clock=clock, experts=4)
    draw = world.perform(world.request(groups=[{"specialty": SPECIALTY, "count": 4, "reserves": 0}]))
    assert code(draws.draw_extend, draw=draw, actor=world.supervisor, group=0, more=1) == "role_forbidden"
    assert code(draws.draw_extend, draw=draw, actor=world.centre, group=3, more=1) == "draw_extend_invalid"
    assert code(draws.draw_extend, draw=draw, actor=world.centre, group=0, more=0) == "draw_extend_invalid"
    assert code(draws.draw_extend, draw=draw, actor=world.centre, group=0, more=2) == "draw_pool_exhausted"


def test_an_employer_limit_that_cannot_fill_the_seats_is_refused_not_a_short_committee(clock):
    # given eight eligible experts, six of whom work for one firm, and one seat per employer
    world = draw_world(clock=clock, experts=2)
    firm = MarketEntityFactory()
    for _ in range(6):
        expert_make(employer=firm)
    draw = world.request(same_employer_limit=1)
    # when four seats are drawn, then only three can be filled (two independents + one of the firm)
    assert code(world.perform, draw=draw) == "draw_pool_too_small"
    draw.refresh_from_db()
    assert draw.state == Draw.State.COMMITTED and not draw.assignments.exists()
