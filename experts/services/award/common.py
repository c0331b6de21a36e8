"""What the award services share: constants and sources, locks and checks, the candidates and the
content the publicity shows (A7), notifications and announcements in the platform's language."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from bidding.models import Bid
from core.errors import Conflict, ValidationFailed
from experts import rules as xrules
from experts.models import Award, Publicity, Report, Review
from trading import rules as trules
from trading.models import Lot, Notification, Tender, TenderState

SRC_PUBLICITY = "招标投标法实施条例第五十四条"
SRC_FIRST_CANDIDATE_TB = "招标投标法实施条例第五十五条"
SRC_FIRST_CANDIDATE_GP = "政府采购货物和服务招标投标管理办法（财政部令第87号）第六十八条"
SRC_CONTRACT = "招标投标法实施条例第五十七条"
OBJECTION_MAX_CHARS = 5000

# 条例55: the first candidate may be passed over only when it gives up, cannot perform because of
# force majeure, does not lodge the performance security, or is found to have broken the law in a
# way that affects the result (or otherwise no longer meets the conditions to win).
PASS_OVER_GROUNDS = {
    "declined": _("Gave up the award"),
    "force_majeure": _("Cannot perform the contract because of force majeure"),
    "no_performance_security": _("Did not lodge the performance security"),
    "illegal_conduct": _("Found to have broken the law in a way that affects the result"),
    "disqualified": _("No longer meets the conditions to be awarded"),
}


# --- small helpers ----------------------------------------------------------------------------------


def _lock(lot: Lot) -> tuple[Tender, Lot]:
    """Lock the tender, then the lot (always in this order: no two services can deadlock)."""
    tender = Tender.objects.select_for_update().get(pk=lot.tender_id)
    lot = Lot.objects.select_for_update().get(pk=lot.pk)
    lot.tender = tender
    return tender, lot


def _text(value: str, *, code: str, limit: int = OBJECTION_MAX_CHARS) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed(_("Write the text."), code=code)
    if len(value) > limit:
        raise ValidationFailed(
            _("The text is too long (at most %(max)s characters).") % {"max": limit},
            code="text_too_long",
            max=limit,
        )
    return value


def _money(value) -> Decimal:
    return xrules.q2(Decimal(str(value)))


def _check_lot_active(lot: Lot) -> None:
    if lot.status != Lot.Status.ACTIVE:
        raise Conflict(
            _("This lot is no longer active (%(status)s).") % {"status": lot.get_status_display()},
            code="lot_not_active",
            status_value=lot.status,
        )


def _check_tender_live(tender: Tender) -> None:
    """The award steps happen while the tender is in evaluation or publicity, never suspended."""
    if tender.state == TenderState.SUSPENDED:
        raise Conflict(
            _("The tender is suspended; nothing can be decided until it resumes."), code="tender_suspended"
        )
    if tender.state not in (TenderState.EVALUATION, TenderState.PUBLICITY):
        raise Conflict(
            _("The tender is not being evaluated (it is “%(state)s”).")
            % {"state": tender.get_state_display()},
            code="tender_not_in_evaluation",
            state=tender.state,
        )


def final_report(lot: Lot) -> Report:
    """The lot's signed evaluation report; refused until every active member has signed."""
    report = Report.objects.filter(room__lot=lot).select_related("room").first()
    if report is None or report.finalized_at is None:
        raise Conflict(
            _("The evaluation report of this lot is not final yet: every member must sign it first."),
            code="report_not_final",
        )
    return report


def _publish_language():
    """Announcements read identically everywhere (条例63): built in the platform's language, not the
    language of whoever clicked the button."""
    return translation.override(settings.LANGUAGE_CODE)


def _public_url(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{path}"


def _notify(*, entity_ids, kind: str, subject, body, link: str, now) -> None:
    """Workbench notifications to every user of the entities (rows in the caller's transaction)."""
    Notification.objects.bulk_create(
        [
            Notification(
                entity_id=e, kind=kind, subject=str(subject)[:200], body=str(body), link=link, created_at=now
            )
            for e in dict.fromkeys(e for e in entity_ids if e)
        ]
    )


def _managers(tender: Tender) -> list[int]:
    return [e for e in (tender.agency_id, tender.tenderee_id) if e]


# --- the candidates and what the publicity shows (A7) --------------------------------------------------


def _criterion_names(lot: Lot) -> dict[str, str]:
    """Names of the qualification criteria: the tender's own list or the room's defaults."""
    from experts.services.evaluation.common import review_criteria  # the room part's list

    with _publish_language():  # the names go into the announcement and the stored candidates
        return {c["code"]: c["name"] for c in review_criteria(lot, Review.Stage.QUALIFICATION)}


def _qualification_responses(*, report: Report, bid_ids: list[str], names: dict) -> dict[str, list[dict]]:
    """How each candidate answered the qualification conditions, from the committee's verdicts:
    per criterion, how many active members found it met."""
    per: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    reviews = Review.objects.filter(
        member__room_id=report.room_id,
        member__voided=False,
        member__recused_at__isnull=True,
        bid_id__in=bid_ids,
        stage=Review.Stage.QUALIFICATION,
    ).values_list("bid_id", "criterion", "passed")
    for bid_id, criterion, passed in reviews:
        count = per[str(bid_id)][criterion]
        count[0] += int(passed)
        count[1] += 1
    return {
        bid: [
            {"criterion": code, "name": names.get(code, code), "passed": p, "of": n}
            for code, (p, n) in sorted(criteria.items())
        ]
        for bid, criteria in per.items()
    }


def _certificates(pm: dict) -> list[str]:
    out = []
    if pm.get("reg_no"):
        out.append(str(pm["reg_no"]))
    for c in pm.get("certificates") or []:
        number = c.get("number") if isinstance(c, dict) else c
        if number and str(number) not in out:
            out.append(str(number))
    return out


def candidate_rows(*, lot: Lot, report: Report) -> list[dict]:
    """The ranked candidates (at most 3, 条例53) with the content the publicity must show (A7)."""
    ranked = sorted(report.data.get("candidates") or [], key=lambda c: int(c["rank"]))[
        : trules.MAX_CANDIDATES
    ]
    bids = {
        str(b.pk): b
        for b in Bid.objects.filter(lot=lot, pk__in=[c["bid"] for c in ranked]).select_related("entity")
    }
    report_bids = {str(b.get("bid")): b for b in report.data.get("bids") or []}
    responses = _qualification_responses(report=report, bid_ids=list(bids), names=_criterion_names(lot))
    rows = []
    for c in ranked:
        bid = bids.get(str(c["bid"]))
        if bid is None:
            raise Conflict(_("A candidate's bid is not a bid of this lot."), code="candidate_bid_missing")
        form = bid.form or {}
        pm = form.get("project_manager") if isinstance(form.get("project_manager"), dict) else {}
        in_report = report_bids.get(str(bid.pk), {})
        rows.append(
            {
                "rank": int(c["rank"]),
                "bid": str(bid.pk),
                "entity": bid.entity_id,
                "bidder": bid.entity.name,
                "uscc": bid.entity.uscc,
                "price": str(_money(c.get("price", form.get("price")))),
                "total": None if c.get("total") in (None, "") else str(c["total"]),
                "tie": bool(c.get("tie") or in_report.get("tie")),
                "quality": str(form.get("quality") or ""),
                "duration_days": form.get("duration_days"),
                "project_manager": {
                    "name": str(pm.get("name") or ""),
                    "reg_no": str(pm.get("reg_no") or ""),
                    "certificates": _certificates(pm),
                },
                "qualified": bool(in_report.get("qualified", True)),
                "qualification": responses.get(str(bid.pk), []),
            }
        )
    return rows


def publicity_voided(publicity: Publicity) -> bool:
    """Ended without an award: an upheld objection sent the lot back to the committee."""
    return (
        publicity.state == Publicity.State.ENDED
        and not Award.objects.filter(lot_id=publicity.lot_id).exists()
    )


def _announcement_html(template: str, context: dict) -> str:
    with _publish_language():
        return render_to_string(template, context)
