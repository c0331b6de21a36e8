"""Challenges (异议/质疑) and complaints (投诉) with their statutory clocks (issue 7 item 2; DOMAIN A4–A5).

* A TB objection to the tender documents is raised with the tenderee up to 10 days before the bid
  deadline and answered within 3 days (条例22); a GP 质疑 within 7 working days of knowing, answered
  within 7 working days (质疑和投诉办法10/13).
* A TB complaint is filed within 10 days of knowing (条例60); for the documents, the opening and the
  candidates an objection must come first (条例22/44/54), and the days spent waiting for its answer are
  not counted. A GP complaint follows a 质疑 of the same supplier, within 15 working days after the
  reply period (办法17).
* The department accepts or refuses (TB 3, GP 5 working days) and decides (TB 30 working days from
  acceptance, GP 30 from receipt; review days excluded) — trading.rules computes every clock. It may
  suspend the tender meanwhile; the tender's state machine then stops every later step.

Every write is validated, transactional and journalled in the tender's stream; parties are notified.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from archive.blobs import blob_put
from archive.journal import journal_append
from archive.models import JournalEntry
from bidding.models import Objection
from core.errors import AccessDenied, Conflict, RuleViolation, ValidationFailed
from experts.models import PublicityObjection
from supervision.models import Challenge, Complaint, ComplaintEvidence
from supervision.selectors import may_supervise
from trading import rules
from trading.models import Lot, Notification, Role, Tender, TenderState
from trading.services.tenders import tender_resume, tender_suspend, tender_suspend_on_objection

TEXT_MAX = 20_000
EVIDENCE_MAX_FILES = 20
EVIDENCE_MAX_BYTES = 50 * 1024 * 1024
NEEDS_OBJECTION = {Complaint.Matter.DOCUMENTS, Complaint.Matter.OPENING, Complaint.Matter.CANDIDATES}


def _text(value: str, field: str) -> str:
    value = (value or "").strip()
    if not value or len(value) > TEXT_MAX:
        raise ValidationFailed(
            _("Write the text (at most 20,000 characters)."), code="text_invalid", fields={field: "invalid"}
        )
    return value


def _bidder(user):
    if getattr(user, "role", None) != Role.BIDDER or user.entity_id is None:
        raise AccessDenied(_("Only a bidder or supplier may file this."), code="forbidden")
    return user.entity


def _lot(tender: Tender, lot_id) -> Lot | None:
    if lot_id in (None, ""):
        return None
    if not str(lot_id).isdigit() or len(str(lot_id)) > 12:
        raise ValidationFailed(_("No such lot in this tender."), code="lot_not_found")
    lot = Lot.objects.filter(tender=tender, pk=int(lot_id)).first()
    if lot is None:
        raise ValidationFailed(_("No such lot in this tender."), code="lot_not_found")
    return lot


def _notify(users_or_entities, *, kind: str, subject: str, link: str = "") -> None:
    rows = []
    for target in users_or_entities:
        if target is None:
            continue
        field = "entity" if target.__class__.__name__ == "MarketEntity" else "user"
        rows.append(
            Notification(
                **{field: target}, kind=kind, subject=subject[:200], link=link, created_at=timezone.now()
            )
        )
    Notification.objects.bulk_create(rows)


# --- challenges ---------------------------------------------------------------------------------------------


def challenge_file(*, actor, tender: Tender, text: str, known_at: dt.datetime, lot_id=None) -> Challenge:
    entity = _bidder(actor)
    text = _text(text, "text")
    now = timezone.now()
    if known_at > now:
        raise ValidationFailed(_("The day of knowledge cannot be in the future."), code="known_at_invalid")
    lot = _lot(tender, lot_id)
    if tender.regime == rules.TB:
        kind = Challenge.Kind.TB_OBJECTION
        problems = rules.check_document_objection(raised_at=now, deadline=tender.deadline)
        if problems:
            raise RuleViolation(problems[0].message, code=problems[0].code, source=problems[0].source)
        reply_due = rules.objection_reply_deadline(received_at=now, regime=rules.TB)
    else:
        kind = Challenge.Kind.GP_CHALLENGE
        latest = rules.gp_challenge_deadline(start=known_at)
        if now > latest:
            raise RuleViolation(
                _("A challenge had to be raised within 7 working days of knowing."),
                code="challenge_too_late",
                source="政府采购质疑和投诉办法第十条",
                latest=latest,
            )
        reply_due = rules.gp_challenge_reply_deadline(received_at=now)
    with transaction.atomic():
        tender = Tender.objects.select_for_update().get(pk=tender.pk)
        challenge = Challenge.objects.create(
            kind=kind,
            tender=tender,
            lot=lot,
            entity=entity,
            filed_by=actor,
            text=text,
            known_at=known_at,
            filed_at=now,
            reply_due_at=reply_due,
        )
        # 条例22: until the objection to the documents is answered the tender is suspended.
        suspends = (
            kind == Challenge.Kind.TB_OBJECTION
            and rules.objection_suspends()
            and tender.state in rules.RESUMABLE_STATES
        )
        if suspends:
            tender_suspend_on_objection(
                tender=tender,
                actor=actor,
                reason=str(_("Objection to the tender documents")),
                payload={"challenge": challenge.pk},
            )
        journal_append(
            stream=tender.stream,
            action="supervision.challenge_filed",
            actor=actor,
            obj=challenge,
            payload={
                "kind": kind,
                "entity": entity.pk,
                "reply_due_at": reply_due,
                "tender_suspended": suspends,
            },
        )
        _notify(
            [tender.agency, tender.tenderee],
            kind="challenge",
            subject=_("A challenge was filed: %(t)s") % {"t": tender.title},
        )
    return challenge


def challenge_reply(*, actor, challenge: Challenge, reply: str) -> Challenge:
    tender = challenge.tender
    if getattr(actor, "entity_id", None) not in (tender.agency_id, tender.tenderee_id):
        raise AccessDenied(_("Only the tenderee or its agency answers a challenge."), code="forbidden")
    reply = _text(reply, "reply")
    with transaction.atomic():
        challenge = Challenge.objects.select_for_update().get(pk=challenge.pk)
        if challenge.replied_at is not None:
            raise Conflict(_("This challenge has been answered."), code="challenge_answered")
        challenge.reply, challenge.replied_by, challenge.replied_at = reply, actor, timezone.now()
        challenge.save(update_fields=["reply", "replied_by", "replied_at"])
        late = challenge.replied_at > challenge.reply_due_at
        journal_append(
            stream=tender.stream,
            action="supervision.challenge_answered",
            actor=actor,
            obj=challenge,
            payload={"late": late},
        )
        tender = Tender.objects.select_for_update().get(pk=tender.pk)
        if (
            tender.state == TenderState.SUSPENDED
            and not Challenge.objects.filter(
                tender=tender, kind=Challenge.Kind.TB_OBJECTION, replied_at__isnull=True
            ).exists()
            and _suspension_is_objections(tender)
        ):
            tender_resume(
                tender=tender, actor=actor, reason=str(_("Every objection to the documents is answered"))
            )
        _notify(
            [challenge.entity],
            kind="challenge",
            subject=_("Your challenge was answered: %(t)s") % {"t": tender.title},
        )
    return challenge


def _suspension_is_objections(tender: Tender) -> bool:
    """Whether the tender's current suspension was made by an objection to the documents (not by a
    complaint or a regulator's order, which only their own decision lifts)."""
    last = (
        JournalEntry.objects.filter(stream=tender.stream, action="tender.state_changed")
        .order_by("-seq")
        .first()
    )
    if last is None or last.payload.get("to") != TenderState.SUSPENDED:
        return False
    return JournalEntry.objects.filter(
        stream=tender.stream,
        action="supervision.challenge_filed",
        seq__gt=last.seq,
        payload__tender_suspended=True,
    ).exists()


# --- complaints ---------------------------------------------------------------------------------------------


def _prior(tender: Tender, lot: Lot | None, entity, matter: str) -> dict:
    """The objection or 质疑 that must come before the complaint, as {kind, id, filed_at, answered_at}."""
    if tender.regime == rules.GP:
        found = (
            Challenge.objects.filter(tender=tender, entity=entity, kind=Challenge.Kind.GP_CHALLENGE)
            .order_by("-filed_at")
            .first()
        )
        if found is None:
            raise RuleViolation(
                _("A complaint follows a challenge (质疑) to the purchaser or its agency."),
                code="challenge_required",
                source="政府采购质疑和投诉办法第十七条",
            )
        return _answered_or_lapsed(
            {
                "kind": "gp_challenge",
                "id": found.pk,
                "filed_at": found.filed_at,
                "answered_at": found.replied_at,
                "due": found.reply_due_at,
            }
        )
    if matter not in NEEDS_OBJECTION:
        return {}
    if matter == Complaint.Matter.DOCUMENTS:
        row = (
            Challenge.objects.filter(tender=tender, entity=entity, kind=Challenge.Kind.TB_OBJECTION)
            .order_by("-filed_at")
            .first()
        )
        record = (
            None if row is None else ("tb_objection", row.pk, row.filed_at, row.replied_at, row.reply_due_at)
        )
    elif matter == Complaint.Matter.OPENING:
        row = Objection.objects.filter(session__lot__tender=tender, entity=entity, withdrawn_at__isnull=True)
        row = (row.filter(session__lot=lot) if lot else row).order_by("-raised_at").first()
        record = (
            None
            if row is None
            else ("opening_objection", row.pk, row.raised_at, row.answered_at, row.raised_at)
        )
    else:
        row = PublicityObjection.objects.filter(publicity__lot__tender=tender, entity=entity)
        row = (row.filter(publicity__lot=lot) if lot else row).order_by("-raised_at").first()
        record = (
            None
            if row is None
            else ("publicity_objection", row.pk, row.raised_at, row.answered_at, row.reply_due_at)
        )
    if record is None:
        raise RuleViolation(
            _("For this matter an objection must first be raised with the tenderee."),
            code="objection_required",
            source="招标投标法实施条例第六十条",
        )
    kind, pk, filed_at, answered_at, due = record
    return _answered_or_lapsed(
        {"kind": kind, "id": pk, "filed_at": filed_at, "answered_at": answered_at, "due": due}
    )


def _answered_or_lapsed(prior: dict) -> dict:
    """A complaint follows the answer, or the end of the time to answer (条例60; 办法17): not before."""
    if prior["answered_at"] is None and timezone.now() <= prior["due"]:
        raise RuleViolation(
            _("The objection or challenge is still within its time to be answered."),
            code="prior_pending",
            source="招标投标法实施条例第六十条；政府采购质疑和投诉办法第十七条",
            due=prior["due"],
        )
    return prior


def _excluded_days(prior: dict) -> int:
    """TB: the days spent waiting for the objection's answer are not counted (条例60)."""
    if not prior or prior["kind"] == "gp_challenge":
        return 0
    answered = prior["answered_at"] or timezone.now()
    return max(0, (timezone.localdate(answered) - timezone.localdate(prior["filed_at"])).days)


def complaint_file(
    *,
    actor,
    tender: Tender,
    matter: str,
    text: str,
    known_at: dt.datetime,
    request: str = "",
    lot_id=None,
    evidence: list[tuple[str, bytes]] = (),
) -> Complaint:
    entity = _bidder(actor)
    if matter not in Complaint.Matter.values:
        raise ValidationFailed(_("Not a matter of complaint."), code="matter_invalid")
    text = _text(text, "text")
    request = (request or "").strip()[:TEXT_MAX]
    now = timezone.now()
    if known_at > now:
        raise ValidationFailed(_("The day of knowledge cannot be in the future."), code="known_at_invalid")
    if len(evidence) > EVIDENCE_MAX_FILES or any(len(data) > EVIDENCE_MAX_BYTES for _n, data in evidence):
        raise ValidationFailed(_("At most 20 evidence files of 50 MiB each."), code="evidence_too_large")
    if any(not (name or "").strip() or len(name) > 200 for name, _d in evidence):
        raise ValidationFailed(_("Every evidence file needs a name."), code="evidence_invalid")
    lot = _lot(tender, lot_id)
    prior = _prior(tender, lot, entity, matter)
    if tender.regime == rules.TB:
        deadline = rules.tb_complaint_deadline(
            known_at=known_at, objection_reply_days_excluded=_excluded_days(prior)
        )
        source = "招标投标法实施条例第六十条"
    else:
        deadline = rules.gp_complaint_deadline(reply_deadline=prior["due"])
        source = "政府采购质疑和投诉办法第十七条"
    if now > deadline:
        raise RuleViolation(
            _("The time to complain has passed."), code="complaint_too_late", source=source, latest=deadline
        )
    accept_due = rules.complaint_acceptance_deadline(regime=tender.regime, received_at=now)
    with transaction.atomic():
        complaint = Complaint.objects.create(
            tender=tender,
            lot=lot,
            entity=entity,
            filed_by=actor,
            matter=matter,
            text=text,
            request=request,
            known_at=known_at,
            filed_at=now,
            filing_deadline=deadline,
            prior={k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in prior.items()},
            accept_due_at=accept_due,
        )
        files = []
        for name, data in evidence:
            blob = blob_put(data=data)
            ComplaintEvidence.objects.create(complaint=complaint, blob=blob, name=name.strip(), added_at=now)
            files.append({"name": name.strip(), "sha256": blob.sha256, "size": blob.size})
        journal_append(
            stream=tender.stream,
            action="supervision.complaint_filed",
            actor=actor,
            obj=complaint,
            payload={"matter": matter, "entity": entity.pk, "evidence": files, "accept_due_at": accept_due},
        )
    return complaint


def _handler(actor, complaint: Complaint) -> None:
    if getattr(actor, "role", None) == Role.ADMIN:
        return
    if getattr(actor, "role", None) != Role.REGULATOR or not may_supervise(actor, complaint.tender):
        raise AccessDenied(
            _("Only a department supervising this tender handles its complaints."), code="forbidden"
        )


def _locked(complaint: Complaint, *statuses) -> Complaint:
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    if complaint.status not in statuses:
        raise Conflict(
            _("The complaint is not at this step."), code="complaint_state", current=complaint.status
        )
    return complaint


def _parties(complaint: Complaint) -> list:
    t = complaint.tender
    return [complaint.entity, t.agency, t.tenderee]


def complaint_accept(*, actor, complaint: Complaint) -> Complaint:
    _handler(actor, complaint)
    with transaction.atomic():
        complaint = _locked(complaint, Complaint.Status.FILED)
        now = timezone.now()
        complaint.status, complaint.accepted_at, complaint.handled_by = Complaint.Status.ACCEPTED, now, actor
        complaint.decision_due_at = rules.complaint_decision_deadline(
            regime=complaint.tender.regime, received_at=complaint.filed_at, accepted_at=now
        )
        complaint.save(update_fields=["status", "accepted_at", "handled_by", "decision_due_at"])
        journal_append(
            stream=complaint.tender.stream,
            action="supervision.complaint_accepted",
            actor=actor,
            obj=complaint,
            payload={"decision_due_at": complaint.decision_due_at, "late": now > complaint.accept_due_at},
        )
        _notify(
            _parties(complaint),
            kind="complaint",
            subject=_("A complaint was accepted: %(t)s") % {"t": complaint.tender.title},
        )
    return complaint


def complaint_refuse(*, actor, complaint: Complaint, reason: str) -> Complaint:
    _handler(actor, complaint)
    reason = _text(reason, "reason")
    with transaction.atomic():
        complaint = _locked(complaint, Complaint.Status.FILED)
        complaint.status, complaint.refusal_reason, complaint.handled_by = (
            Complaint.Status.REFUSED,
            reason,
            actor,
        )
        complaint.decided_at = timezone.now()
        complaint.save(update_fields=["status", "refusal_reason", "handled_by", "decided_at"])
        journal_append(
            stream=complaint.tender.stream,
            action="supervision.complaint_refused",
            actor=actor,
            obj=complaint,
            payload={"reason": reason},
        )
        _notify(
            [complaint.entity],
            kind="complaint",
            subject=_("Your complaint was not accepted: %(t)s") % {"t": complaint.tender.title},
        )
    return complaint


def complaint_suspend_tender(*, actor, complaint: Complaint, reason: str) -> Complaint:
    """The department orders the tender suspended while it investigates (条例62; 办法28)."""
    _handler(actor, complaint)
    reason = _text(reason, "reason")
    with transaction.atomic():
        complaint = _locked(complaint, Complaint.Status.ACCEPTED)
        if complaint.tender.state != TenderState.SUSPENDED:
            tender_suspend(tender=complaint.tender, actor=actor, reason=reason)
        complaint.suspended_tender = True
        complaint.save(update_fields=["suspended_tender"])
        journal_append(
            stream=complaint.tender.stream,
            action="supervision.complaint_suspension",
            actor=actor,
            obj=complaint,
            payload={"reason": reason},
        )
        _notify(
            _parties(complaint),
            kind="complaint",
            subject=_("The tender is suspended pending a complaint: %(t)s") % {"t": complaint.tender.title},
        )
    return complaint


def complaint_decide(
    *, actor, complaint: Complaint, outcome: str, legal_basis: str, decision: str, resume: bool = True
) -> Complaint:
    _handler(actor, complaint)
    if outcome not in Complaint.Outcome.values:
        raise ValidationFailed(_("Not an outcome."), code="outcome_invalid")
    legal_basis = (legal_basis or "").strip()
    if not legal_basis or len(legal_basis) > 300:
        raise ValidationFailed(_("Give the legal basis of the decision."), code="legal_basis_required")
    decision = _text(decision, "decision")
    with transaction.atomic():
        complaint = _locked(complaint, Complaint.Status.ACCEPTED)
        now = timezone.now()
        complaint.status, complaint.outcome = Complaint.Status.DECIDED, outcome
        complaint.legal_basis, complaint.decision, complaint.decided_at = legal_basis, decision, now
        complaint.save(update_fields=["status", "outcome", "legal_basis", "decision", "decided_at"])
        journal_append(
            stream=complaint.tender.stream,
            action="supervision.complaint_decided",
            actor=actor,
            obj=complaint,
            payload={"outcome": outcome, "legal_basis": legal_basis, "late": now > complaint.decision_due_at},
        )
        tender = Tender.objects.get(pk=complaint.tender_id)
        if resume and complaint.suspended_tender and tender.state == TenderState.SUSPENDED:
            tender_resume(tender=tender, actor=actor, reason=_("Complaint decided"))
        _notify(
            _parties(complaint),
            kind="complaint",
            subject=_("A complaint was decided: %(t)s") % {"t": complaint.tender.title},
        )
    return complaint
