"""The tender state machine: which state may follow which. Services apply transitions
(and journal them); this module only says whether a transition is lawful.

    draft ─► published ─► opening ─► evaluation ─► (publicity, TB) ─► awarded ─► archived

with side exits:

* draft → terminated: a draft abandoned before publication.
* published, opening, evaluation, publicity → terminated (终止招标, 条例31) or failed
  (流标: fewer than three bids, 法28; every bid rejected, 法42).
* A live state (published, opening, evaluation, publicity, awarded) can be suspended —
  an objection or complaint is pending (条例22/54: 暂停招标投标活动; 质疑和投诉办法) — and
  the suspension returns to exactly the state it came from, or ends the tender
  (terminated, 条例31) or fails it.
* GP has no candidate publicity: its evaluation goes straight to awarded.
* publicity → evaluation is the re-evaluation after an upheld objection (条例54, 71).
* awarded → failed: the winner withdraws and no candidate is left, so the tender must be
  re-run (条例55); the re-run is a new tender.
* failed, terminated and awarded end in archived (一项一档 for failed and terminated
  projects too); archived is final.
"""

from __future__ import annotations

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from .base import Violation

DRAFT = "draft"
PUBLISHED = "published"
OPENING = "opening"
EVALUATION = "evaluation"
PUBLICITY = "publicity"
AWARDED = "awarded"
ARCHIVED = "archived"
FAILED = "failed"
SUSPENDED = "suspended"
TERMINATED = "terminated"

TENDER_STATES = (
    DRAFT,
    PUBLISHED,
    OPENING,
    EVALUATION,
    PUBLICITY,
    AWARDED,
    ARCHIVED,
    FAILED,
    SUSPENDED,
    TERMINATED,
)
# States a suspension may interrupt and return to.
RESUMABLE_STATES = frozenset({PUBLISHED, OPENING, EVALUATION, PUBLICITY, AWARDED})
FINAL_STATES = frozenset({ARCHIVED})

TENDER_TRANSITIONS: dict[str, set[str]] = {
    DRAFT: {PUBLISHED, TERMINATED},
    PUBLISHED: {OPENING, SUSPENDED, TERMINATED, FAILED},
    OPENING: {EVALUATION, SUSPENDED, TERMINATED, FAILED},
    EVALUATION: {PUBLICITY, AWARDED, SUSPENDED, TERMINATED, FAILED},
    PUBLICITY: {AWARDED, EVALUATION, SUSPENDED, TERMINATED, FAILED},
    AWARDED: {ARCHIVED, SUSPENDED, FAILED},
    # Back to the interrupted state only (checked against `suspended_from`), or the end.
    SUSPENDED: set(RESUMABLE_STATES) | {TERMINATED, FAILED},
    FAILED: {ARCHIVED},
    TERMINATED: {ARCHIVED},
    ARCHIVED: set(),
}


def _label(state: str):
    from trading.models.tenders import TenderState  # labels only; keeps this module import-light

    return TenderState(state).label


def check_transition(current: str, target: str, *, suspended_from: str | None = None) -> Violation | None:
    """None when the tender may go from `current` to `target`, else the violation.

    Leaving `suspended` for a live state needs `suspended_from` (the tender's
    state_before_suspension) and only that state is allowed. Unknown states are a
    programming error (ValueError), not a refusal.
    """
    for state in (current, target):
        if state not in TENDER_TRANSITIONS:
            raise ValueError(f"unknown tender state {state!r}")
    params = {"current": current, "target": target}
    if target not in TENDER_TRANSITIONS[current]:
        return Violation(
            "tender_transition_forbidden",
            format_lazy(
                _("A tender cannot go from “{current}” to “{target}”."),
                current=_label(current),
                target=_label(target),
            ),
            "",
            params,
        )
    if current == SUSPENDED and target in RESUMABLE_STATES and target != suspended_from:
        return Violation(
            "tender_resume_wrong_state",
            _("A suspended tender can only resume in the state it was suspended from."),
            "",
            {**params, "suspended_from": suspended_from},
        )
    return None
