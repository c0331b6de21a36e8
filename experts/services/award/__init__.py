"""Candidate publicity, objections, the award decision with its notices, and the contract (DOMAIN A7–A9).

TB: `publicity_start` → (`objection_raise` → `objection_answer`)* → `award_decide` → `contract_record`.
GP: `award_decide` straight after the finalized report (no publicity, the result announcement names
the experts, 87号令69) → `contract_record`.

Choices this module makes (documented here because the law leaves them open):

* Multi-lot tenders keep publicity per lot. The tender moves evaluation → publicity when its *first*
  lot's candidates are published, and → awarded once no lot is active any more (every lot awarded,
  failed or terminated). An upheld objection that changes the result voids that lot's publicity and
  sends the tender back to evaluation (the state machine's publicity → evaluation edge, 条例54/71);
  it comes back to publicity when the lot's candidates are published again.
* An objection suspends its lot's publicity and the whole tender (trading's state is tender-wide,
  条例54: 暂停招标投标活动). Other lots' publicity clocks keep running, but nothing is decided while
  the tender is suspended. The tender resumes when no objection of any lot is open — and only if it
  was an objection that suspended it (a regulator's suspension is the regulator's to lift).
* The law says "suspend": the publicity end moves out by the time it was suspended (the union of the
  objections' open intervals), so bidders always get the full period.
* A publicity published more than 3 days after the report is still published (refusing would leave
  the lot stuck); the lateness is recorded on it (`Publicity.late`) and in the journal.
* Re-evaluation: an upheld objection answered with `reevaluate=True` voids the publicity (its
  announcement withdrawn, kept), sends the tender back to evaluation and has the room re-open
  (`experts.services.evaluation.room_reevaluate`: the signed report kept as a revision). When the new
  report is signed by all, `publicity_start` publishes the candidates again in a new announcement
  (the Publicity row is the lot's one, reset).
* GP: a purchaser that does not decide within 5 working days of the report has chosen the first
  candidate (87号令68): `award_tick` awards it, `Award.deemed`; see `deemed.py` for whom it records.
"""

from experts.services.award.common import PASS_OVER_GROUNDS, candidate_rows, final_report, publicity_voided
from experts.services.award.contract import contract_record, supervisor_report_record
from experts.services.award.decision import award_decide, first_candidate_binding
from experts.services.award.deemed import award_tick, deemed_recorder, gp_decision_due
from experts.services.award.publicity import (
    objection_answer,
    objection_raise,
    objection_window_open,
    objector_entity,
    publicity_start,
)

__all__ = [
    "PASS_OVER_GROUNDS",
    "award_decide",
    "award_tick",
    "candidate_rows",
    "contract_record",
    "deemed_recorder",
    "final_report",
    "first_candidate_binding",
    "gp_decision_due",
    "objection_answer",
    "objection_raise",
    "objection_window_open",
    "objector_entity",
    "publicity_start",
    "publicity_voided",
    "supervisor_report_record",
]
