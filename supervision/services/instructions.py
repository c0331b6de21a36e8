"""Online instructions (在线下达指令, issue 7 item 4): a supervising department instructs the trading
centre or the tender's agency / tenderee; the addressee acknowledges (签收) and reports what was done.

* Issued in the name of a department that supervises the tender. A regulator issues for one of its own
  departments (chosen when it has several on the tender); an admin names the department, which must be
  one supervising the tender. A regulator attached to no department (a platform-wide supervisor, see
  SUPERVISION_UNATTACHED_REGULATORS) has no department to speak for and cannot issue (`no_department`).
* The addressee: centre staff for the centre; the staff of the tender's agency or tenderee for the agency.
  A report may come without a separate acknowledgement: reporting acknowledges it too.
* The issuing department (its members, or an admin) may withdraw an instruction not yet carried out.

Every step is validated, runs in one transaction, is journalled in the tender's stream
(supervision.instruction_issued / _acknowledged / _done / _withdrawn; "late" when done after its time)
and notifies the other side: the addressee of an issue or a withdrawal, the issuer of the replies.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from archive.journal import journal_append
from core.errors import AccessDenied, Conflict, ValidationFailed
from supervision.models import Department, Instruction
from supervision.selectors.oversight import is_addressee, is_issuer, issuing_departments
from trading.access import tender_access_supervise
from trading.models import Notification, Role, Tender, User

TEXT_MAX = 5_000
KIND = "supervision.instruction"


def _text(value: str, field: str, code: str) -> str:
    value = (value or "").strip()
    if not value or len(value) > TEXT_MAX:
        raise ValidationFailed(
            _("Write the text (at most 5,000 characters)."),
            code=code,
            fields={field: _("Required, at most 5,000 characters.")},
        )
    return value


def _link(instruction: Instruction) -> str:
    return reverse("supervision:instruction_detail", args=[instruction.pk])


def _notify_addressee(instruction: Instruction, subject: str) -> None:
    """Centre staff (every active account) or the tender's agency and tenderee (their entities)."""
    tender, now, link = instruction.tender, timezone.now(), _link(instruction)
    if instruction.addressee == Instruction.Addressee.CENTRE:
        targets = [
            {"user_id": pk}
            for pk in User.objects.filter(role=Role.CENTRE, is_active=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        ]
    else:
        targets = [{"entity_id": pk} for pk in dict.fromkeys([tender.agency_id, tender.tenderee_id]) if pk]
    Notification.objects.bulk_create(
        [Notification(**t, kind=KIND, subject=subject[:200], link=link, created_at=now) for t in targets]
    )


def _notify_issuer(instruction: Instruction, subject: str) -> None:
    Notification.objects.create(
        user_id=instruction.issued_by_id,
        kind=KIND,
        subject=subject[:200],
        link=_link(instruction),
        created_at=timezone.now(),
    )


def _department(actor, tender: Tender, department) -> Department:
    """The department the actor speaks for on this tender (see the module's docstring)."""
    allowed = issuing_departments(actor, tender)
    wanted = getattr(department, "pk", department)
    if wanted in (None, ""):
        if actor.role == Role.REGULATOR and len(allowed) == 1:
            return allowed[0]
        if actor.role == Role.REGULATOR and not allowed:
            raise AccessDenied(_("None of your departments supervises this tender."), code="no_department")
        raise ValidationFailed(
            _("Choose the department in whose name the instruction is given."),
            code="department_required",
            fields={"department": _("Choose a department.")},
        )
    found = next((d for d in allowed if str(d.pk) == str(wanted)), None)
    if found is None:
        raise ValidationFailed(
            _("That department does not supervise this tender on your behalf."),
            code="department_invalid",
            fields={"department": _("Not one of your departments supervising this tender.")},
        )
    return found


def _locked(instruction: Instruction, *statuses: str) -> Instruction:
    ins = Instruction.objects.select_for_update().select_related("tender").get(pk=instruction.pk)
    if ins.status not in statuses:
        raise Conflict(
            _("The instruction is not at this step."), code="instruction_state", current=ins.status
        )
    return ins


def instruction_issue(
    *,
    actor,
    tender: Tender,
    addressee: str,
    text: str,
    due_at: dt.datetime | None = None,
    department: Department | int | None = None,
) -> Instruction:
    tender_access_supervise(user=actor, tender=tender)  # role_forbidden / outside_jurisdiction
    if addressee not in Instruction.Addressee.values:
        raise ValidationFailed(
            _("Instruct the trading centre or the agency."),
            code="addressee_invalid",
            fields={"addressee": _("Choose the trading centre or the agency.")},
        )
    text = _text(text, "text", "text_invalid")
    now = timezone.now()
    if due_at is not None and (timezone.is_naive(due_at) or due_at <= now):
        raise ValidationFailed(
            _("The time to carry it out must be in the future."),
            code="due_at_past",
            fields={"due_at": _("A time in the future.")},
        )
    dept = _department(actor, tender, department)
    with transaction.atomic():
        ins = Instruction.objects.create(
            tender=tender,
            department=dept,
            addressee=addressee,
            text=text,
            due_at=due_at,
            issued_by=actor,
            issued_at=now,
        )
        journal_append(
            stream=tender.stream,
            action="supervision.instruction_issued",
            actor=actor,
            obj=ins,
            payload={
                "department": dept.pk,
                "department_name": dept.name,
                "addressee": addressee,
                "text": text,
                "due_at": due_at,
            },
        )
        _notify_addressee(ins, _("Instruction from %(d)s: %(t)s") % {"d": dept.name, "t": tender.title})
    return ins


def _addressee(actor, instruction: Instruction) -> None:
    if not is_addressee(actor, instruction):
        raise AccessDenied(_("This instruction is not addressed to you."), code="not_addressee")


def instruction_acknowledge(*, actor, instruction: Instruction) -> Instruction:
    """签收: the addressee has received it."""
    _addressee(actor, instruction)
    with transaction.atomic():
        ins = _locked(instruction, Instruction.Status.ISSUED)
        ins.status, ins.acknowledged_by, ins.acknowledged_at = (
            Instruction.Status.ACKNOWLEDGED,
            actor,
            timezone.now(),
        )
        ins.save(update_fields=["status", "acknowledged_by", "acknowledged_at"])
        journal_append(
            stream=ins.tender.stream,
            action="supervision.instruction_acknowledged",
            actor=actor,
            obj=ins,
            payload={"addressee": ins.addressee},
        )
        _notify_issuer(ins, _("Instruction acknowledged: %(t)s") % {"t": ins.tender.title})
    return ins


def instruction_report(*, actor, instruction: Instruction, response: str) -> Instruction:
    """The addressee reports what was done; the instruction is carried out (and acknowledged, if it was
    not yet). Late when after its time."""
    _addressee(actor, instruction)
    response = _text(response, "response", "response_invalid")
    with transaction.atomic():
        ins = _locked(instruction, Instruction.Status.ISSUED, Instruction.Status.ACKNOWLEDGED)
        now = timezone.now()
        acknowledged_now = ins.acknowledged_at is None
        if acknowledged_now:
            ins.acknowledged_by, ins.acknowledged_at = actor, now
        ins.status, ins.response, ins.done_at = Instruction.Status.DONE, response, now
        ins.save(update_fields=["status", "response", "done_at", "acknowledged_by", "acknowledged_at"])
        journal_append(
            stream=ins.tender.stream,
            action="supervision.instruction_done",
            actor=actor,
            obj=ins,
            payload={
                "addressee": ins.addressee,
                "response": response,
                "acknowledged_now": acknowledged_now,
                "late": ins.due_at is not None and now > ins.due_at,
            },
        )
        _notify_issuer(ins, _("Instruction carried out: %(t)s") % {"t": ins.tender.title})
    return ins


def instruction_withdraw(*, actor, instruction: Instruction, reason: str) -> Instruction:
    """The issuing department takes back an instruction not yet carried out."""
    if not is_issuer(actor, instruction):
        raise AccessDenied(_("Only the issuing department withdraws its instruction."), code="not_issuer")
    reason = _text(reason, "reason", "reason_required")
    with transaction.atomic():
        ins = _locked(instruction, Instruction.Status.ISSUED, Instruction.Status.ACKNOWLEDGED)
        ins.status = Instruction.Status.WITHDRAWN
        ins.save(update_fields=["status"])
        journal_append(
            stream=ins.tender.stream,
            action="supervision.instruction_withdrawn",
            actor=actor,
            obj=ins,
            payload={"reason": reason},
        )
        _notify_addressee(ins, _("Instruction withdrawn: %(t)s") % {"t": ins.tender.title})
    return ins
