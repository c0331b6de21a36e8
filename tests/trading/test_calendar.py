"""The working-day calendar: State Council holidays and adjusted working days (调休) as
data, A10 working-day arithmetic, and local overrides from settings or the data file."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from trading.calendar import WorkingCalendar, as_local_date, default_calendar, load_overrides

D = dt.date
SH = ZoneInfo("Asia/Shanghai")
CAL = WorkingCalendar()  # public holidays, no local overrides


# -- 2026 as published by the State Council (国办发明电〔2025〕7号) ----------------------
@pytest.mark.parametrize(
    ("day", "working"),
    [
        # National Day: Oct 1–7 off; Sunday Sep 20 and Saturday Oct 10 worked.
        (D(2026, 9, 19), False),  # Saturday
        (D(2026, 9, 20), True),  # Sunday, adjusted working day
        (D(2026, 9, 30), True),
        (D(2026, 10, 1), False),
        (D(2026, 10, 4), False),  # Sunday inside the holiday
        (D(2026, 10, 7), False),
        (D(2026, 10, 8), True),
        (D(2026, 10, 10), True),  # Saturday, adjusted working day
        (D(2026, 10, 11), False),
        # Spring Festival: Feb 15–23 off; Saturdays Feb 14 and Feb 28 worked.
        (D(2026, 2, 13), True),
        (D(2026, 2, 14), True),
        (D(2026, 2, 15), False),
        (D(2026, 2, 17), False),  # 春节
        (D(2026, 2, 23), False),
        (D(2026, 2, 24), True),
        (D(2026, 2, 28), True),
        # New Year: Jan 1–3 off, Sunday Jan 4 worked.
        (D(2026, 1, 2), False),
        (D(2026, 1, 4), True),
        # An ordinary week.
        (D(2026, 3, 2), True),
        (D(2026, 3, 7), False),
        (D(2026, 3, 8), False),
    ],
)
def test_is_working_day_follows_the_2026_notice(day, working):
    # given the public-holiday calendar, when asked about a day, then it answers as the notice says
    assert CAL.is_working_day(day) is working


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2026, 3, 2), D(2026, 3, 2)),  # a working day is its own next working day
        (D(2026, 3, 7), D(2026, 3, 9)),  # Saturday → Monday
        (D(2026, 10, 1), D(2026, 10, 8)),  # across National Day
        (D(2026, 9, 19), D(2026, 9, 20)),  # Saturday → the worked Sunday
        (D(2026, 2, 15), D(2026, 2, 24)),  # across Spring Festival
    ],
)
def test_next_working_day(day, expected):
    assert CAL.next_working_day(day) == expected


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (D(2026, 3, 2), 0, D(2026, 3, 2)),  # nothing added
        (D(2026, 3, 7), 0, D(2026, 3, 7)),  # nothing added, even on a weekend
        (D(2026, 3, 2), 1, D(2026, 3, 3)),  # start day not counted
        (D(2026, 3, 2), 5, D(2026, 3, 9)),  # over a weekend
        (D(2026, 9, 29), 1, D(2026, 9, 30)),
        (D(2026, 9, 29), 2, D(2026, 10, 8)),  # over National Day
        (D(2026, 9, 29), 4, D(2026, 10, 10)),  # the worked Saturday counts
        (D(2026, 9, 29), 5, D(2026, 10, 12)),
        (D(2026, 9, 18), 1, D(2026, 9, 20)),  # Friday → the worked Sunday
        (D(2026, 2, 13), 1, D(2026, 2, 14)),  # Friday → the worked Saturday
        (D(2026, 2, 13), 2, D(2026, 2, 24)),  # over Spring Festival
        (D(2026, 9, 14), 5, D(2026, 9, 20)),
    ],
)
def test_add_working_days(start, n, expected):
    assert CAL.add_working_days(start, n) == expected


def test_add_working_days_refuses_a_negative_count():
    with pytest.raises(ValueError):
        CAL.add_working_days(D(2026, 3, 2), -1)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (D(2026, 3, 2), D(2026, 3, 2), 0),
        (D(2026, 3, 2), D(2026, 3, 3), 1),  # (a, b]: start excluded, end included
        (D(2026, 3, 6), D(2026, 3, 9), 1),  # Fri → Mon
        (D(2026, 9, 30), D(2026, 10, 8), 1),  # the whole National Day holiday in between
        (D(2026, 9, 29), D(2026, 10, 12), 5),
        (D(2026, 10, 12), D(2026, 9, 29), -5),  # reversed
    ],
)
def test_working_days_between(a, b, expected):
    assert CAL.working_days_between(a, b) == expected


@hsettings(deadline=None, max_examples=60)
@given(start=st.dates(min_value=D(2025, 1, 1), max_value=D(2027, 12, 1)), n=st.integers(0, 40))
def test_add_working_days_and_working_days_between_are_inverse(start, n):
    end = CAL.add_working_days(start, n)
    assert CAL.working_days_between(start, end) == n
    if n:
        assert CAL.is_working_day(end)


def test_aware_datetimes_are_read_in_beijing_time():
    # given 17:00 UTC on Sep 30, which is 01:00 on Oct 1 in Beijing
    moment = dt.datetime(2026, 9, 30, 17, 0, tzinfo=dt.UTC)
    # then the day is Oct 1, a public holiday
    assert as_local_date(moment) == D(2026, 10, 1)
    assert CAL.is_working_day(moment) is False


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        as_local_date(dt.datetime(2026, 3, 2, 9, 0))


def test_public_holiday_name_for_display():
    assert CAL.public_holiday_name(D(2026, 10, 1)) == "国庆节"
    assert CAL.public_holiday_name(D(2026, 3, 2)) is None


# -- overrides -----------------------------------------------------------------------------
def test_extra_holiday_closes_a_weekday_and_extra_workday_opens_a_sunday():
    cal = WorkingCalendar(extra_holidays=["2026-03-04"], extra_workdays=[D(2026, 3, 8)])
    assert cal.is_working_day(D(2026, 3, 4)) is False
    assert cal.is_working_day(D(2026, 3, 8)) is True
    # and the arithmetic follows: Tue + 1 skips the closed Wednesday
    assert cal.add_working_days(D(2026, 3, 3), 1) == D(2026, 3, 5)


def test_calendar_without_public_holidays_knows_only_weekends():
    cal = WorkingCalendar(public_holidays=False)
    assert cal.is_working_day(D(2026, 10, 1)) is True
    assert cal.is_working_day(D(2026, 9, 20)) is False


def test_a_date_both_holiday_and_workday_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured):
        WorkingCalendar(extra_holidays=["2026-03-04"], extra_workdays=["2026-03-04"])


def test_a_malformed_override_date_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured):
        WorkingCalendar(extra_holidays=["2026/03/04"])


def test_default_calendar_reads_settings_overrides(settings):
    # given a local closure on a Wednesday and a worked Sunday, configured in settings
    assert default_calendar().is_working_day(D(2026, 3, 4)) is True
    settings.WORKING_CALENDAR_OVERRIDES = {"holidays": ["2026-03-04"], "workdays": ["2026-03-08"]}
    # when the default calendar is asked again (the settings change resets its cache)
    cal = default_calendar()
    # then it uses them
    assert cal.is_working_day(D(2026, 3, 4)) is False
    assert cal.is_working_day(D(2026, 3, 8)) is True


def test_settings_overrule_the_data_file(tmp_path, settings):
    # given a data file that closes Mar 4 and opens Sunday Mar 8
    path = tmp_path / "overrides.json"
    path.write_text(json.dumps({"holidays": ["2026-03-04", "2026-03-05"], "workdays": ["2026-03-08"]}))
    # and settings that declare Mar 4 a working day again and close Mar 6
    settings.WORKING_CALENDAR_OVERRIDES = {"workdays": ["2026-03-04"], "holidays": ["2026-03-06"]}
    # when both are merged
    merged = load_overrides(path)
    # then the settings win for Mar 4 and both sources contribute the rest
    assert merged == {"holidays": ["2026-03-05", "2026-03-06"], "workdays": ["2026-03-04", "2026-03-08"]}


def test_shipped_data_file_is_valid():
    # given the file shipped in trading/data, when it is loaded, then it parses into a calendar
    merged = load_overrides()
    cal = WorkingCalendar(extra_holidays=merged["holidays"], extra_workdays=merged["workdays"])
    assert sorted(merged) == ["holidays", "workdays"]
    assert cal.extra_holidays.isdisjoint(cal.extra_workdays)
