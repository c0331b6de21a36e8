"""Pure rules of the remote opening hall (不见面开标, DOMAIN B2–B9): its phases, windows, who may
do what and when, and the host's question when too few bids are left. No database, no I/O.

    signin ─► bidders ─► decryption ─► readout ─► confirmation ─► closed
       └──────────┴───────────┴──► failed (流标, the host's recorded decision)

Time comes in as arguments; services pass `timezone.now()`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from trading.rules import MIN_BIDDERS, Violation

SIGNIN = "signin"
BIDDERS = "bidders"
DECRYPTION = "decryption"
READOUT = "readout"
CONFIRMATION = "confirmation"
CLOSED = "closed"
FAILED = "failed"
PHASES = (SIGNIN, BIDDERS, DECRYPTION, READOUT, CONFIRMATION, CLOSED, FAILED)
TERMINAL = frozenset({CLOSED, FAILED})

# 流标 is possible only while a shortfall can be found: at sign-in close and after decryption (B4).
PHASE_TRANSITIONS: dict[str, frozenset[str]] = {
    SIGNIN: frozenset({BIDDERS, FAILED}),
    BIDDERS: frozenset({DECRYPTION, FAILED}),
    DECRYPTION: frozenset({READOUT, FAILED}),
    READOUT: frozenset({CONFIRMATION}),
    CONFIRMATION: frozenset({CLOSED}),
    CLOSED: frozenset(),
    FAILED: frozenset(),
}

# FJ opens sign-in 1440 minutes before the opening by default [V: DOMAIN B6].
SIGNIN_OPENS_MINUTES = 1440
# A tender-document clause, not law: "开标开始后30分钟内完成解密" [S: DOMAIN B7].
DEFAULT_DECRYPTION_MINUTES = 30
# FT sets 签名总时长 per project (Tender.confirmation_minutes); this is the default.
CONFIRMATION_MINUTES = 30
# Late sign-in (紧急签到) is accepted until the decryption window closes: a bidder must be in the
# hall to decrypt. Objections are raised on the spot (条例44), before the record is put to signature.
SIGNIN_PHASES = frozenset({SIGNIN, BIDDERS, DECRYPTION})
OBJECTION_PHASES = frozenset({BIDDERS, DECRYPTION, READOUT})
OBJECTION_MAX_CHARS = 2000
REASON_MAX_CHARS = 1000

# Decryption outcomes (the values of bidding.models.Bid.Decryption).
PENDING = "pending"
OK = "ok"
CUSTODIAN = "custodian"
FAILED_BIDDER = "failed_bidder"
FAILED_OTHER = "failed_other"
VALID_DECRYPTIONS = frozenset({OK, CUSTODIAN})
# DOMAIN B5: the bidder's fault is 撤销 (the deposit may be kept); any other cause is 撤回.
FAULTS = {"bidder": FAILED_BIDDER, "other": FAILED_OTHER}

# Who is in the hall.
HOST = "host"
BIDDER = "bidder"
OBSERVER = "observer"
HOST_ROLES = frozenset({"centre", "admin"})
OBSERVER_ROLES = frozenset({"regulator"})

FAIL = "fail"
CONTINUE = "continue"

# The statement a bidder signs to confirm the record: a fixed prefix keeps it from ever being
# valid as a login challenge or an envelope signature.
CONFIRMATION_PREFIX = "gongjiao-opening-record"

SRC_MIN_BIDDERS = "招标投标法第二十八条、实施条例第四十四条；87号令第四十一条"


def hall_role(
    *, user_role: str, has_bid: bool, manages_tender: bool, supervises: bool = True, invited: bool = False
) -> str | None:
    """The user's place in a lot's hall, or None when the user may not enter.

    Centre staff host; regulators supervising the tender, the tender's own agency or tenderee and social
    supervisors invited to watch the opening watch read-only; bidder staff enter only for a lot their
    entity has an active bid in.
    """
    if user_role in HOST_ROLES:
        return HOST
    if user_role in OBSERVER_ROLES:
        return OBSERVER if supervises else None
    if user_role == "supervisor" and invited:
        return OBSERVER
    if user_role == "agency" and manages_tender:
        return OBSERVER
    if user_role == "bidder" and has_bid:
        return BIDDER
    return None


def signin_opens_at(deadline: dt.datetime) -> dt.datetime:
    return deadline - dt.timedelta(minutes=SIGNIN_OPENS_MINUTES)


def decryption_ends_at(started_at: dt.datetime, minutes: int | None) -> dt.datetime:
    return started_at + dt.timedelta(minutes=minutes or DEFAULT_DECRYPTION_MINUTES)


def confirmation_ends_at(started_at: dt.datetime, minutes: int | None = None) -> dt.datetime:
    return started_at + dt.timedelta(minutes=minutes or CONFIRMATION_MINUTES)


def _label(phase: str):
    from bidding.models import OpeningSession  # labels only; keeps this module import-light

    return OpeningSession.Phase(phase).label


def check_transition(current: str, target: str) -> Violation | None:
    for phase in (current, target):
        if phase not in PHASE_TRANSITIONS:
            raise ValueError(f"unknown opening phase {phase!r}")
    if target in PHASE_TRANSITIONS[current]:
        return None
    return Violation(
        "opening_transition_forbidden",
        format_lazy(
            _("The opening cannot go from “{current}” to “{target}”."),
            current=_label(current),
            target=_label(target),
        ),
        "",
        {"current": current, "target": target},
    )


def check_deadline_passed(*, now: dt.datetime, deadline: dt.datetime) -> Violation | None:
    """Nothing of the opening is disclosed before the deadline, which is also the opening time (法34)."""
    if now >= deadline:
        return None
    return Violation(
        "opening_before_deadline",
        _("The opening starts at the bid deadline."),
        "招标投标法第三十四条",
        {"deadline": deadline.isoformat()},
    )


def check_signin(*, phase: str, now: dt.datetime, deadline: dt.datetime) -> Violation | None:
    if now < signin_opens_at(deadline):
        return Violation(
            "signin_not_open",
            _("Sign-in has not opened yet."),
            "",
            {"opens_at": signin_opens_at(deadline).isoformat()},
        )
    if phase not in SIGNIN_PHASES:
        return Violation("signin_closed", _("Sign-in is closed."), "", {"phase": phase})
    return None


def decryption_open(*, phase: str, ends_at: dt.datetime | None, now: dt.datetime) -> bool:
    return phase == DECRYPTION and ends_at is not None and now < ends_at


def check_decrypt(
    *, phase: str, ends_at: dt.datetime | None, now: dt.datetime, decryption: str
) -> Violation | None:
    if decryption != PENDING:
        return Violation(
            "decryption_already_done", _("This bid has already been decrypted or settled."), "", {}
        )
    if not decryption_open(phase=phase, ends_at=ends_at, now=now):
        return Violation(
            "decryption_window_closed",
            _("The decryption window is not open."),
            "",
            {"phase": phase, "ends_at": ends_at.isoformat() if ends_at else None},
        )
    return None


@dataclass(frozen=True)
class Shortfall:
    """Too few bids for the opening to go on: the host must answer 继续 / 流标 (B4)."""

    count: int
    minimum: int
    choices: tuple[str, ...]

    def as_dict(self) -> dict:
        return {"count": self.count, "minimum": self.minimum, "choices": list(self.choices)}


def shortfall(*, count: int, minimum: int) -> Shortfall | None:
    """None when enough bids are left. Below the law's three only 流标 is lawful (条例44, 87号令41);
    between three and a stricter minimum the tender set itself, the host may decide to go on."""
    minimum = max(minimum, MIN_BIDDERS)
    if count >= minimum:
        return None
    choices = (FAIL,) if count < MIN_BIDDERS else (FAIL, CONTINUE)
    return Shortfall(count=count, minimum=minimum, choices=choices)


def check_shortfall_decision(*, count: int, minimum: int, decision: str, reason: str) -> Violation | None:
    found = shortfall(count=count, minimum=minimum)
    if found is None:
        if decision == FAIL:
            return Violation(
                "shortfall_none",
                _("There are enough bids; the opening cannot fail for want of bidders."),
                "",
                {"count": count},
            )
        return None
    if decision not in found.choices:
        if decision == CONTINUE:
            return Violation(
                "shortfall_continue_forbidden",
                format_lazy(
                    _("Fewer than {minimum} bids: the law does not allow the opening to go on."),
                    minimum=MIN_BIDDERS,
                ),
                SRC_MIN_BIDDERS,
                found.as_dict(),
            )
        return Violation(
            "shortfall_decision_required",
            _("Too few bids: decide whether the opening fails (流标) or goes on."),
            SRC_MIN_BIDDERS,
            found.as_dict(),
        )
    if decision == CONTINUE and not reason.strip():
        return Violation("reason_required", _("Give the reason."), "", {})
    return None


def check_start_readout(
    *, now: dt.datetime, ends_at: dt.datetime | None, pending: int, unresolved: int
) -> Violation | None:
    """Read-out starts when every bid is settled: decrypted, or failed after the window (B5)."""
    if pending and ends_at is not None and now < ends_at:
        return Violation(
            "decryption_still_open",
            _("Bids are still being decrypted and the window is open."),
            "",
            {"pending": pending, "ends_at": ends_at.isoformat()},
        )
    if pending or unresolved:
        return Violation(
            "decryption_undecided",
            _("Some bids are not settled yet."),
            "",
            {"pending": pending + unresolved},
        )
    return None


def check_fault(*, fault: str, reason: str, decryption: str, window_over: bool) -> Violation | None:
    """The host says why a bid could not be decrypted: the bidder's fault or not (B5)."""
    if fault not in FAULTS:
        return Violation("decryption_fault_invalid", _("Say whether the bidder is at fault."), "", {})
    if not window_over:
        return Violation("decryption_still_open", _("The decryption window is still open."), "", {})
    if decryption not in {PENDING, FAILED_BIDDER, FAILED_OTHER}:
        return Violation(
            "decryption_fault_not_failed", _("This bid was decrypted; there is no failure to judge."), "", {}
        )
    if not reason.strip():
        return Violation("reason_required", _("Give the reason."), "", {})
    return None


def check_objection(*, phase: str, text: str) -> Violation | None:
    if phase not in OBJECTION_PHASES:
        return Violation(
            "objection_closed", _("Objections are raised during the opening, before the record."), "", {}
        )
    if not text.strip() or len(text) > OBJECTION_MAX_CHARS:
        return Violation(
            "objection_text_invalid",
            format_lazy(_("An objection is 1 to {n} characters."), n=OBJECTION_MAX_CHARS),
            "",
            {"max": OBJECTION_MAX_CHARS},
        )
    return None


def check_start_confirmation(*, open_objections: int) -> Violation | None:
    if open_objections:
        return Violation(
            "objections_unanswered",
            _("Answer every objection before the record is put to the bidders."),
            "招标投标法实施条例第四十四条",
            {"open": open_objections},
        )
    return None


def check_close(*, now: dt.datetime, ends_at: dt.datetime | None, unconfirmed: int) -> Violation | None:
    """Close when every bidder confirmed or the window is over: a bidder who does not sign is
    deemed to accept the record (87号令42)."""
    if unconfirmed and ends_at is not None and now < ends_at:
        return Violation(
            "confirmation_still_open",
            _("Bidders are still confirming the record."),
            "87号令第四十二条",
            {"unconfirmed": unconfirmed, "ends_at": ends_at.isoformat()},
        )
    return None


def due_at(
    *,
    exists: bool,
    phase: str | None,
    deadline: dt.datetime,
    tender_opened: bool,
    decryption_ends_at: dt.datetime | None,
    confirmation_ends_at: dt.datetime | None,
    pending: int = 0,
) -> dt.datetime | None:
    """The next moment a tick has work for this lot, or None when only people move it on."""
    if not exists:
        return signin_opens_at(deadline)
    if phase in TERMINAL:
        return None
    if not tender_opened:
        return deadline
    if phase == DECRYPTION and pending and decryption_ends_at is not None:
        return decryption_ends_at
    if phase == CONFIRMATION and confirmation_ends_at is not None:
        return confirmation_ends_at
    return None


def confirmation_message(*, body_sha256: str) -> bytes:
    """The exact bytes a bidder signs (ECDSA P-256, SHA-256) to confirm the opening record."""
    if len(body_sha256) != 64 or any(c not in "0123456789abcdef" for c in body_sha256):
        raise ValueError("body_sha256 must be 64 lower-case hex digits")
    return f"{CONFIRMATION_PREFIX}\n{body_sha256}".encode()
