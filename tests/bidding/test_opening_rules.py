"""The opening hall's pure rules: phases, windows at their boundaries, B4's shortfall question, who is
in the hall, what the clock has due, and the confirmation statement."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bidding.opening import rules

SH = ZoneInfo("Asia/Shanghai")
DEADLINE = dt.datetime(2026, 3, 25, 9, 30, tzinfo=SH)


def code(violation) -> str | None:
    return violation.code if violation else None


# --- phases ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("current", "target", "expected"),
    [
        ("signin", "bidders", None),
        ("signin", "failed", None),
        ("bidders", "decryption", None),
        ("bidders", "failed", None),
        ("decryption", "readout", None),
        ("decryption", "failed", None),
        ("readout", "confirmation", None),
        ("confirmation", "closed", None),
        ("signin", "decryption", "opening_transition_forbidden"),  # the list is published first
        ("readout", "failed", "opening_transition_forbidden"),  # after 唱标 the opening has happened
        ("confirmation", "readout", "opening_transition_forbidden"),
        ("closed", "signin", "opening_transition_forbidden"),
        ("failed", "bidders", "opening_transition_forbidden"),
    ],
)
def test_phase_transitions(current, target, expected):
    assert code(rules.check_transition(current, target)) == expected


def test_an_unknown_phase_is_a_programming_error():
    with pytest.raises(ValueError):
        rules.check_transition("signin", "paused")


# --- time windows --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("now", "phase", "expected"),
    [
        (DEADLINE - dt.timedelta(minutes=1441), "signin", "signin_not_open"),
        (DEADLINE - dt.timedelta(minutes=1440), "signin", None),  # opens 1440 minutes before (FJ)
        (DEADLINE + dt.timedelta(minutes=5), "decryption", None),  # late sign-in until the window ends
        (DEADLINE + dt.timedelta(minutes=5), "readout", "signin_closed"),
    ],
)
def test_signin_window(now, phase, expected):
    assert code(rules.check_signin(phase=phase, now=now, deadline=DEADLINE)) == expected


def test_nothing_is_published_before_the_deadline():
    assert code(rules.check_deadline_passed(now=DEADLINE - dt.timedelta(seconds=1), deadline=DEADLINE)) == (
        "opening_before_deadline"
    )
    assert rules.check_deadline_passed(now=DEADLINE, deadline=DEADLINE) is None


def test_the_decryption_window_defaults_to_30_minutes_and_follows_the_tender():
    assert rules.decryption_ends_at(DEADLINE, None) == DEADLINE + dt.timedelta(minutes=30)
    assert rules.decryption_ends_at(DEADLINE, 45) == DEADLINE + dt.timedelta(minutes=45)


@pytest.mark.parametrize(
    ("offset_seconds", "decryption", "expected"),
    [
        (-1, "pending", None),  # the last second of the window
        (0, "pending", "decryption_window_closed"),  # the window's end is outside it
        (-60, "ok", "decryption_already_done"),
    ],
)
def test_decryption_window_boundary(offset_seconds, decryption, expected):
    ends = DEADLINE + dt.timedelta(minutes=30)
    now = ends + dt.timedelta(seconds=offset_seconds)
    assert (
        code(rules.check_decrypt(phase="decryption", ends_at=ends, now=now, decryption=decryption))
        == expected
    )


def test_no_decryption_outside_the_decryption_phase():
    later = DEADLINE + dt.timedelta(hours=1)
    assert code(rules.check_decrypt(phase="bidders", ends_at=None, now=DEADLINE, decryption="pending")) == (
        "decryption_window_closed"
    )
    assert code(rules.check_decrypt(phase="readout", ends_at=later, now=DEADLINE, decryption="pending")) == (
        "decryption_window_closed"
    )


# --- B4: too few bids --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("count", "minimum", "expected"),
    [
        (3, 3, None),
        (2, 3, ("fail",)),
        (0, 3, ("fail",)),
        (4, 5, ("fail", "continue")),  # the tender's own stricter minimum: the host may go on
        (2, 5, ("fail",)),  # but never below the law's three
        (2, 1, ("fail",)),  # a lot cannot lower the law's minimum
    ],
)
def test_shortfall_choices(count, minimum, expected):
    found = rules.shortfall(count=count, minimum=minimum)
    assert (found.choices if found else None) == expected


@pytest.mark.parametrize(
    ("count", "minimum", "decision", "reason", "expected"),
    [
        (2, 3, "", "", "shortfall_decision_required"),
        (2, 3, "continue", "we insist", "shortfall_continue_forbidden"),
        (2, 3, "fail", "", None),
        (4, 5, "continue", "", "reason_required"),
        (4, 5, "continue", "招标文件允许", None),
        (3, 3, "fail", "", "shortfall_none"),
        (3, 3, "", "", None),
    ],
)
def test_shortfall_decisions(count, minimum, decision, reason, expected):
    violation = rules.check_shortfall_decision(count=count, minimum=minimum, decision=decision, reason=reason)
    assert code(violation) == expected


def test_the_law_is_cited_when_continuing_is_refused():
    violation = rules.check_shortfall_decision(count=2, minimum=3, decision="continue", reason="x")
    assert "条例第四十四条" in violation.source
    assert violation.params == {"count": 2, "minimum": 3, "choices": ["fail"]}


# --- read-out, faults, objections, confirmation, closing -----------------------------------------------
def test_readout_waits_for_the_window_while_bids_are_pending():
    ends = DEADLINE + dt.timedelta(minutes=30)
    assert code(rules.check_start_readout(now=DEADLINE, ends_at=ends, pending=1, unresolved=0)) == (
        "decryption_still_open"
    )
    assert (
        code(rules.check_start_readout(now=ends, ends_at=ends, pending=1, unresolved=0))
        == "decryption_undecided"
    )
    assert rules.check_start_readout(now=DEADLINE, ends_at=ends, pending=0, unresolved=0) is None


@pytest.mark.parametrize(
    ("fault", "reason", "decryption", "over", "expected"),
    [
        ("bidder", "未在规定时间内解密", "failed_bidder", True, None),
        ("other", "平台故障", "failed_bidder", True, None),
        ("other", "平台故障", "pending", True, None),
        ("other", "平台故障", "pending", False, "decryption_still_open"),
        ("other", "", "failed_bidder", True, "reason_required"),
        ("other", "x", "ok", True, "decryption_fault_not_failed"),
        ("nobody", "x", "failed_bidder", True, "decryption_fault_invalid"),
    ],
)
def test_fault_findings(fault, reason, decryption, over, expected):
    assert (
        code(rules.check_fault(fault=fault, reason=reason, decryption=decryption, window_over=over))
        == expected
    )


def test_faults_map_to_revoked_and_withdrawn():
    assert rules.FAULTS == {"bidder": "failed_bidder", "other": "failed_other"}


@pytest.mark.parametrize(
    ("phase", "text", "expected"),
    [
        ("readout", "报价与开标一览表不一致", None),
        ("decryption", "解密时间不足", None),
        ("signin", "too early", "objection_closed"),
        ("confirmation", "too late", "objection_closed"),
        ("readout", "   ", "objection_text_invalid"),
        ("readout", "x" * 2001, "objection_text_invalid"),
    ],
)
def test_objections(phase, text, expected):
    assert code(rules.check_objection(phase=phase, text=text)) == expected


def test_the_record_goes_to_signature_only_when_every_objection_is_answered():
    assert code(rules.check_start_confirmation(open_objections=1)) == "objections_unanswered"
    assert rules.check_start_confirmation(open_objections=0) is None


def test_closing_waits_for_confirmations_until_the_window_ends():
    ends = DEADLINE + dt.timedelta(minutes=30)
    assert code(rules.check_close(now=DEADLINE, ends_at=ends, unconfirmed=1)) == "confirmation_still_open"
    assert rules.check_close(now=ends, ends_at=ends, unconfirmed=1) is None  # silence accepts (87号令42)
    assert rules.check_close(now=DEADLINE, ends_at=ends, unconfirmed=0) is None


# --- who is in the hall -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "has_bid", "manages", "expected"),
    [
        ("centre", False, True, "host"),
        ("admin", False, False, "host"),
        ("regulator", False, False, "observer"),
        ("agency", False, True, "observer"),
        ("agency", False, False, None),  # another agency's staff
        ("bidder", True, False, "bidder"),
        ("bidder", False, False, None),  # no bid in this lot
        ("expert", False, False, None),
    ],
)
def test_hall_roles(role, has_bid, manages, expected):
    assert rules.hall_role(user_role=role, has_bid=has_bid, manages_tender=manages) == expected


# --- the clock's next step ------------------------------------------------------------------------------
def test_due_at_follows_the_hall():
    ends = DEADLINE + dt.timedelta(minutes=30)
    common = {"deadline": DEADLINE, "decryption_ends_at": ends, "confirmation_ends_at": ends}
    assert rules.due_at(exists=False, phase=None, tender_opened=False, **common) == DEADLINE - dt.timedelta(
        days=1
    )
    assert rules.due_at(exists=True, phase="signin", tender_opened=False, **common) == DEADLINE
    assert rules.due_at(exists=True, phase="signin", tender_opened=True, **common) is None
    assert rules.due_at(exists=True, phase="decryption", tender_opened=True, pending=1, **common) == ends
    assert rules.due_at(exists=True, phase="decryption", tender_opened=True, pending=0, **common) is None
    assert rules.due_at(exists=True, phase="confirmation", tender_opened=True, **common) == ends
    assert rules.due_at(exists=True, phase="closed", tender_opened=True, **common) is None


def test_confirmation_statement_is_prefixed_and_bound_to_the_digest():
    digest = "ab" * 32
    assert rules.confirmation_message(body_sha256=digest) == f"gongjiao-opening-record\n{digest}".encode()
    with pytest.raises(ValueError):
        rules.confirmation_message(body_sha256="AB" * 32)
