"""The opening hall's websocket (`ws/opening/<lot_id>/`): a protocol adapter. It authenticates and
authorizes, joins the lot's group, sends the full state on connect (so a reconnect or a reload
resumes exactly where the hall is), routes client messages to the services and forwards events.

Close codes: 4401 not logged in, 4403 no place in this hall, 4404 no such lot.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from bidding.models import Bid, Objection
from bidding.opening import rules, selectors, services
from bidding.opening.events import opening_group
from core.errors import AccessDenied, DomainError, NotFound, ValidationFailed

# Ticks from many clients collapse to one per process and lot: a tick runs only when the hall's
# next time-driven change is due (or on connect), and never twice at once for a lot.
_next_due: dict[int, dt.datetime | None] = {}
_ticking: set[int] = set()

HOST_ACTIONS = {
    "publish_bidders",
    "start_decryption",
    "decryption_fault",
    "custodian_retry",
    "start_readout",
    "answer",
    "start_confirmation",
    "close",
}
BIDDER_ACTIONS = {"signin", "decrypt", "objection", "withdraw_objection", "confirm"}


class ScopeRequest:
    """Enough of a request for evidence capture (IP, user agent, X-Client-Hardware) from a socket."""

    def __init__(self, scope, hardware=None):
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if isinstance(hardware, dict):
            headers["x-client-hardware"] = json.dumps(hardware)
        self._headers = headers
        client = scope.get("client") or (None, None)
        self.META = {"REMOTE_ADDR": client[0], "HTTP_X_FORWARDED_FOR": headers.get("x-forwarded-for", "")}

    @property
    def headers(self):
        return self

    def get(self, name, default=""):
        return self._headers.get(name.lower(), default)


def _language(scope) -> str:
    """The user's chosen language (cookie), else the platform's default."""
    cookies = scope.get("cookies") or {}
    code = cookies.get(settings.LANGUAGE_COOKIE_NAME, "")
    return code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _text(content: dict, key: str, limit: int = 4000) -> str:
    value = content.get(key, "")
    if not isinstance(value, str) or len(value) > limit:
        raise ValidationFailed(_("A text field is malformed."), code="message_malformed", field=key)
    return value


class OpeningConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.user = user
        self.lot_id = int(self.scope["url_route"]["kwargs"]["lot_id"])
        try:
            self.role = await self._access()
        except NotFound:
            await self.close(code=4404)
            return
        except AccessDenied:
            await self.close(code=4403)
            return
        self.lang = _language(self.scope)
        self.group = opening_group(self.lot_id)
        # Join before reading the state: an event committed in between is then received, not lost
        # (the client drops anything not newer than the version it holds).
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self._tick(force=True)
        await self.send_state()

    async def disconnect(self, code):
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    # --- to the client ---------------------------------------------------------------------------

    async def send_state(self, reply_to=None):
        state = await self._state()
        if reply_to is not None:
            state["reply_to"] = reply_to
        await self.send_json(state)

    async def hall_event(self, event):
        _next_due[self.lot_id] = _parse(event.get("due_at"))
        await self.send(text_data=event["text"])
        if self.role == rules.HOST:
            # The host's view holds counts and questions that are not broadcast; it is small.
            await self.send_state()

    # --- from the client ------------------------------------------------------------------------

    @classmethod
    async def decode_json(cls, text_data):
        try:
            return json.loads(text_data)
        except ValueError:
            return None  # answered as a malformed message below, instead of dropping the socket

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self._error(None, "", ValidationFailed(_("Not a hall message."), code="message_malformed"))
            return
        kind, rid = content["type"], content.get("id")
        if kind == "state":
            await self.send_state(reply_to=rid)
            return
        if kind == "tick":
            await self._tick()
            await self.send_json({"type": "tock", "reply_to": rid, "server_time": timezone.now().isoformat()})
            return
        if kind not in HOST_ACTIONS | BIDDER_ACTIONS:
            await self._error(rid, kind, ValidationFailed(_("Unknown hall message."), code="message_unknown"))
            return
        try:
            if self.role == rules.OBSERVER:
                raise AccessDenied(_("You watch this opening; you cannot act in it."), code="hall_read_only")
            await self._act(kind, content)
        except DomainError as exc:
            await self._error(rid, kind, exc)
            return
        await self.send_json({"type": "ok", "reply_to": rid, "action": kind})
        await self.send_state()

    async def _error(self, rid, kind, exc: DomainError):
        with translation.override(getattr(self, "lang", settings.LANGUAGE_CODE)):
            error = exc.as_dict()
        await self.send_json({"type": "error", "reply_to": rid, "action": kind, "error": error})

    # --- database work, in a worker thread ---------------------------------------------------------

    @database_sync_to_async
    def _access(self) -> str:
        lot = selectors.hall_lot(self.lot_id)
        return selectors.hall_access(user=self.user, lot=lot)

    @database_sync_to_async
    def _state(self) -> dict:
        lot = selectors.hall_lot(self.lot_id)
        with translation.override(self.lang):
            return selectors.hall_state(user=self.user, lot=lot, role=self.role)

    async def _tick(self, force: bool = False):
        due = _next_due.get(self.lot_id)
        if not force and (
            self.lot_id in _ticking or (self.lot_id in _next_due and (due is None or timezone.now() < due))
        ):
            return
        _ticking.add(self.lot_id)
        try:
            _next_due[self.lot_id] = await self._run_tick()
        finally:
            _ticking.discard(self.lot_id)

    @database_sync_to_async
    def _run_tick(self):
        lot = selectors.hall_lot(self.lot_id)
        session = services.opening_tick(lot=lot)
        return selectors.hall_due_at(lot=lot, session=session)

    @database_sync_to_async
    def _act(self, kind: str, content: dict) -> None:
        lot = selectors.hall_lot(self.lot_id)
        user = self.user
        decision, reason = _text(content, "decision", 20), _text(content, "reason", rules.REASON_MAX_CHARS)
        if kind == "signin":
            services.opening_signin(lot=lot, user=user, request=ScopeRequest(self.scope))
        elif kind == "decrypt":
            bid = Bid.objects.filter(lot=lot, entity_id=user.entity_id, status=Bid.Status.ACTIVE).first()
            if bid is None:
                raise AccessDenied(_("Your company has no bid in this lot."), code="signin_no_bid")
            request = ScopeRequest(self.scope, hardware=content.get("hardware"))
            services.bid_decrypt(bid=bid, cek=_text(content, "cek", 100), actor=user, request=request)
        elif kind == "objection":
            services.objection_raise(
                lot=lot, user=user, text=_text(content, "text", rules.OBJECTION_MAX_CHARS)
            )
        elif kind == "withdraw_objection":
            services.objection_withdraw(objection=_objection(lot, content), user=user)
        elif kind == "confirm":
            services.bid_confirm_record(
                lot=lot,
                user=user,
                signature=_text(content, "signature", 200),
                serial=_text(content, "serial", 64),
            )
        elif kind == "publish_bidders":
            services.opening_publish_bidders(lot=lot, actor=user, decision=decision, reason=reason)
        elif kind == "start_decryption":
            services.opening_start_decryption(lot=lot, actor=user)
        elif kind == "decryption_fault":
            services.bid_decryption_fault(
                bid=_bid(lot, content), actor=user, fault=_text(content, "fault", 10), reason=reason
            )
        elif kind == "custodian_retry":
            services.bid_decrypt_custodian(bid=_bid(lot, content), actor=user)
        elif kind == "start_readout":
            services.opening_start_readout(lot=lot, actor=user, decision=decision, reason=reason)
        elif kind == "answer":
            services.objection_answer(
                objection=_objection(lot, content), actor=user, answer=_text(content, "text")
            )
        elif kind == "start_confirmation":
            services.opening_start_confirmation(lot=lot, actor=user)
        elif kind == "close":
            services.opening_close(lot=lot, actor=user)


def _parse(value):
    return dt.datetime.fromisoformat(value) if value else None


def _bid(lot, content) -> Bid:
    try:
        pk = uuid.UUID(_text(content, "bid", 40))
    except ValueError:
        pk = None
    bid = Bid.objects.filter(lot=lot, pk=pk, status=Bid.Status.ACTIVE).first() if pk else None
    if bid is None:
        raise NotFound(_("No such bid."), code="bid_not_found")
    return bid


def _objection(lot, content) -> Objection:
    pk = content.get("objection")
    objection = (
        Objection.objects.filter(session__lot=lot, pk=pk).select_related("session").first()
        if isinstance(pk, int)
        else None
    )
    if objection is None:
        raise NotFound(_("No such objection."), code="objection_not_found")
    return objection
