"""The opening hall's websocket (`ws/opening/<lot>/`) with channels' WebsocketCommunicator: who may
connect, the full state on (re)connect, events to every client at once, read-only observers, and
the clock's tick run twice at the same moment."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from archive.models import JournalEntry
from bidding import envelope
from bidding.models import OpeningSession
from bidding.opening import services
from config.asgi import application
from tests.bidding.opening_world import DEADLINE, hall_world
from trading.models import TenderState

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://testserver")


def cookie_for(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


@database_sync_to_async
def build(clock, **kwargs):
    world = hall_world(clock=clock, **kwargs)
    world.users = {
        "host": world.host,
        "regulator": world.regulator,
        "agency": world.agency,
        **{i: b.user for i, b in enumerate(world.bidders)},
    }
    return world


async def connect(world, who, lot_id=None):
    """Log `who` in now (sessions expire: the clock may have moved weeks) and open the hall's socket."""
    headers = [ORIGIN]
    if who is not None:
        headers.append((b"cookie", await database_sync_to_async(cookie_for)(world.users[who])))
    comm = WebsocketCommunicator(application, f"/ws/opening/{lot_id or world.lot.pk}/", headers=headers)
    connected, code = await comm.connect(timeout=5)
    return comm, connected, code


async def receive_until(comm, predicate, limit=20):
    """The first message that satisfies `predicate` (events of earlier steps may come first)."""
    for _ in range(limit):
        message = await comm.receive_json_from(timeout=5)
        if predicate(message):
            return message
    raise AssertionError("no such message")


def is_state(message):
    return message["type"] == "state"


@database_sync_to_async
def run(fn, **kwargs):
    return fn(**kwargs)


async def to_decryption(world, clock):
    clock.set(DEADLINE - dt.timedelta(hours=1))
    await run(services.opening_tick, lot=world.lot)
    for b in world.bidders:
        await run(services.opening_signin, lot=world.lot, user=b.user)
    clock.set(DEADLINE)
    await run(services.opening_tick, lot=world.lot)
    await run(services.opening_publish_bidders, lot=world.lot, actor=world.host)
    await run(services.opening_start_decryption, lot=world.lot, actor=world.host)


# --- who may connect ---------------------------------------------------------------------------------
async def test_anonymous_is_refused(clock):
    world = await build(clock, bids=0)
    comm, connected, code = await connect(world, None)
    assert (connected, code) == (False, 4401)
    await comm.disconnect()


async def test_a_bidder_without_a_bid_and_an_unknown_lot_are_refused(clock):
    world = await build(clock, bids=1)
    other = await build(clock, bids=1)
    world.users["stranger"] = other.bidders[0].user

    comm, connected, code = await connect(world, "stranger")
    assert (connected, code) == (False, 4403)
    await comm.disconnect()
    comm, connected, code = await connect(world, 0, lot_id=999_999)
    assert (connected, code) == (False, 4404)
    await comm.disconnect()


async def test_on_connect_the_client_gets_the_full_state_and_the_clock_ticks(clock):
    # given the evening before the deadline, nobody has opened the hall yet
    world = await build(clock, bids=3)
    clock.set(DEADLINE - dt.timedelta(hours=1))

    # when the agency's staff connects
    comm, connected, _ = await connect(world, "agency")

    # then the hall exists (the connect ticked) and the state shows sign-in, nothing about bidders
    state = await receive_until(comm, is_state)
    assert connected and state["hall"]["phase"] == "signin"
    assert state["hall"]["bidders"] == [] and state["hall"]["attendance"] is None
    assert state["me"]["role"] == "observer" and state["me"]["may_act"] is False
    assert state["server_time"] == clock().isoformat()
    await comm.disconnect()


# --- events to everyone ----------------------------------------------------------------------------
async def test_two_bidders_receive_the_same_readout_event(clock):
    # given three bids decrypted, two bidders and the host in the hall
    world = await build(clock, bids=3)
    await to_decryption(world, clock)
    for b in world.bidders:
        await run(services.bid_decrypt, bid=b.bid, cek=envelope.b64u(b.cek), actor=b.user)
    first, *_ = await connect(world, 0)
    second, *_ = await connect(world, 1)
    host, *_ = await connect(world, "host")
    for comm in (first, second, host):
        await receive_until(comm, is_state)

    # when the host starts the read-out (唱标) over its socket
    await host.send_json_to({"type": "start_readout", "id": 7})
    reply = await receive_until(host, lambda m: m.get("reply_to") == 7)

    # then both bidders get one read-out event with every form, in submission order
    def is_readout(m):
        return m["type"] == "event" and m["event"] == "readout"

    a = await receive_until(first, is_readout)
    b = await receive_until(second, is_readout)
    assert reply["type"] == "ok"
    assert a["hall"]["readout"] == b["hall"]["readout"] and a["version"] == b["version"]
    assert [r["form"]["price"] for r in a["hall"]["readout"]] == ["4000000.00", "4010000.00", "4020000.00"]
    for comm in (first, second, host):
        await comm.disconnect()


async def test_a_reconnecting_client_resumes_where_the_hall_is(clock):
    # given a bidder connected in the sign-in phase, then gone
    world = await build(clock, bids=3)
    clock.set(DEADLINE - dt.timedelta(hours=1))
    comm, *_ = await connect(world, 0)
    before = await receive_until(comm, is_state)
    await comm.send_json_to({"type": "signin", "id": 1})
    await receive_until(comm, lambda m: m.get("reply_to") == 1)
    await comm.disconnect()

    # when the hall moves on without it
    await to_decryption(world, clock)
    b = world.bidders[0]
    await run(services.bid_decrypt, bid=b.bid, cek=envelope.b64u(b.cek), actor=b.user)

    # then on reconnecting it gets the full state: phase, window, its decrypted bid, the version
    comm, *_ = await connect(world, 0)
    after = await receive_until(comm, is_state)
    session = await run(OpeningSession.objects.get, lot=world.lot)
    assert before["hall"]["phase"] == "signin"
    assert after["hall"]["phase"] == "decryption" and after["hall"]["version"] == session.version
    assert after["hall"]["decryption_ends_at"] == session.decryption_ends_at.isoformat()
    assert after["me"]["signed_in"] is True and after["me"]["bid"]["decryption"] == "ok"
    assert [x["decryption"] for x in after["hall"]["bidders"]] == ["ok", "pending", "pending"]
    await comm.disconnect()


async def test_a_bidder_decrypts_over_the_socket_and_may_retry_a_wrong_key(clock):
    world = await build(clock, bids=3)
    await to_decryption(world, clock)
    b = world.bidders[0]
    comm, *_ = await connect(world, 0)
    await receive_until(comm, is_state)

    await comm.send_json_to(
        {"type": "decrypt", "id": 1, "cek": envelope.b64u(bytes(32)), "hardware": {"mac": "x"}}
    )
    wrong = await receive_until(comm, lambda m: m.get("reply_to") == 1)
    await comm.send_json_to(
        {"type": "decrypt", "id": 2, "cek": envelope.b64u(b.cek), "hardware": {"mac": "x"}}
    )
    right = await receive_until(comm, lambda m: m.get("reply_to") == 2)

    assert wrong["type"] == "error" and wrong["error"]["code"] == "envelope_key_invalid"
    assert right["type"] == "ok"
    state = await receive_until(comm, is_state)
    assert state["me"]["bid"]["decryption"] == "ok"
    await comm.disconnect()


# --- read-only observers ---------------------------------------------------------------------------
async def test_a_regulator_watches_but_cannot_act(clock):
    world = await build(clock, bids=3)
    await to_decryption(world, clock)
    comm, connected, _ = await connect(world, "regulator")
    state = await receive_until(comm, is_state)

    await comm.send_json_to({"type": "start_readout", "id": 3})
    reply = await receive_until(comm, lambda m: m.get("reply_to") == 3)

    assert connected and state["me"]["role"] == "observer"
    assert reply["type"] == "error" and reply["error"]["code"] == "hall_read_only"
    session = await run(OpeningSession.objects.get, lot=world.lot)
    assert session.phase == "decryption"
    await comm.disconnect()


async def test_unknown_and_malformed_messages_are_answered_with_an_error(clock):
    world = await build(clock, bids=1)
    comm, *_ = await connect(world, 0)
    await receive_until(comm, is_state)

    await comm.send_json_to({"type": "drop_tables", "id": 9})
    reply = await receive_until(comm, lambda m: m.get("reply_to") == 9)

    assert reply["error"]["code"] == "message_unknown"
    await comm.send_to(text_data="{not json")
    broken = await receive_until(comm, lambda m: m["type"] == "error")
    assert broken["error"]["code"] == "message_malformed"
    await comm.disconnect()


# --- the clock, from two places at once ----------------------------------------------------------------
async def test_two_clients_ticking_at_the_same_moment_open_the_tender_once(clock):
    # given the hall exists and the deadline has just passed, unnoticed
    world = await build(clock, bids=3)
    clock.set(DEADLINE - dt.timedelta(hours=1))
    await run(services.opening_tick, lot=world.lot)
    clock.set(DEADLINE)

    # when two clients connect at once (each connect ticks) and both send a tick as well
    (first, *_), (second, *_) = await asyncio.gather(connect(world, 0), connect(world, 1))
    await asyncio.gather(first.send_json_to({"type": "tick"}), second.send_json_to({"type": "tick"}))
    await asyncio.gather(
        receive_until(first, lambda m: m["type"] == "tock"),
        receive_until(second, lambda m: m["type"] == "tock"),
    )

    # then the tender was opened once and the hall's version moved once
    tender = await run(type(world.tender).objects.get, pk=world.tender.pk)
    opened = await run(
        lambda **kw: list(JournalEntry.objects.filter(**kw)),
        stream=tender.stream,
        action="tender.state_changed",
    )
    session = await run(OpeningSession.objects.get, lot=world.lot)
    assert tender.state == TenderState.OPENING
    assert len(opened) == 1 and session.version == 1
    for comm in (first, second):
        await comm.disconnect()
