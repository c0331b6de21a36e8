"""Shared pieces of the legal rules: the Violation record, raising it, and the day
arithmetic of DOMAIN A10 (87号令第八十五、八十六条) that every time limit uses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone

from core.errors import RuleViolation
from trading.calendar import WorkingCalendar, as_local_date, default_calendar

TB = "TB"
GP = "GP"
REGIMES = (TB, GP)

# Defaults of the [S]/[G] rules; a deployment overrides any of them with
# settings.TRADING_RULES = {"tb_holiday_rolls": False, ...}.
DEFAULTS: dict[str, Any] = {
    # A10 is law for GP only; the Bidding Law regime follows the same civil-law practice
    # (民法典第二百零三条) by default [G].
    "tb_holiday_rolls": True,
    # 招标投标法实施条例第三十一条 says "及时" when a tender is terminated; we give it the
    # 5 days of 条例35/57 [G].
    "tb_termination_refund_days": 5,
}


def setting(name: str) -> Any:
    return (getattr(settings, "TRADING_RULES", None) or {}).get(name, DEFAULTS[name])


@dataclass(frozen=True)
class Violation:
    """One broken rule: a stable `code`, a translatable `message`, the legal `source`
    (a short Chinese citation; "" for a platform consistency check) and `params`
    (the limit that applies, e.g. the earliest lawful date)."""

    code: str
    message: Any  # a lazy translation (Promise): rendered in the reader's language
    source: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    def as_error(self) -> RuleViolation:
        return RuleViolation(self.message, code=self.code, source=self.source, **self.params)


def violation(code: str, message: Any, source: str, **params: Any) -> Violation:
    return Violation(code=code, message=message, source=source, params=params)


def raise_first(violations: list[Violation] | tuple[Violation, ...] | Violation | None) -> None:
    """Raise core.errors.RuleViolation for the first violation; do nothing when there is none."""
    if violations is None:
        return
    if isinstance(violations, Violation):
        violations = [violations]
    for violation in violations:
        raise violation.as_error()


def check_regime(regime: str) -> str:
    if regime not in REGIMES:
        raise ValueError(f"unknown regime {regime!r}; expected one of {REGIMES}")
    return regime


def holiday_rolls_for(regime: str) -> bool:
    """Whether a period ending on a non-working day moves to the next working day."""
    return True if check_regime(regime) == GP else bool(setting("tb_holiday_rolls"))


def calendar_or_default(calendar: WorkingCalendar | None) -> WorkingCalendar:
    return calendar if calendar is not None else default_calendar()


def period_end(
    start: dt.date | dt.datetime,
    days: int,
    *,
    working_days: bool,
    calendar: WorkingCalendar | None = None,
    holiday_rolls: bool = True,
) -> dt.date:
    """The last day of a period of `days` (working) days that starts on `start`.

    A10: the start day is not counted, counting begins the next day; "至少/不少于 N 日"
    and "N 日内" include the N-th day; a period whose last day is not a working day ends
    on the next working day (always true for working-day periods). Used both ways:
    for a minimum period it is the earliest compliant end date, for "within N days" it is
    the last day on which the act is still in time.
    """
    if days < 0:
        raise ValueError("days must be >= 0")
    calendar = calendar_or_default(calendar)
    start = as_local_date(start)
    if working_days:
        return calendar.add_working_days(start, days)
    end = start + dt.timedelta(days=days)
    return calendar.next_working_day(end) if holiday_rolls else end


def local_date(value: dt.date | dt.datetime) -> dt.date:
    return as_local_date(value)


def end_of_day(day: dt.date) -> dt.datetime:
    """The last instant of a local calendar day: "by day D" means until D 23:59:59.999999."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=timezone.get_default_timezone())


def on_day_at_time_of(day: dt.date, model: dt.datetime) -> dt.datetime:
    """`day` at the local time of day of `model` (a moved deadline keeps its clock time)."""
    local = timezone.localtime(model, timezone.get_default_timezone())
    return dt.datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=local.tzinfo)
