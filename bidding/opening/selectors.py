"""Reads of the opening hall: who may enter a lot's hall, and the hall's state — the public part
every participant sees (and events carry) and the personal part of one user.

Before the deadline nothing about who bid or signed in is shown to anyone (法22: the number and
names of bidders stay confidential); the bidder list is public in the hall once the host publishes it.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bidding.custodian import custodian_status
from bidding.models import Attendance, Bid, OpeningRecord, OpeningSession
from bidding.opening import rules
from core.errors import AccessDenied, NotFound
from trading.access import in_jurisdiction, invited_watcher, manages_tender, require_login
from trading.models import DecryptionPolicy, Lot, TenderState

READOUT_PHASES = frozenset({rules.READOUT, rules.CONFIRMATION, rules.CLOSED})
# The bid form's keys read out at 唱标; the binding fields (v, tender, lot, bidder) are not news.
READOUT_KEYS = ("price", "currency", "duration_days", "quality", "project_manager", "items")


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def hall_lot(lot_id: int) -> Lot:
    lot = Lot.objects.select_related("tender").filter(pk=lot_id).first()
    if lot is None or lot.tender.state == TenderState.DRAFT:
        raise NotFound(_("No such lot."), code="lot_not_found")
    return lot


def hall_access(*, user, lot: Lot) -> str:
    """The user's role in the lot's hall (rules.HOST / BIDDER / OBSERVER), else AccessDenied."""
    require_login(user)
    has_bid = bool(
        user.role == "bidder"
        and user.entity_id
        and Bid.objects.filter(lot=lot, entity_id=user.entity_id, status=Bid.Status.ACTIVE).exists()
    )
    role = rules.hall_role(
        user_role=user.role,
        has_bid=has_bid,
        manages_tender=manages_tender(user, lot.tender),
        supervises=user.role != "regulator" or in_jurisdiction(user, lot.tender),
        invited=invited_watcher(user, lot.tender, "opening"),
    )
    if role is None:
        raise AccessDenied(_("You have no place in this opening hall."), code="hall_forbidden")
    return role


def active_bids(lot: Lot):
    return (
        Bid.objects.filter(lot=lot, status=Bid.Status.ACTIVE)
        .select_related("entity")
        .order_by("submitted_at", "pk")
    )


def _readout_form(form: dict) -> dict:
    return {k: form[k] for k in READOUT_KEYS if k in form}


def _bidders(session: OpeningSession, bids: list[Bid]) -> list[dict]:
    signed = {a.entity_id: a.signed_in_at for a in session.attendance.all()}
    return [
        {
            "order": i,
            "bid": str(bid.pk),
            "entity": bid.entity_id,
            "name": bid.entity.name,
            "submitted_at": _iso(bid.submitted_at),
            "signed_in_at": _iso(signed.get(bid.entity_id)),
            "decryption": bid.decryption,
            "decrypted_at": _iso(bid.decrypted_at),
            "confirmed_at": _iso(bid.confirmed_at),
            "signed": bool(bid.confirmation_signature),
        }
        for i, bid in enumerate(bids, start=1)
    ]


def _objections(session: OpeningSession) -> list[dict]:
    return [
        {
            "id": o.pk,
            "entity": o.entity_id,
            "name": o.entity.name,
            "text": o.text,
            "raised_at": _iso(o.raised_at),
            "answer": o.answer,
            "answered_at": _iso(o.answered_at),
            "withdrawn_at": _iso(o.withdrawn_at),
        }
        for o in session.objections.select_related("entity").order_by("raised_at", "pk")
    ]


def _record(session: OpeningSession) -> dict | None:
    record = OpeningRecord.objects.filter(session=session).first()
    if record is None:
        return None
    lot_id = session.lot_id
    return {
        "body_sha256": record.data.get("body_sha256"),
        "data_sha256": record.data_sha256,
        "final": bool(record.data.get("closed_at")),
        "pdf_url": reverse("bidding:opening-record-pdf", args=[lot_id]) if record.pdf_id else None,
        "json_url": reverse("bidding:opening-record", args=[lot_id]),
    }


def hall_due_at(*, lot: Lot, session: OpeningSession | None, pending: int | None = None):
    if pending is None and session is not None and session.phase == rules.DECRYPTION:
        pending = active_bids(lot).filter(decryption=rules.PENDING).count()
    return rules.due_at(
        exists=session is not None,
        phase=session.phase if session else None,
        deadline=lot.tender.deadline,
        tender_opened=lot.tender.state not in {TenderState.PUBLISHED, TenderState.DRAFT},
        decryption_ends_at=session.decryption_ends_at if session else None,
        confirmation_ends_at=session.confirmation_ends_at if session else None,
        pending=pending or 0,
    )


def hall_public(*, lot: Lot) -> dict:
    """What every participant of the hall sees; one snapshot is built per change and broadcast."""
    tender = lot.tender
    now = timezone.now()
    session = OpeningSession.objects.filter(lot=lot).select_related("host").first()
    opened = now >= tender.deadline
    data = {
        "lot": {
            "id": lot.pk,
            "number": lot.number,
            "title": lot.title,
            "min_bidders": max(lot.min_bidders, rules.MIN_BIDDERS),
            "read_out_items": lot.read_out_items,
            "status": lot.status,
        },
        "tender": {
            "id": tender.pk,
            "code": tender.code,
            "title": tender.title,
            "state": tender.state,
            "decryption_minutes": tender.decryption_minutes,
            "decryption_policy": tender.decryption_policy,
        },
        "deadline": _iso(tender.deadline),
        "signin_opens_at": _iso(rules.signin_opens_at(tender.deadline)),
        "opened": opened,
        "version": session.version if session else 0,
        "phase": session.phase if session else "waiting",
        "phase_changed_at": _iso(session.phase_changed_at) if session else None,
        "decryption_ends_at": _iso(session.decryption_ends_at) if session else None,
        "confirmation_ends_at": _iso(session.confirmation_ends_at) if session else None,
        "host": session.host.display_name if session and session.host else None,
        "failure_reason": session.failure_reason if session else "",
        "attendance": None,
        "bidders": [],
        "readout": [],
        "objections": [],
        "record": None,
        "custodian": None,
        "due_at": None,
    }
    if session is None or not opened:
        data["due_at"] = _iso(hall_due_at(lot=lot, session=session))
        return data
    bids = list(active_bids(lot))
    data["attendance"] = session.attendance.count()
    if session.phase != rules.SIGNIN:
        data["bidders"] = _bidders(session, bids)
    if session.phase in READOUT_PHASES:
        data["readout"] = [
            {
                "order": i,
                "entity": bid.entity_id,
                "name": bid.entity.name,
                "decryption": bid.decryption,
                "form": _readout_form(bid.form) if bid.decryption in rules.VALID_DECRYPTIONS else None,
            }
            for i, bid in enumerate(bids, start=1)
        ]
    data["objections"] = _objections(session)
    data["record"] = _record(session)
    if tender.decryption_policy == DecryptionPolicy.BIDDER_CUSTODIAN:
        data["custodian"] = custodian_status(tender=tender)
    pending = sum(1 for b in bids if b.decryption == rules.PENDING)
    data["due_at"] = _iso(hall_due_at(lot=lot, session=session, pending=pending))
    return data


def _host_view(lot: Lot, session: OpeningSession | None, now) -> dict:
    """The host's own view: counts before the list is public, and the question B4 asks."""
    if session is None or now < lot.tender.deadline:
        return {}
    bids = list(active_bids(lot))
    found = None
    if session.phase == rules.SIGNIN:
        found = rules.shortfall(count=len(bids), minimum=lot.min_bidders)
    elif session.phase == rules.DECRYPTION and not any(b.decryption == rules.PENDING for b in bids):
        # Asked again once decryption has settled every bid (B4: "after decryption").
        valid = sum(1 for b in bids if b.decryption in rules.VALID_DECRYPTIONS)
        found = rules.shortfall(count=valid, minimum=lot.min_bidders)
    view = {"bids": len(bids), "shortfall": found.as_dict() if found else None}
    if session.phase == rules.SIGNIN:
        view["bidders"] = _bidders(session, bids)
    view["open_objections"] = session.objections.filter(answered_at=None, withdrawn_at=None).count()
    return view


def hall_personal(*, user, lot: Lot, role: str) -> dict:
    now = timezone.now()
    session = OpeningSession.objects.filter(lot=lot).first()
    me = {
        "user": user.get_username(),
        "name": user.display_name,
        "role": role,
        "may_act": role == rules.HOST,
        "entity": user.entity_id,
        "entity_name": user.entity.name if user.entity_id else "",
        "signed_in": False,
        "bid": None,
        "host": None,
        "confirmation": None,
    }
    if role == rules.HOST:
        me["host"] = _host_view(lot, session, now)
    if role == rules.BIDDER:
        bid = Bid.objects.filter(lot=lot, entity_id=user.entity_id, status=Bid.Status.ACTIVE).first()
        if bid is not None:
            me["bid"] = {
                "id": str(bid.pk),
                "header": bid.header,
                "cert": bid.certificate.serial,
                "decryption": bid.decryption,
                "confirmed_at": _iso(bid.confirmed_at),
            }
        if session is not None:
            me["signed_in"] = Attendance.objects.filter(session=session, entity_id=user.entity_id).exists()
    if session is not None and session.phase == rules.CONFIRMATION:
        record = OpeningRecord.objects.filter(session=session).first()
        if record is not None:
            body_sha256 = record.data["body_sha256"]
            me["confirmation"] = {
                "body_sha256": body_sha256,
                "message": rules.confirmation_message(body_sha256=body_sha256).decode(),
            }
    return me


def hall_state(*, user, lot: Lot, role: str) -> dict:
    """The full state a client renders from: on connect, on reload, after its own action."""
    return {
        "type": "state",
        "server_time": timezone.now().isoformat(),
        "hall": hall_public(lot=lot),
        "me": hall_personal(user=user, lot=lot, role=role),
    }


def lots_due(*, now=None) -> list[int]:
    """Lots whose hall a tick may have work for: open for bids within the sign-in lead time, or in an
    opening that a clock moves on (used by `manage.py run_openings`)."""
    now = now or timezone.now()
    horizon = now + dt.timedelta(minutes=rules.SIGNIN_OPENS_MINUTES)
    waiting = Q(tender__state=TenderState.PUBLISHED, tender__deadline__lte=horizon)
    running = Q(tender__state=TenderState.OPENING) & (
        Q(opening__isnull=True)
        | Q(opening__phase=rules.DECRYPTION, opening__decryption_ends_at__lte=now)
        | Q(opening__phase=rules.CONFIRMATION, opening__confirmation_ends_at__lte=now)
    )
    return list(Lot.objects.filter(waiting | running).order_by("pk").values_list("pk", flat=True))
