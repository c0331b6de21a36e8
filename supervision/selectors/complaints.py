"""Reads of the complaint and challenge pages: who sees which complaint (投诉) and challenge (异议/质疑), the
lists sorted by the running clock, each clock's state (met / late / running / overdue) and the rules shown
before filing. Every deadline comes from the model (set by the services through trading.rules) or from
trading.rules itself; nothing here counts days."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, DateTimeField, F, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import AccessDenied
from supervision.models import Challenge, Complaint, ComplaintEvidence
from supervision.selectors import may_supervise, supervised_tenders
from trading import rules
from trading.access import require_login, tender_access_supervise
from trading.models import Lot, Role, Tender, TenderState
from trading.rules import deadlines as limits

ALL_ROLES = {Role.CENTRE, Role.ADMIN}
LIST_ROLES = {Role.BIDDER, Role.AGENCY, Role.REGULATOR, Role.CENTRE, Role.ADMIN}

# The clock states a page shows: "met" (done in time), "late" (done after its deadline), "running" (not done,
# time left), "overdue" (not done, past its deadline), "pending" (not started), "closed" (will not run).
MET, LATE, RUNNING, OVERDUE, PENDING, CLOSED = "met", "late", "running", "overdue", "pending", "closed"
CLOCK_LABELS = {
    MET: gettext_lazy("Met"),
    LATE: gettext_lazy("Met late"),
    RUNNING: gettext_lazy("Running"),
    OVERDUE: gettext_lazy("Overdue"),
    PENDING: gettext_lazy("Not started"),
    CLOSED: gettext_lazy("Not applicable"),
}
PRIOR_LABELS = {
    "tb_objection": gettext_lazy("Objection to the tender documents (异议)"),
    "gp_challenge": gettext_lazy("Challenge (质疑)"),
    "opening_objection": gettext_lazy("Objection at the bid opening (条例44)"),
    "publicity_objection": gettext_lazy("Objection to the candidates' publicity (条例54)"),
}


@dataclass(frozen=True)
class Clock:
    name: str  # "filing" | "accept" | "decision" | "reply"
    label: str
    due: dt.datetime | None
    done_at: dt.datetime | None
    state: str
    source: str = ""

    @property
    def overdue(self) -> bool:
        return self.state == OVERDUE

    @property
    def state_label(self) -> str:
        return str(CLOCK_LABELS[self.state])


def _clock(name, label, *, due, done_at, running: bool, now, source="") -> Clock:
    """A clock's state: done (in time or late), or, while it runs, within or past its deadline."""
    if done_at is not None:
        state = LATE if due is not None and done_at > due else MET
    elif not running:
        state = PENDING if due is None else CLOSED
    elif due is None:
        state = PENDING
    else:
        state = OVERDUE if now > due else RUNNING
    return Clock(name=name, label=str(label), due=due, done_at=done_at, state=state, source=source)


# --- who sees what --------------------------------------------------------------------------------------------


def _about_tenders_of(user) -> Q:
    """Complaints or challenges about the tenders an agency or tenderee user manages."""
    return Q(tender__agency_id=user.entity_id) | Q(tender__tenderee_id=user.entity_id)


def _visible(qs: QuerySet, user) -> QuerySet:
    role = getattr(user, "role", None)
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    if role in ALL_ROLES:
        return qs
    if role == Role.REGULATOR:
        return qs.filter(tender__in=supervised_tenders(user))
    if role == Role.BIDDER and user.entity_id is not None:
        return qs.filter(entity_id=user.entity_id)
    if role == Role.AGENCY and user.entity_id is not None:
        return qs.filter(_about_tenders_of(user))
    return qs.none()


def _may_read(user, *, tender: Tender, entity_id: int, code: str) -> None:
    """The party's entity, the tender's agency and tenderee, its supervising regulators, centre, admin."""
    require_login(user)
    role = user.role
    if role in ALL_ROLES:
        return
    if role == Role.REGULATOR:
        tender_access_supervise(user=user, tender=tender)  # outside_jurisdiction for another department
        return
    if role == Role.BIDDER and user.entity_id is not None and user.entity_id == entity_id:
        return
    if (
        role == Role.AGENCY
        and user.entity_id is not None
        and user.entity_id in (tender.agency_id, tender.tenderee_id)
    ):
        return
    raise AccessDenied(_("Only the parties and the supervising departments see this."), code=code)


def may_handle(user, complaint: Complaint) -> bool:
    """Accept, refuse, suspend and decide: a department supervising the tender, or an admin (as the
    service checks; the page offers the forms only then)."""
    role = getattr(user, "role", None)
    return role == Role.ADMIN or (role == Role.REGULATOR and may_supervise(user, complaint.tender))


def may_reply(user, challenge: Challenge) -> bool:
    """The tenderee or its agency answers (as the service checks), once."""
    return (
        getattr(user, "role", None) == Role.AGENCY
        and user.entity_id in (challenge.tender.agency_id, challenge.tender.tenderee_id)
        and challenge.replied_at is None
    )


# --- complaints -----------------------------------------------------------------------------------------------


def _running_due():
    """The deadline of the clock that runs: acceptance while filed, decision while accepted."""
    return Case(
        When(status=Complaint.Status.FILED, then=F("accept_due_at")),
        When(status=Complaint.Status.ACCEPTED, then=F("decision_due_at")),
        default=Value(None),
        output_field=DateTimeField(),
    )


def complaint_list(*, user, status: str | None = None, overdue: bool = False) -> QuerySet[Complaint]:
    """The complaints the user sees, the nearest running clock first, then the newest closed ones."""
    qs = (
        _visible(Complaint.objects.all(), user)
        .select_related("tender", "entity", "lot")
        .annotate(clock_due=_running_due())
    )
    if status:
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.filter(clock_due__lt=timezone.now())
    return qs.order_by(F("clock_due").asc(nulls_last=True), "-filed_at", "-pk")


def complaint_row(complaint: Complaint, now: dt.datetime | None = None) -> dict:
    """What a list row shows of the running clock (expects `clock_due` from complaint_list)."""
    now = now or timezone.now()
    due = getattr(complaint, "clock_due", None)
    clock = None
    if complaint.status == Complaint.Status.FILED:
        clock = "accept"
    elif complaint.status == Complaint.Status.ACCEPTED:
        clock = "decision"
    return {"c": complaint, "clock": clock, "due": due, "overdue": due is not None and now > due}


def complaint_access_read(*, user, pk: int) -> Complaint:
    """The complaint if the user may see it: 404 if none, else 403 (outside_jurisdiction for a regulator
    of another department, forbidden for anyone else who is not a party)."""
    complaint = get_object_or_404(
        Complaint.objects.select_related("tender", "tender__agency", "tender__tenderee", "entity", "lot"),
        pk=pk,
    )
    _may_read(user, tender=complaint.tender, entity_id=complaint.entity_id, code="forbidden")
    return complaint


def complaint_evidence(complaint: Complaint) -> list[ComplaintEvidence]:
    return list(complaint.evidence.select_related("blob").order_by("added_at", "pk"))


def complaint_evidence_get(complaint: Complaint, evidence_id: int) -> ComplaintEvidence:
    return get_object_or_404(
        ComplaintEvidence.objects.select_related("blob"), complaint=complaint, pk=evidence_id
    )


def complaint_clocks(complaint: Complaint, now: dt.datetime | None = None) -> list[Clock]:
    """The filing limit, the acceptance clock and the decision clock, with their states now."""
    now = now or timezone.now()
    tb = complaint.tender.regime == rules.TB
    status = complaint.status
    closed = status in (Complaint.Status.REFUSED, Complaint.Status.WITHDRAWN)
    filing = _clock(
        "filing",
        _("Filing limit"),
        due=complaint.filing_deadline,
        done_at=complaint.filed_at,
        running=True,
        now=now,
        source="招标投标法实施条例第六十条" if tb else "政府采购质疑和投诉办法第十七条",
    )
    accepted_or_refused = complaint.accepted_at or (
        complaint.decided_at if status == Complaint.Status.REFUSED else None
    )
    accept = _clock(
        "accept",
        _("Acceptance due") if tb else _("Review due"),
        due=complaint.accept_due_at,
        done_at=accepted_or_refused,
        running=status == Complaint.Status.FILED,
        now=now,
        source=limits.SRC_TB_COMPLAINT_HANDLING if tb else limits.SRC_GP_COMPLAINT_REVIEW,
    )
    label = _("Decision due")
    source = limits.SRC_TB_COMPLAINT_HANDLING if tb else limits.SRC_GP_COMPLAINT_DECISION
    if closed:
        return [filing, accept, Clock("decision", label, None, None, CLOSED, source)]
    decision_due = complaint.decision_due_at
    if decision_due is None and not tb:
        # GP counts the decision from receipt (办法26): the deadline is known before the review ends.
        decision_due = rules.complaint_decision_deadline(
            regime=rules.GP,
            received_at=complaint.filed_at,
            excluded_working_days=complaint.excluded_working_days,
        )
    decision = _clock(
        "decision",
        label,
        due=decision_due,
        done_at=complaint.decided_at if status == Complaint.Status.DECIDED else None,
        running=status == Complaint.Status.ACCEPTED or (not tb and status == Complaint.Status.FILED),
        now=now,
        source=source,
    )
    return [filing, accept, decision]


def _when(value) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        return None


def complaint_prior(complaint: Complaint) -> dict | None:
    """The objection or 质疑 that came first, as stored at filing (datetimes parsed back)."""
    prior = complaint.prior or {}
    if not prior:
        return None
    kind = prior.get("kind", "")
    return {
        "kind": kind,
        "label": str(PRIOR_LABELS.get(kind, kind)),
        "id": prior.get("id"),
        "challenge": kind in ("tb_objection", "gp_challenge"),
        "filed_at": _when(prior.get("filed_at")),
        "answered_at": _when(prior.get("answered_at")),
        "due": _when(prior.get("due")),
    }


def tender_suspended(tender: Tender) -> bool:
    """Read with the complaint in the same request, so the state is current."""
    return tender.state == TenderState.SUSPENDED


def tender_lots(tender: Tender) -> QuerySet[Lot]:
    return tender.lots.order_by("number")


def filing_rules(*, tender: Tender, entity_id: int | None, now: dt.datetime | None = None) -> dict:
    """What the complaint form shows before filing: which matters need an objection or 质疑 first, the
    filing limit and its source, and the entity's own challenges on this tender with, for each, when a
    complaint may come (after the answer or the time to answer) and, in GP, until when."""
    now = now or timezone.now()
    tb = tender.regime == rules.TB
    challenges = []
    if entity_id is not None:
        for ch in Challenge.objects.filter(tender=tender, entity_id=entity_id).order_by("-filed_at"):
            ripe = ch.replied_at is not None or now > ch.reply_due_at
            challenges.append(
                {
                    "c": ch,
                    "ripe": ripe,
                    "until": None if tb else rules.gp_complaint_deadline(reply_deadline=ch.reply_due_at),
                }
            )
    if tb:
        needs = [
            (Complaint.Matter.DOCUMENTS, Complaint.Matter.DOCUMENTS.label),
            (Complaint.Matter.OPENING, Complaint.Matter.OPENING.label),
            (Complaint.Matter.CANDIDATES, Complaint.Matter.CANDIDATES.label),
        ]
    else:
        needs = [(value, label) for value, label in Complaint.Matter.choices]
    return {
        "tb": tb,
        "days": limits.TB_COMPLAINT_DAYS,
        "working_days": limits.GP_COMPLAINT_WORKING_DAYS,
        "source": "招标投标法实施条例第六十条" if tb else "政府采购质疑和投诉办法第十七条",
        "needs": [(value, str(label)) for value, label in needs],
        "challenges": challenges,
    }


def challenge_rules(*, tender: Tender) -> dict:
    """What the challenge form shows: TB objections to the documents up to 10 days before the bid deadline,
    answered in 3 days (条例22); GP 质疑 within 7 working days of knowing, answered in 7 (办法10/13)."""
    tb = tender.regime == rules.TB
    return {
        "tb": tb,
        "latest": rules.document_objection_deadline(deadline=tender.deadline) if tb else None,
        "days_before": limits.OBJECTION_DOCS_DAYS_BEFORE,
        "reply_days": limits.OBJECTION_REPLY_DAYS if tb else limits.GP_CHALLENGE_REPLY_WORKING_DAYS,
        "within": limits.GP_CHALLENGE_WORKING_DAYS,
        "source": limits.SRC_OBJECTION if tb else "政府采购质疑和投诉办法第十条、第十三条",
    }


# --- challenges -----------------------------------------------------------------------------------------------


def challenge_list(*, user, state: str | None = None, overdue: bool = False) -> QuerySet[Challenge]:
    """The challenges the user sees (state "open": unanswered, "answered"), unanswered ones by their reply
    deadline first."""
    qs = _visible(Challenge.objects.all(), user).select_related("tender", "entity", "lot")
    if state == "answered":
        qs = qs.filter(replied_at__isnull=False)
    if state == "open" or overdue:
        qs = qs.filter(replied_at__isnull=True)
    if overdue:
        qs = qs.filter(reply_due_at__lt=timezone.now())
    return qs.order_by(F("replied_at").asc(nulls_first=True), "reply_due_at", "-pk")


def challenge_row(challenge: Challenge, now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
    clock = challenge_clock(challenge, now)
    return {"c": challenge, "clock": clock, "overdue": clock.overdue}


def challenge_access_read(*, user, pk: int) -> Challenge:
    challenge = get_object_or_404(
        Challenge.objects.select_related("tender", "tender__agency", "tender__tenderee", "entity", "lot"),
        pk=pk,
    )
    _may_read(user, tender=challenge.tender, entity_id=challenge.entity_id, code="forbidden")
    return challenge


def challenge_clock(challenge: Challenge, now: dt.datetime | None = None) -> Clock:
    tb = challenge.kind == Challenge.Kind.TB_OBJECTION
    return _clock(
        "reply",
        _("Reply due"),
        due=challenge.reply_due_at,
        done_at=challenge.replied_at,
        running=True,
        now=now or timezone.now(),
        source=limits.SRC_OBJECTION if tb else "政府采购质疑和投诉办法第十三条",
    )


def challenge_complaints(challenge: Challenge) -> QuerySet[Complaint]:
    """Complaints filed on the strength of this challenge."""
    return Complaint.objects.filter(
        tender=challenge.tender, entity=challenge.entity, prior__kind=challenge.kind, prior__id=challenge.pk
    ).order_by("-filed_at")


def complaint_initial(*, user, tender: Tender, challenge_id: str = "") -> dict:
    """The complaint form's first values when it is opened from one of the user's own challenges: its lot,
    its day of knowledge and, for a TB objection to the documents, that matter."""
    if not challenge_id.isdigit() or len(challenge_id) > 12 or getattr(user, "entity_id", None) is None:
        return {}
    ch = Challenge.objects.filter(pk=int(challenge_id), tender=tender, entity_id=user.entity_id).first()
    if ch is None:
        return {}
    return {
        "lot": str(ch.lot_id or ""),
        "known_at": timezone.localdate(ch.known_at).isoformat(),
        "matter": Complaint.Matter.DOCUMENTS if ch.kind == Challenge.Kind.TB_OBJECTION else "",
    }


def may_complain_after(user, challenge: Challenge, now: dt.datetime | None = None) -> bool:
    """The challenger's own staff, once the challenge is answered or its time to answer has run out."""
    now = now or timezone.now()
    return (
        getattr(user, "role", None) == Role.BIDDER
        and user.entity_id == challenge.entity_id
        and (challenge.replied_at is not None or now > challenge.reply_due_at)
    )
