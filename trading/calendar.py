"""The working-day calendar used by the legal time limits (DOMAIN A10): Chinese public
holidays and adjusted working days (调休) as data, plus configurable local overrides.

Public holidays and the weekend days that are worked instead (e.g. Sunday 2026-09-20 and
Saturday 2026-10-10 around National Day 2026) come from the `holidays` package, which
transcribes the State Council's yearly notice (国务院办公厅关于部分节假日安排的通知).
Years after the last published notice are the package's *estimate* (statutory days plus
in-lieu days, no 调休) until the package is upgraded; a centre corrects them, and adds
local closures, with overrides:

* ``settings.WORKING_CALENDAR_OVERRIDES = {"holidays": ["2027-02-11"], "workdays": [...]}``
* ``trading/data/calendar_overrides.json`` in the same shape (shipped with the code).

Settings win over the data file when both name the same date.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import threading
from collections.abc import Iterable
from pathlib import Path

import holidays
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.utils import timezone

OVERRIDES_FILE = Path(__file__).resolve().parent / "data" / "calendar_overrides.json"


def as_local_date(value: dt.date | dt.datetime) -> dt.date:
    """The calendar day (Asia/Shanghai, the project time zone) of a date or aware datetime.

    Days are counted in the project's time zone, never in UTC: a bid deadline at 09:00
    Beijing time is 01:00 UTC, and counting it in UTC would shift some periods by a day.
    Naive datetimes are refused (timezone.localtime raises ValueError).
    """
    if isinstance(value, dt.datetime):  # datetime is a subclass of date: test it first
        return timezone.localtime(value, timezone.get_default_timezone()).date()
    if isinstance(value, dt.date):
        return value
    raise TypeError(f"expected a date or datetime, got {type(value).__name__}")


def _parse_dates(values: Iterable[str | dt.date], origin: str) -> frozenset[dt.date]:
    out = set()
    for value in values or ():
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            out.add(value)
            continue
        try:
            out.add(dt.date.fromisoformat(str(value)))
        except ValueError:
            raise ImproperlyConfigured(f"{origin}: {value!r} is not an ISO date (YYYY-MM-DD)") from None
    return frozenset(out)


class WorkingCalendar:
    """Answers "is this a working day?" and does working-day arithmetic.

    A day is a working day when it is an override workday; otherwise not when it is an
    override holiday; otherwise, with public holidays on, a weekend day is a working day
    only if the State Council moved work onto it (调休), and a weekday is one unless it is
    a public holiday. With ``public_holidays=False`` only the overrides and the Monday to
    Friday week count (handy in tests and for regions with their own calendar).
    """

    def __init__(
        self,
        *,
        extra_holidays: Iterable[str | dt.date] = (),
        extra_workdays: Iterable[str | dt.date] = (),
        public_holidays: bool = True,
    ):
        self.extra_holidays = _parse_dates(extra_holidays, "extra_holidays")
        self.extra_workdays = _parse_dates(extra_workdays, "extra_workdays")
        both = self.extra_holidays & self.extra_workdays
        if both:
            raise ImproperlyConfigured(
                f"dates both holiday and workday in the calendar overrides: {sorted(both)}"
            )
        self.public_holidays = public_holidays
        self._years: dict[int, tuple[frozenset[dt.date], frozenset[dt.date]]] = {}
        self._lock = threading.Lock()

    # -- data --------------------------------------------------------------------------
    def _year(self, year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
        """(public holidays, worked weekend days) of one year, computed once per year.

        Neighbouring years are populated too because a notice can move work across the
        new year (e.g. the 2002 notice made Saturday 2001-12-29 a working day).
        """
        data = self._years.get(year)
        if data is None:
            with self._lock:  # holidays objects fill themselves lazily; not thread-safe
                data = self._years.get(year)
                if data is None:
                    cn = holidays.China(years=(year - 1, year, year + 1))
                    off = frozenset(d for d in cn if d.year == year)
                    worked = frozenset(d for d in cn.weekend_workdays if d.year == year)
                    data = self._years[year] = (off, worked)
        return data

    def public_holiday_name(self, day: dt.date | dt.datetime) -> str | None:
        """The holiday's name (Chinese, as in the State Council notice), for display."""
        day = as_local_date(day)
        if not self.public_holidays:
            return None
        return holidays.China(years=day.year).get(day)

    # -- questions ---------------------------------------------------------------------
    def is_working_day(self, day: dt.date | dt.datetime) -> bool:
        day = as_local_date(day)
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        weekend = day.weekday() >= 5
        if not self.public_holidays:
            return not weekend
        off, worked = self._year(day.year)
        return day in worked if weekend else day not in off

    def next_working_day(self, day: dt.date | dt.datetime) -> dt.date:
        """The day itself when it is a working day, else the first working day after it."""
        day = as_local_date(day)
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def add_working_days(self, day: dt.date | dt.datetime, n: int) -> dt.date:
        """The n-th working day after `day`; `day` itself is not counted (87号令85).

        ``add_working_days(d, 0)`` is `d` unchanged: nothing is added.
        """
        if n < 0:
            raise ValueError("n must be >= 0")
        day = as_local_date(day)
        for _ in range(n):
            day += dt.timedelta(days=1)
            while not self.is_working_day(day):
                day += dt.timedelta(days=1)
        return day

    def working_days_between(self, a: dt.date | dt.datetime, b: dt.date | dt.datetime) -> int:
        """Working days in (a, b]: the start day is not counted, the end day is.

        So ``working_days_between(d, add_working_days(d, n)) == n``. Negative when b < a.
        """
        a, b = as_local_date(a), as_local_date(b)
        if b < a:
            return -self.working_days_between(b, a)
        return sum(self.is_working_day(a + dt.timedelta(days=i)) for i in range(1, (b - a).days + 1))


def load_overrides(path: Path = OVERRIDES_FILE) -> dict[str, list[str]]:
    """The overrides of the data file merged with ``settings.WORKING_CALENDAR_OVERRIDES``."""
    from_file: dict = {}
    if path.exists():
        try:
            from_file = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ImproperlyConfigured(f"{path}: {exc}") from None
    from_settings = getattr(settings, "WORKING_CALENDAR_OVERRIDES", None) or {}
    file_h = _parse_dates(from_file.get("holidays", ()), str(path))
    file_w = _parse_dates(from_file.get("workdays", ()), str(path))
    set_h = _parse_dates(from_settings.get("holidays", ()), "WORKING_CALENDAR_OVERRIDES")
    set_w = _parse_dates(from_settings.get("workdays", ()), "WORKING_CALENDAR_OVERRIDES")
    # A date named by the settings overrules the same date in the shipped file.
    hol = (file_h - set_w) | set_h
    work = (file_w - set_h) | set_w
    return {"holidays": sorted(d.isoformat() for d in hol), "workdays": sorted(d.isoformat() for d in work)}


@functools.cache
def default_calendar() -> WorkingCalendar:
    """The platform's calendar (public holidays + overrides), built once per process."""
    overrides = load_overrides()
    return WorkingCalendar(extra_holidays=overrides["holidays"], extra_workdays=overrides["workdays"])


def _reset_on_setting_change(*, setting: str, **kwargs) -> None:
    if setting == "WORKING_CALENDAR_OVERRIDES":
        default_calendar.cache_clear()


setting_changed.connect(_reset_on_setting_change, dispatch_uid="trading.calendar.overrides")
