"""The award decision (A8, A9): the winner among the candidates, the signed 中标通知书 and result notices,
the result announcement (GP: with the experts and the tender documents), the draw revealed."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive.blobs import blob_put
from archive.journal import journal_anchor, journal_append
from bidding.models import Bid
from bidding.opening.rules import VALID_DECRYPTIONS
from core.errors import Conflict, RuleViolation, ValidationFailed
from experts import documents
from experts import rules as xrules
from experts.models import Award, Publicity, Report, ResultNotice
from experts.services.award.common import (
    PASS_OVER_GROUNDS,
    SRC_FIRST_CANDIDATE_GP,
    SRC_FIRST_CANDIDATE_TB,
    SRC_PUBLICITY,
    _announcement_html,
    _check_lot_active,
    _check_tender_live,
    _lock,
    _money,
    _notify,
    _public_url,
    _publish_language,
    candidate_rows,
    final_report,
    publicity_voided,
)
from trading import rules as trules
from trading.access import tender_access_manage
from trading.models import AnnouncementKind, Lot, Regime, Tender, TenderState, User
from trading.selectors_workbench import tender_documents_published
from trading.services.announcements import announcement_create, announcement_publish
from trading.services.tenders import tender_set_state

# --- the award (A8, A9) --------------------------------------------------------------------------------


def first_candidate_binding(tender: Tender) -> bool:
    """State-funded TB projects (条例55) and GP (87号令68) must award in the committee's order."""
    return tender.regime == Regime.GP or tender.state_funded


def _check_rank(*, tender: Tender, candidates: list[dict], rank: int, reason: str, ground: str) -> dict:
    chosen = next((c for c in candidates if c["rank"] == rank), None)
    if chosen is None:
        raise ValidationFailed(
            _("Rank %(rank)s is not one of the recommended candidates.") % {"rank": rank},
            code="rank_not_candidate",
            rank=rank,
        )
    if rank == 1 or not first_candidate_binding(tender):
        return chosen
    source = SRC_FIRST_CANDIDATE_GP if tender.regime == Regime.GP else SRC_FIRST_CANDIDATE_TB
    if ground not in PASS_OVER_GROUNDS:
        raise RuleViolation(
            _("The first candidate must be awarded unless it gave up or no longer qualifies; say which."),
            code="pass_over_ground_required",
            source=source,
            grounds=sorted(PASS_OVER_GROUNDS),
        )
    if not reason:
        raise RuleViolation(
            _("Explain in writing why the higher-ranked candidates are passed over."),
            code="award_reason_required",
            source=source,
        )
    return chosen


def _notice_data(
    *,
    kind: str,
    number: str,
    tender: Tender,
    lot: Lot,
    winner: dict,
    candidate: dict,
    decided_at,
    contract_due_on: dt.date,
    bidder: dict | None = None,
) -> dict:
    data = {
        "v": 1,
        "kind": kind,
        "number": number,
        "tender": {"code": tender.code, "title": tender.title, "regime": tender.regime},
        "lot": {"number": lot.number, "title": lot.title},
        "winner": winner,
        "amount": candidate["price"],
        "duration_days": candidate.get("duration_days"),
        "quality": candidate.get("quality") or "",
        "project_manager": candidate.get("project_manager") or {},
        "decided_at": timezone.localtime(decided_at).isoformat(),
        "contract_due_on": contract_due_on.isoformat(),
        "tenderee": tender.tenderee.name,
        "agency": tender.agency.name if tender.agency_id else "",
    }
    if bidder is not None:
        data["bidder"] = bidder
    return data


def _result_addressee(bid: Bid, *, report: Report, gp: bool) -> dict:
    """Who a result notice goes to; GP bidders also learn their own score and rank, or why their bid
    failed the review (87号令69)."""
    out = {"name": bid.entity.name, "uscc": bid.entity.uscc}
    if not gp:
        return out
    entry = next((b for b in report.data.get("bids") or [] if str(b.get("bid")) == str(bid.pk)), {})
    if entry.get("total") not in (None, ""):
        out["total"] = str(entry["total"])
    if entry.get("rank") not in (None, ""):
        out["rank"] = entry["rank"]
    reasons = [str(r) for rej in entry.get("rejections") or [] for r in rej.get("reasons") or []]
    if not entry.get("qualified", True) or reasons:
        with _publish_language():
            out["reason"] = "; ".join(dict.fromkeys(reasons)) or str(_("The bid did not pass the review."))
    return out


def _signed_pdf(data: dict, printer) -> tuple[str, str, object]:
    sha256, signature = documents.sign(data)
    pdf = blob_put(data=printer(data, signature=signature), content_type="application/pdf")
    return sha256, signature, pdf


def _reveal_draw(*, lot: Lot, actor: User | None) -> None:
    """The names are no longer sealed once the result is decided (TB 法37) / announced (GP 87号令47):
    reveal the lot's live draw so anyone can re-run it."""
    from experts.services.draw import draw_for_lot, draw_reveal  # the draw part, a sibling service

    draw = draw_for_lot(lot)
    if draw is not None and draw.state == draw.State.DRAWN:
        draw_reveal(draw=draw, actor=actor)


def _committee_experts(report: Report) -> list[str]:
    return [
        str(m.get("name") or "")
        for m in sorted(report.data.get("members") or [], key=lambda m: m.get("seat") or 0)
        if m.get("kind", "expert") == "expert" and m.get("name")
    ]


def _result_announcement(*, tender, lot, award, candidate, report, actor, now):
    gp = tender.regime == Regime.GP
    documents_links = []
    if gp:
        for att in tender_documents_published(tender=tender):
            documents_links.append(
                {
                    "name": att.filename,
                    "url": _public_url(
                        reverse("portal:attachment", kwargs={"sha256": att.blob_id, "filename": att.filename})
                    ),
                }
            )
    open_until = trules.gp_result_notice_end(published_at=now) if gp else None
    with _publish_language():
        title = str(
            _("%(tender)s, lot %(number)s: result announcement")
            % {"tender": tender.title, "number": lot.number}
        )
    body = _announcement_html(
        "experts/award/result_announcement.html",
        {
            "tender": tender,
            "lot": lot,
            "award": award,
            "candidate": candidate,
            "gp": gp,
            "experts": _committee_experts(report) if gp else [],
            "documents": documents_links,
            "tender_url": _public_url(reverse("portal:tender", args=[tender.pk])),
            "open_until": open_until,
        },
    )
    ann = announcement_create(
        tender=tender,
        lot=lot,
        kind=AnnouncementKind.RESULT,
        title=title[:300],
        body_html=body,
        actor=actor,
        open_until=open_until,
        check_access=False,
    )
    return announcement_publish(announcement=ann, actor=actor, check_access=False)


def _clean_ground(*, ground: str, rank: int) -> str:
    """The 条例55 ground is stored for a pass-over only (rank > 1); an unknown one is refused."""
    if ground and ground not in PASS_OVER_GROUNDS:
        raise ValidationFailed(
            _("Choose one of the grounds for passing over a candidate."),
            code="pass_over_ground_invalid",
            grounds=sorted(PASS_OVER_GROUNDS),
        )
    return ground if rank > 1 else ""


def award_decide(*, lot: Lot, actor: User, rank: int = 1, reason: str = "", ground: str = "") -> Award:
    """Decide the winner among the candidates: the 中标通知书 (signed data + PDF) to the winner, result
    notices to every other bidder whose bid was opened, the result announcement (GP: with the experts'
    names and the tender documents), the lot awarded, the draw's seed revealed, the deadlines set."""
    tender_access_manage(user=actor, tender=lot.tender)
    reason = (reason or "").strip()
    ground = (ground or "").strip()
    try:
        rank = int(rank)
    except (TypeError, ValueError):
        raise ValidationFailed(_("The rank is a number."), code="rank_not_candidate") from None
    now = timezone.now()
    with transaction.atomic():
        tender, lot = _lock(lot)
        return _decide(tender=tender, lot=lot, actor=actor, rank=rank, reason=reason, ground=ground, now=now)


def _decide(
    *,
    tender: Tender,
    lot: Lot,
    actor: User,
    rank: int,
    reason: str,
    ground: str,
    now,
    deemed: bool = False,
) -> Award:
    """The decision itself, under the tender's and the lot's locks (taken by the caller). A deemed
    decision (87号令68) is journalled with "system" as the actor; `actor` is then the user the rows
    record (Award.decided_by, the announcement), see award_tick."""
    journal_actor = "system" if deemed else actor
    _check_lot_active(lot)
    if Award.objects.filter(lot=lot).exists():
        raise Conflict(_("This lot has already been awarded."), code="award_exists")
    _check_tender_live(tender)
    report = final_report(lot)
    publicity = None
    if tender.regime == Regime.TB:
        publicity = Publicity.objects.select_for_update().filter(lot=lot).first()
        if publicity is None:
            raise RuleViolation(
                _("Publish the candidates for at least 3 days before deciding the award."),
                code="publicity_required",
                source=SRC_PUBLICITY,
            )
        if publicity_voided(publicity):
            raise Conflict(
                _("The publicity was voided by an upheld objection; publish the new candidates first."),
                code="publicity_voided",
            )
        if (
            publicity.state == Publicity.State.SUSPENDED
            or publicity.objections.filter(answered_at__isnull=True).exists()
        ):
            raise Conflict(_("An objection to the candidates is still open."), code="objection_open")
        if now < publicity.ends_at:
            raise RuleViolation(
                _("The publicity of the candidates is still running (until %(end)s).")
                % {"end": timezone.localtime(publicity.ends_at).strftime("%Y-%m-%d %H:%M")},
                code="publicity_not_ended",
                source=SRC_PUBLICITY,
                ends_at=publicity.ends_at,
            )
        candidates = publicity.candidates
    else:
        candidates = candidate_rows(lot=lot, report=report)
    candidate = _check_rank(tender=tender, candidates=candidates, rank=rank, reason=reason, ground=ground)
    ground = _clean_ground(ground=ground, rank=rank)
    bid = Bid.objects.select_related("entity").get(pk=candidate["bid"])
    if bid.status != Bid.Status.ACTIVE or bid.decryption not in VALID_DECRYPTIONS:
        raise Conflict(_("The candidate's bid is no longer valid."), code="candidate_bid_invalid")

    awarded_on = timezone.localdate(now)
    contract_due_on = xrules.contract_due(awarded_on=awarded_on, regime=tender.regime)
    winner = {"name": bid.entity.name, "uscc": bid.entity.uscc}
    number = f"{tender.code}-{lot.number:02d}-ZB"
    notice = _notice_data(
        kind="award_notice",
        number=number,
        tender=tender,
        lot=lot,
        winner=winner,
        candidate=candidate,
        decided_at=now,
        contract_due_on=contract_due_on,
    )
    sha256, signature, pdf = _signed_pdf(notice, documents.award_notice_pdf)
    award = Award.objects.create(
        lot=lot,
        report=report,
        winner=bid.entity,
        bid=bid,
        amount=_money(candidate["price"]),
        rank=rank,
        decided_by=actor,
        decided_at=now,
        reason=reason,
        pass_over_ground=ground,
        deemed=deemed,
        notice=notice,
        notice_sha256=sha256,
        notice_signature=signature,
        notice_pdf=pdf,
        contract_due_on=contract_due_on,
        report_due_on=xrules.supervisor_report_due(awarded_on=awarded_on),
    )
    gp_decision_due = (
        xrules.gp_purchaser_decision_due(report_received_at=report.finalized_at)
        if tender.regime == Regime.GP
        else None
    )
    journal_append(
        stream=tender.stream,
        action="experts.award_decided",
        actor=journal_actor,
        obj=award,
        payload={
            "lot": lot.pk,
            "bid": str(bid.pk),
            "winner": bid.entity_id,
            "amount": award.amount,
            "rank": rank,
            "ground": ground,
            "reason": reason,
            "deemed": deemed,
            "decided_by": actor.pk,
            "report_sha256": report.data_sha256,
            "notice_sha256": sha256,
            "notice_pdf": pdf.pk,
            "contract_due_on": award.contract_due_on,
            "report_due_on": award.report_due_on,
            "gp_decision_due": gp_decision_due,
            "gp_decision_late": bool(gp_decision_due and now > gp_decision_due),
        },
    )

    others = (
        Bid.objects.filter(lot=lot, status=Bid.Status.ACTIVE, decryption__in=VALID_DECRYPTIONS)
        .exclude(pk=bid.pk)
        .select_related("entity")
        .order_by("submitted_at", "pk")
    )
    sent = []
    for i, other in enumerate(others, start=1):
        data = _notice_data(
            kind="result_notice",
            number=f"{tender.code}-{lot.number:02d}-JG{i:02d}",
            tender=tender,
            lot=lot,
            winner=winner,
            candidate=candidate,
            decided_at=now,
            contract_due_on=contract_due_on,
            bidder=_result_addressee(other, report=report, gp=tender.regime == Regime.GP),
        )
        r_sha, r_sig, r_pdf = _signed_pdf(data, documents.result_notice_pdf)
        sent.append(
            ResultNotice.objects.create(
                award=award,
                entity=other.entity,
                bid=other,
                data=data,
                data_sha256=r_sha,
                signature=r_sig,
                pdf=r_pdf,
                sent_at=now,
            )
        )
    journal_append(
        stream=tender.stream,
        action="experts.result_notices_sent",
        actor=journal_actor,
        obj=award,
        payload={
            "notices": [{"entity": n.entity_id, "bid": str(n.bid_id), "sha256": n.data_sha256} for n in sent]
        },
    )

    lot.status = Lot.Status.AWARDED
    lot.awarded_to = bid.entity
    lot.award_amount = award.amount
    lot.awarded_at = now
    lot.save(update_fields=["status", "awarded_to", "award_amount", "awarded_at"])
    if publicity is not None:
        publicity.state = Publicity.State.ENDED
        publicity.save(update_fields=["state"])

    ann = _result_announcement(
        tender=tender, lot=lot, award=award, candidate=candidate, report=report, actor=actor, now=now
    )
    award.announcement = ann
    award.save(update_fields=["announcement"])
    if tender.regime == Regime.GP:
        late = trules.check_gp_result_announcement(
            decided_at=now, published_at=ann.published_at, ends_at=ann.open_until
        )
        trules.raise_first(late)
    journal_append(
        stream=tender.stream,
        action="experts.result_announced",
        actor=journal_actor,
        obj=ann,
        payload={
            "lot": lot.pk,
            "award": award.pk,
            "due_at": xrules.gp_result_due(decided_at=now) if tender.regime == Regime.GP else None,
            "experts_listed": tender.regime == Regime.GP,
        },
    )

    notice_link = reverse("experts:award-notice-page", args=[lot.pk])
    _notify(
        entity_ids=[bid.entity_id],
        kind="experts.award_notice",
        subject=_("Award notice: %(t)s, lot %(n)s") % {"t": tender.title, "n": lot.number},
        body=_("Sign the contract by %(d)s.") % {"d": contract_due_on.isoformat()},
        link=notice_link,
        now=now,
    )
    _notify(
        entity_ids=[n.entity_id for n in sent],
        kind="experts.result_notice",
        subject=_("Result of %(t)s, lot %(n)s") % {"t": tender.title, "n": lot.number},
        body=_("The lot was awarded to %(w)s.") % {"w": bid.entity.name},
        link=notice_link,
        now=now,
    )

    _reveal_draw(lot=lot, actor=None if deemed else actor)
    if not tender.lots.filter(status=Lot.Status.ACTIVE).exists():
        tender_set_state(
            tender=tender, actor=actor, target=TenderState.AWARDED, reason=str(_("Every lot is decided"))
        )
    journal_anchor(streams=[tender.stream], actor=journal_actor)
    return award
