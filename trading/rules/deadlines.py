"""Time limits of DOMAIN A4–A9: objections, complaints, bid-security refunds, candidate
publicity, the GP result announcement and the award.

"Within N days" functions return the last lawful instant: the end of the last day of the
period, counted by A10 (`period_end`). Checks compare local dates: the law counts 日.
"""

from __future__ import annotations

import datetime as dt

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from trading.calendar import WorkingCalendar

from .base import (
    GP,
    TB,
    Violation,
    check_regime,
    end_of_day,
    holiday_rolls_for,
    local_date,
    period_end,
    setting,
    violation,
)

OBJECTION_DOCS_DAYS_BEFORE = 10  # 招标投标法实施条例22
OBJECTION_PREQUAL_DAYS_BEFORE = 2
OBJECTION_REPLY_DAYS = 3  # 条例22 / 条例54
OBJECTION_SUSPENDS_PROCESS = True
TB_COMPLAINT_DAYS = 10  # 条例60
GP_CHALLENGE_WORKING_DAYS = 7  # 质疑和投诉办法10
GP_CHALLENGE_REPLY_WORKING_DAYS = 7  # 办法13
GP_COMPLAINT_WORKING_DAYS = 15  # 办法17
PUBLICITY_PUBLISH_DAYS = 3  # 条例54
PUBLICITY_MIN_DAYS = 3
GP_RESULT_ANNOUNCE_WORKING_DAYS = 2  # 87号令69
GP_RESULT_NOTICE_WORKING_DAYS = 1
CONTRACT_DAYS = 30  # 招标投标法46 / 87号令71
AWARD_REPORT_DAYS = 15  # 招标投标法47
GP_REPORT_DELIVERY_WORKING_DAYS = 2  # 87号令68
GP_PURCHASER_DECISION_WORKING_DAYS = 5  # 87号令68

SRC_OBJECTION = "招标投标法实施条例第二十二条"
SRC_PUBLICITY = "招标投标法实施条例第五十四条"
SRC_GP_RESULT = "87号令第六十九条"


# -- A4: objections to the documents ----------------------------------------------------
def document_objection_deadline(
    *,
    deadline: dt.datetime | None = None,
    prequalification: bool = False,
    application_deadline: dt.datetime | None = None,
) -> dt.datetime:
    """The last moment to object to the documents (条例22): 10 days before the bid deadline
    for tender documents, 2 days before the application deadline for prequalification
    documents. The statute anchors to a time (投标截止时间10日前), so the limit keeps its
    clock time and is not moved for holidays: moving it later would shorten the tenderer's
    time to answer before the deadline.
    """
    if prequalification:
        if application_deadline is None:
            raise ValueError("prequalification objections need the application deadline")
        return application_deadline - dt.timedelta(days=OBJECTION_PREQUAL_DAYS_BEFORE)
    if deadline is None:
        raise ValueError("tender-document objections need the bid deadline")
    return deadline - dt.timedelta(days=OBJECTION_DOCS_DAYS_BEFORE)


def check_document_objection(
    *,
    raised_at: dt.datetime,
    deadline: dt.datetime | None = None,
    prequalification: bool = False,
    application_deadline: dt.datetime | None = None,
) -> list[Violation]:
    limit = document_objection_deadline(
        deadline=deadline, prequalification=prequalification, application_deadline=application_deadline
    )
    if raised_at <= limit:
        return []
    return [
        violation(
            "objection_too_late",
            format_lazy(_("Objections to these documents had to be raised by {latest}."), latest=limit),
            SRC_OBJECTION,
            latest=limit,
        )
    ]


def objection_reply_deadline(
    *, received_at: dt.datetime, regime: str = TB, calendar: WorkingCalendar | None = None
) -> dt.datetime:
    """The tenderee answers an objection within 3 days of receiving it (条例22, 条例54)."""
    day = period_end(
        received_at,
        OBJECTION_REPLY_DAYS,
        working_days=False,
        calendar=calendar,
        holiday_rolls=holiday_rolls_for(regime),
    )
    return end_of_day(day)


def objection_suspends() -> bool:
    """True: until the objection is answered the tender process is suspended (条例22/54:
    作出答复前，应当暂停招标投标活动). Services move the tender to `suspended` on receipt and
    back to the state it came from on the reply."""
    return OBJECTION_SUSPENDS_PROCESS


# -- A5: complaints ---------------------------------------------------------------------
def tb_complaint_deadline(
    *, known_at: dt.datetime, objection_reply_days_excluded: int = 0, calendar: WorkingCalendar | None = None
) -> dt.datetime:
    """A TB complaint is lodged within 10 days of knowing (条例60). For matters that need an
    objection first (条例22/44/54) the days spent waiting for the reply do not count: pass
    them as `objection_reply_days_excluded`."""
    if objection_reply_days_excluded < 0:
        raise ValueError("objection_reply_days_excluded must be >= 0")
    day = period_end(
        known_at,
        TB_COMPLAINT_DAYS + objection_reply_days_excluded,
        working_days=False,
        calendar=calendar,
        holiday_rolls=holiday_rolls_for(TB),
    )
    return end_of_day(day)


def gp_challenge_deadline(
    *, start: dt.date | dt.datetime, calendar: WorkingCalendar | None = None
) -> dt.datetime:
    """质疑 within 7 working days of the day the supplier knew or should have known
    (质疑和投诉办法10; the start day for each matter is defined by 实施条例53)."""
    return end_of_day(period_end(start, GP_CHALLENGE_WORKING_DAYS, working_days=True, calendar=calendar))


def gp_challenge_reply_deadline(
    *, received_at: dt.datetime, calendar: WorkingCalendar | None = None
) -> dt.datetime:
    """The purchaser or agency answers a 质疑 within 7 working days (办法13)."""
    return end_of_day(
        period_end(received_at, GP_CHALLENGE_REPLY_WORKING_DAYS, working_days=True, calendar=calendar)
    )


def gp_complaint_deadline(
    *, reply_deadline: dt.date | dt.datetime, calendar: WorkingCalendar | None = None
) -> dt.datetime:
    """投诉 within 15 working days after the reply period ends (办法17), whether or not a
    reply came."""
    return end_of_day(
        period_end(reply_deadline, GP_COMPLAINT_WORKING_DAYS, working_days=True, calendar=calendar)
    )


# -- A5: the supervising department's clocks on a complaint ----------------------------------
# TB: decide within 3 working days whether to accept, and within 30 working days of accepting
# decide in writing (招标投标法实施条例61). GP: review within 5 working days of receipt, decide
# within 30 working days of receipt (质疑和投诉办法21/26). In both, time spent on inspection,
# testing, appraisal or expert review is not counted: pass those days as `excluded_working_days`.
TB_COMPLAINT_ACCEPT_WORKING_DAYS = 3
TB_COMPLAINT_DECIDE_WORKING_DAYS = 30
GP_COMPLAINT_REVIEW_WORKING_DAYS = 5
GP_COMPLAINT_DECIDE_WORKING_DAYS = 30
SRC_TB_COMPLAINT_HANDLING = "招标投标法实施条例第六十一条"
SRC_GP_COMPLAINT_REVIEW = "政府采购质疑和投诉办法第二十一条"
SRC_GP_COMPLAINT_DECISION = "政府采购质疑和投诉办法第二十六条"


def complaint_acceptance_deadline(
    *, regime: str, received_at: dt.datetime, calendar: WorkingCalendar | None = None
) -> dt.datetime:
    """The last moment for the department to accept or refuse a complaint it received."""
    check_regime(regime)
    days = TB_COMPLAINT_ACCEPT_WORKING_DAYS if regime == TB else GP_COMPLAINT_REVIEW_WORKING_DAYS
    return end_of_day(period_end(received_at, days, working_days=True, calendar=calendar))


def complaint_decision_deadline(
    *,
    regime: str,
    received_at: dt.datetime,
    accepted_at: dt.datetime | None = None,
    excluded_working_days: int = 0,
    calendar: WorkingCalendar | None = None,
) -> dt.datetime:
    """The last moment for the written decision: TB counts from acceptance (条例61), GP from
    receipt (办法26); both add the working days excluded for inspection or expert review."""
    check_regime(regime)
    if excluded_working_days < 0:
        raise ValueError("excluded_working_days must be >= 0")
    if regime == TB:
        if accepted_at is None:
            raise ValueError("a TB decision deadline runs from the acceptance")
        start, days = accepted_at, TB_COMPLAINT_DECIDE_WORKING_DAYS
    else:
        start, days = received_at, GP_COMPLAINT_DECIDE_WORKING_DAYS
    return end_of_day(period_end(start, days + excluded_working_days, working_days=True, calendar=calendar))


# -- A6: bid-security refunds -----------------------------------------------------------
# (regime, event) -> (days, working days?, source)
_REFUNDS: dict[tuple[str, str], tuple[int | str, bool, str]] = {
    (TB, "withdrawal"): (5, False, "招标投标法实施条例第三十五条"),
    (TB, "contract_signed"): (5, False, "招标投标法实施条例第五十七条"),
    (TB, "termination"): ("tb_termination_refund_days", False, "招标投标法实施条例第三十一条"),
    (GP, "withdrawal"): (5, True, "87号令第三十八条"),
    (GP, "award_notice"): (5, True, "87号令第三十八条"),  # unsuccessful bidders
    (GP, "contract_signed"): (5, True, "87号令第三十八条"),  # the winner
    (GP, "termination"): (5, True, "87号令第二十九条"),
}
REFUND_EVENTS = frozenset(event for _regime, event in _REFUNDS)


def bid_security_refund_deadline(
    *, regime: str, event: str, at: dt.datetime, calendar: WorkingCalendar | None = None
) -> dt.datetime:
    """When a bid security must be back with the bidder after `event` happened `at`.

    TB: 5 days after a withdrawal notice (条例35) or after the contract is signed, for the
    winner and the others alike, with interest (条例57). GP: 5 working days after a
    withdrawal notice, after the award notice (unsuccessful bidders), after the contract
    (the winner) (87号令38) or after termination (87号令29); late refunds owe an overdue fee.
    """
    try:
        days, working, _source = _REFUNDS[(check_regime(regime), event)]
    except KeyError:
        raise ValueError(f"no refund rule for {event!r} under {regime}") from None
    if isinstance(days, str):
        days = int(setting(days))
    day = period_end(
        at, days, working_days=working, calendar=calendar, holiday_rolls=holiday_rolls_for(regime)
    )
    return end_of_day(day)


def bid_security_refund_source(*, regime: str, event: str) -> str:
    return _REFUNDS[(check_regime(regime), event)][2]


# -- A7: candidate publicity (TB) -------------------------------------------------------
def candidate_publicity_window(
    *,
    report_received_at: dt.datetime,
    start: dt.datetime | None = None,
    calendar: WorkingCalendar | None = None,
) -> tuple[dt.datetime, dt.datetime]:
    """(latest_start, min_end) of the 中标候选人公示 (条例54): published within 3 days of
    receiving the evaluation report, open for at least 3 days. `min_end` counts from
    `start`, or from `latest_start` when the publicity has not started yet."""
    rolls = holiday_rolls_for(TB)
    latest = period_end(
        report_received_at, PUBLICITY_PUBLISH_DAYS, working_days=False, calendar=calendar, holiday_rolls=rolls
    )
    first_day = local_date(start) if start is not None else latest
    min_end = period_end(
        first_day, PUBLICITY_MIN_DAYS, working_days=False, calendar=calendar, holiday_rolls=rolls
    )
    return end_of_day(latest), end_of_day(min_end)


def check_candidate_publicity(
    *,
    report_received_at: dt.datetime,
    start: dt.datetime,
    end: dt.datetime,
    calendar: WorkingCalendar | None = None,
) -> list[Violation]:
    out = []
    latest_start, min_end = candidate_publicity_window(
        report_received_at=report_received_at, start=start, calendar=calendar
    )
    if start < report_received_at:
        out.append(
            violation(
                "publicity_before_report",
                _("The candidates cannot be published before the evaluation report is received."),
                "",
            )
        )
    if end <= start:
        out.append(
            violation("publicity_period_reversed", _("The publicity period ends before it begins."), "")
        )
    if local_date(start) > latest_start.date():
        out.append(
            violation(
                "publicity_too_late",
                format_lazy(
                    _(
                        "The candidates had to be published within {days} days of receiving the "
                        "evaluation report, by {latest}."
                    ),
                    days=PUBLICITY_PUBLISH_DAYS,
                    latest=latest_start.date(),
                ),
                SRC_PUBLICITY,
                days=PUBLICITY_PUBLISH_DAYS,
                latest=latest_start.date(),
            )
        )
    if local_date(end) < min_end.date():
        out.append(
            violation(
                "publicity_too_short",
                format_lazy(
                    _("The publicity must stay open for at least {days} days, until {earliest} or later."),
                    days=PUBLICITY_MIN_DAYS,
                    earliest=min_end.date(),
                ),
                SRC_PUBLICITY,
                days=PUBLICITY_MIN_DAYS,
                earliest=min_end.date(),
            )
        )
    return out


# -- A8: the GP result announcement -----------------------------------------------------
def gp_result_announcement_deadline(
    *, decided_at: dt.datetime, calendar: WorkingCalendar | None = None
) -> dt.datetime:
    """The result is announced within 2 working days of the award decision (87号令69)."""
    return end_of_day(
        period_end(decided_at, GP_RESULT_ANNOUNCE_WORKING_DAYS, working_days=True, calendar=calendar)
    )


def gp_result_notice_end(
    *, published_at: dt.datetime, calendar: WorkingCalendar | None = None
) -> dt.datetime:
    """The result announcement stays published for 1 working day (87号令69)."""
    return end_of_day(
        period_end(published_at, GP_RESULT_NOTICE_WORKING_DAYS, working_days=True, calendar=calendar)
    )


def check_gp_result_announcement(
    *,
    decided_at: dt.datetime,
    published_at: dt.datetime,
    ends_at: dt.datetime | None = None,
    calendar: WorkingCalendar | None = None,
) -> list[Violation]:
    out = []
    latest = gp_result_announcement_deadline(decided_at=decided_at, calendar=calendar)
    if published_at > latest:
        out.append(
            violation(
                "gp_result_late",
                format_lazy(
                    _(
                        "The result had to be announced within {days} working days of the decision, "
                        "by {latest}."
                    ),
                    days=GP_RESULT_ANNOUNCE_WORKING_DAYS,
                    latest=latest.date(),
                ),
                SRC_GP_RESULT,
                days=GP_RESULT_ANNOUNCE_WORKING_DAYS,
                latest=latest.date(),
            )
        )
    if ends_at is not None:
        min_end = gp_result_notice_end(published_at=published_at, calendar=calendar)
        if local_date(ends_at) < min_end.date():
            out.append(
                violation(
                    "gp_result_notice_too_short",
                    format_lazy(
                        _(
                            "The result must stay published for at least {days} working day, until "
                            "{earliest} or later."
                        ),
                        days=GP_RESULT_NOTICE_WORKING_DAYS,
                        earliest=min_end.date(),
                    ),
                    SRC_GP_RESULT,
                    days=GP_RESULT_NOTICE_WORKING_DAYS,
                    earliest=min_end.date(),
                )
            )
    return out


# -- A9: award, contract, report --------------------------------------------------------
def contract_deadline(
    *, award_notice_at: dt.datetime, regime: str = TB, calendar: WorkingCalendar | None = None
) -> dt.datetime:
    """The written contract is signed within 30 days of the award notice (法46 / 87号令71)."""
    day = period_end(
        award_notice_at,
        CONTRACT_DAYS,
        working_days=False,
        calendar=calendar,
        holiday_rolls=holiday_rolls_for(regime),
    )
    return end_of_day(day)


def award_report_deadline(
    *, award_notice_at: dt.datetime, calendar: WorkingCalendar | None = None
) -> dt.datetime:
    """The tenderee reports to the supervisor within 15 days (法47). The statute counts from
    the day the winner is determined; on this platform that is the day of the award notice."""
    day = period_end(
        award_notice_at,
        AWARD_REPORT_DAYS,
        working_days=False,
        calendar=calendar,
        holiday_rolls=holiday_rolls_for(TB),
    )
    return end_of_day(day)


def gp_report_delivery_deadline(
    *, evaluation_ended_at: dt.datetime, calendar: WorkingCalendar | None = None
) -> dt.datetime:
    """The agency sends the evaluation report to the purchaser within 2 working days (87号令68)."""
    return end_of_day(
        period_end(evaluation_ended_at, GP_REPORT_DELIVERY_WORKING_DAYS, working_days=True, calendar=calendar)
    )


def gp_purchaser_decision_deadline(
    *, report_received_at: dt.datetime, calendar: WorkingCalendar | None = None
) -> dt.datetime:
    """The purchaser picks the winner within 5 working days of receiving the report; after
    that the first-ranked candidate is deemed chosen (87号令68)."""
    return end_of_day(
        period_end(
            report_received_at, GP_PURCHASER_DECISION_WORKING_DAYS, working_days=True, calendar=calendar
        )
    )
