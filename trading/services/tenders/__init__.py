"""Tenders: drafting, publication under the legal rules, amendments with forced extension,
state transitions (suspend, resume, fail, terminate) and registered document downloads.

A package since it outgrew one module (DESIGN §2); import from here, the submodules are
an internal arrangement.

"""

from trading.services.tenders.documents import tender_document_download
from trading.services.tenders.drafts import tender_create, tender_update_draft
from trading.services.tenders.forms import (
    CRITERION_GROUPS,
    PRICE_FORMULAS,
    evaluation_clean,
    tender_form_clean,
)
from trading.services.tenders.publication import legal_violations, tender_amend, tender_publish
from trading.services.tenders.states import (
    tender_close,
    tender_evaluation_begin,
    tender_mark_archived,
    tender_open_at_deadline,
    tender_resume,
    tender_set_state,
    tender_suspend,
    tender_suspend_on_objection,
)

__all__ = [
    "CRITERION_GROUPS",
    "PRICE_FORMULAS",
    "evaluation_clean",
    "legal_violations",
    "tender_amend",
    "tender_close",
    "tender_create",
    "tender_document_download",
    "tender_evaluation_begin",
    "tender_form_clean",
    "tender_mark_archived",
    "tender_open_at_deadline",
    "tender_publish",
    "tender_resume",
    "tender_set_state",
    "tender_suspend",
    "tender_suspend_on_objection",
    "tender_update_draft",
]
