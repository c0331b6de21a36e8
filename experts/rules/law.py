"""The committee, the unsealing of names and the time limits of publicity and award (C1, C4, A7–A10)."""

from __future__ import annotations

import datetime as dt
import math

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from experts.rules.base import (
    GP_UNSEALING_STATES,
    SRC_COMMITTEE_GROUPS,
    TB_UNSEALING_STATES,
    TECHNICAL_ECONOMIC,
    _law_limit,
    _law_minimum,
    setting,
)
from trading.calendar import WorkingCalendar
from trading.rules.base import TB, Violation, check_regime, end_of_day, holiday_rolls_for, period_end
from trading.rules.deadlines import (
    AWARD_REPORT_DAYS,
    CONTRACT_DAYS,
    GP_PURCHASER_DECISION_WORKING_DAYS,
    GP_RESULT_ANNOUNCE_WORKING_DAYS,
    OBJECTION_REPLY_DAYS,
    PUBLICITY_MIN_DAYS,
)


# -- the committee (C1) ----------------------------------------------------------------------------------
def check_committee_groups(*, groups: list[str]) -> list[Violation]:
    """Technical and economic experts make up at least two thirds of the committee (法37).

    `groups`: one entry per member — "technical", "economic", "legal", "tenderee_rep", …; only the
    first two count. Size and oddness are trading.rules.check_committee."""
    if not groups:
        raise ValueError("an empty committee")
    size = len(groups)
    counted = sum(1 for g in groups if g in TECHNICAL_ECONOMIC)
    if 3 * counted >= 2 * size:  # integers: counted >= 2/3 size without rounding
        return []
    minimum = math.ceil(2 * size / 3)
    return [
        Violation(
            "committee_too_few_technical_economic",
            format_lazy(
                _(
                    "At least two thirds of the committee must be technical or economic experts: {minimum} of {size}."
                ),
                minimum=minimum,
                size=size,
            ),
            SRC_COMMITTEE_GROUPS,
            {"minimum": minimum, "size": size, "counted": counted},
        )
    ]


def names_unsealed(*, regime: str, tender_state: str, lot_awarded: bool) -> bool:
    """Whether the committee's names may be shown (C4). Until then everyone but the system and the
    regulators sees seat numbers.

    TB (法37: 评标委员会成员的名单在中标结果确定前应当保密): once the result is decided — the lot is
    awarded, or the tender is awarded, archived, failed or terminated (no result will come).
    GP (87号令47: 评审专家名单在评审结果公告前应当保密): once the result is announced, which the
    platform does with the award decision — the lot is awarded, or the tender awarded or archived.
    """
    check_regime(regime)
    if lot_awarded:
        return True
    states = TB_UNSEALING_STATES if regime == TB else GP_UNSEALING_STATES
    return tender_state in states


# -- time limits (A7–A10) --------------------------------------------------------------------------------
def publicity_ends(*, starts_at: dt.datetime, calendar: WorkingCalendar | None = None) -> dt.datetime:
    """The earliest end of the TB candidate publicity: at least 3 full calendar days (条例54), the
    start day not counted (A10), ending at the end of the last day; a last day that is not a working
    day moves to the next working day (TRADING_RULES["tb_holiday_rolls"], default on)."""
    days = _law_minimum("publicity_days", PUBLICITY_MIN_DAYS)
    day = period_end(
        starts_at, days, working_days=False, calendar=calendar, holiday_rolls=holiday_rolls_for(TB)
    )
    return end_of_day(day)


def objection_reply_due(*, raised_at: dt.datetime, calendar: WorkingCalendar | None = None) -> dt.datetime:
    """An objection to the candidates is answered within 3 days (条例54)."""
    days = _law_limit("objection_reply_days", OBJECTION_REPLY_DAYS)
    day = period_end(
        raised_at, days, working_days=False, calendar=calendar, holiday_rolls=holiday_rolls_for(TB)
    )
    return end_of_day(day)


def gp_result_due(*, decided_at: dt.datetime, calendar: WorkingCalendar | None = None) -> dt.datetime:
    """The GP result is announced within 2 working days of the award decision (87号令69)."""
    days = _law_limit("gp_result_working_days", GP_RESULT_ANNOUNCE_WORKING_DAYS)
    return end_of_day(period_end(decided_at, days, working_days=True, calendar=calendar))


def gp_purchaser_decision_due(
    *, report_received_at: dt.datetime, calendar: WorkingCalendar | None = None
) -> dt.datetime:
    """The purchaser decides within 5 working days of the report, else #1 is deemed chosen (87号令68)."""
    days = _law_limit("gp_purchaser_decision_working_days", GP_PURCHASER_DECISION_WORKING_DAYS)
    return end_of_day(period_end(report_received_at, days, working_days=True, calendar=calendar))


def contract_due(
    *, awarded_on: dt.date | dt.datetime, regime: str = TB, calendar: WorkingCalendar | None = None
) -> dt.date:
    """The last day to sign the written contract: 30 days from the award notice (法46; 87号令71)."""
    days = _law_limit("contract_days", CONTRACT_DAYS)
    return period_end(
        awarded_on, days, working_days=False, calendar=calendar, holiday_rolls=holiday_rolls_for(regime)
    )


def supervisor_report_due(
    *, awarded_on: dt.date | dt.datetime, calendar: WorkingCalendar | None = None
) -> dt.date:
    """The last day of the tenderee's written report to the supervisor: 15 days (法47)."""
    days = _law_limit("report_days", AWARD_REPORT_DAYS)
    return period_end(
        awarded_on, days, working_days=False, calendar=calendar, holiday_rolls=holiday_rolls_for(TB)
    )


def clarification_due(*, asked_at: dt.datetime) -> dt.datetime:
    """When a bidder's written clarification is due (条例52: in writing; the period is [G])."""
    return asked_at + dt.timedelta(hours=int(setting("clarification_hours")))


def justification_due(*, requested_at: dt.datetime) -> dt.datetime:
    """When the written justification of an abnormally low price is due (87号令60; period [G])."""
    return requested_at + dt.timedelta(hours=int(setting("justification_hours")))


def reply_due(*, called_at: dt.datetime) -> dt.datetime:
    """When a called expert must have confirmed or declined ([G])."""
    return called_at + dt.timedelta(minutes=int(setting("reply_minutes")))
