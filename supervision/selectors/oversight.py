"""The oversight timeline of one tender (全过程监督): its journal in time order, in three phases (标前, 标中,
标后), labelled, summarised without secrets and with anomalies flagged by pure rules; and the reads of
the online instructions (在线下达指令) that supervising departments give the centre or the agency.

The rules (`late_amendment`, `deadline_extension`, `repeated_failures`, `score_outliers`, `alert_anomaly`,
`late_reply`, `complaint_or_suspension`, `instruction_overdue`) do no I/O; `tender_oversight` gathers
their inputs in a fixed number of queries whatever the length of the journal."""

from __future__ import annotations

import datetime as dt
import heapq
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import CharField, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from archive.models import JournalEntry
from core.errors import AccessDenied, NotFound
from experts import rules as expert_rules
from experts.models import EvaluationRoom, Score
from monitoring.models import Alert
from supervision.models import Challenge, Complaint, Instruction, Invitation, Membership, TenderSupervision
from supervision.selectors import departments_of, supervised_tenders
from trading import rules
from trading.access import tender_access_supervise
from trading.models import AnnouncementKind, MarketEntity, Role, Tender, TenderState, User
from trading.rules.timeline import SRC_GP_AMENDMENT, SRC_TB_AMENDMENT

BEFORE, DURING, AFTER = "before", "during", "after"
PHASES = (
    (BEFORE, gettext_lazy("Before the opening (标前)")),
    (DURING, gettext_lazy("Bids, opening and evaluation (标中)")),
    (AFTER, gettext_lazy("Publicity, award, contract and archive (标后)")),
)
PHASE_LABELS = dict(PHASES)

FAILURE_WINDOW_DAYS = 365
FAILURE_THRESHOLD = 2  # failed tenders of the same tenderee within the window, this one included
TEXT_SHOWN = 160  # characters of a free text shown in the timeline

# --- what each action is ---------------------------------------------------------------------------------
# action → (phase, label). A phase of None is read from the context: the entry follows the object it is
# about (a complaint's acceptance follows its filing), else the stage the tender had reached.

ACTIONS: dict[str, tuple[str | None, object]] = {
    # trading: drafting, publication, documents, amendments
    "tender.created": (BEFORE, gettext_lazy("Tender drafted")),
    "tender.updated": (BEFORE, gettext_lazy("Draft changed")),
    "tender.documents_obtained": (BEFORE, gettext_lazy("Tender documents obtained")),
    "tender.deadline_changed": (BEFORE, gettext_lazy("Bid deadline changed")),
    "tender.holders_notified": (BEFORE, gettext_lazy("Document holders notified of the amendment")),
    "announcement.drafted": (None, gettext_lazy("Announcement drafted")),
    "announcement.published": (None, gettext_lazy("Announcement published")),
    "announcement.withdrawn": (None, gettext_lazy("Announcement withdrawn")),
    "tender.state_changed": (None, gettext_lazy("Tender state changed")),
    "supervision.assigned": (BEFORE, gettext_lazy("Supervising department assigned")),
    "custodian.key_create": (BEFORE, gettext_lazy("Custodian key created")),
    # bidding
    "upload.start": (DURING, gettext_lazy("Bid upload started")),
    "upload.abandon": (DURING, gettext_lazy("Bid upload abandoned")),
    "bid.submit": (DURING, gettext_lazy("Bid submitted")),
    "bid.withdraw": (DURING, gettext_lazy("Bid withdrawn")),
    "bid_security.record": (DURING, gettext_lazy("Bid security recorded")),
    "bid_security.declare": (DURING, gettext_lazy("Bid security declared")),
    "custodian.share_reveal": (DURING, gettext_lazy("Custodian share revealed")),
    "custodian.key_reconstruct": (DURING, gettext_lazy("Custodian key reconstructed")),
    "custodian.unwrap": (DURING, gettext_lazy("Bid key unwrapped with the custodian key")),
    # the opening hall
    "opening.session_opened": (DURING, gettext_lazy("Opening hall opened")),
    "opening.deadline_passed": (DURING, gettext_lazy("Bid deadline passed")),
    "opening.signed_in": (DURING, gettext_lazy("Bidder signed in at the opening")),
    "opening.bidders_published": (DURING, gettext_lazy("Bidders announced")),
    "opening.shortfall_decided": (DURING, gettext_lazy("Too few bidders: decision taken")),
    "opening.decryption_started": (DURING, gettext_lazy("Decryption started")),
    "opening.decrypted": (DURING, gettext_lazy("Bid decrypted")),
    "opening.decrypt_refused": (DURING, gettext_lazy("Decryption refused")),
    "opening.decryption_fault": (DURING, gettext_lazy("Decryption fault")),
    "opening.decryption_settled": (DURING, gettext_lazy("Decryption settled")),
    "opening.readout": (DURING, gettext_lazy("Bids read out")),
    "opening.objection_raised": (DURING, gettext_lazy("Objection raised at the opening")),
    "opening.objection_withdrawn": (DURING, gettext_lazy("Objection at the opening withdrawn")),
    "opening.objection_answered": (DURING, gettext_lazy("Objection at the opening answered")),
    "opening.confirmation_started": (DURING, gettext_lazy("Opening record put to the bidders")),
    "opening.confirmed": (DURING, gettext_lazy("Opening record confirmed")),
    "opening.closed": (DURING, gettext_lazy("Opening closed")),
    "opening.failed": (DURING, gettext_lazy("Opening failed")),
    # the draw of experts
    "experts.draw_committed": (DURING, gettext_lazy("Expert draw requested")),
    "experts.draw_performed": (DURING, gettext_lazy("Expert draw performed")),
    "experts.draw_revealed": (DURING, gettext_lazy("Draw seed revealed")),
    "experts.draw_extended": (DURING, gettext_lazy("Supplementary draw")),
    "experts.draw_cancelled": (DURING, gettext_lazy("Draw cancelled")),
    "experts.reserve_called": (DURING, gettext_lazy("Reserve expert called")),
    "experts.reserves_exhausted": (DURING, gettext_lazy("Reserves exhausted")),
    "experts.assignment_confirmed": (DURING, gettext_lazy("Expert confirmed attendance")),
    "experts.assignment_declined": (DURING, gettext_lazy("Expert declined")),
    "experts.assignment_recused": (DURING, gettext_lazy("Expert withdrew (conflict of interest)")),
    "experts.assignment_no_reply": (DURING, gettext_lazy("Expert did not reply")),
    # the evaluation room
    "experts.room_opened": (DURING, gettext_lazy("Evaluation room opened")),
    "experts.seat_added": (DURING, gettext_lazy("Committee seat added")),
    "experts.member_declared": (DURING, gettext_lazy("Member signed the declaration")),
    "experts.member_recused": (DURING, gettext_lazy("Member recused")),
    "experts.chair_vote": (DURING, gettext_lazy("Vote for the chair")),
    "experts.chair_elected": (DURING, gettext_lazy("Chair elected")),
    "experts.phase_changed": (DURING, gettext_lazy("Evaluation phase changed")),
    "experts.bid_document_read": (DURING, gettext_lazy("Bid document read")),
    "experts.review": (DURING, gettext_lazy("Review verdict")),
    "experts.score": (DURING, gettext_lazy("Score given")),
    "experts.score_corrected": (DURING, gettext_lazy("Score corrected")),
    "experts.outliers": (DURING, gettext_lazy("Scoring outliers noticed in the room")),
    "experts.stage_completed": (DURING, gettext_lazy("Evaluation stage completed")),
    "experts.clarification_asked": (DURING, gettext_lazy("Clarification asked")),
    "experts.clarification_answered": (DURING, gettext_lazy("Clarification answered")),
    "experts.low_price_requested": (DURING, gettext_lazy("Justification of a low price asked")),
    "experts.justification_submitted": (DURING, gettext_lazy("Low-price justification submitted")),
    "experts.justification_decided": (DURING, gettext_lazy("Low-price justification decided")),
    "experts.time_insufficient": (DURING, gettext_lazy("Member finds the time insufficient")),
    "experts.room_extended": (DURING, gettext_lazy("Evaluation time extended")),
    "experts.room_reevaluation": (DURING, gettext_lazy("Re-evaluation")),
    "experts.report_built": (DURING, gettext_lazy("Evaluation report built")),
    "experts.report_signed": (DURING, gettext_lazy("Evaluation report signed")),
    "experts.report_deemed_signed": (DURING, gettext_lazy("Report deemed signed")),
    "experts.report_finalized": (DURING, gettext_lazy("Evaluation report finalised")),
    "experts.report_discarded": (DURING, gettext_lazy("Evaluation report discarded")),
    # publicity, award, contract
    "experts.publicity_started": (AFTER, gettext_lazy("Candidate publicity started")),
    "experts.objection_raised": (AFTER, gettext_lazy("Objection to the candidates")),
    "experts.objection_answered": (AFTER, gettext_lazy("Objection to the candidates answered")),
    "experts.publicity_resumed": (AFTER, gettext_lazy("Publicity resumed")),
    "experts.publicity_voided": (AFTER, gettext_lazy("Publicity voided")),
    "experts.award_decided": (AFTER, gettext_lazy("Award decided")),
    "experts.result_notices_sent": (AFTER, gettext_lazy("Result notices sent")),
    "experts.result_announced": (AFTER, gettext_lazy("Result announced")),
    "experts.contract_recorded": (AFTER, gettext_lazy("Contract recorded")),
    "experts.supervisor_report_filed": (AFTER, gettext_lazy("Award report filed with the department")),
    "experts.sanction_imposed": (AFTER, gettext_lazy("Expert sanctioned")),
    "experts.rating_recorded": (AFTER, gettext_lazy("Expert's conduct rated")),
    # monitoring
    "monitoring.alert_raised": (None, gettext_lazy("Collusion alert raised")),
    "monitoring.alert_updated": (None, gettext_lazy("Collusion alert updated")),
    "monitoring.alert_assigned": (None, gettext_lazy("Alert assigned")),
    "monitoring.alert_confirmed": (None, gettext_lazy("Alert confirmed")),
    "monitoring.alert_dismissed": (None, gettext_lazy("Alert dismissed")),
    "monitoring.report_produced": (None, gettext_lazy("Monitoring report produced")),
    # supervision
    "supervision.challenge_filed": (None, gettext_lazy("Objection / challenge filed")),
    "supervision.challenge_answered": (None, gettext_lazy("Objection / challenge answered")),
    "supervision.complaint_filed": (None, gettext_lazy("Complaint filed")),
    "supervision.complaint_accepted": (None, gettext_lazy("Complaint accepted")),
    "supervision.complaint_refused": (None, gettext_lazy("Complaint not accepted")),
    "supervision.complaint_suspension": (None, gettext_lazy("Tender suspended for a complaint")),
    "supervision.complaint_decided": (None, gettext_lazy("Complaint decided")),
    "supervision.tipoff_received": (None, gettext_lazy("Tip-off received")),
    "supervision.tipoff_triaged": (None, gettext_lazy("Tip-off triaged")),
    "supervision.instruction_issued": (None, gettext_lazy("Instruction issued")),
    "supervision.instruction_acknowledged": (None, gettext_lazy("Instruction acknowledged")),
    "supervision.instruction_done": (None, gettext_lazy("Instruction carried out")),
    "supervision.instruction_withdrawn": (None, gettext_lazy("Instruction withdrawn")),
    "supervision.sanction_decided": (AFTER, gettext_lazy("Sanction decided")),
    "supervision.supervisor_invited": (None, gettext_lazy("Social supervisor invited to watch")),
    "supervision.invitation_revoked": (None, gettext_lazy("Invitation to watch withdrawn")),
    # archive
    "archive.sealed": (AFTER, gettext_lazy("Archive package sealed")),
    "archive.override": (AFTER, gettext_lazy("Archive package sealed with an override")),
    "archive.exported": (AFTER, gettext_lazy("Archive package exported")),
    "archive.disposal_requested": (AFTER, gettext_lazy("Archive disposal requested")),
    "archive.disposal_decided": (AFTER, gettext_lazy("Archive disposal decided")),
}

STATE_PHASE = {
    TenderState.DRAFT: BEFORE,
    TenderState.PUBLISHED: BEFORE,
    TenderState.OPENING: DURING,
    TenderState.EVALUATION: DURING,
    TenderState.PUBLICITY: AFTER,
    TenderState.AWARDED: AFTER,
    TenderState.ARCHIVED: AFTER,
    TenderState.FAILED: AFTER,
    TenderState.TERMINATED: AFTER,
}
STATE_LABELS = {
    TenderState.PUBLISHED: gettext_lazy("Tender published"),
    TenderState.OPENING: gettext_lazy("Opening began"),
    TenderState.EVALUATION: gettext_lazy("Evaluation began"),
    TenderState.PUBLICITY: gettext_lazy("Candidate publicity began"),
    TenderState.AWARDED: gettext_lazy("Tender awarded"),
    TenderState.ARCHIVED: gettext_lazy("Tender archived"),
    TenderState.FAILED: gettext_lazy("Tender failed (流标)"),
    TenderState.TERMINATED: gettext_lazy("Tender terminated"),
    TenderState.SUSPENDED: gettext_lazy("Tender suspended"),
}
ANNOUNCEMENT_PHASE = {
    AnnouncementKind.TENDER: BEFORE,
    AnnouncementKind.AMENDMENT: BEFORE,
    AnnouncementKind.QUALIFICATION: BEFORE,
    AnnouncementKind.CANDIDATES: AFTER,
    AnnouncementKind.RESULT: AFTER,
    AnnouncementKind.CONTRACT: AFTER,
    AnnouncementKind.TERMINATION: AFTER,
}
PUBLISHED_LABELS = {
    AnnouncementKind.TENDER: gettext_lazy("Tender announcement published"),
    AnnouncementKind.AMENDMENT: gettext_lazy("Amendment / clarification published"),
    AnnouncementKind.QUALIFICATION: gettext_lazy("Qualification result published"),
    AnnouncementKind.CANDIDATES: gettext_lazy("Candidate publicity published"),
    AnnouncementKind.RESULT: gettext_lazy("Result announcement published"),
    AnnouncementKind.CONTRACT: gettext_lazy("Contract announcement published"),
    AnnouncementKind.TERMINATION: gettext_lazy("Failure / termination notice published"),
}
MATTER_PHASE = {
    Complaint.Matter.DOCUMENTS: BEFORE,
    Complaint.Matter.OPENING: DURING,
    Complaint.Matter.CANDIDATES: AFTER,
}
NODE_PHASE = {Alert.Node.OPENING: DURING, Alert.Node.EVALUATION: DURING, Alert.Node.AWARD: AFTER}

# Who submitted, withdrew or obtained the documents stays secret until the opening (招标投标法22): these
# entries show neither the actor nor the bidder while the deadline is ahead.
SEALED_UNTIL_OPENING = {
    "tender.documents_obtained",
    "tender.holders_notified",
    "upload.start",
    "upload.abandon",
    "bid.submit",
    "bid.withdraw",
    "bid_security.record",
    "bid_security.declare",
}
# Entries about these objects stay in the phase of the object's first entry (a complaint's acceptance
# and decision beside its filing, an alert's review beside the alert, an instruction's replies beside it).
FOLLOWED_TYPES = {
    "supervision.complaint",
    "supervision.challenge",
    "supervision.tipoff",
    "supervision.instruction",
    "monitoring.alert",
    "trading.announcement",
}
# The entries that tender-wide findings about their object attach to (the latest one).
ANCHORS = {"monitoring.alert_raised", "monitoring.alert_updated", "supervision.instruction_issued"}
# A reporter's identity is never shown on the timeline (the tip-off pages decide who sees it).
REPORTER_HIDDEN = {"supervision.tipoff_received"}

# The payload keys a summary may show, in this order; anything else (keys, digests, certificates,
# seeds, ciphertexts, documents) is never shown.
FACT_LABELS: dict[str, object] = {
    "kind": gettext_lazy("Type"),
    "title": gettext_lazy("Title"),
    "from": pgettext_lazy("a change", "From"),
    "to": pgettext_lazy("a change", "To"),
    "deadline": gettext_lazy("Bid deadline"),
    "forced": gettext_lazy("Extended by law"),
    "lot": gettext_lazy("Lot"),
    "bidder": gettext_lazy("Bidder"),
    "entity": gettext_lazy("Entity"),
    "entities": gettext_lazy("Entities"),
    "stage": gettext_lazy("Stage"),
    "name": gettext_lazy("Name"),
    "phase": gettext_lazy("Phase"),
    "seat": gettext_lazy("Seat"),
    "criterion": gettext_lazy("Criterion"),
    "value": gettext_lazy("Score"),
    "level": gettext_lazy("Alert level"),
    "node": gettext_lazy("Supervision point"),
    "codes": gettext_lazy("Indicators"),
    "matter": gettext_lazy("Matter"),
    "outcome": gettext_lazy("Outcome"),
    "decision": gettext_lazy("Decision"),
    "legal_basis": pgettext_lazy("a decision", "Legal basis"),
    "accept_due_at": gettext_lazy("To be accepted by"),
    "decision_due_at": gettext_lazy("To be decided by"),
    "reply_due_at": gettext_lazy("To be answered by"),
    "addressee": gettext_lazy("Addressee"),
    "department_name": gettext_lazy("Department"),
    "due_at": gettext_lazy("To be carried out by"),
    "text": gettext_lazy("Text"),
    "answer": gettext_lazy("Answer"),
    "response": gettext_lazy("What was done"),
    "reason": gettext_lazy("Reason"),
    "action": gettext_lazy("Step"),
    "late": gettext_lazy("Late"),
    "ends_at": gettext_lazy("Ends at"),
    "revision": gettext_lazy("Revision"),
}
CHOICES: dict[str, dict] = {
    "from": dict(TenderState.choices),
    "to": dict(TenderState.choices),
    "matter": dict(Complaint.Matter.choices),
    "outcome": dict(Complaint.Outcome.choices),
    "node": dict(Alert.Node.choices),
    "level": dict(Alert.Level.choices),
    "addressee": dict(Instruction.Addressee.choices),
    "phase": dict(EvaluationRoom.Phase.choices),
    "stage": {**dict(EvaluationRoom.Phase.choices), **dict(Invitation.Stage.choices)},
    "kind": {**dict(AnnouncementKind.choices), **dict(Challenge.Kind.choices)},
}
LOT_NUMBER_ACTIONS = ("bid.", "bid_security.", "upload.")  # their payload's "lot" is the number, not the id
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


# --- the shapes the page reads -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Anomaly:
    """Something a supervisor should look at, with the reason in words (and the law, where there is one)."""

    code: str
    reason: str
    source: str = ""
    ref: str = ""  # the timeline entry it belongs to ("" for the tender as a whole)

    @property
    def label(self) -> str:
        return str(ANOMALY_LABELS.get(self.code, self.code))


ANOMALY_LABELS = {
    "late_amendment": gettext_lazy("Late amendment"),
    "deadline_extended": gettext_lazy("Deadline extended"),
    "repeated_failures": gettext_lazy("Repeated failures"),
    "score_outlier": gettext_lazy("Outlying score"),
    "alert": gettext_lazy("Collusion alert"),
    "late_reply": gettext_lazy("Late reply"),
    "complaint": gettext_lazy("Complaint"),
    "suspended": gettext_lazy("Suspension"),
    "tipoff": gettext_lazy("Tip-off"),
    "instruction_overdue": gettext_lazy("Instruction overdue"),
}


@dataclass
class Entry:
    ref: str  # "<seq>" in the tender's stream; "x<row id>" for an entry of another stream
    at: dt.datetime
    action: str
    label: str
    phase: str
    actor: str
    facts: list[tuple[str, str]]
    known: bool = True
    anomalies: list[Anomaly] = field(default_factory=list)

    @property
    def anomalous(self) -> bool:
        return bool(self.anomalies)


@dataclass
class Oversight:
    tender: Tender
    entries: list[Entry]
    findings: list[Anomaly]  # every anomaly, those of an entry and those of the tender as a whole
    instructions: list[Instruction]
    now: dt.datetime

    def phases(self, *, phase: str | None = None, anomalies_only: bool = False) -> list[dict]:
        """The entries grouped by phase, in time order within each; filtered as asked."""
        out = []
        for key, label in PHASES:
            if phase and key != phase:
                continue
            rows = [e for e in self.entries if e.phase == key and (e.anomalous or not anomalies_only)]
            out.append({"key": key, "label": label, "entries": rows})
        return out


# --- the rules (pure) -------------------------------------------------------------------------------------


def _when(value) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _ISO.match(value):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def _local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def late_amendment(
    *, regime: str, issued_at: dt.datetime, deadline: dt.datetime, prequalification: bool = False
) -> Anomaly | None:
    """An amendment issued when less than the statutory time (15 days, 3 for prequalification documents;
    条例21, 87号令27) remained before the deadline then in force: trading.rules.amendment_deadline would
    have to move that deadline had the amendment affected the preparation of bids."""
    earliest = rules.amendment_deadline(
        regime=regime,
        issued_at=issued_at,
        deadline=deadline,
        affects_preparation=True,
        prequalification=prequalification,
    )
    if earliest <= deadline:
        return None
    days = (deadline - issued_at).total_seconds() / 86400
    return Anomaly(
        code="late_amendment",
        reason=_(
            "Amendment issued %(days).1f days before the deadline of %(deadline)s, within the statutory "
            "%(limit)s days: the deadline had to move to %(earliest)s if it affected the preparation of bids."
        )
        % {
            "days": max(days, 0),
            "deadline": _local(deadline),
            "limit": 3 if prequalification else 15,
            "earliest": _local(earliest),
        },
        source=SRC_GP_AMENDMENT if regime == rules.GP else SRC_TB_AMENDMENT,
    )


def deadline_extension(payload: dict) -> Anomaly | None:
    """A bid deadline moved (later, by an amendment; forced by the law when the amendment came late)."""
    before, after = _when(payload.get("from")), _when(payload.get("to"))
    if before is None or after is None or before == after:
        return None
    if payload.get("forced"):
        reason = _("Deadline moved from %(a)s to %(b)s, forced by the law after a late amendment.")
    else:
        reason = _("Deadline moved from %(a)s to %(b)s.")
    return Anomaly(code="deadline_extended", reason=reason % {"a": _local(before), "b": _local(after)})


def repeated_failures(
    *, failed: int, window_days: int = FAILURE_WINDOW_DAYS, threshold: int = FAILURE_THRESHOLD
) -> Anomaly | None:
    """The same tenderee's tenders failing again and again (流标) within a year: worth a look at its
    conditions, budgets and documents."""
    if failed < threshold:
        return None
    return Anomaly(
        code="repeated_failures",
        reason=_("The tenderee has had %(n)s failed tenders in the last %(days)s days.")
        % {"n": failed, "days": window_days},
    )


def score_outliers(
    scores: Iterable[tuple], *, max_points: dict[tuple, Decimal], threshold: Decimal | None = None
) -> list[dict]:
    """Scores far from the rest of the committee. `scores` are (lot, seat, bid, criterion, value) of the
    active members; `max_points` maps (lot, criterion) → the criterion's maximum. Reuses experts.rules:
    |score − median of the other members| / max > threshold (the room's setting, 30 % by default).
    Returns one dict per outlier: lot, seat, bid, criterion, value, median, deviation."""
    groups: dict[tuple, dict[str, Decimal]] = defaultdict(dict)
    for lot, seat, bid, criterion, value in scores:
        groups[(lot, str(bid), criterion)][str(seat)] = Decimal(str(value))
    out = []
    for (lot, bid, criterion), values in sorted(groups.items()):
        top = max_points.get((lot, criterion))
        if top is None or Decimal(str(top)) <= 0:
            continue
        found = expert_rules.outliers(values, max_points=Decimal(str(top)), threshold=threshold)
        for seat, f in sorted(found.items(), key=lambda kv: int(kv[0])):
            out.append(
                {
                    "lot": lot,
                    "seat": int(seat),
                    "bid": bid,
                    "criterion": criterion,
                    "value": f["value"],
                    "median": f["median"],
                    "deviation": f["deviation"],
                    "max": Decimal(str(top)),
                }
            )
    return out


def outlier_anomaly(found: dict, *, lot_number=None) -> Anomaly:
    return Anomaly(
        code="score_outlier",
        reason=_(
            "Seat %(seat)s scored %(value)s on “%(criterion)s” (lot %(lot)s) where the other members' median "
            "is %(median)s: %(pct)s %% of the maximum %(max)s away."
        )
        % {
            "seat": found["seat"],
            "value": found["value"],
            "criterion": found["criterion"],
            "lot": lot_number if lot_number is not None else found["lot"],
            "median": found["median"],
            "pct": (found["deviation"] * 100).quantize(Decimal("0.1")),
            "max": found["max"],
        },
    )


def alert_anomaly(*, level: int, node: str, alert_id: int, status: str = "") -> Anomaly | None:
    """A collusion alert of level 2 (orange) or more serious (level 1, red), not dismissed."""
    if level > Alert.Level.MEDIUM or status == Alert.Status.DISMISSED:
        return None
    return Anomaly(
        code="alert",
        reason=_("Collusion alert %(id)s: %(level)s at %(node)s.")
        % {
            "id": alert_id,
            "level": dict(Alert.Level.choices).get(level, level),
            "node": dict(Alert.Node.choices).get(node, node),
        },
    )


def late_reply(action: str, payload: dict) -> Anomaly | None:
    """A step that the service journalled as late (a challenge answered, a complaint accepted or decided,
    an instruction carried out after its time)."""
    if payload.get("late") is not True:
        return None
    return Anomaly(code="late_reply", reason=_("Done after its time limit."))


def complaint_or_suspension(action: str, payload: dict) -> Anomaly | None:
    """A complaint, a tip-off, or the tender suspended."""
    if action == "supervision.complaint_filed":
        return Anomaly(code="complaint", reason=_("A complaint was filed."))
    if action == "supervision.tipoff_received":
        return Anomaly(code="tipoff", reason=_("A tip-off was received."))
    if action == "tender.state_changed" and payload.get("to") == TenderState.SUSPENDED:
        return Anomaly(code="suspended", reason=_("The tender was suspended."))
    return None


def instruction_overdue(*, due_at: dt.datetime | None, status: str, now: dt.datetime) -> bool:
    """Past its time and neither carried out nor withdrawn."""
    return (
        due_at is not None
        and now > due_at
        and status not in {Instruction.Status.DONE, Instruction.Status.WITHDRAWN}
    )


# --- labels and facts (pure) --------------------------------------------------------------------------------


def classify(action: str, payload: dict) -> tuple[str | None, str, bool]:
    """(phase or None for the context's, label, known) of one journal entry."""
    phase, label = ACTIONS.get(action, (None, action))
    known = action in ACTIONS
    if action == "tender.state_changed":
        target, source = payload.get("to"), payload.get("from")
        if source == TenderState.SUSPENDED and target != TenderState.SUSPENDED:
            label = gettext_lazy("Tender resumed")
        else:
            label = STATE_LABELS.get(target, label)
        phase = STATE_PHASE.get(target)  # suspension: the phase the tender was in
    elif action in {"announcement.published", "announcement.drafted", "announcement.withdrawn"}:
        phase = ANNOUNCEMENT_PHASE.get(payload.get("kind"))
        if action == "announcement.published":
            label = PUBLISHED_LABELS.get(payload.get("kind"), label)
    elif action == "supervision.challenge_filed" and payload.get("kind") == Challenge.Kind.TB_OBJECTION:
        phase = BEFORE  # an objection to the documents (条例22)
    elif action == "supervision.complaint_filed":
        phase = MATTER_PHASE.get(payload.get("matter"))
    elif action in {"monitoring.alert_raised", "monitoring.alert_updated"}:
        phase = NODE_PHASE.get(payload.get("node"))
    return phase, str(label), known


def _text(value) -> str:
    text = str(value)
    return text if len(text) <= TEXT_SHOWN else text[: TEXT_SHOWN - 1] + "…"


def _fmt(key: str, value, names: dict) -> str | None:
    if value is None or value == "" or value == [] or isinstance(value, dict):
        return None
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if key in CHOICES and isinstance(value, str | int) and value in CHOICES[key]:
        return str(CHOICES[key][value])
    when = _when(value)
    if when is not None:
        return _local(when)
    if isinstance(value, list):
        shown = [str(names.get(v, v)) for v in value[:6] if not isinstance(v, dict | list)]
        more = len(value) - len(shown)
        return "、".join(shown) + (f" (+{more})" if more > 0 else "") if shown else None
    return _text(names.get(value, value))


def summarise(
    action: str, payload: dict, *, entities: dict, lots: dict, sealed: bool
) -> list[tuple[str, str]]:
    """The payload's facts a supervisor may read, labelled; never keys, digests or document content.
    `entities` maps entity ids and USCCs to names, `lots` lot ids to numbers; `sealed` hides bidders."""
    facts = []
    for key, label in FACT_LABELS.items():
        if key not in payload:
            continue
        value = payload[key]
        if key in {"bidder", "entity", "entities"} and sealed:
            facts.append((str(label), str(_("sealed until the opening"))))
            continue
        if key == "lot" and not action.startswith(LOT_NUMBER_ACTIONS):
            value = lots.get(value, value)
        shown = _fmt(key, value, entities if key in {"bidder", "entity", "entities"} else {})
        if shown is not None:
            facts.append((str(label), shown))
    return facts


def actor_label(entry: JournalEntry, users: dict, *, sealed: bool) -> str:
    if entry.action in REPORTER_HIDDEN:
        return str(_("Reporter"))
    if sealed:
        return str(_("A bidder (sealed until the opening)"))
    if not entry.actor_id:
        return str(_("System")) if entry.actor_label in {"", "system"} else entry.actor_label
    user = users.get(entry.actor_id)
    if user is None:
        return entry.actor_label
    role = user.get_role_display()
    if user.role == Role.EXPERT:
        return str(role)  # the committee's names are not the timeline's business
    return f"{role} · {user.display_name}"


# --- gathering ---------------------------------------------------------------------------------------------


def _failed_tenders(tender: Tender, now: dt.datetime) -> int:
    """The tenderee's tenders failed (流标) within the window: failed now, or journalled as failed (an
    archived failure no longer has the state). Two queries."""
    since = now - dt.timedelta(days=FAILURE_WINDOW_DAYS)
    failed = {
        f"tender:{pk}"
        for pk in Tender.objects.filter(
            tenderee_id=tender.tenderee_id, state=TenderState.FAILED, state_changed_at__gte=since
        ).values_list("pk", flat=True)
    }
    streams = (
        Tender.objects.filter(tenderee_id=tender.tenderee_id)
        .annotate(stream_name=Concat(Value("tender:"), Cast("pk", CharField())))
        .values("stream_name")
    )
    failed |= set(
        JournalEntry.objects.filter(
            action="tender.state_changed",
            payload__to=TenderState.FAILED,
            at__gte=since,
            stream__in=Subquery(streams),
        ).values_list("stream", flat=True)
    )
    return len(failed)


def tender_oversight(tender: Tender, *, now: dt.datetime | None = None) -> Oversight:
    """The whole process of the tender for its supervisors. A fixed number of queries: the journal, the
    lots, the experts' sanctions and ratings of its lots, the scores, the alerts, the failures of the
    tenderee, the instructions, the actors and the entities named."""
    now = now or timezone.now()
    journal = list(JournalEntry.objects.filter(stream=tender.stream).order_by("seq"))
    lots = {lot.pk: lot for lot in tender.lots.all()}
    if lots:  # what the expert pool's streams say about this tender's lots
        foreign = JournalEntry.objects.filter(
            stream__startswith="expert:",
            action__in=("experts.sanction_imposed", "experts.rating_recorded"),
            payload__lot__in=list(lots),
        ).order_by("at", "pk")
        # Interleave by time; the tender's own entries keep their chain order whatever their clocks say.
        journal = list(heapq.merge(journal, list(foreign), key=lambda e: e.at))
    lot_numbers = {pk: lot.number for pk, lot in lots.items()}
    instructions = list(
        Instruction.objects.filter(tender=tender)
        .select_related("department", "issued_by", "acknowledged_by")
        .order_by("issued_at", "pk")
    )
    users = {
        str(u.pk): u
        for u in User.objects.filter(pk__in={int(e.actor_id) for e in journal if e.actor_id.isdigit()}).only(
            "pk", "username", "first_name", "last_name", "role"
        )
    }
    entity_ids, usccs = set(), set()
    for e in journal:
        p = e.payload
        if isinstance(p.get("entity"), int):
            entity_ids.add(p["entity"])
        entity_ids.update(x for x in p.get("entities") or [] if isinstance(x, int))
        if isinstance(p.get("bidder"), str):
            usccs.add(p["bidder"])
    entities: dict = {}
    if entity_ids or usccs:
        for pk, uscc, name in MarketEntity.objects.filter(
            Q(pk__in=entity_ids) | Q(uscc__in=usccs)
        ).values_list("pk", "uscc", "name"):
            entities[pk] = entities[uscc] = name
    sealed_now = now < tender.deadline

    entries: list[Entry] = []
    findings: list[Anomaly] = []
    context = BEFORE
    followed: dict[tuple[str, str], str] = {}
    deadline_in_force = tender.original_deadline or tender.deadline
    deadline_before: dict[str, dt.datetime] = {}  # announcement id → the deadline it found
    last_entry_of: dict[tuple, int] = {}  # (object_type, object_id) or score key → seq of its last entry
    for j in journal:
        p = j.payload if isinstance(j.payload, dict) else {}
        phase, label, known = classify(j.action, p)
        key = (j.object_type, j.object_id)
        if phase is None:
            phase = followed.get(key, context)
        if j.object_type in FOLLOWED_TYPES:
            followed.setdefault(key, phase)
        if j.action == "tender.state_changed" and p.get("to") in STATE_PHASE:
            context = STATE_PHASE[p["to"]]
            if p.get("to") == TenderState.PUBLISHED and _when(p.get("deadline")):
                deadline_in_force = _when(p["deadline"])
        sealed = sealed_now and j.action in SEALED_UNTIL_OPENING
        entry = Entry(
            ref=str(j.seq) if j.stream == tender.stream else f"x{j.pk}",
            at=j.at,
            action=j.action,
            label=label,
            phase=phase,
            actor=actor_label(j, users, sealed=sealed),
            facts=summarise(j.action, p, entities=entities, lots=lot_numbers, sealed=sealed),
            known=known,
        )
        found = [late_reply(j.action, p), complaint_or_suspension(j.action, p)]
        if j.action == "tender.deadline_changed":
            found.append(deadline_extension(p))
            if p.get("announcement") is not None and _when(p.get("from")):
                deadline_before[str(p["announcement"])] = _when(p["from"])
            if _when(p.get("to")):
                deadline_in_force = _when(p["to"])
        elif j.action == "announcement.published" and p.get("kind") == AnnouncementKind.AMENDMENT:
            found.append(
                late_amendment(
                    regime=tender.regime,
                    issued_at=j.at,
                    deadline=deadline_before.get(j.object_id, deadline_in_force),
                    prequalification=tender.prequalification,
                )
            )
        for anomaly in filter(None, found):
            entry.anomalies.append(Anomaly(anomaly.code, anomaly.reason, anomaly.source, entry.ref))
        entries.append(entry)
        if j.action in ANCHORS:
            last_entry_of[key] = len(entries) - 1
        elif j.action == "experts.score":
            last_entry_of[("score", p.get("lot"), p.get("seat"), str(p.get("bid")), p.get("criterion"))] = (
                len(entries) - 1
            )
        elif j.action == "tender.state_changed" and p.get("to") == TenderState.FAILED:
            last_entry_of[("failed",)] = len(entries) - 1

    def attach(anomaly: Anomaly | None, where: tuple) -> None:
        if anomaly is None:
            return
        index = last_entry_of.get(where)
        if index is None:
            findings.append(anomaly)
            return
        entry = entries[index]
        entry.anomalies.append(Anomaly(anomaly.code, anomaly.reason, anomaly.source, entry.ref))

    # Tender-wide rules, attached to the entry they concern when there is one.
    attach(repeated_failures(failed=_failed_tenders(tender, now)), ("failed",))
    for alert in Alert.objects.filter(tender=tender, level__lte=Alert.Level.MEDIUM).order_by("pk"):
        attach(
            alert_anomaly(level=alert.level, node=alert.node, alert_id=alert.pk, status=alert.status),
            ("monitoring.alert", str(alert.pk)),
        )
    scores = Score.objects.filter(
        member__room__lot__tender=tender, member__recused_at__isnull=True, member__voided=False
    ).values_list("member__room__lot_id", "member__seat", "bid_id", "criterion", "value")
    maxima = {
        (pk, c.get("code")): c.get("max")
        for pk, lot in lots.items()
        for c in (lot.evaluation or {}).get("criteria", [])
        if c.get("group") != "price" and c.get("max") not in (None, "")
    }
    for found in score_outliers(scores, max_points=maxima):
        where = ("score", found["lot"], found["seat"], str(found["bid"]), found["criterion"])
        attach(outlier_anomaly(found, lot_number=lot_numbers.get(found["lot"])), where)
    for ins in instructions:
        if instruction_overdue(due_at=ins.due_at, status=ins.status, now=now):
            attach(
                Anomaly(
                    code="instruction_overdue",
                    reason=_("Instruction %(id)s to be carried out by %(due)s is overdue.")
                    % {"id": ins.pk, "due": _local(ins.due_at)},
                ),
                ("supervision.instruction", str(ins.pk)),
            )
    everything = [a for e in entries for a in e.anomalies]
    return Oversight(
        tender=tender, entries=entries, findings=everything + findings, instructions=instructions, now=now
    )


# --- access and the instructions ---------------------------------------------------------------------------


def oversight_access_read(*, user, tender: Tender) -> Tender:
    """The oversight page: regulators supervising the tender and admins (trading.access), and centre
    staff, who operate every tender; everyone else is refused."""
    if getattr(user, "role", None) == Role.CENTRE:
        return tender
    return tender_access_supervise(user=user, tender=tender)


def issuing_departments(user, tender: Tender):
    """The departments in whose name the user may instruct on this tender: a regulator's own departments
    supervising it; for an admin, every department supervising it."""
    qs = TenderSupervision.objects.filter(tender=tender, department__active=True).select_related("department")
    role = getattr(user, "role", None)
    if role == Role.REGULATOR:
        qs = qs.filter(department__in=departments_of(user))
    elif role != Role.ADMIN:
        return []
    return [ts.department for ts in qs.order_by("department_id")]


def is_addressee(user, instruction: Instruction) -> bool:
    """Centre staff for an instruction to the centre; the tender's agency or tenderee staff for one to
    the agency."""
    role = getattr(user, "role", None)
    if instruction.addressee == Instruction.Addressee.CENTRE:
        return role == Role.CENTRE
    tender = instruction.tender
    return (
        role == Role.AGENCY
        and user.entity_id is not None
        and user.entity_id
        in {
            tender.agency_id,
            tender.tenderee_id,
        }
    )


def is_issuer(user, instruction: Instruction) -> bool:
    """A member of the issuing department, or an admin."""
    role = getattr(user, "role", None)
    if role == Role.ADMIN:
        return True
    return (
        role == Role.REGULATOR
        and Membership.objects.filter(user=user, department_id=instruction.department_id).exists()
    )


def instructions_for(user, *, status: str | None = None, overdue: bool = False) -> QuerySet[Instruction]:
    """The instructions a user works with: centre staff those to the centre, agency staff those to its
    tenders, regulators those their departments issued (an unattached regulator, those of the tenders it
    supervises), admins all."""
    role = getattr(user, "role", None)
    qs = Instruction.objects.select_related("tender", "department", "issued_by")
    if role == Role.ADMIN:
        pass
    elif role == Role.CENTRE:
        qs = qs.filter(addressee=Instruction.Addressee.CENTRE)
    elif role == Role.AGENCY and user.entity_id is not None:
        qs = qs.filter(addressee=Instruction.Addressee.AGENCY).filter(
            Q(tender__agency_id=user.entity_id) | Q(tender__tenderee_id=user.entity_id)
        )
    elif role == Role.REGULATOR:
        if Membership.objects.filter(user=user).exists():
            qs = qs.filter(department__in=departments_of(user))
        else:
            qs = qs.filter(tender__in=supervised_tenders(user))
    else:
        raise AccessDenied(_("Your role may not do this."), code="role_forbidden")
    if status:
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.filter(due_at__lt=timezone.now()).exclude(
            status__in=[Instruction.Status.DONE, Instruction.Status.WITHDRAWN]
        )
    return qs.order_by("-issued_at", "-pk")


def instruction_get_for(user, pk: int) -> Instruction:
    """One instruction if the user may read it: the addressee, the issuing department, a regulator
    supervising the tender, centre staff (who read every tender's oversight) and admins."""
    ins = (
        Instruction.objects.select_related("tender", "department", "issued_by", "acknowledged_by")
        .filter(pk=pk)
        .first()
    )
    if ins is None:
        raise NotFound(_("No such instruction."), code="instruction_not_found")
    role = getattr(user, "role", None)
    if role in {Role.ADMIN, Role.CENTRE} or is_addressee(user, ins):
        return ins
    if role == Role.REGULATOR:
        if is_issuer(user, ins):
            return ins
        tender_access_supervise(user=user, tender=ins.tender)  # outside_jurisdiction otherwise
        return ins
    raise AccessDenied(_("This instruction is not addressed to you."), code="instruction_forbidden")


def instruction_history(instruction: Instruction) -> list[Entry]:
    """The instruction's own journal entries (issued, acknowledged, done, withdrawn), labelled."""
    rows = list(
        JournalEntry.objects.filter(
            stream=instruction.tender.stream,
            object_type="supervision.instruction",
            object_id=str(instruction.pk),
        ).order_by("seq")
    )
    users = {
        str(u.pk): u
        for u in User.objects.filter(pk__in={int(e.actor_id) for e in rows if e.actor_id.isdigit()})
    }
    out = []
    for j in rows:
        _phase, label, known = classify(j.action, j.payload)
        entry = Entry(
            ref=str(j.seq),
            at=j.at,
            action=j.action,
            label=label,
            phase="",
            actor=actor_label(j, users, sealed=False),
            facts=[],
            known=known,
        )
        anomaly = late_reply(j.action, j.payload)
        if anomaly:
            entry.anomalies.append(anomaly)
        out.append(entry)
    return out
