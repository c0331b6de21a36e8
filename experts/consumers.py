"""The evaluation room's websocket (`ws/evaluation/<lot_id>/`): a protocol adapter. It authenticates
and authorizes (members, centre staff, regulators), joins the room's group, sends the viewer's state
on connect, routes a member's messages to the services and, on every room event, sends the viewer's
state again (what each viewer may see differs, so events carry no data of their own).

Close codes: 4401 not logged in, 4403 no place in this room, 4404 no such lot or no room yet.
"""

from __future__ import annotations

import json
import uuid

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from core.errors import AccessDenied, DomainError, NotFound, ValidationFailed
from experts import selectors_evaluation as selectors
from experts.models import EvaluationRoom, LowPriceJustification, Member
from experts.services import evaluation as services
from experts.services.evaluation.events import room_group
from experts.services.evaluation.outcome import evaluated_bids

ACTIONS = {
    "declare",
    "vote",
    "review",
    "score",
    "complete_stage",
    "ask",
    "decide_justification",
    "build_report",
    "sign_report",
    "time_insufficient",
    "correct_score",
}


def _language(scope) -> str:
    cookies = scope.get("cookies") or {}
    code = cookies.get(settings.LANGUAGE_COOKIE_NAME, "")
    return code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _text(content: dict, key: str, limit: int = 10_000) -> str:
    value = content.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > limit:
        raise ValidationFailed(_("A text field is malformed."), code="message_malformed", field=key)
    return value


def _flag(content: dict, key: str) -> bool:
    value = content.get(key)
    if not isinstance(value, bool):
        raise ValidationFailed(_("A yes/no field is malformed."), code="message_malformed", field=key)
    return value


def _score(content: dict):
    value = content.get("value")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValidationFailed(_("A score is a number with at most two decimals."), code="score_invalid")
    return value


def _bid(room: EvaluationRoom, content: dict):
    try:
        pk = uuid.UUID(_text(content, "bid", 40))
    except ValueError:
        pk = None
    bid = next((b for b in evaluated_bids(room.lot) if b.pk == pk), None)
    if bid is None:
        raise NotFound(_("No such bid."), code="bid_not_found")
    return bid


def _seat(room: EvaluationRoom, content: dict, key: str) -> Member:
    seat = content.get(key)
    member = Member.objects.filter(room=room, seat=seat).first() if isinstance(seat, int) else None
    if member is None:
        raise ValidationFailed(_("Vote for an active member of this committee."), code="candidate_invalid")
    return member


def room_act(viewer: selectors.Viewer, kind: str, content: dict) -> None:
    """Run one member's action (shared by the socket; the member is re-checked by the service)."""
    if viewer.member is None:
        raise AccessDenied(_("You follow this evaluation; you cannot act in it."), code="room_read_only")
    room, member, user = viewer.room, viewer.member, viewer.user
    if kind == "declare":
        services.member_declare(
            member=member,
            actor=user,
            recuse=bool(content.get("recuse") is True),
            reason=_text(content, "reason"),
        )
    elif kind == "vote":
        services.chair_vote(member=member, actor=user, candidate=_seat(room, content, "seat"))
    elif kind == "review":
        services.review_submit(
            member=member,
            actor=user,
            bid=_bid(room, content),
            stage=_text(content, "stage", 20),
            criterion=_text(content, "criterion", 40),
            passed=_flag(content, "passed"),
            reason=_text(content, "reason"),
        )
    elif kind == "score":
        value = _score(content)
        services.score_submit(
            member=member,
            actor=user,
            bid=_bid(room, content),
            criterion=_text(content, "criterion", 40),
            value=value,
            comment=_text(content, "comment"),
        )
    elif kind == "complete_stage":
        services.stage_complete(room=room, actor=user)
    elif kind == "ask":
        services.clarification_ask(
            member=member, actor=user, bid=_bid(room, content), question=_text(content, "question")
        )
    elif kind == "decide_justification":
        pk = content.get("justification")
        found = (
            LowPriceJustification.objects.filter(room=room, pk=pk).first() if isinstance(pk, int) else None
        )
        if found is None:
            raise NotFound(_("No such justification request."), code="justification_not_found")
        services.justification_decide(justification=found, actor=user, accepted=_flag(content, "accepted"))
    elif kind == "build_report":
        services.report_build(room=room, actor=user)
    elif kind == "sign_report":
        services.report_sign(
            member=member, actor=user, agrees=_flag(content, "agrees"), dissent=_text(content, "dissent")
        )
    elif kind == "time_insufficient":
        services.time_insufficient_set(member=member, actor=user, value=_flag(content, "value"))
    elif kind == "correct_score":
        value = _score(content)
        services.score_correct(
            member=member,
            actor=user,
            bid=_bid(room, content),
            criterion=_text(content, "criterion", 40),
            value=value,
            case=_text(content, "case", 40),
            reason=_text(content, "reason"),
        )


class EvaluationConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.user = user
        self.lot_id = int(self.scope["url_route"]["kwargs"]["lot_id"])
        try:
            await self._access()
        except NotFound:
            await self.close(code=4404)
            return
        except AccessDenied:
            await self.close(code=4403)
            return
        self.lang = _language(self.scope)
        self.group = room_group(self.lot_id)
        # Join before reading the state: an event committed in between is then received, not lost.
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_state()

    async def disconnect(self, code):
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    # --- to the client ---------------------------------------------------------------------------

    async def send_state(self, reply_to=None, event=None):
        try:
            state = await self._state()
        except (AccessDenied, NotFound):
            # Recused or replaced since connecting: the member is locked out (C5).
            await self.close(code=4403)
            return
        if reply_to is not None:
            state["reply_to"] = reply_to
        if event is not None:
            state["event"] = event
        await self.send_json(state)

    async def room_event(self, event):
        await self.send_state(event=event.get("event"))

    # --- from the client ------------------------------------------------------------------------

    @classmethod
    async def decode_json(cls, text_data):
        try:
            return json.loads(text_data)
        except ValueError:
            return None

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self._error(None, "", ValidationFailed(_("Not a room message."), code="message_malformed"))
            return
        kind, rid = content["type"], content.get("id")
        if kind == "state":
            await self.send_state(reply_to=rid)
            return
        if kind not in ACTIONS:
            await self._error(rid, kind, ValidationFailed(_("Unknown room message."), code="message_unknown"))
            return
        try:
            await self._act(kind, content)
        except DomainError as exc:
            await self._error(rid, kind, exc)
            return
        await self.send_json({"type": "ok", "reply_to": rid, "action": kind})

    async def _error(self, rid, kind, exc: DomainError):
        with translation.override(getattr(self, "lang", settings.LANGUAGE_CODE)):
            error = exc.as_dict()
        await self.send_json({"type": "error", "reply_to": rid, "action": kind, "error": error})

    # --- database work, in a worker thread ---------------------------------------------------------

    def _viewer(self) -> selectors.Viewer:
        lot = selectors.room_lot(self.lot_id)
        return selectors.room_access(user=self.user, lot=lot)

    @database_sync_to_async
    def _access(self) -> None:
        self._viewer()

    @database_sync_to_async
    def _state(self) -> dict:
        with translation.override(self.lang):
            return selectors.room_state(viewer=self._viewer())

    @database_sync_to_async
    def _act(self, kind: str, content: dict) -> None:
        with translation.override(self.lang):
            room_act(self._viewer(), kind, content)
