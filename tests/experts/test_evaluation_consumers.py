"""The evaluation room's websocket (`ws/evaluation/<lot>/`) with channels' WebsocketCommunicator: who
may connect, what each viewer sees (names sealed from members, progress only for centre staff),
actions routed to the services, and every change reaching the others live."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from config.asgi import application
from experts.models import Outlier
from experts.services import evaluation as ev
from tests.experts.room_world import declare_all, elect, room_world, to_detailed
from tests.factories import BidderUserFactory, UserFactory
from trading.models import Role

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://testserver")


def cookie_for(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


@database_sync_to_async
def build(clock, stage=None, **kwargs):
    world = room_world(clock=clock, **kwargs)
    if stage == "chair":
        declare_all(world)
    elif stage == "detailed":
        to_detailed(world)
    return world


@database_sync_to_async
def run(fn, **kwargs):
    return fn(**kwargs)


async def connect(user, lot_id):
    headers = [ORIGIN]
    if user is not None:
        headers.append((b"cookie", await database_sync_to_async(cookie_for)(user)))
    comm = WebsocketCommunicator(application, f"/ws/evaluation/{lot_id}/", headers=headers)
    connected, code = await comm.connect(timeout=5)
    return comm, connected, code


async def receive_until(comm, predicate, limit=30):
    for _ in range(limit):
        message = await comm.receive_json_from(timeout=5)
        if predicate(message):
            return message
    raise AssertionError("no such message")


def is_state(message):
    return message["type"] == "state"


async def member(world, seat):
    return await database_sync_to_async(world.member)(seat)


# --- who may connect -------------------------------------------------------------------------------------


async def test_anonymous_bidders_strangers_and_unknown_rooms_are_refused(clock):
    world = await build(clock)
    stranger = await database_sync_to_async(UserFactory)(role=Role.EXPERT)
    bidder = world.bidders[0].user
    for user, lot_id, expected in (
        (None, world.lot.pk, 4401),
        (bidder, world.lot.pk, 4403),
        (stranger, world.lot.pk, 4403),
        (world.host, 999_999, 4404),
    ):
        comm, connected, code = await connect(user, lot_id)
        assert (connected, code) == (False, expected)
        await comm.disconnect()


async def test_a_lot_without_a_room_is_not_found(clock):
    world = await build(clock, open_room=False)
    comm, connected, code = await connect(world.host, world.lot.pk)
    assert (connected, code) == (False, 4404)
    await comm.disconnect()


async def test_a_recused_member_is_locked_out(clock):
    world = await build(clock)
    first = await member(world, 1)
    await run(ev.member_declare, member=first, actor=first.user, recuse=True, reason="回避")
    comm, connected, code = await connect(first.user, world.lot.pk)
    assert (connected, code) == (False, 4403)
    await comm.disconnect()


# --- what each viewer sees -------------------------------------------------------------------------------


async def test_a_member_sees_their_own_name_and_the_others_as_seats(clock):
    world = await build(clock)
    first = await member(world, 1)
    comm, connected, _ = await connect(first.user, world.lot.pk)
    state = await receive_until(comm, is_state)
    assert connected and state["me"]["seat"] == 1 and state["me"]["declaration"]
    seats = {s["seat"]: s for s in state["seats"]}
    assert seats[1]["name"] == first.user.display_name
    assert all(seats[n]["name"] is None for n in (2, 3, 4, 5))
    assert seats[2]["label"] and len(state["bids"]) == 3
    assert state["progress"] is None  # not the chair
    await comm.disconnect()


async def test_regulators_see_names_and_centre_staff_see_seats_and_progress_only(clock):
    world = await build(clock, stage="detailed")
    comm, _, _ = await connect(world.regulator, world.lot.pk)
    state = await receive_until(comm, is_state)
    assert all(s["name"] for s in state["seats"])
    assert state["me"]["may_act"] is False and state["progress"]["stage"] == "detailed"
    await comm.disconnect()

    comm, _, _ = await connect(world.host, world.lot.pk)
    state = await receive_until(comm, is_state)
    assert all(s["name"] is None for s in state["seats"])
    assert state["bids"] == [] and state["criteria"] is None and state["mine"] is None
    assert state["progress"]["members"][0]["total"] == 3 * 2
    await comm.disconnect()


# --- actions and live changes ----------------------------------------------------------------------------


async def test_a_member_scores_through_the_socket_and_the_chair_and_centre_see_progress_live(clock):
    # given detailed scoring, the chair (seat 1), seat 2 and the centre connected
    world = await build(clock, stage="detailed")
    chair, second = await member(world, 1), await member(world, 2)
    chair_socket, _, _ = await connect(chair.user, world.lot.pk)
    second_socket, _, _ = await connect(second.user, world.lot.pk)
    centre_socket, _, _ = await connect(world.host, world.lot.pk)
    before = await receive_until(chair_socket, is_state)
    await receive_until(second_socket, is_state)
    await receive_until(centre_socket, is_state)
    row = next(r for r in before["progress"]["members"] if r["seat"] == 2)
    assert row["done"] == 0

    # when seat 2 scores a criterion through its socket
    bid = str(world.bidders[0].bid.pk)
    await second_socket.send_json_to(
        {"type": "score", "id": 7, "bid": bid, "criterion": "tech", "value": "31.5"}
    )
    ok = await receive_until(second_socket, lambda m: m["type"] in ("ok", "error"))
    assert ok == {"type": "ok", "reply_to": 7, "action": "score"}

    # then the chair and the centre receive the new state without asking
    for socket in (chair_socket, centre_socket):
        state = await receive_until(socket, lambda m: is_state(m) and m.get("event") == "score")
        assert state["room"]["version"] == before["room"]["version"] + 1
        row = next(r for r in state["progress"]["members"] if r["seat"] == 2)
        assert row["done"] == 1 and row["cells"][bid]["tech"] is True
    # and seat 2 sees its own score
    mine = await receive_until(second_socket, is_state)
    assert mine["mine"]["scores"][f"{bid}|tech"]["value"] == "31.50"
    for socket in (chair_socket, second_socket, centre_socket):
        await socket.disconnect()


async def test_an_outlier_is_shown_to_the_committee(clock):
    world = await build(clock, stage="detailed")
    third = await member(world, 3)
    socket, _, _ = await connect(third.user, world.lot.pk)
    await receive_until(socket, is_state)
    bid = world.bidders[0].bid
    for seat, value in ((1, "30"), (2, "30"), (4, "30"), (5, "2")):
        m = await member(world, seat)
        await run(ev.score_submit, member=m, actor=m.user, bid=bid, criterion="tech", value=value)
    state = await receive_until(socket, lambda m: is_state(m) and m.get("event") == "outlier")
    assert [(o["seat"], o["value"], o["median"]) for o in state["outliers"]] == [(5, "2.00", "30.00")]
    assert state["outliers"][0]["name"] is None
    assert await database_sync_to_async(Outlier.objects.count)() == 1
    await socket.disconnect()


async def test_a_refused_action_answers_with_its_code_and_observers_cannot_act(clock):
    world = await build(clock, stage="chair")
    second = await member(world, 2)
    socket, _, _ = await connect(second.user, world.lot.pk)
    await receive_until(socket, is_state)
    await socket.send_json_to({"type": "complete_stage", "id": 1})
    error = await receive_until(socket, lambda m: m["type"] == "error")
    assert error["error"]["code"] == "chair_only"
    await socket.send_json_to({"type": "vote", "id": 2, "seat": 42})
    error = await receive_until(socket, lambda m: m["type"] == "error")
    assert error["error"]["code"] == "candidate_invalid"
    await socket.send_json_to({"type": "score", "id": 3, "bid": "x", "criterion": "tech", "value": 1.5})
    error = await receive_until(socket, lambda m: m["type"] == "error")
    assert error["error"]["code"] == "score_invalid"
    await socket.send_json_to({"type": "nonsense"})
    error = await receive_until(socket, lambda m: m["type"] == "error")
    assert error["error"]["code"] == "message_unknown"
    await socket.send_to(text_data="not json")
    error = await receive_until(socket, lambda m: m["type"] == "error")
    assert error["error"]["code"] == "message_malformed"
    await socket.disconnect()

    regulator, _, _ = await connect(world.regulator, world.lot.pk)
    await receive_until(regulator, is_state)
    await regulator.send_json_to({"type": "declare", "id": 1})
    error = await receive_until(regulator, lambda m: m["type"] == "error")
    assert error["error"]["code"] == "room_read_only"
    await regulator.disconnect()


async def test_the_chair_is_elected_through_the_sockets(clock):
    world = await build(clock, stage="chair")
    sockets = []
    for seat in (1, 2, 3):
        m = await member(world, seat)
        socket, _, _ = await connect(m.user, world.lot.pk)
        await receive_until(socket, is_state)
        sockets.append(socket)
    for socket in sockets:
        await socket.send_json_to({"type": "vote", "id": 1, "seat": 2})
        await receive_until(socket, lambda m: m["type"] == "ok")
    state = await receive_until(sockets[0], lambda m: is_state(m) and m.get("event") == "chair_elected")
    assert state["room"]["chair"] == 2 and state["room"]["phase"] == "qualification"
    for socket in sockets:
        await socket.disconnect()


async def test_a_bidder_user_is_refused_even_with_a_bid(clock):
    world = await build(clock)
    other = await database_sync_to_async(BidderUserFactory)(entity=world.bidders[1].entity)
    comm, connected, code = await connect(other, world.lot.pk)
    assert (connected, code) == (False, 4403)
    await comm.disconnect()


async def test_a_member_elected_chair_sees_the_progress(clock):
    world = await build(clock, stage="chair")
    await database_sync_to_async(elect)(world, 1)
    chair = await member(world, 1)
    socket, _, _ = await connect(chair.user, world.lot.pk)
    state = await receive_until(socket, is_state)
    assert state["me"]["role"] == "chair" and state["progress"]["stage"] == "qualification"
    await socket.disconnect()


async def test_members_find_the_time_insufficient_through_the_socket_and_everyone_sees_the_extension(clock):
    # given detailed scoring, seats 1 and 2 connected
    world = await build(clock, stage="detailed")
    first, second = await member(world, 1), await member(world, 2)
    first_socket, _, _ = await connect(first.user, world.lot.pk)
    second_socket, _, _ = await connect(second.user, world.lot.pk)
    state = await receive_until(first_socket, is_state)
    await receive_until(second_socket, is_state)
    assert state["time"]["ends_at"] and state["time"]["extended_until"] is None
    assert (state["time"]["flagged"], state["time"]["needed"], state["time"]["may_flag"]) == (0, 2, True)

    # when seat 1 sends a malformed flag, then a real one
    await first_socket.send_json_to({"type": "time_insufficient", "id": 1, "value": "yes"})
    error = await receive_until(first_socket, lambda m: m["type"] == "error")
    assert error["error"]["code"] == "message_malformed"
    await first_socket.send_json_to({"type": "time_insufficient", "id": 2, "value": True})
    await receive_until(first_socket, lambda m: m["type"] == "ok")
    state = await receive_until(second_socket, lambda m: is_state(m) and m.get("event") == "time_flag")
    assert state["time"]["flagged"] == 1 and state["time"]["mine"] is False

    # and seat 2 flags too: 2 of 5 is more than a third
    await second_socket.send_json_to({"type": "time_insufficient", "id": 3, "value": True})
    state = await receive_until(first_socket, lambda m: is_state(m) and m.get("event") == "extended")
    assert state["time"]["extended_until"] and state["time"]["flagged"] == 0
    for socket in (first_socket, second_socket):
        await socket.disconnect()


@database_sync_to_async
def to_summary_world(clock):
    from tests.experts.room_world import to_summary

    world = room_world(clock=clock)
    to_summary(world)
    return world


async def test_a_member_corrects_a_score_through_the_socket(clock):
    world = await to_summary_world(clock)
    third = await member(world, 3)
    socket, _, _ = await connect(third.user, world.lot.pk)
    await receive_until(socket, is_state)
    bid = str(world.bidders[0].bid.pk)
    await socket.send_json_to({"type": "score", "id": 1, "bid": bid, "criterion": "tech", "value": "31"})
    error = await receive_until(socket, lambda m: m["type"] == "error")
    assert error["error"]["code"] == "score_locked"
    message = {"type": "correct_score", "id": 2, "bid": bid, "criterion": "tech", "value": "31"}
    await socket.send_json_to({**message, "case": "whim", "reason": "改"})
    error = await receive_until(socket, lambda m: m["type"] == "error")
    assert error["error"]["code"] == "correction_case_invalid"
    await socket.send_json_to({**message, "id": 3, "case": "sum_error", "reason": "汇总错误"})
    ok = await receive_until(socket, lambda m: m["type"] in ("ok", "error"))
    assert ok["type"] == "ok" and ok["action"] == "correct_score"
    state = await receive_until(socket, lambda m: is_state(m) and m.get("event") == "corrected")
    mine = state["mine"]["scores"][f"{bid}|tech"]
    assert (mine["value"], mine["corrected_from"], mine["correction_case"]) == ("31.00", "30.00", "sum_error")
    assert [c["to"] for c in state["summary"]["corrections"]] == ["31.00"]
    await socket.disconnect()
