"""The remote evaluation room of a lot (DOMAIN C5–C9): one place to import its services from.

room        opening, declarations and recusals, seats for reserves, the chair's election
review      review verdicts, scores and outliers, closing a stage (and the low-price requests)
requests    clarifications and low-price justifications, answered by the bidder
bids        reading a decrypted bid document, journalled with the reader's evidence
report      the report: computed, signed by the platform and the members (or deemed to agree when
            the signing time has passed: room_tick), printed to PDF
corrections a score corrected after the summary in a case of 87号令64 (discards an unsigned report)
revisions   re-evaluation after an upheld objection: the final report superseded, the room reopened
timing      the scheduled end, extensions when the time is insufficient (条例48), the [G] hours
outcome     the committee's findings computed from the verdicts (used by the selectors too)
"""

from experts.services.evaluation.bids import BidDocument, bid_document_open
from experts.services.evaluation.corrections import CORRECTION_CASES, score_correct
from experts.services.evaluation.report import report_build, report_data, report_sign, room_tick
from experts.services.evaluation.requests import (
    clarification_answer,
    clarification_ask,
    justification_decide,
    justification_submit,
)
from experts.services.evaluation.review import review_submit, score_submit, stage_complete
from experts.services.evaluation.revisions import room_reevaluate
from experts.services.evaluation.room import chair_vote, member_declare, room_open, room_seat_add
from experts.services.evaluation.timing import time_insufficient_set

__all__ = [
    "CORRECTION_CASES",
    "BidDocument",
    "bid_document_open",
    "chair_vote",
    "clarification_answer",
    "clarification_ask",
    "justification_decide",
    "justification_submit",
    "member_declare",
    "report_build",
    "report_data",
    "report_sign",
    "review_submit",
    "room_open",
    "room_reevaluate",
    "room_seat_add",
    "room_tick",
    "score_correct",
    "score_submit",
    "stage_complete",
    "time_insufficient_set",
]
