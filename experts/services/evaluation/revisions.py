"""Re-evaluation after an upheld objection (条例54, 条例71; 87号令 on 质疑 answered in the supplier's
favour): the committee's final report is superseded and the committee corrects what the objection
showed, then builds and signs a new report.

`room_reevaluate` keeps the final report whole as a `ReportRevision` (its data — which holds every
signature with agreement, dissent and deemed —, digests, platform signature, PDF, finalisation, when
and why superseded), deletes that report's signature rows, empties the Report for the next revision
(`revision` + 1) and reopens the room at detailed scoring with the same members and chair: scores
may be changed again there (`score_submit`), the chair closes the stage, builds the report —
`"revision": 2` with `"supersedes"` — and the members sign it as before. The award part calls this
from its answer to an objection (experts.services.award); the lot must not be awarded yet.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.errors import Conflict
from experts.models import Award, EvaluationRoom, Report, ReportRevision, ReportSignature
from experts.services.evaluation.common import (
    REASON_MAX,
    Phase,
    active_members,
    clean_text,
    journal,
    room_bump,
    room_lock,
)
from experts.services.evaluation.events import Event
from experts.services.evaluation.report import report_reset
from experts.services.evaluation.room import _notify_members
from trading.access import tender_access_manage
from trading.models import User

SRC_REEVALUATION = "招标投标法实施条例第五十四条、第七十一条"


def room_reevaluate(*, room: EvaluationRoom, actor: User, reason: str) -> EvaluationRoom:
    """Supersede the lot's final report and reopen the room for the committee (see the module).
    By centre staff or those who manage the tender (its agency or the tenderee's staff)."""
    reason = clean_text(reason, code="reason_required", limit=REASON_MAX)
    found = EvaluationRoom.objects.select_related("lot__tender").filter(pk=room.pk).first()
    if found is not None:
        tender_access_manage(user=actor, tender=found.lot.tender)
    now = timezone.now()
    with transaction.atomic():
        room = room_lock(room.pk)
        report = Report.objects.select_for_update().filter(room=room).first()
        if report is None or report.finalized_at is None or room.phase != Phase.CLOSED:
            raise Conflict(_("Only a final evaluation report can be re-evaluated."), code="report_not_final")
        if Award.objects.filter(lot_id=room.lot_id).exists():
            raise Conflict(_("The lot has been awarded."), code="lot_awarded")
        revision = ReportRevision.objects.create(
            room=room,
            revision=report.revision,
            data=report.data,
            data_sha256=report.data_sha256,
            platform_signature=report.platform_signature,
            pdf=report.pdf,
            finalized_at=report.finalized_at,
            superseded_at=now,
            reason=reason,
        )
        signatures = ReportSignature.objects.filter(report=report).count()
        ReportSignature.objects.filter(report=report).delete()
        report_reset(report)
        report.revision += 1
        report.save(update_fields=["revision"])
        room_bump(
            room, event=Event.REEVALUATION, now=now, phase=Phase.DETAILED, closed_at=None, signing_due_at=None
        )
        journal(
            room,
            action="room_reevaluation",
            actor=actor,
            obj=revision,
            payload={
                "superseded": revision.revision,
                "revision": report.revision,
                "data_sha256": revision.data_sha256,
                "pdf_sha256": revision.pdf_id,
                "signatures": signatures,
                "reason": reason,
                "phase": room.phase,
                "source": SRC_REEVALUATION,
            },
        )
        tender = room.lot.tender
        subject = gettext("The evaluation of %(lot)s is reopened after an upheld objection.") % {
            "lot": f"{tender.code} / {room.lot.number}"
        }
        _notify_members(
            active_members(room), kind="evaluation.reevaluation", subject=subject, lot_id=room.lot_id, now=now
        )
    return room
