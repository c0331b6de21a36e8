"""experts.rules, the law: committee groups (法37), when names are unsealed (法37 / 87号令47), and the
time limits of the publicity, the GP result, the contract and the report (A7–A10), on the 2026
calendar as the State Council published it (National Day Oct 1–7, Sep 20 and Oct 10 worked;
Spring Festival Feb 15–23, Feb 14 and Feb 28 worked)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from experts import rules
from trading.calendar import WorkingCalendar

SH = ZoneInfo("Asia/Shanghai")
D = dt.date
CAL = WorkingCalendar()  # public holidays, no local overrides


def at(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=SH)


def end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.max, tzinfo=SH)


# -- committee groups (法37) -------------------------------------------------------------------------------
T, E, L, R = "technical", "economic", "legal", "tenderee_rep"


@pytest.mark.parametrize(
    ("groups", "minimum"),
    [
        ([T, T, E, E, R, R], None),  # 4 of 6: 4 ≥ 2/3 × 6 = 4
        ([T, T, E, R, R], 4),  # 3 of 5: 3 < 3.33 → at least 4
        ([T, T, E, E, R], None),  # 4 of 5
        ([T, T, T, E, E, R, R], None),  # 5 of 7 (≥ 4.67)
        ([T, T, E, E, R, R, R], 5),  # 4 of 7
        ([T, T, T, T, E, E, R, R, R], None),  # 6 of 9: exactly 2/3
        ([T, T, T, T, E, R, R, R, R], 6),  # 5 of 9
        ([T, E, L, L, R], 4),  # legal experts do not count towards the 2/3
        ([T, T, T, T, T], None),
    ],
)
def test_technical_and_economic_experts_are_two_thirds(groups, minimum):
    found = rules.check_committee_groups(groups=groups)
    if minimum is None:
        assert found == []
    else:
        assert [v.code for v in found] == ["committee_too_few_technical_economic"]
        assert found[0].params["minimum"] == minimum and found[0].source == "招标投标法第三十七条"


def test_an_empty_committee_is_a_programming_error():
    with pytest.raises(ValueError):
        rules.check_committee_groups(groups=[])


# -- names (C4) --------------------------------------------------------------------------------------------
LIVE = ["draft", "published", "opening", "evaluation", "publicity", "suspended"]


@pytest.mark.parametrize("state", LIVE)
@pytest.mark.parametrize("regime", ["TB", "GP"])
def test_names_stay_sealed_while_the_result_is_open(regime, state):
    assert rules.names_unsealed(regime=regime, tender_state=state, lot_awarded=False) is False


@pytest.mark.parametrize(
    ("regime", "state", "unsealed"),
    [
        ("TB", "awarded", True),
        ("TB", "archived", True),
        ("TB", "failed", True),  # no result will come: 法37's secrecy has nothing left to protect
        ("TB", "terminated", True),
        ("GP", "awarded", True),  # the result announcement goes out with the award decision
        ("GP", "archived", True),
        ("GP", "failed", False),  # GP publishes the experts only with a result announcement
        ("GP", "terminated", False),
    ],
)
def test_names_unsealed_by_tender_state(regime, state, unsealed):
    assert rules.names_unsealed(regime=regime, tender_state=state, lot_awarded=False) is unsealed


@pytest.mark.parametrize("regime", ["TB", "GP"])
@pytest.mark.parametrize("state", ["evaluation", "publicity", "suspended"])
def test_an_awarded_lot_unseals_its_names_before_the_tender_is_done(regime, state):
    assert rules.names_unsealed(regime=regime, tender_state=state, lot_awarded=True) is True


def test_names_unsealed_refuses_an_unknown_regime():
    with pytest.raises(ValueError):
        rules.names_unsealed(regime="XX", tender_state="awarded", lot_awarded=False)


# -- publicity (条例54: at least 3 days, calendar days) ------------------------------------------------------
@pytest.mark.parametrize(
    ("starts_at", "ends_on"),
    [
        (at(2026, 3, 2), D(2026, 3, 5)),  # Mon → Tue, Wed, Thu
        (at(2026, 3, 3, 23, 59), D(2026, 3, 6)),  # the start day never counts, however late
        (at(2026, 3, 6), D(2026, 3, 9)),  # Fri → Sat, Sun, Mon: the weekend counts (calendar days)
        (at(2026, 3, 4), D(2026, 3, 9)),  # Wed → Thu, Fri, Sat; Saturday is not a working day → Mon
        (at(2026, 9, 28), D(2026, 10, 8)),  # Oct 1 is a holiday; the whole National Day rolls over
        (at(2026, 10, 7), D(2026, 10, 10)),  # ends on the worked Saturday Oct 10
        (dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.UTC), D(2026, 3, 6)),  # 01:00 Mar 3 in Beijing
    ],
)
def test_publicity_ends_after_three_full_days(starts_at, ends_on):
    assert rules.publicity_ends(starts_at=starts_at, calendar=CAL) == end_of(ends_on)


def test_publicity_ending_on_a_saturday_stays_when_holiday_rolling_is_off(settings):
    settings.TRADING_RULES = {"tb_holiday_rolls": False}
    assert rules.publicity_ends(starts_at=at(2026, 3, 4), calendar=CAL) == end_of(D(2026, 3, 7))


@pytest.mark.parametrize(("days", "ends_on"), [(5, D(2026, 3, 9)), (2, D(2026, 3, 5)), (3, D(2026, 3, 5))])
def test_a_setting_may_lengthen_the_publicity_never_shorten_it(settings, days, ends_on):
    # Mon Mar 2 + 5 days = Sat Mar 7 → Mon Mar 9; 2 days is below the law: still Thu Mar 5
    settings.EXPERT_RULES = {"publicity_days": days}
    assert rules.publicity_ends(starts_at=at(2026, 3, 2), calendar=CAL) == end_of(ends_on)


def test_publicity_uses_the_platform_calendar_by_default():
    assert rules.publicity_ends(starts_at=at(2026, 9, 28)) == end_of(D(2026, 10, 8))


@pytest.mark.parametrize(
    ("raised_at", "due_on"),
    [(at(2026, 3, 2), D(2026, 3, 5)), (at(2026, 3, 5), D(2026, 3, 9))],  # Sun Mar 8 → Mon
)
def test_objection_reply_within_three_days(raised_at, due_on):
    assert rules.objection_reply_due(raised_at=raised_at, calendar=CAL) == end_of(due_on)


# -- GP result announcement (87号令69: 2 working days) -------------------------------------------------------
@pytest.mark.parametrize(
    ("decided_at", "due_on"),
    [
        (at(2026, 3, 2), D(2026, 3, 4)),  # Mon → Tue, Wed
        (at(2026, 3, 6), D(2026, 3, 10)),  # Fri → Mon, Tue
        (at(2026, 9, 29), D(2026, 10, 8)),  # Tue → Wed Sep 30, then National Day → Thu Oct 8
        (at(2026, 9, 30), D(2026, 10, 9)),  # Wed → Oct 8, Oct 9
        (at(2026, 10, 8), D(2026, 10, 10)),  # Thu → Fri, and Saturday Oct 10 is a working day
        (at(2026, 2, 13), D(2026, 2, 24)),  # Fri → worked Sat Feb 14, then Spring Festival → Feb 24
    ],
)
def test_gp_result_due_in_two_working_days(decided_at, due_on):
    assert rules.gp_result_due(decided_at=decided_at, calendar=CAL) == end_of(due_on)


def test_gp_result_days_cannot_be_set_longer_than_the_law(settings):
    settings.EXPERT_RULES = {"gp_result_working_days": 10}
    assert rules.gp_result_due(decided_at=at(2026, 3, 2), calendar=CAL) == end_of(D(2026, 3, 4))
    settings.EXPERT_RULES = {"gp_result_working_days": 1}
    assert rules.gp_result_due(decided_at=at(2026, 3, 2), calendar=CAL) == end_of(D(2026, 3, 3))


@pytest.mark.parametrize(
    ("received_at", "due_on"),
    [
        (at(2026, 3, 2), D(2026, 3, 9)),  # Mon + 5 working days
        (at(2026, 9, 29), D(2026, 10, 12)),  # Sep 30, Oct 8, 9, 10 (worked Saturday), 12
    ],
)
def test_gp_purchaser_decides_within_five_working_days(received_at, due_on):
    assert rules.gp_purchaser_decision_due(report_received_at=received_at, calendar=CAL) == end_of(due_on)


# -- contract (法46: 30 days) and report to the supervisor (法47: 15 days) ---------------------------------------
@pytest.mark.parametrize(
    ("awarded_on", "regime", "due_on"),
    [
        (D(2026, 3, 2), "TB", D(2026, 4, 1)),
        (at(2026, 3, 2, 23, 30), "TB", D(2026, 4, 1)),  # a datetime counts by its Beijing day
        (D(2026, 9, 4), "TB", D(2026, 10, 8)),  # Oct 4 is in the holiday → Oct 8
        (D(2026, 9, 4), "GP", D(2026, 10, 8)),
        (D(2026, 1, 20), "GP", D(2026, 2, 24)),  # Feb 19 is in the Spring Festival → Feb 24
        (D(2026, 2, 5), "TB", D(2026, 3, 9)),  # Sat Mar 7 → Mon Mar 9
    ],
)
def test_contract_due_in_thirty_days(awarded_on, regime, due_on):
    assert rules.contract_due(awarded_on=awarded_on, regime=regime, calendar=CAL) == due_on


def test_contract_days_may_be_shortened_not_lengthened(settings):
    settings.EXPERT_RULES = {"contract_days": 20}
    assert rules.contract_due(awarded_on=D(2026, 3, 2), calendar=CAL) == D(2026, 3, 23)  # Sun 22 → Mon
    settings.EXPERT_RULES = {"contract_days": 45}
    assert rules.contract_due(awarded_on=D(2026, 3, 2), calendar=CAL) == D(2026, 4, 1)


@pytest.mark.parametrize(
    ("awarded_on", "due_on"),
    [
        (D(2026, 3, 2), D(2026, 3, 17)),
        (D(2026, 9, 16), D(2026, 10, 8)),  # Oct 1 → after the holiday
        (D(2026, 3, 6), D(2026, 3, 23)),  # Sat Mar 21 → Mon Mar 23
    ],
)
def test_supervisor_report_due_in_fifteen_days(awarded_on, due_on):
    assert rules.supervisor_report_due(awarded_on=awarded_on, calendar=CAL) == due_on


# -- [G] periods in hours and minutes, from the settings -----------------------------------------------------
def test_hour_and_minute_periods_follow_the_settings(settings):
    t = at(2026, 3, 2, 9, 0)
    assert rules.clarification_due(asked_at=t) == at(2026, 3, 3, 9, 0)
    assert rules.justification_due(requested_at=t) == at(2026, 3, 3, 9, 0)
    assert rules.reply_due(called_at=t) == at(2026, 3, 2, 9, 30)
    settings.EXPERT_RULES = {"clarification_hours": 2, "justification_hours": 48, "reply_minutes": 15}
    assert rules.clarification_due(asked_at=t) == at(2026, 3, 2, 11, 0)
    assert rules.justification_due(requested_at=t) == at(2026, 3, 4, 9, 0)
    assert rules.reply_due(called_at=t) == at(2026, 3, 2, 9, 15)


def test_setting_reads_overrides_and_falls_back_to_the_defaults(settings):
    settings.EXPERT_RULES = {"age_cap": 65}
    assert rules.setting("age_cap") == 65
    assert rules.setting("same_employer_limit") == rules.DEFAULTS["same_employer_limit"] == 1
    with pytest.raises(KeyError):
        rules.setting("no_such_rule")
