"""Time limits of DOMAIN A1–A3: the announcement's timeline (bid period, document
period, GP announcement period) and amendments with the automatic deadline extension.

Days are calendar days of the project time zone and every comparison is on dates: the
law counts 日, not hours. Minimum periods are checked against `period_end` (A10).
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
    calendar_or_default,
    check_regime,
    holiday_rolls_for,
    local_date,
    on_day_at_time_of,
    period_end,
    violation,
)

# Tendering proper. The other GP methods (竞争性谈判/磋商, 询价, 单一来源) and auctions have
# their own periods (not in DOMAIN A1/A2); only the consistency checks apply to them.
TENDERING_METHODS = frozenset({"open", "invited"})

BID_PERIOD_DAYS = 20  # TB 招标投标法24 / GP 政府采购法35 (calendar days)
TB_DOC_PERIOD_DAYS = 5  # 招标投标法实施条例16
GP_DOC_PERIOD_WORKING_DAYS = 5  # 87号令18
GP_ANNOUNCEMENT_WORKING_DAYS = 5  # 87号令16
TB_PREQUAL_APPLICATION_DAYS = 5  # 招标投标法实施条例17
AMENDMENT_DAYS = 15  # 招标投标法实施条例21 / 87号令27
AMENDMENT_PREQUAL_DAYS = 3

SRC_TB_BID_PERIOD = "招标投标法第二十四条"
SRC_GP_BID_PERIOD = "政府采购法第三十五条"
SRC_TB_DOC_PERIOD = "招标投标法实施条例第十六条"
SRC_TB_PREQUAL = "招标投标法实施条例第十七条"
SRC_GP_ANNOUNCEMENT = "87号令第十六条"
SRC_GP_DOC_PERIOD = "87号令第十八条"
SRC_TB_AMENDMENT = "招标投标法实施条例第二十一条"
SRC_GP_AMENDMENT = "87号令第二十七条"

_BID_PERIOD_MSG = _(
    "At least {days} days must pass from the first issue of the tender documents to the bid "
    "deadline; the earliest lawful deadline is {earliest}."
)


def _min_period(code, msg, source, *, start, end, days, working_days, cal, rolls) -> Violation | None:
    earliest = period_end(start, days, working_days=working_days, calendar=cal, holiday_rolls=rolls)
    if local_date(end) >= earliest:
        return None
    return violation(
        code,
        format_lazy(msg, days=days, earliest=earliest),
        source,
        days=days,
        working_days=working_days,
        earliest=earliest,
    )


# -- A1, A2: the tender timeline --------------------------------------------------------
def check_tender_timeline(
    *,
    regime: str,
    category: str,
    method: str,
    published_at: dt.datetime,
    docs_from: dt.datetime,
    docs_until: dt.datetime,
    deadline: dt.datetime,
    prequalification: bool = False,
    announcement_until: dt.datetime | None = None,
    calendar: WorkingCalendar | None = None,
) -> list[Violation]:
    """Every violation of the announcement's timeline, in a stable order (consistency
    first, then the statutory periods).

    With `prequalification` the timeline is that of the prequalification announcement:
    the documents are the 资格预审文件 and `deadline` is the application deadline, so the
    20-day bid period does not apply (it applies to the later tender documents).

    A1 applies to open and invited tendering in both regimes and to every category:
    政府采购法35 names goods and services, and GP works that are tendered fall under the
    Bidding Law (政府采购法第四条), whose 法24 sets the same 20 days. GP document periods
    are counted from `docs_from`, which may not precede publication, so the check is never
    more lenient than 87号令18's "counted from the announcement". The GP announcement is
    taken to stay published until `announcement_until` (default: the deadline).
    """
    check_regime(regime)
    cal = calendar_or_default(calendar)
    rolls = holiday_rolls_for(regime)
    out: list[Violation] = []

    if deadline <= published_at:
        out.append(
            violation(
                "deadline_before_publication",
                _("The bid deadline must come after the publication of the announcement."),
                "",
            )
        )
    if docs_from < published_at:
        out.append(
            violation(
                "docs_before_publication",
                _("The documents cannot be available before the announcement is published."),
                SRC_GP_DOC_PERIOD if regime == GP else SRC_TB_DOC_PERIOD,
            )
        )
    if docs_until < docs_from:
        out.append(
            violation(
                "docs_period_reversed", _("The document availability period ends before it begins."), ""
            )
        )
    if docs_until > deadline:
        out.append(
            violation(
                "docs_after_deadline", _("The documents cannot remain available after the deadline."), ""
            )
        )

    if method not in TENDERING_METHODS:
        return out

    found: list[Violation | None] = []
    if regime == TB:
        found.append(
            _min_period(
                "tb_doc_period_too_short",
                _("The documents must be available for at least {days} days, until {earliest} or later."),
                SRC_TB_DOC_PERIOD,
                start=docs_from,
                end=docs_until,
                days=TB_DOC_PERIOD_DAYS,
                working_days=False,
                cal=cal,
                rolls=rolls,
            )
        )
        if prequalification:
            found.append(
                _min_period(
                    "tb_prequal_application_period_too_short",
                    _(
                        "Prequalification applications may close no earlier than {days} days after the "
                        "documents stop being issued, i.e. on {earliest} or later."
                    ),
                    SRC_TB_PREQUAL,
                    start=docs_until,
                    end=deadline,
                    days=TB_PREQUAL_APPLICATION_DAYS,
                    working_days=False,
                    cal=cal,
                    rolls=rolls,
                )
            )
        else:
            found.append(
                _min_period(
                    "tb_bid_period_too_short",
                    _BID_PERIOD_MSG,
                    SRC_TB_BID_PERIOD,
                    start=docs_from,
                    end=deadline,
                    days=BID_PERIOD_DAYS,
                    working_days=False,
                    cal=cal,
                    rolls=rolls,
                )
            )
    else:
        found.append(
            _min_period(
                "gp_doc_period_too_short",
                _(
                    "The documents must be available for at least {days} working days, until {earliest} or later."
                ),
                SRC_GP_DOC_PERIOD,
                start=docs_from,
                end=docs_until,
                days=GP_DOC_PERIOD_WORKING_DAYS,
                working_days=True,
                cal=cal,
                rolls=True,
            )
        )
        found.append(
            _min_period(
                "gp_announcement_period_too_short",
                _(
                    "The announcement must stay published for at least {days} working days, until {earliest} or later."
                ),
                SRC_GP_ANNOUNCEMENT,
                start=published_at,
                end=announcement_until or deadline,
                days=GP_ANNOUNCEMENT_WORKING_DAYS,
                working_days=True,
                cal=cal,
                rolls=True,
            )
        )
        if not prequalification:
            found.append(
                _min_period(
                    "gp_bid_period_too_short",
                    _BID_PERIOD_MSG,
                    SRC_GP_BID_PERIOD,
                    start=docs_from,
                    end=deadline,
                    days=BID_PERIOD_DAYS,
                    working_days=False,
                    cal=cal,
                    rolls=True,
                )
            )
    out.extend(v for v in found if v is not None)
    return out


# -- A3: amendments and clarifications --------------------------------------------------
def amendment_deadline(
    *,
    regime: str,
    issued_at: dt.datetime,
    deadline: dt.datetime,
    affects_preparation: bool,
    prequalification: bool = False,
    calendar: WorkingCalendar | None = None,
) -> dt.datetime:
    """The deadline after an amendment issued at `issued_at`.

    An amendment that may affect the preparation of bids (applications) must come at least
    15 (3 for prequalification documents) days before the deadline; when less time remains
    the deadline moves to the earliest lawful day, at its original time of day (条例21,
    87号令27). Otherwise the deadline is returned unchanged. The opening follows it.
    """
    check_regime(regime)
    if not affects_preparation:
        return deadline
    days = AMENDMENT_PREQUAL_DAYS if prequalification else AMENDMENT_DAYS
    earliest = period_end(
        issued_at, days, working_days=False, calendar=calendar, holiday_rolls=holiday_rolls_for(regime)
    )
    if local_date(deadline) >= earliest:
        return deadline
    return on_day_at_time_of(earliest, deadline)


def check_amendment(
    *,
    regime: str,
    changes_object: bool = False,
    changes_qualification: bool = False,
    issued_at: dt.datetime | None = None,
    deadline: dt.datetime | None = None,
) -> list[Violation]:
    """GP amendments may not change the procurement object or the qualification
    conditions (87号令27); no amendment may come after the deadline has passed."""
    check_regime(regime)
    out = []
    if issued_at is not None and deadline is not None and issued_at >= deadline:
        out.append(
            violation(
                "amendment_after_deadline",
                _("The deadline has passed; the documents can no longer be amended."),
                SRC_GP_AMENDMENT if regime == GP else SRC_TB_AMENDMENT,
            )
        )
    if regime == GP and changes_object:
        out.append(
            violation(
                "gp_amendment_changes_object",
                _("An amendment may not change the object of the procurement."),
                SRC_GP_AMENDMENT,
            )
        )
    if regime == GP and changes_qualification:
        out.append(
            violation(
                "gp_amendment_changes_qualification",
                _("An amendment may not change the qualification conditions of suppliers."),
                SRC_GP_AMENDMENT,
            )
        )
    return out
