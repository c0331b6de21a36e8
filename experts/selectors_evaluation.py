"""Reads of the evaluation room: who may enter a lot's room and what each viewer sees.

Members see their own seat by name and the others as seat numbers (names sealed, C4), the bids,
their own verdicts and scores, the committee's outliers, clarifications and justifications, and —
from the summary on — the computed results. The chair also sees the progress matrix. Regulators see
everything with names, read-only. Centre staff see the seats and the progress only. Bidders have no
place in the room (their pages are the clarification and justification answers).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import AccessDenied, NotFound
from experts.models import (
    Clarification,
    EvaluationRoom,
    LowPriceJustification,
    Member,
    Outlier,
    Report,
    ReportRevision,
)
from experts.services.evaluation.bids import READING_PHASES
from experts.services.evaluation.common import (
    REVIEW_STAGES,
    Phase,
    phase_index,
    price_criterion,
    review_criteria,
    scored_criteria,
    seat_label,
)
from experts.services.evaluation.declaration import declaration_text
from experts.services.evaluation.outcome import Snapshot, evaluated_price
from experts.services.evaluation.report import report_data
from experts.services.evaluation.timing import FLAG_PHASES, room_end
from trading.access import invited_watcher, require_login, tender_access_supervise
from trading.models import Lot, Role, TenderState

MEMBER, CHAIR, CENTRE, REGULATOR = "member", "chair", "centre", "regulator"
WATCHER = "watcher"  # a social supervisor invited to watch: the process only, like centre staff
FORM_KEYS = ("price", "currency", "duration_days", "quality", "project_manager", "items")


@dataclass
class Viewer:
    user: object
    role: str  # member | centre | regulator
    room: EvaluationRoom
    member: Member | None = None


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def room_lot(lot_id: int) -> Lot:
    lot = Lot.objects.select_related("tender").filter(pk=lot_id).first()
    if lot is None or lot.tender.state == TenderState.DRAFT:
        raise NotFound(_("No such lot."), code="lot_not_found")
    return lot


def room_of(lot: Lot) -> EvaluationRoom:
    room = EvaluationRoom.objects.filter(lot=lot).first()
    if room is None:
        raise NotFound(_("The evaluation room of this lot is not open."), code="room_not_found")
    room.lot = lot
    return room


def room_access(*, user, lot: Lot) -> Viewer:
    """The user's place in the lot's room, else AccessDenied (NotFound when there is no room)."""
    require_login(user)
    room = room_of(lot)
    if user.role in (Role.CENTRE, Role.ADMIN):
        return Viewer(user=user, role=CENTRE, room=room)
    if user.role == Role.REGULATOR:
        tender_access_supervise(user=user, tender=lot.tender)  # its departments' tenders (issue 7)
        return Viewer(user=user, role=REGULATOR, room=room)
    if invited_watcher(user, lot.tender, "evaluation"):
        return Viewer(user=user, role=WATCHER, room=room)
    member = Member.objects.filter(room=room, user=user).first()
    if member is None:
        raise AccessDenied(_("You have no place in this evaluation room."), code="room_forbidden")
    if member.recused_at is not None:
        raise AccessDenied(_("You have recused yourself from this evaluation."), code="member_recused")
    if member.voided:
        raise AccessDenied(_("You have been replaced in this committee."), code="member_replaced")
    return Viewer(user=user, role=MEMBER, room=room, member=member)


# --- pieces of the state ---------------------------------------------------------------------------------


def _seats(snap: Snapshot, viewer: Viewer, votes: dict[int, int]) -> list[dict]:
    names = viewer.role == REGULATOR
    out = []
    for m in snap.members:
        mine = viewer.member is not None and m.pk == viewer.member.pk
        out.append(
            {
                "seat": m.seat,
                "label": seat_label(m.seat),
                "name": m.user.display_name if names or mine else None,
                "kind": m.kind,
                "declared": m.declared_at is not None,
                "active": m.active,
                "recused": m.recused_at is not None,
                "replaced": m.voided,
                "chair": m.pk == snap.room.chair_id,
                "voted": m.chair_vote_id is not None,
                "votes": votes.get(m.pk, 0),
                "me": mine,
            }
        )
    return out


def _criteria(lot) -> dict:
    price = price_criterion(lot)
    return {
        Phase.QUALIFICATION.value: review_criteria(lot, Phase.QUALIFICATION),
        Phase.PRELIMINARY.value: review_criteria(lot, Phase.PRELIMINARY),
        "scored": [
            {"code": c["code"], "name": c["name"], "group": c["group"], "max": str(c["max"])}
            for c in scored_criteria(lot)
        ],
        "price": {"code": price["code"], "name": price["name"], "max": str(price["max"])} if price else None,
    }


def _bids(snap: Snapshot, viewer: Viewer) -> list[dict]:
    room = snap.room
    stages = {s: {b.pk for b in snap.in_play(s)} for s in (*REVIEW_STAGES, Phase.DETAILED.value)}
    closed = [s for s in REVIEW_STAGES if phase_index(room.phase) > phase_index(s)]
    readable = (
        viewer.role == MEMBER and viewer.member.declared_at is not None and room.phase in READING_PHASES
    )
    out = []
    for i, bid in enumerate(snap.bids, start=1):
        price = evaluated_price(snap.lot, bid)
        out.append(
            {
                "bid": str(bid.pk),
                "order": i,
                "bidder": bid.entity.name,
                "form": {k: bid.form[k] for k in FORM_KEYS if k in (bid.form or {})},
                "evaluated_price": str(price) if price is not None else None,
                "document": {
                    "name": (bid.document_meta or {}).get("name", ""),
                    "size": (bid.document_meta or {}).get("size"),
                    "url": reverse("experts:evaluation-bid-document", args=[snap.lot.pk, bid.pk])
                    if readable
                    else None,
                },
                "in": {s: bid.pk in ids for s, ids in stages.items()},
                "rejections": [r for s in closed for r in snap.rejections(bid, s)],
            }
        )
    return out


def _mine(snap: Snapshot, member: Member) -> dict:
    reviews = {
        f"{bid}|{stage}|{criterion}": {"passed": r.passed, "reason": r.reason}
        for (mid, bid, stage, criterion), r in snap.reviews.items()
        if mid == member.pk
    }
    scores = {
        f"{bid}|{criterion}": {
            "value": str(s.value),
            "comment": s.comment,
            "corrected_from": str(s.corrected_from) if s.corrected_from is not None else None,
            "correction_case": s.correction_case,
        }
        for (mid, bid, criterion), s in snap.scores.items()
        if mid == member.pk
    }
    missing = (
        [m for m in snap.missing(snap.room.phase) if m["seat"] == member.seat]
        if snap.room.phase in (Phase.QUALIFICATION, Phase.PRELIMINARY, Phase.DETAILED, Phase.SUMMARY)
        else []
    )
    return {"reviews": reviews, "scores": scores, "missing": len(missing)}


def _outliers(snap: Snapshot, viewer: Viewer) -> list[dict]:
    seats = {m.pk: m for m in snap.members}
    names = viewer.role == REGULATOR
    return [
        {
            "seat": seats[o.member_id].seat,
            "label": seat_label(seats[o.member_id].seat),
            "name": seats[o.member_id].user.display_name if names else None,
            "me": viewer.member is not None and o.member_id == viewer.member.pk,
            "bid": str(o.bid_id),
            "criterion": o.criterion,
            "value": str(o.value),
            "median": str(o.median),
            "deviation": str(o.deviation),
        }
        for o in Outlier.objects.filter(room=snap.room).order_by("bid_id", "criterion", "member__seat")
        if seats[o.member_id].active
    ]


def _clarifications(snap: Snapshot, viewer: Viewer) -> list[dict]:
    return [
        {
            "id": c.pk,
            "bid": str(c.bid_id),
            "bidder": c.bid.entity.name,
            "asked_by": seat_label(c.asked_by.seat),
            "mine": viewer.member is not None and c.asked_by_id == viewer.member.pk,
            "question": c.question,
            "asked_at": _iso(c.asked_at),
            "due_at": _iso(c.due_at),
            "answer": c.answer,
            "answered_at": _iso(c.answered_at),
        }
        for c in Clarification.objects.filter(room=snap.room).select_related("bid__entity", "asked_by")
    ]


def _justifications(snap: Snapshot) -> list[dict]:
    return [
        {
            "id": j.pk,
            "bid": str(j.bid_id),
            "bidder": j.bid.entity.name,
            "ratio": str(j.ratio),
            "requested_at": _iso(j.requested_at),
            "due_at": _iso(j.due_at),
            "overdue": j.answered_at is None and timezone.now() > j.due_at,
            "text": j.text,
            "answered_at": _iso(j.answered_at),
            "accepted": j.accepted,
            "decided_at": _iso(j.decided_at),
        }
        for j in LowPriceJustification.objects.filter(room=snap.room)
        .select_related("bid__entity")
        .order_by("pk")
    ]


def _report(room: EvaluationRoom, viewer: Viewer) -> dict | None:
    """The report being signed or final; None before it is built and while it is to be built again
    (discarded by a correction, or emptied by a re-evaluation)."""
    report = Report.objects.filter(room=room).first()
    if report is None or not report.data:
        return None
    signed = {s.member_id: s for s in report.signatures.all()}
    seats = {m.pk: m.seat for m in room.members.all()}
    out = {
        "revision": report.revision,
        "data_sha256": report.data_sha256,
        "body_sha256": report.body_sha256,
        "created_at": _iso(report.created_at),
        "finalized_at": _iso(report.finalized_at),
        "signing_due_at": _iso(room.signing_due_at) if report.finalized_at is None else None,
        "pdf_url": reverse("experts:evaluation-report-pdf", args=[room.lot_id]) if report.pdf_id else None,
        "signed": sorted(seats[mid] for mid in signed),
        "deemed": sorted(seats[mid] for mid, s in signed.items() if s.deemed),
        "signed_by_me": viewer.member is not None and viewer.member.pk in signed,
        "data": None,
    }
    if viewer.role in (MEMBER, REGULATOR):
        out["data"] = report.data
    return out


def _revisions(room: EvaluationRoom) -> list[dict]:
    """Reports superseded by a re-evaluation: revision, digest, when and why, the PDF."""
    return [
        {
            "revision": r.revision,
            "data_sha256": r.data_sha256,
            "finalized_at": _iso(r.finalized_at),
            "superseded_at": _iso(r.superseded_at),
            "reason": r.reason,
            "pdf_url": reverse("experts:evaluation-revision-pdf", args=[room.lot_id, r.revision])
            if r.pdf_id
            else None,
        }
        for r in ReportRevision.objects.filter(room=room).order_by("revision")
    ]


def _time(room: EvaluationRoom, snap: Snapshot, member: Member | None) -> dict:
    """The scheduled end, any extension, and how many members find the time insufficient (条例48)."""
    flagged = sum(1 for m in snap.active if m.time_insufficient)
    active = len(snap.active)
    end = room_end(room)
    return {
        "ends_at": _iso(room.ends_at),
        "extended_until": _iso(room.extended_until),
        "end": _iso(end),
        "over": end is not None and timezone.now() > end,
        "flagged": flagged,
        "active": active,
        # the smallest number of members that is more than a third
        "needed": active // 3 + 1,
        "mine": bool(member and member.time_insufficient),
        "may_flag": bool(member and member.declared_at and room.phase in FLAG_PHASES),
    }


def progress(room: EvaluationRoom) -> dict | None:
    """The progress matrix of the current stage (members × bids × criteria, done or missing)."""
    return Snapshot.load(room).progress()


def room_state(*, viewer: Viewer) -> dict:
    """The full state a client renders from: on connect, after every event, after its own action."""
    room = EvaluationRoom.objects.select_related("chair").get(pk=viewer.room.pk)
    room.lot = viewer.room.lot
    lot, tender = room.lot, room.lot.tender
    snap = Snapshot.load(room)
    votes: dict[int, int] = {}
    for m in snap.active:
        if m.chair_vote_id:
            votes[m.chair_vote_id] = votes.get(m.chair_vote_id, 0) + 1
    member = viewer.member
    if member is not None:
        member = next(m for m in snap.members if m.pk == member.pk)
    role = CHAIR if member is not None and member.pk == room.chair_id else viewer.role
    state = {
        "type": "state",
        "server_time": timezone.now().isoformat(),
        "room": {
            "id": room.pk,
            "lot": {
                "id": lot.pk,
                "number": lot.number,
                "title": lot.title,
                "ceiling_price": str(lot.ceiling_price or ""),
            },
            "tender": {"code": tender.code, "title": tender.title, "regime": tender.regime},
            "method": lot.evaluation_method,
            "phase": room.phase,
            "version": room.version,
            "opens_at": _iso(room.opens_at),
            "phase_changed_at": _iso(room.phase_changed_at),
            "closed_at": _iso(room.closed_at),
            "chair": room.chair.seat if room.chair else None,
            "signing_due_at": _iso(room.signing_due_at),
        },
        "time": _time(room, snap, member),
        "revisions": _revisions(room),
        "me": {
            "role": role,
            "seat": member.seat if member else None,
            "name": viewer.user.display_name,
            "kind": member.kind if member else None,
            "declared": bool(member and member.declared_at),
            "vote": next((m.seat for m in snap.members if member and m.pk == member.chair_vote_id), None),
            "declaration": declaration_text(tender.regime) if member and not member.declared_at else None,
            "may_act": member is not None,
        },
        "seats": _seats(snap, viewer, votes),
        "progress": snap.progress() if role in (CHAIR, CENTRE, REGULATOR, WATCHER) else None,
        "report": _report(room, viewer),
        "criteria": _criteria(lot),
        "bids": [],
        "mine": None,
        "outliers": [],
        "clarifications": [],
        "justifications": [],
        "summary": None,
    }
    if viewer.role in (CENTRE, WATCHER):
        state["criteria"] = None
        return state
    state["bids"] = _bids(snap, viewer)
    state["outliers"] = _outliers(snap, viewer)
    state["clarifications"] = _clarifications(snap, viewer)
    state["justifications"] = _justifications(snap)
    if member is not None:
        state["mine"] = _mine(snap, member)
    if room.phase == Phase.SUMMARY and not snap.missing(Phase.SUMMARY):
        state["summary"] = report_data(snap, now=timezone.now())
    return state


def bidder_requests(*, user) -> dict:
    """A bidder's open clarifications and low-price justifications, across its evaluations."""
    require_login(user)
    if user.role != Role.BIDDER or not user.entity_id:
        raise AccessDenied(_("Only bidders answer the committee."), code="role_forbidden")
    return {
        "clarifications": list(
            Clarification.objects.filter(bid__entity_id=user.entity_id)
            .select_related("bid__lot__tender")
            .order_by("-asked_at")
        ),
        "justifications": list(
            LowPriceJustification.objects.filter(bid__entity_id=user.entity_id)
            .select_related("bid__lot__tender")
            .order_by("-requested_at")
        ),
    }


def clarification_for_bidder(*, user, pk: int) -> Clarification:
    c = Clarification.objects.select_related("bid__lot__tender", "bid__entity").filter(pk=pk).first()
    if c is None or getattr(user, "entity_id", None) != c.bid.entity_id or user.role != Role.BIDDER:
        raise NotFound(_("No such clarification."), code="clarification_not_found")
    return c


def justification_for_bidder(*, user, pk: int) -> LowPriceJustification:
    j = LowPriceJustification.objects.select_related("bid__lot__tender", "bid__entity").filter(pk=pk).first()
    if j is None or getattr(user, "entity_id", None) != j.bid.entity_id or user.role != Role.BIDDER:
        raise NotFound(_("No such justification request."), code="justification_not_found")
    return j
