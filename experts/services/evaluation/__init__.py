"""The remote evaluation room of a lot (DOMAIN C5–C9): one place to import its services from.

room        opening, declarations and recusals, seats for reserves, the chair's election
review      review verdicts, scores and outliers, closing a stage (and the low-price requests)
requests    clarifications and low-price justifications, answered by the bidder
bids        reading a decrypted bid document, journalled with the reader's evidence
report      the report: computed, signed by the platform and the members, printed to PDF
outcome     the committee's findings computed from the verdicts (used by the selectors too)
"""

from experts.services.evaluation.bids import BidDocument, bid_document_open
from experts.services.evaluation.report import report_build, report_data, report_sign
from experts.services.evaluation.requests import (
    clarification_answer,
    clarification_ask,
    justification_decide,
    justification_submit,
)
from experts.services.evaluation.review import review_submit, score_submit, stage_complete
from experts.services.evaluation.room import chair_vote, member_declare, room_open, room_seat_add

__all__ = [
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
    "room_seat_add",
    "score_submit",
    "stage_complete",
]
