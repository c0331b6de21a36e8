"""Reads of the award part: a lot's publicity, objections and award for its pages, who may read a notice,
and the contract and supervisor-report deadlines the workbench shows (DOMAIN A7–A9)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import AccessDenied
from experts.models import Award, Publicity, PublicityObjection, Report, ResultNotice
from trading.access import READ_ALL_ROLES, manages_tender, require_login
from trading.models import Lot, Role, User

MANAGE = "manage"
READ = "read"
DEADLINE_WINDOW_DAYS = 7  # "near": due within a week


def lot_for_award(lot_id: int) -> Lot:
    return get_object_or_404(Lot.objects.select_related("tender__tenderee", "tender__agency"), pk=lot_id)


def lot_access_award(*, user: User, lot: Lot) -> str:
    """MANAGE for the tender's agency/tenderee staff and centre staff, READ for regulators."""
    require_login(user)
    if manages_tender(user, lot.tender):
        return MANAGE
    if user.role == Role.REGULATOR:
        return READ
    raise AccessDenied(
        _("Only the tender's agency, its tenderee, centre staff and regulators see this page."),
        code="tender_not_yours",
    )


def report_for_lot(lot: Lot) -> Report | None:
    return Report.objects.filter(room__lot=lot).first()


def publicity_for_lot(lot: Lot) -> Publicity | None:
    return Publicity.objects.filter(lot=lot).select_related("announcement", "report").first()


def objections_of(publicity: Publicity | None) -> QuerySet[PublicityObjection] | list:
    if publicity is None:
        return []
    return publicity.objections.select_related("entity", "raised_by", "answered_by").order_by(
        "raised_at", "pk"
    )


def award_for_lot(lot: Lot) -> Award | None:
    return Award.objects.filter(lot=lot).select_related("winner", "announcement", "decided_by").first()


def result_notices_of(award: Award | None) -> QuerySet[ResultNotice] | list:
    if award is None:
        return []
    return award.result_notices.select_related("entity").order_by("pk")


def may_read_notice(user: User, *, award: Award, entity_id: int) -> bool:
    """A notice is read by the bidder it is addressed to, the tender's managers, centre staff and
    regulators — nobody else (another bidder learns only what the result announcement says)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.role in READ_ALL_ROLES or manages_tender(user, award.lot.tender):
        return True
    return user.role == Role.BIDDER and user.entity_id is not None and user.entity_id == entity_id


def award_notice_access(*, user: User, award_id: int) -> Award:
    award = get_object_or_404(Award.objects.select_related("lot__tender", "winner"), pk=award_id)
    require_login(user)
    if not may_read_notice(user, award=award, entity_id=award.winner_id):
        raise AccessDenied(_("This notice is addressed to another bidder."), code="notice_not_yours")
    return award


def result_notice_access(*, user: User, notice_id: int) -> ResultNotice:
    notice = get_object_or_404(
        ResultNotice.objects.select_related("award__lot__tender", "entity"), pk=notice_id
    )
    require_login(user)
    if not may_read_notice(user, award=notice.award, entity_id=notice.entity_id):
        raise AccessDenied(_("This notice is addressed to another bidder."), code="notice_not_yours")
    return notice


def notices_for_bidder(*, user: User, lot: Lot) -> tuple[Award | None, ResultNotice | None]:
    """The winner's award notice or the bidder's own result notice of the lot (either may be None)."""
    if user.role != Role.BIDDER or user.entity_id is None:
        raise AccessDenied(_("This page is for bidders."), code="bidder_required")
    award = Award.objects.filter(lot=lot).select_related("lot__tender", "winner").first()
    if award is None:
        return None, None
    if award.winner_id == user.entity_id:
        return award, None
    return None, award.result_notices.filter(entity_id=user.entity_id).select_related("award").first()


def contracts_overdue(now: dt.datetime | None = None) -> QuerySet[Award]:
    """Awards whose contract was not recorded by its last day (法46 / 87号令71: 30 days)."""
    today = timezone.localdate(now or timezone.now())
    return (
        Award.objects.filter(contract_signed_on__isnull=True, contract_due_on__lt=today)
        .select_related("lot__tender", "winner")
        .order_by("contract_due_on", "pk")
    )


def visible_awards(user: User) -> QuerySet[Award]:
    """Awards of the user's own tenders (agency/tenderee staff), or all of them (centre, regulator)."""
    qs = Award.objects.select_related("lot__tender", "winner")
    if user.role in READ_ALL_ROLES:
        return qs
    if user.role == Role.AGENCY and user.entity_id:
        return qs.filter(
            Q(lot__tender__agency_id=user.entity_id) | Q(lot__tender__tenderee_id=user.entity_id)
        )
    return qs.none()


def award_deadlines(
    *, user: User, now: dt.datetime | None = None, within_days: int = DEADLINE_WINDOW_DAYS
) -> list[dict]:
    """Lots whose contract (30 days) or supervisor report (15 days, 法47) is due within `within_days`
    or already late, for the workbench: the most urgent first. Signed contracts and filed reports drop
    out; an unfiled report stays listed, late, until it is filed."""
    today = timezone.localdate(now or timezone.now())
    horizon = today + dt.timedelta(days=within_days)
    rows = []
    awards = (
        visible_awards(user)
        .filter(
            Q(contract_due_on__lte=horizon, contract_signed_on__isnull=True)
            | Q(report_due_on__lte=horizon, report_filed_on__isnull=True)
        )
        .select_related("lot__publicity")
    )
    for award in awards:
        if award.contract_signed_on is None and award.contract_due_on <= horizon:
            rows.append(_deadline_row(award, "contract", award.contract_due_on, today))
        if award.report_filed_on is None and award.report_due_on <= horizon:
            rows.append(_deadline_row(award, "report", award.report_due_on, today))
    rows.sort(key=lambda r: (r["due_on"], r["award"].pk, r["kind"]))
    return rows


def _deadline_row(award: Award, kind: str, due_on: dt.date, today: dt.date) -> dict:
    publicity = publicity_of_award(award)
    return {
        "award": award,
        "lot": award.lot,
        "tender": award.lot.tender,
        "kind": kind,
        "label": _("Contract") if kind == "contract" else _("Report to the supervisor"),
        "due_on": due_on,
        "days_left": (due_on - today).days,
        "overdue": due_on < today,
        "deemed": award.deemed,
        "pass_over_ground": award.pass_over_ground,
        "pass_over_label": pass_over_label(award.pass_over_ground),
        "publicity_late": bool(publicity and publicity.late),
        "report_filed_on": award.report_filed_on,
    }


def publicity_of_award(award: Award) -> Publicity | None:
    try:
        return award.lot.publicity
    except Publicity.DoesNotExist:  # GP: none
        return None


def pass_over_label(ground: str) -> str:
    """The readable 条例55 ground of a pass-over ("" when none)."""
    from experts.services.award.common import PASS_OVER_GROUNDS

    return str(PASS_OVER_GROUNDS.get(ground, ground)) if ground else ""
