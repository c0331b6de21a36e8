"""GP: the purchaser's deemed choice (87号令68). The purchaser decides within 5 working days of receiving
the report; if it does not, the first candidate is deemed chosen. `award_tick` (run by
`manage.py run_experts`) makes that decision for the lots whose time has passed, with the same notices
and result announcement as `award_decide`.

Who the rows name: `Award.decided_by` must be a user. Nobody decided, so the journal names the
"system" as the actor of the decision (with `"deemed": true` and the recorded user's id), and the
award carries `deemed=True`. The user recorded is the purchaser's side, because the law attributes the
deemed choice to the purchaser: the tender's own agency user (`Tender.created_by`, who prepared and
published it — nobody "starts" the evaluation: the system moves the tender to evaluation and centre
staff open the room), else another active staff member of the agency, then of the tenderee. Only when
the purchaser's side has no active user left is the first active centre user recorded (the platform
operator that runs the deadline). The announcement and the tender's state change are made in that
user's name, as trading's services require a user.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from experts import rules as xrules
from experts.models import Award, Report
from experts.services.award.common import SRC_FIRST_CANDIDATE_GP, _lock, _managers, _notify
from experts.services.award.decision import _decide
from trading.access import manages_tender
from trading.models import Lot, Regime, Role, Tender, TenderState, User

logger = logging.getLogger(__name__)

LIVE_STATES = (TenderState.EVALUATION, TenderState.PUBLICITY)


def deemed_recorder(tender: Tender) -> User | None:
    """The user a deemed award records as `decided_by` (see the module's docstring), or None."""
    creator = tender.created_by
    if creator.is_active and creator.role == Role.AGENCY and manages_tender(creator, tender):
        return creator
    for entity_id in (tender.agency_id, tender.tenderee_id):
        if entity_id:
            user = (
                User.objects.filter(entity_id=entity_id, role=Role.AGENCY, is_active=True)
                .order_by("pk")
                .first()
            )
            if user is not None:
                return user
    return User.objects.filter(role=Role.CENTRE, is_active=True).order_by("pk").first()


def gp_decision_due(report: Report) -> dt.datetime:
    return xrules.gp_purchaser_decision_due(report_received_at=report.finalized_at)


def _pending_reports():
    """Finalized reports of live GP lots that have no award yet."""
    return (
        Report.objects.filter(
            finalized_at__isnull=False,
            room__lot__status=Lot.Status.ACTIVE,
            room__lot__tender__regime=Regime.GP,
            room__lot__tender__state__in=LIVE_STATES,
        )
        .exclude(room__lot__in=Award.objects.values("lot"))
        .select_related("room__lot")
        .order_by("finalized_at", "pk")
    )


def award_tick(*, now: dt.datetime | None = None) -> int:
    """Decide rank 1 for every GP lot whose purchaser let the 5 working days pass (87号令68). Each lot is
    re-checked under the tender's and the lot's row locks, so concurrent runs (and a purchaser deciding
    at the same moment) award a lot once. A lot that cannot be awarded (a suspended tender, an invalid
    first bid) is left for a person and logged. Returns the number of awards made."""
    now = now or timezone.now()
    made = 0
    for report in _pending_reports():
        if now <= gp_decision_due(report):
            continue
        try:
            with transaction.atomic():
                tender, lot = _lock(report.room.lot)
                if (
                    lot.status != Lot.Status.ACTIVE
                    or tender.state not in LIVE_STATES
                    or Award.objects.filter(lot=lot).exists()
                ):
                    continue
                report = Report.objects.get(pk=report.pk)
                if report.finalized_at is None or now <= gp_decision_due(report):
                    continue
                recorder = deemed_recorder(tender)
                if recorder is None:
                    logger.warning("award_tick: lot %s has no user to record the deemed award", lot.pk)
                    continue
                award = _decide(
                    tender=tender, lot=lot, actor=recorder, rank=1, reason="", ground="", now=now, deemed=True
                )
                _notify(
                    entity_ids=_managers(tender),
                    kind="experts.award_deemed",
                    subject=_("The first candidate is deemed chosen: %(t)s, lot %(n)s")
                    % {"t": tender.title, "n": lot.number},
                    body=_(
                        "The purchaser did not decide within 5 working days of the report (%(source)s); "
                        "the first candidate, %(w)s, is awarded."
                    )
                    % {"source": SRC_FIRST_CANDIDATE_GP, "w": award.winner.name},
                    link=reverse("experts:award-lot", args=[lot.pk]),
                    now=now,
                )
                made += 1
        except DomainError as exc:
            logger.warning("award_tick: lot %s not awarded: %s (%s)", report.room.lot_id, exc, exc.code)
    return made
