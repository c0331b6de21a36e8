"""The legal rules of trading.rules, table-driven with boundary cases: the day before, the
day of and the day after each limit; GP working days across public holidays and adjusted
working weekends (2026 calendar as published by the State Council)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from core.errors import RuleViolation
from trading import rules
from trading.calendar import WorkingCalendar

SH = ZoneInfo("Asia/Shanghai")
D = dt.date
CAL = WorkingCalendar()  # public holidays, no local overrides


def at(y: int, m: int, d: int, h: int = 9, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=SH)


def codes(violations) -> list[str]:
    return [v.code for v in violations]


# -- period_end (A10) ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "days", "working", "rolls", "expected"),
    [
        (D(2026, 3, 4), 20, False, True, D(2026, 3, 24)),  # start day not counted
        (D(2026, 3, 2), 20, False, True, D(2026, 3, 23)),  # Sunday Mar 22 rolls to Monday
        (D(2026, 3, 2), 20, False, False, D(2026, 3, 22)),  # ... unless rolling is off
        (D(2026, 9, 25), 10, False, True, D(2026, 10, 8)),  # Oct 5 is a holiday
        (D(2026, 9, 30), 10, False, True, D(2026, 10, 10)),  # the worked Saturday ends it
        (D(2026, 3, 4), 5, True, True, D(2026, 3, 11)),
        (D(2026, 9, 29), 5, True, True, D(2026, 10, 12)),  # National Day
        (D(2026, 2, 10), 5, True, True, D(2026, 2, 24)),  # Spring Festival
        (D(2026, 9, 14), 5, True, True, D(2026, 9, 20)),  # the worked Sunday counts
        (at(2026, 3, 4, 23, 59), 20, False, True, D(2026, 3, 24)),  # a datetime counts by its day
    ],
)
def test_period_end(start, days, working, rolls, expected):
    assert rules.period_end(start, days, working_days=working, calendar=CAL, holiday_rolls=rolls) == expected


def test_period_end_refuses_negative_days():
    with pytest.raises(ValueError):
        rules.period_end(D(2026, 3, 4), -1, working_days=False, calendar=CAL)


# -- Violation and raise_first -------------------------------------------------------------
def test_raise_first_raises_the_first_violation_with_code_source_and_params():
    # given two violations
    found = rules.check_bid_security(regime="TB", amount=Decimal("-1"), base=Decimal("0"))
    assert codes(found) == ["bid_security_negative", "bid_security_base_missing"]
    # when raised, then the first one becomes a RuleViolation
    with pytest.raises(RuleViolation) as exc:
        rules.raise_first(found)
    assert exc.value.code == "bid_security_negative"
    assert exc.value.status == 422


def test_raise_first_carries_source_and_params_into_the_error():
    found = rules.check_bid_security(regime="GP", amount=Decimal("20000.01"), base=Decimal("1000000"))
    with pytest.raises(RuleViolation) as exc:
        rules.raise_first(found)
    data = exc.value.as_dict()
    assert data["code"] == "gp_bid_security_too_high"
    assert data["source"] == "政府采购法实施条例第三十三条"
    assert data["params"]["maximum"] == "20000.00"


def test_raise_first_does_nothing_without_violations():
    assert rules.raise_first([]) is None
    assert rules.raise_first(None) is None


def test_messages_are_lazy_and_rendered_in_the_active_language():
    [v] = rules.check_candidates_count(4)
    with translation.override("en"):
        assert str(v.message) == "At most 3 candidates may be recommended."


# -- A1/A2: the tender timeline --------------------------------------------------------------
def timeline(
    regime="TB", method="open", published=None, docs_from=None, docs_until=None, deadline=None, **kw
):
    """A lawful timeline unless told otherwise: published and documents from Wed 2026-03-04."""
    published = published or at(2026, 3, 4)
    return rules.check_tender_timeline(
        regime=regime,
        category=kw.pop("category", "goods"),
        method=method,
        published_at=published,
        docs_from=docs_from or published,
        docs_until=docs_until or at(2026, 3, 11, 17),
        deadline=deadline or at(2026, 3, 24, 9, 30),
        calendar=kw.pop("calendar", CAL),
        **kw,
    )


@pytest.mark.parametrize("regime", ["TB", "GP"])
def test_a_lawful_timeline_has_no_violation(regime):
    assert timeline(regime=regime) == []


@pytest.mark.parametrize(
    ("regime", "deadline", "expected"),
    [
        ("TB", at(2026, 3, 23, 9, 30), ["tb_bid_period_too_short"]),  # day before
        ("TB", at(2026, 3, 24, 9, 30), []),  # day of: docs from Mar 4 + 20 days
        ("TB", at(2026, 3, 25, 9, 30), []),  # day after
        ("GP", at(2026, 3, 23, 9, 30), ["gp_bid_period_too_short"]),
        ("GP", at(2026, 3, 24, 9, 30), []),
        ("GP", at(2026, 3, 25, 9, 30), []),
        ("TB", at(2026, 3, 24, 0, 0), []),  # the day counts, whatever the hour
    ],
)
def test_bid_period_of_20_days(regime, deadline, expected):
    assert codes(timeline(regime=regime, deadline=deadline)) == expected


def test_bid_period_violation_names_source_and_earliest_deadline():
    [v] = timeline(regime="TB", deadline=at(2026, 3, 23, 9, 30))
    assert v.source == "招标投标法第二十四条"
    assert v.params == {"days": 20, "working_days": False, "earliest": D(2026, 3, 24)}
    with translation.override("en"):
        assert "2026-03-24" in str(v.message)
    [g] = timeline(regime="GP", deadline=at(2026, 3, 23, 9, 30))
    assert g.source == "政府采购法第三十五条"


@pytest.mark.parametrize(
    ("deadline", "expected"),
    [
        # documents from Tue Sep 15: +20 days is Mon Oct 5, a holiday → earliest Oct 8
        (at(2026, 10, 7), ["tb_bid_period_too_short"]),
        (at(2026, 10, 8), []),
        (at(2026, 10, 9), []),
    ],
)
def test_tb_bid_period_ending_in_a_holiday_rolls_to_the_next_working_day(deadline, expected):
    found = timeline(published=at(2026, 9, 15), docs_until=at(2026, 9, 22, 17), deadline=deadline)
    assert codes(found) == expected


def test_tb_holiday_roll_can_be_switched_off(settings):
    # given a deployment that does not apply A10's holiday roll to the Bidding Law regime [G]
    settings.TRADING_RULES = {"tb_holiday_rolls": False}
    # when the 20th day is the holiday Oct 5, then a deadline on Oct 7 is lawful
    found = timeline(published=at(2026, 9, 15), docs_until=at(2026, 9, 22, 17), deadline=at(2026, 10, 7))
    assert found == []
    # but GP always rolls (87号令86)
    found = timeline(
        regime="GP", published=at(2026, 9, 15), docs_until=at(2026, 9, 22, 17), deadline=at(2026, 10, 7)
    )
    assert codes(found) == ["gp_bid_period_too_short"]


@pytest.mark.parametrize(
    ("docs_until", "expected"),
    [
        (at(2026, 3, 8, 17), ["tb_doc_period_too_short"]),  # day before (docs from Mar 4 + 5)
        (at(2026, 3, 9, 17), []),  # day of
        (at(2026, 3, 10, 17), []),  # day after
    ],
)
def test_tb_document_period_of_5_days(docs_until, expected):
    assert codes(timeline(docs_until=docs_until)) == expected


@pytest.mark.parametrize(
    ("published", "docs_until", "expected"),
    [
        # an ordinary week: from Wed Mar 4, 5 working days end Wed Mar 11
        (at(2026, 3, 4), at(2026, 3, 10, 17), ["gp_doc_period_too_short"]),
        (at(2026, 3, 4), at(2026, 3, 11, 17), []),
        (at(2026, 3, 4), at(2026, 3, 12, 17), []),
        # across National Day: from Tue Sep 29 → Sep 30, Oct 8, 9, 10 (Sat, worked), 12
        (at(2026, 9, 29), at(2026, 10, 10, 17), ["gp_doc_period_too_short"]),
        (at(2026, 9, 29), at(2026, 10, 12, 17), []),
        (at(2026, 9, 29), at(2026, 10, 13, 17), []),
        # across Spring Festival: from Tue Feb 10 → Feb 11, 12, 13, 14 (Sat, worked), 24
        (at(2026, 2, 10), at(2026, 2, 23, 17), ["gp_doc_period_too_short"]),
        (at(2026, 2, 10), at(2026, 2, 24, 17), []),
        (at(2026, 2, 10), at(2026, 2, 25, 17), []),
        # the worked Sunday Sep 20 counts: from Mon Sep 14 → 15, 16, 17, 18, 20
        (at(2026, 9, 14), at(2026, 9, 19, 17), ["gp_doc_period_too_short"]),
        (at(2026, 9, 14), at(2026, 9, 20, 17), []),
    ],
)
def test_gp_document_period_of_5_working_days(published, docs_until, expected):
    found = timeline(
        regime="GP",
        published=published,
        docs_until=docs_until,
        deadline=published + dt.timedelta(days=30),
        announcement_until=published + dt.timedelta(days=30),
    )
    assert codes(found) == expected


def test_gp_document_period_violation_names_source_and_earliest_day():
    [v] = timeline(
        regime="GP", published=at(2026, 9, 29), docs_until=at(2026, 10, 10, 17), deadline=at(2026, 10, 29)
    )
    assert v.source == "87号令第十八条"
    assert v.params == {"days": 5, "working_days": True, "earliest": D(2026, 10, 12)}


@pytest.mark.parametrize(
    ("announcement_until", "expected"),
    [
        (at(2026, 3, 10, 17), ["gp_announcement_period_too_short"]),  # day before
        (at(2026, 3, 11, 17), []),  # day of: Mar 4 + 5 working days
        (at(2026, 3, 12, 17), []),  # day after
    ],
)
def test_gp_announcement_period_of_5_working_days(announcement_until, expected):
    found = timeline(regime="GP", announcement_until=announcement_until)
    assert codes(found) == expected
    if found:
        assert found[0].source == "87号令第十六条"


def test_gp_announcement_period_defaults_to_the_deadline():
    # given a deadline only 4 working days after publication (an impossible, but checkable, plan)
    found = timeline(regime="GP", docs_until=at(2026, 3, 9, 17), deadline=at(2026, 3, 10, 17))
    assert "gp_announcement_period_too_short" in codes(found)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"docs_from": at(2026, 3, 3)}, "docs_before_publication"),
        ({"docs_from": at(2026, 3, 5), "docs_until": at(2026, 3, 4, 17)}, "docs_period_reversed"),
        ({"docs_until": at(2026, 3, 24, 10)}, "docs_after_deadline"),
        ({"deadline": at(2026, 3, 4)}, "deadline_before_publication"),
    ],
)
def test_timeline_consistency(kwargs, expected):
    assert expected in codes(timeline(**kwargs))


@pytest.mark.parametrize(
    "method", ["competitive_negotiation", "competitive_consultation", "inquiry", "single_source"]
)
def test_tendering_periods_do_not_apply_to_other_methods(method):
    # given a 10-day timeline with a 2-day document period, which would break A1 and A2
    found = timeline(regime="GP", method=method, docs_until=at(2026, 3, 6, 17), deadline=at(2026, 3, 14))
    assert found == []


@pytest.mark.parametrize("method", ["open", "invited"])
def test_tendering_periods_apply_to_open_and_invited_tendering(method):
    found = timeline(method=method, deadline=at(2026, 3, 23))
    assert codes(found) == ["tb_bid_period_too_short"]


@pytest.mark.parametrize("category", ["works", "goods", "services"])
def test_gp_bid_period_applies_to_every_category(category):
    found = timeline(regime="GP", category=category, deadline=at(2026, 3, 23))
    assert codes(found) == ["gp_bid_period_too_short"]


@pytest.mark.parametrize(
    ("deadline", "expected"),
    [
        # prequalification documents Mar 4–Mar 9 (5 days); applications close ≥ Mar 9 + 5 = Mar 14 (Sat) → Mar 16
        (at(2026, 3, 13), ["tb_prequal_application_period_too_short"]),
        (at(2026, 3, 16), []),
        (at(2026, 3, 17), []),
    ],
)
def test_tb_prequalification_application_period(deadline, expected):
    found = timeline(docs_until=at(2026, 3, 9, 17), deadline=deadline, prequalification=True)
    assert codes(found) == expected


def test_prequalification_does_not_need_the_20_day_bid_period_in_gp():
    found = timeline(regime="GP", deadline=at(2026, 3, 16), prequalification=True)
    assert found == []


def test_unknown_regime_is_a_programming_error():
    with pytest.raises(ValueError):
        timeline(regime="XX")


# -- A3: amendments ----------------------------------------------------------------------------
DEADLINE = at(2026, 3, 31, 9, 30)  # a Tuesday


@pytest.mark.parametrize(
    ("regime", "issued", "expected"),
    [
        ("TB", at(2026, 3, 15, 16), DEADLINE),  # 16 days left
        ("TB", at(2026, 3, 16, 16), DEADLINE),  # 15 days left: in time
        ("TB", at(2026, 3, 17, 10), at(2026, 4, 1, 9, 30)),  # 14 days left: moved, same clock time
        ("GP", at(2026, 3, 16, 16), DEADLINE),
        ("GP", at(2026, 3, 17, 10), at(2026, 4, 1, 9, 30)),
        ("GP", at(2026, 3, 30, 10), at(2026, 4, 14, 9, 30)),  # one day left
    ],
)
def test_amendment_affecting_preparation_moves_the_deadline_to_15_days(regime, issued, expected):
    new = rules.amendment_deadline(
        regime=regime, issued_at=issued, deadline=DEADLINE, affects_preparation=True, calendar=CAL
    )
    assert new == expected
    assert new.astimezone(SH).time() == dt.time(9, 30)


def test_amendment_not_affecting_preparation_leaves_the_deadline():
    new = rules.amendment_deadline(
        regime="TB", issued_at=at(2026, 3, 30), deadline=DEADLINE, affects_preparation=False, calendar=CAL
    )
    assert new == DEADLINE


@pytest.mark.parametrize(
    ("issued", "deadline", "expected"),
    [
        # issued Sep 20: +15 = Oct 5, a holiday → the earliest deadline is Oct 8
        (at(2026, 9, 20, 10), at(2026, 10, 7, 9, 30), at(2026, 10, 8, 9, 30)),
        # issued Sep 25: +15 = Sat Oct 10, a worked Saturday → a lawful deadline day
        (at(2026, 9, 25, 10), at(2026, 10, 9, 9, 30), at(2026, 10, 10, 9, 30)),
        # issued Sep 22: +15 = Oct 7 (holiday) → Oct 8, and the deadline Oct 9 is later already
        (at(2026, 9, 22, 10), at(2026, 10, 9, 9, 30), at(2026, 10, 9, 9, 30)),
    ],
)
def test_gp_amendment_extension_across_national_day(issued, deadline, expected):
    new = rules.amendment_deadline(
        regime="GP", issued_at=issued, deadline=deadline, affects_preparation=True, calendar=CAL
    )
    assert new == expected


@pytest.mark.parametrize(
    ("issued", "expected"),
    [
        (at(2026, 3, 16, 10), at(2026, 3, 20, 9)),  # 4 days left
        (at(2026, 3, 17, 10), at(2026, 3, 20, 9)),  # 3 days left: in time
        (at(2026, 3, 18, 10), at(2026, 3, 23, 9)),  # 2 days left: +3 = Sat Mar 21 → Mon Mar 23
    ],
)
def test_prequalification_amendment_needs_3_days(issued, expected):
    new = rules.amendment_deadline(
        regime="TB",
        issued_at=issued,
        deadline=at(2026, 3, 20, 9),
        affects_preparation=True,
        prequalification=True,
        calendar=CAL,
    )
    assert new == expected


@pytest.mark.parametrize(
    ("regime", "kwargs", "expected"),
    [
        ("GP", {"changes_object": True}, ["gp_amendment_changes_object"]),
        ("GP", {"changes_qualification": True}, ["gp_amendment_changes_qualification"]),
        ("GP", {}, []),
        ("TB", {"changes_object": True, "changes_qualification": True}, []),
        ("TB", {"issued_at": at(2026, 3, 31, 9, 30), "deadline": DEADLINE}, ["amendment_after_deadline"]),
        ("TB", {"issued_at": at(2026, 3, 31, 9, 29), "deadline": DEADLINE}, []),
    ],
)
def test_check_amendment(regime, kwargs, expected):
    found = rules.check_amendment(regime=regime, **kwargs)
    assert codes(found) == expected
    assert all(v.source == "87号令第二十七条" for v in found if v.code.startswith("gp_"))


# -- A4: objections to the documents -------------------------------------------------------
def test_document_objection_deadline_is_10_days_before_the_bid_deadline():
    assert rules.document_objection_deadline(deadline=DEADLINE, prequalification=False) == at(
        2026, 3, 21, 9, 30
    )


def test_prequalification_objection_deadline_is_2_days_before_the_application_deadline():
    limit = rules.document_objection_deadline(
        deadline=DEADLINE, prequalification=True, application_deadline=at(2026, 3, 20, 9)
    )
    assert limit == at(2026, 3, 18, 9)


def test_prequalification_objection_deadline_needs_the_application_deadline():
    with pytest.raises(ValueError):
        rules.document_objection_deadline(deadline=DEADLINE, prequalification=True)


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (at(2026, 3, 20, 16), []),  # the day before the limit
        (at(2026, 3, 21, 9, 30), []),  # the limit itself
        (at(2026, 3, 21, 9, 31), ["objection_too_late"]),
        (at(2026, 3, 22, 9), ["objection_too_late"]),  # the day after
    ],
)
def test_check_document_objection(raised, expected):
    found = rules.check_document_objection(raised_at=raised, deadline=DEADLINE)
    assert codes(found) == expected
    assert all(v.source == "招标投标法实施条例第二十二条" for v in found)


@pytest.mark.parametrize(
    ("received", "expected_day"),
    [
        (at(2026, 3, 2, 10), D(2026, 3, 5)),  # Mon + 3 days
        (at(2026, 3, 4, 10), D(2026, 3, 9)),  # Wed + 3 = Sat → Mon
        (at(2026, 9, 28, 10), D(2026, 10, 8)),  # + 3 = Oct 1 → after National Day
    ],
)
def test_objection_reply_within_3_days(received, expected_day):
    limit = rules.objection_reply_deadline(received_at=received, calendar=CAL)
    # the whole last day is in time, the next day is not
    assert limit == rules.end_of_day(expected_day)
    assert limit.astimezone(SH).date() == expected_day


def test_objections_suspend_the_process():
    assert rules.objection_suspends() is True
    assert rules.OBJECTION_SUSPENDS_PROCESS is True


# -- A5: complaints ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lodged", "in_time"),
    [
        (at(2026, 3, 11, 12), True),  # day before the last day (known Mon Mar 2 + 10 = Thu Mar 12)
        (at(2026, 3, 12, 23, 59), True),  # the last day
        (at(2026, 3, 13, 0, 0), False),  # the day after
    ],
)
def test_tb_complaint_within_10_days(lodged, in_time):
    limit = rules.tb_complaint_deadline(known_at=at(2026, 3, 2, 15), calendar=CAL)
    assert (lodged <= limit) is in_time


def test_tb_complaint_does_not_count_the_objection_reply_days():
    # given 3 days spent waiting for the objection's reply: Mar 2 + 13 = Sun Mar 15 → Mon Mar 16
    limit = rules.tb_complaint_deadline(
        known_at=at(2026, 3, 2), objection_reply_days_excluded=3, calendar=CAL
    )
    assert limit.date() == D(2026, 3, 16)


def test_tb_complaint_refuses_negative_excluded_days():
    with pytest.raises(ValueError):
        rules.tb_complaint_deadline(known_at=at(2026, 3, 2), objection_reply_days_excluded=-1)


@pytest.mark.parametrize(
    ("func", "kwarg", "start", "expected_day"),
    [
        # 7 working days from Mon Sep 28: Sep 29, 30, Oct 8, 9, 10 (Sat, worked), 12, 13
        (rules.gp_challenge_deadline, "start", at(2026, 9, 28), D(2026, 10, 13)),
        (rules.gp_challenge_reply_deadline, "received_at", at(2026, 9, 28), D(2026, 10, 13)),
        # across Spring Festival, both worked Saturdays count: Feb 13, 14, 24, 25, 26, 27, 28
        (rules.gp_challenge_deadline, "start", at(2026, 2, 12), D(2026, 2, 28)),
        (rules.gp_challenge_deadline, "start", D(2026, 3, 2), D(2026, 3, 11)),
        # 15 working days after the reply period that ended Oct 13
        (rules.gp_complaint_deadline, "reply_deadline", rules.end_of_day(D(2026, 10, 13)), D(2026, 11, 3)),
    ],
)
def test_gp_challenge_and_complaint_chain(func, kwarg, start, expected_day):
    limit = func(**{kwarg: start}, calendar=CAL)
    assert limit.astimezone(SH).date() == expected_day


def test_gp_chain_end_to_end():
    # given a supplier who knew of the matter on Mon Sep 28, 2026
    challenge_by = rules.gp_challenge_deadline(start=at(2026, 9, 28), calendar=CAL)
    # when it challenges on the last day and the purchaser takes its full 7 working days
    reply_by = rules.gp_challenge_reply_deadline(received_at=challenge_by, calendar=CAL)
    complaint_by = rules.gp_complaint_deadline(reply_deadline=reply_by, calendar=CAL)
    # then each period starts the day after the previous one ends
    assert (challenge_by.date(), reply_by.date(), complaint_by.date()) == (
        D(2026, 10, 13),
        D(2026, 10, 22),
        D(2026, 11, 12),
    )


# -- A5: the supervising department's clocks ------------------------------------------------------
@pytest.mark.parametrize(
    ("regime", "lodged", "in_time"),
    [
        # received Mon Sep 28; working days Sep 29, 30, (National Day Oct 1–7), Oct 8 → TB: 3 → Oct 8
        ("TB", at(2026, 10, 8, 23, 59), True),
        ("TB", at(2026, 10, 9, 0, 0), False),
        # GP: 5 working days → Oct 8, 9 and the worked Saturday Oct 10
        ("GP", at(2026, 10, 10, 23, 59), True),
        ("GP", at(2026, 10, 12, 0, 0), False),
    ],
)
def test_complaint_acceptance_clock_across_national_day(regime, lodged, in_time):
    limit = rules.complaint_acceptance_deadline(regime=regime, received_at=at(2026, 9, 28, 10), calendar=CAL)
    assert (lodged <= limit) is in_time


def test_complaint_decision_clock_runs_from_acceptance_tb_and_receipt_gp():
    # 30 working days after Mon Mar 2, across Qingming (Apr 4–6): Mar 3 … Apr 3 (24), Apr 7 … Apr 14
    tb = rules.complaint_decision_deadline(
        regime="TB", received_at=at(2026, 2, 26), accepted_at=at(2026, 3, 2, 10), calendar=CAL
    )
    gp = rules.complaint_decision_deadline(regime="GP", received_at=at(2026, 3, 2, 10), calendar=CAL)
    assert tb.date() == gp.date() == D(2026, 4, 14)
    assert (tb + dt.timedelta(microseconds=1)).date() == D(2026, 4, 15)
    # expert review (2 working days) is not counted
    later = rules.complaint_decision_deadline(
        regime="GP", received_at=at(2026, 3, 2, 10), excluded_working_days=2, calendar=CAL
    )
    assert later.date() == D(2026, 4, 16)
    with pytest.raises(ValueError):
        rules.complaint_decision_deadline(regime="TB", received_at=at(2026, 3, 2))
    with pytest.raises(ValueError):
        rules.complaint_decision_deadline(regime="GP", received_at=at(2026, 3, 2), excluded_working_days=-1)


# -- A6: bid security ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("regime", "amount", "base", "expected"),
    [
        ("TB", "19999.99", "1000000.00", []),
        ("TB", "20000.00", "1000000.00", []),  # exactly 2 %
        ("TB", "20000.01", "1000000.00", ["tb_bid_security_too_high"]),  # 2 % + 0.01
        ("GP", "20000.00", "1000000.00", []),
        ("GP", "20000.01", "1000000.00", ["gp_bid_security_too_high"]),
        ("TB", "20000.00", "1000000.37", []),  # 2 % is 20000.0074
        ("TB", "20000.01", "1000000.37", ["tb_bid_security_too_high"]),
        ("TB", "0.00", "1000000.00", []),  # no security asked
        ("TB", "-0.01", "1000000.00", ["bid_security_negative"]),
        ("GP", "100.00", "0.00", ["bid_security_base_missing"]),
    ],
)
def test_bid_security_at_most_2_percent(regime, amount, base, expected):
    found = rules.check_bid_security(regime=regime, amount=Decimal(amount), base=Decimal(base))
    assert codes(found) == expected


@pytest.mark.parametrize(
    ("regime", "source"), [("TB", "招标投标法实施条例第二十六条"), ("GP", "政府采购法实施条例第三十三条")]
)
def test_bid_security_violation_names_source_and_maximum(regime, source):
    [v] = rules.check_bid_security(regime=regime, amount=Decimal("30000"), base=Decimal("1000000.37"))
    assert v.source == source
    assert v.params["maximum"] == Decimal("20000.00")


@pytest.mark.parametrize(
    ("base", "maximum"),
    [("1000000.00", "20000.00"), ("1000000.37", "20000.00"), ("1234.56", "24.69"), ("0.49", "0.00")],
)
def test_bid_security_max_rounds_down_to_the_cent(base, maximum):
    assert rules.bid_security_max("TB", Decimal(base)) == Decimal(maximum)


def test_money_must_be_decimal():
    with pytest.raises(TypeError):
        rules.check_bid_security(regime="TB", amount=20000.0, base=Decimal("1000000"))


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("49999.99", []), ("50000.00", []), ("50000.01", ["performance_security_too_high"])],
)
def test_performance_security_at_most_10_percent(amount, expected):
    found = rules.check_performance_security(amount=Decimal(amount), contract_amount=Decimal("500000.00"))
    assert codes(found) == expected
    assert rules.performance_security_max(Decimal("500000.00")) == Decimal("50000.00")


@pytest.mark.parametrize(
    ("regime", "event", "when", "expected_day"),
    [
        ("TB", "withdrawal", at(2026, 3, 2), D(2026, 3, 9)),  # +5 = Sat Mar 7 → Mon Mar 9
        ("TB", "withdrawal", at(2026, 3, 4), D(2026, 3, 9)),
        ("TB", "contract_signed", at(2026, 3, 5), D(2026, 3, 10)),
        ("TB", "termination", at(2026, 3, 5), D(2026, 3, 10)),
        ("GP", "withdrawal", at(2026, 3, 2), D(2026, 3, 9)),  # 5 working days
        ("GP", "withdrawal", at(2026, 3, 4), D(2026, 3, 11)),
        ("GP", "award_notice", at(2026, 9, 28), D(2026, 10, 10)),  # Sep 29, 30, Oct 8, 9, 10
        ("GP", "contract_signed", at(2026, 2, 12), D(2026, 2, 26)),  # Feb 13, 14 (Sat, worked), 24, 25, 26
        ("GP", "termination", at(2026, 3, 2), D(2026, 3, 9)),
    ],
)
def test_bid_security_refund_deadline(regime, event, when, expected_day):
    limit = rules.bid_security_refund_deadline(regime=regime, event=event, at=when, calendar=CAL)
    assert limit.astimezone(SH).date() == expected_day


def test_bid_security_refund_source():
    assert rules.bid_security_refund_source(regime="TB", event="withdrawal") == "招标投标法实施条例第三十五条"
    assert rules.bid_security_refund_source(regime="GP", event="award_notice") == "87号令第三十八条"


def test_bid_security_refund_unknown_event():
    # TB refunds everyone after the contract, not after the award notice
    with pytest.raises(ValueError):
        rules.bid_security_refund_deadline(regime="TB", event="award_notice", at=at(2026, 3, 2))


# -- A7: candidate publicity ---------------------------------------------------------------------
REPORT = at(2026, 3, 2, 10)  # a Monday


def test_candidate_publicity_window():
    latest_start, min_end = rules.candidate_publicity_window(
        report_received_at=REPORT, start=at(2026, 3, 3, 9), calendar=CAL
    )
    assert latest_start.date() == D(2026, 3, 5)
    assert min_end.date() == D(2026, 3, 6)


def test_candidate_publicity_window_without_start_counts_from_the_latest_start():
    _latest, min_end = rules.candidate_publicity_window(report_received_at=REPORT, calendar=CAL)
    assert min_end.date() == D(2026, 3, 9)  # Mar 5 + 3 = Sun Mar 8 → Mon Mar 9


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (at(2026, 3, 4, 9), []),  # day before the last day to publish
        (at(2026, 3, 5, 18), []),  # last day
        (at(2026, 3, 6, 9), ["publicity_too_late"]),  # day after
        (at(2026, 3, 2, 9), ["publicity_before_report"]),
    ],
)
def test_candidates_published_within_3_days_of_the_report(start, expected):
    found = rules.check_candidate_publicity(
        report_received_at=REPORT, start=start, end=start + dt.timedelta(days=10), calendar=CAL
    )
    assert codes(found) == expected


@pytest.mark.parametrize(
    ("end", "expected"),
    [
        (at(2026, 3, 5, 17), ["publicity_too_short"]),  # day before (published Tue Mar 3 + 3)
        (at(2026, 3, 6, 17), []),  # day of
        (at(2026, 3, 7, 17), []),  # day after
        (at(2026, 3, 3, 8), ["publicity_period_reversed", "publicity_too_short"]),
    ],
)
def test_candidate_publicity_open_at_least_3_days(end, expected):
    found = rules.check_candidate_publicity(
        report_received_at=REPORT, start=at(2026, 3, 3, 9), end=end, calendar=CAL
    )
    assert codes(found) == expected
    assert all(v.source == "招标投标法实施条例第五十四条" for v in found if v.code == "publicity_too_short")


@pytest.mark.parametrize(
    ("n", "expected"), [(0, ["no_candidates"]), (1, []), (3, []), (4, ["too_many_candidates"])]
)
def test_at_most_3_candidates(n, expected):
    assert rules.MAX_CANDIDATES == 3
    assert codes(rules.check_candidates_count(n)) == expected


# -- A8: GP result --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("decided", "published", "expected"),
    [
        (at(2026, 3, 2, 10), at(2026, 3, 3, 10), []),  # day before the limit (Mar 4)
        (at(2026, 3, 2, 10), at(2026, 3, 4, 23), []),  # last day
        (at(2026, 3, 2, 10), at(2026, 3, 5, 9), ["gp_result_late"]),  # day after
        (at(2026, 9, 30, 10), at(2026, 10, 9, 9), []),  # Oct 8, Oct 9 are the 2 working days
        (at(2026, 9, 30, 10), at(2026, 10, 10, 9), ["gp_result_late"]),
    ],
)
def test_gp_result_announced_within_2_working_days(decided, published, expected):
    found = rules.check_gp_result_announcement(decided_at=decided, published_at=published, calendar=CAL)
    assert codes(found) == expected
    assert all(v.source == "87号令第六十九条" for v in found)


@pytest.mark.parametrize(
    ("ends", "expected"),
    [
        (at(2026, 3, 8, 17), ["gp_result_notice_too_short"]),  # published Fri Mar 6: 1 working day → Mon
        (at(2026, 3, 9, 17), []),
        (at(2026, 3, 10, 17), []),
    ],
)
def test_gp_result_notice_period_of_1_working_day(ends, expected):
    found = rules.check_gp_result_announcement(
        decided_at=at(2026, 3, 5), published_at=at(2026, 3, 6, 9), ends_at=ends, calendar=CAL
    )
    assert codes(found) == expected


# -- A9: award ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("func", "kwargs", "expected_day"),
    [
        (rules.contract_deadline, {"award_notice_at": at(2026, 3, 2)}, D(2026, 4, 1)),
        (rules.contract_deadline, {"award_notice_at": at(2026, 3, 2), "regime": "GP"}, D(2026, 4, 1)),
        (rules.contract_deadline, {"award_notice_at": at(2026, 9, 5)}, D(2026, 10, 8)),  # Oct 5 → Oct 8
        (rules.award_report_deadline, {"award_notice_at": at(2026, 3, 2)}, D(2026, 3, 17)),
        (rules.gp_purchaser_decision_deadline, {"report_received_at": at(2026, 3, 2)}, D(2026, 3, 9)),
        (rules.gp_purchaser_decision_deadline, {"report_received_at": at(2026, 9, 29)}, D(2026, 10, 12)),
        (rules.gp_report_delivery_deadline, {"evaluation_ended_at": at(2026, 3, 2)}, D(2026, 3, 4)),
        (rules.gp_result_announcement_deadline, {"decided_at": at(2026, 2, 13)}, D(2026, 2, 24)),
        (rules.gp_result_notice_end, {"published_at": at(2026, 9, 18)}, D(2026, 9, 20)),
    ],
)
def test_award_deadlines(func, kwargs, expected_day):
    limit = func(**kwargs, calendar=CAL)
    assert limit.astimezone(SH).date() == expected_day
    assert limit.astimezone(SH).time() == dt.time.max


# -- C1: committee ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("regime", "size", "experts", "reps", "large", "expected"),
    [
        ("TB", 4, 3, 1, False, ["tb_committee_too_small", "tb_committee_even"]),
        ("TB", 5, 4, 1, False, []),
        ("TB", 6, 4, 2, False, ["tb_committee_even"]),  # 4 of 6 is exactly 2/3
        ("TB", 7, 5, 2, False, []),
        ("TB", 5, 3, 2, False, ["tb_committee_too_few_experts"]),  # 3 < 10/3
        ("TB", 7, 4, 3, False, ["tb_committee_too_few_experts"]),  # 4 < 14/3
        ("TB", 9, 6, 3, False, []),  # exactly 2/3
        ("TB", 9, 5, 4, False, ["tb_committee_too_few_experts"]),
        ("TB", 5, 4, 1, True, []),  # TB has no size rule for large projects
        ("TB", 5, 5, 0, False, []),
        ("GP", 4, 4, 0, False, ["gp_committee_too_small", "gp_committee_even"]),
        ("GP", 5, 4, 1, False, []),
        ("GP", 5, 4, 1, True, ["gp_committee_too_small"]),  # large or complex: ≥ 7
        ("GP", 6, 5, 1, True, ["gp_committee_too_small", "gp_committee_even"]),
        ("GP", 7, 5, 2, True, []),
        ("GP", 7, 4, 3, True, ["gp_committee_too_few_experts"]),
        ("TB", 5, 3, 1, False, ["committee_size_mismatch", "tb_committee_too_few_experts"]),
    ],
)
def test_committee_composition(regime, size, experts, reps, large, expected):
    found = rules.check_committee(
        regime=regime, size=size, experts=experts, tenderee_reps=reps, large_or_complex=large
    )
    assert codes(found) == expected


def test_committee_violation_names_its_source():
    [tb] = rules.check_committee(regime="TB", size=5, experts=3, tenderee_reps=2, large_or_complex=False)
    [gp] = rules.check_committee(regime="GP", size=5, experts=4, tenderee_reps=1, large_or_complex=True)
    assert (tb.source, tb.params) == ("招标投标法第三十七条", {"minimum": 4})
    assert (gp.source, gp.params) == ("87号令第四十七条", {"minimum": 7})


@pytest.mark.parametrize(
    ("budget", "complex_", "impact", "expected"),
    [
        ("9999999.99", False, False, False),
        ("10000000.00", False, False, True),  # 1000万元以上 includes 1000万
        ("10000000.01", False, False, True),
        ("100000.00", True, False, True),
        ("100000.00", False, True, True),
    ],
)
def test_gp_large_or_complex(budget, complex_, impact, expected):
    result = rules.gp_large_or_complex(
        budget=Decimal(budget), technically_complex=complex_, large_social_impact=impact
    )
    assert result is expected


# -- C8: GP price weight ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("regime", "category", "weight", "fixed", "expected"),
    [
        ("GP", "goods", "0.29", False, ["gp_price_weight_too_low"]),
        ("GP", "goods", "0.2999", False, ["gp_price_weight_too_low"]),
        ("GP", "goods", "0.30", False, []),
        ("GP", "goods", "0.31", False, []),
        ("GP", "services", "0.09", False, ["gp_price_weight_too_low"]),
        ("GP", "services", "0.10", False, []),
        ("GP", "services", "0.11", False, []),
        ("GP", "goods", "0", True, []),  # fixed price: price is not scored
        ("GP", "works", "0.05", False, []),
        ("TB", "goods", "0.05", False, []),
    ],
)
def test_gp_price_weight(regime, category, weight, fixed, expected):
    found = rules.check_price_weight(
        regime=regime, category=category, price_weight=Decimal(weight), fixed_price=fixed
    )
    assert codes(found) == expected
    assert all(v.source == "87号令第五十五条" for v in found)


def test_amount_messages_show_the_limit():
    [bs] = rules.check_bid_security(regime="GP", amount=Decimal("30000"), base=Decimal("1000000"))
    [pw] = rules.check_price_weight(regime="GP", category="goods", price_weight=Decimal("0.2"))
    with translation.override("en"):
        assert str(bs.message) == "The bid security may not exceed 2% of the budget, i.e. 20000.00 yuan."
        assert str(pw.message) == "Price must weigh at least 30% of the total score for goods."


def test_price_weight_is_a_fraction():
    with pytest.raises(ValueError):
        rules.check_price_weight(regime="GP", category="goods", price_weight=Decimal("30"))


# -- B4: minimum bidders ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("valid", "minimum", "expected"),
    [(2, 3, False), (3, 3, True), (4, 3, True), (4, 5, False), (5, 5, True), (2, 1, False)],
)
def test_opening_may_proceed(valid, minimum, expected):
    assert rules.MIN_BIDDERS == 3
    assert rules.opening_may_proceed(valid, minimum=minimum) is expected


# -- the tender state machine -----------------------------------------------------------------------
ALLOWED = sorted((a, b) for a, targets in rules.TENDER_TRANSITIONS.items() for b in targets)
FORBIDDEN = sorted(
    (a, b)
    for a, b in itertools.product(rules.TENDER_STATES, repeat=2)
    if b not in rules.TENDER_TRANSITIONS[a]
)


def test_transition_table_covers_every_state():
    assert set(rules.TENDER_TRANSITIONS) == set(rules.TENDER_STATES)
    assert rules.TENDER_TRANSITIONS["archived"] == set()


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_allowed_transition(current, target):
    suspended_from = target if current == "suspended" else None
    assert rules.check_transition(current, target, suspended_from=suspended_from) is None


@pytest.mark.parametrize(("current", "target"), FORBIDDEN)
def test_forbidden_transition(current, target):
    v = rules.check_transition(current, target, suspended_from=target)
    assert v is not None
    assert v.code == "tender_transition_forbidden"
    assert v.params == {"current": current, "target": target}


@pytest.mark.parametrize(
    ("target", "suspended_from"),
    [("evaluation", "published"), ("published", None), ("awarded", "publicity")],
)
def test_suspension_returns_only_to_where_it_came_from(target, suspended_from):
    v = rules.check_transition("suspended", target, suspended_from=suspended_from)
    assert v is not None
    assert v.code == "tender_resume_wrong_state"


@pytest.mark.parametrize("target", ["terminated", "failed"])
def test_a_suspended_tender_can_end_whatever_it_came_from(target):
    assert rules.check_transition("suspended", target, suspended_from="evaluation") is None


def test_forbidden_transition_message_uses_state_labels():
    v = rules.check_transition("draft", "awarded")
    with translation.override("en"):
        assert str(v.message) == "A tender cannot go from “Draft” to “Awarded”."


def test_unknown_state_is_a_programming_error():
    with pytest.raises(ValueError):
        rules.check_transition("draft", "deleted")
