"""The evaluation report (DOMAIN C8, C9): computed from the verdicts and scores with experts.rules,
signed by the platform, then signed by every active member, agreeing or with a written dissent.

Digests: the members sign the digest of the report as built (`ReportSignature.data_sha256`). When
the last member has signed, the final data is the built data plus `"body_sha256"` (that digest) and
`"signatures"`; it is signed again by the platform, printed to the PDF and stored as the Report's
data — so the PDF shows the signatures and still binds what the members signed.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from archive.blobs import blob_put
from core.errors import AccessDenied, Conflict, ValidationFailed
from experts import rules
from experts.models import Clarification, EvaluationRoom, Member, Outlier, Report, ReportSignature
from experts.services.evaluation.common import (
    TEXT_MAX,
    Phase,
    clean_text,
    is_lowest_price,
    journal,
    member_lock,
    price_criterion,
    require_phase,
    room_bump,
    room_lock,
    scored_criteria,
)
from experts.services.evaluation.events import Event
from experts.services.evaluation.outcome import Snapshot, bid_price, evaluated_price
from trading.models import Notification, User


def _iso(value) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def _money(value) -> str | None:
    return str(rules.q2(value)) if value is not None else None


def _bid_entry(snap: Snapshot, bid, *, valid: bool) -> dict:
    rejections = snap.rejections(bid, Phase.QUALIFICATION) or snap.rejections(bid, Phase.PRELIMINARY)
    j = snap.justifications.get(str(bid.pk))
    if snap.low_price_rejected(bid):
        rejections.append(
            {"stage": Phase.DETAILED.value, "criterion": "low_price", "seats": [], "reasons": [j.text]}
        )
    return {
        "bid": str(bid.pk),
        "bidder": bid.entity.name,
        "uscc": bid.entity.uscc,
        "price": _money(bid_price(bid)),
        "evaluated_price": _money(evaluated_price(snap.lot, bid)),
        "qualified": valid,
        "rejections": rejections,
        "scores": {},
        "price_score": None,
        "total": None,
        "rank": None,
        "tie": False,
        "low_price": (
            {"ratio": str(j.ratio), "text": j.text, "accepted": j.accepted} if j is not None else None
        ),
    }


def report_data(snap: Snapshot, *, now) -> dict:
    """The report's data in the format of experts.documents (briefing of issue 4), computed now."""
    room, lot = snap.room, snap.lot
    tender = lot.tender
    lowest = is_lowest_price(lot)
    criteria, price = scored_criteria(lot), price_criterion(lot)
    valid = [b for b in snap.qualified() if not snap.low_price_rejected(b)]
    valid_ids = {str(b.pk) for b in valid}
    prices = {str(b.pk): p for b in valid if (p := evaluated_price(lot, b)) is not None}
    price_scores = {}
    formula = (lot.evaluation or {}).get("price_formula") or {"kind": "gp_base_over_price"}
    if price is not None and prices:
        price_scores = rules.price_scores(
            formula=formula,
            max_points=Decimal(str(price["max"])),
            prices=prices,
        )
    entries, results = [], []
    for bid in snap.bids:
        entry = _bid_entry(snap, bid, valid=str(bid.pk) in valid_ids)
        entries.append(entry)
        if not entry["qualified"] or str(bid.pk) not in prices:
            continue
        total = None
        if not lowest:
            averages = []
            for c in criteria:
                by_seat = {
                    str(m.seat): s.value
                    for m in snap.active
                    if (s := snap.scores.get((m.pk, str(bid.pk), c["code"])))
                }
                average = rules.criterion_average(list(by_seat.values())) if by_seat else Decimal(0)
                averages.append(average)
                entry["scores"][c["code"]] = {
                    "by_seat": {k: str(rules.q2(v)) for k, v in by_seat.items()},
                    "average": str(average),
                }
            score = price_scores.get(str(bid.pk))
            entry["price_score"] = str(score) if score is not None else None
            total = rules.bid_total(averages=averages, price_score=score)
            entry["total"] = str(total)
        results.append({"bid": str(bid.pk), "total": total, "price": prices[str(bid.pk)]})
    ranked = rules.rank(results)
    by_bid = {e["bid"]: e for e in entries}
    for r in ranked:
        by_bid[r["bid"]]["rank"], by_bid[r["bid"]]["tie"] = r["rank"], r["tie"]
    chosen = rules.candidates(ranked) if ranked else []
    seats = {m.pk: m.seat for m in snap.members}
    return {
        "v": 1,
        "tender": {"code": tender.code, "title": tender.title, "regime": tender.regime},
        "lot": {
            "number": lot.number,
            "title": lot.title,
            "budget": _money(lot.budget),
            "ceiling_price": _money(lot.ceiling_price),
        },
        "method": "lowest_price" if lowest else "scoring",
        "opened_at": _iso(tender.deadline),
        "generated_at": _iso(now),
        "members": [
            {"seat": m.seat, "name": m.user.display_name, "kind": m.kind, "chair": m.pk == room.chair_id}
            for m in snap.active
        ],
        # Not in the briefing's format: who left the committee, so the report shows the replacements.
        "recusals": [
            {
                "seat": m.seat,
                "name": m.user.display_name,
                "reason": m.recusal_reason,
                "recused_at": _iso(m.recused_at),
                "voided": m.voided,
            }
            for m in snap.members
            if not m.active
        ],
        # The scored criteria; price is computed, described by its points, formula and base price.
        "criteria": [
            {"code": c["code"], "name": c["name"], "group": c["group"], "max": str(c["max"])}
            for c in criteria
        ],
        "price_points": str(price["max"]) if price else None,
        "price_formula": formula if price else None,
        "price_base": _money(rules.price_base(formula=formula, prices=prices)) if price and prices else None,
        "bids": entries,
        "candidates": [
            {
                "rank": r["rank"],
                "bid": r["bid"],
                "bidder": by_bid[r["bid"]]["bidder"],
                "price": by_bid[r["bid"]]["price"],
                "total": by_bid[r["bid"]]["total"],
            }
            for r in chosen
        ],
        "outliers": [
            {
                "seat": seats[o.member_id],
                "bid": str(o.bid_id),
                "bidder": by_bid[str(o.bid_id)]["bidder"] if str(o.bid_id) in by_bid else "",
                "criterion": o.criterion,
                "value": str(o.value),
                "median": str(o.median),
            }
            for o in Outlier.objects.filter(room=room, member__in=snap.active).order_by(
                "bid_id", "criterion", "member__seat"
            )
        ],
        "clarifications": [
            {
                "bidder": c.bid.entity.name,
                "question": c.question,
                "answer": c.answer,
                "asked_at": _iso(c.asked_at),
                "answered_at": _iso(c.answered_at),
            }
            for c in Clarification.objects.filter(room=room)
            .select_related("bid__entity")
            .order_by("asked_at", "pk")
        ],
        "signatures": [],
    }


def _chair(room: EvaluationRoom, actor) -> Member:
    if room.chair is None or room.chair.user_id != getattr(actor, "pk", None):
        raise AccessDenied(_("Only the chair of the committee may do this."), code="chair_only")
    return member_lock(room, room.chair, actor)


def report_build(*, room: EvaluationRoom, actor: User) -> Report:
    """The chair draws up the report in the summary: everything computed, platform-signed; the
    room moves to signing."""
    from experts import documents

    now = timezone.now()
    with transaction.atomic():
        room = room_lock(room.pk)
        _chair(room, actor)
        require_phase(room, Phase.SUMMARY)
        if Report.objects.filter(room=room).exists():
            raise Conflict(_("The report has already been drawn up."), code="report_exists")
        snap = Snapshot.load(room)
        missing = snap.missing(Phase.SUMMARY)
        if missing:
            raise Conflict(
                _("Not every member has given every verdict of this stage."),
                code="stage_incomplete",
                missing=missing[:50],
                count=len(missing),
            )
        data = report_data(snap, now=now)
        sha, signature = documents.sign(data)
        report = Report.objects.create(
            room=room, data=data, data_sha256=sha, platform_signature=signature, created_at=now
        )
        room_bump(room, event=Event.REPORT, now=now, phase=Phase.SIGNING)
        journal(
            room,
            action="report_built",
            actor=actor,
            obj=report,
            payload={"data_sha256": sha, "candidates": [c["bid"] for c in data["candidates"]]},
        )
    return report


def _finalize(room: EvaluationRoom, report: Report, *, actor, now) -> None:
    from experts import documents

    signatures = (
        ReportSignature.objects.filter(report=report).select_related("member__user").order_by("member__seat")
    )
    final = {
        **report.data,
        "body_sha256": report.data_sha256,
        "signatures": [
            {
                "seat": s.member.seat,
                "name": s.member.user.display_name,
                "agrees": s.agrees,
                "dissent": s.dissent,
                "signed_at": _iso(s.signed_at),
            }
            for s in signatures
        ],
    }
    sha, signature = documents.sign(final)
    pdf = blob_put(data=documents.report_pdf(final, signature=signature), content_type="application/pdf")
    body = report.data_sha256
    report.data, report.data_sha256, report.platform_signature = final, sha, signature
    report.pdf, report.finalized_at = pdf, now
    report.save(update_fields=["data", "data_sha256", "platform_signature", "pdf", "finalized_at"])
    room_bump(room, event=Event.CLOSED, now=now, phase=Phase.CLOSED, closed_at=now)
    journal(
        room,
        action="report_finalized",
        actor=actor,
        obj=report,
        payload={
            "data_sha256": sha,
            "body_sha256": body,
            "pdf_sha256": pdf.sha256,
            "signatures": len(final["signatures"]),
        },
    )
    tender = room.lot.tender
    entity = tender.agency_id or tender.tenderee_id
    Notification.objects.create(
        entity_id=entity,
        kind="evaluation.report_final",
        subject=gettext("The evaluation report of %(lot)s is signed.")
        % {"lot": f"{tender.code} / {room.lot.number}"},
        created_at=now,
    )


def report_sign(*, member: Member, actor: User, agrees: bool, dissent: str = "") -> ReportSignature:
    """A member signs the report: agreeing, or disagreeing with a written dissent (C9; a member who
    signs without a dissent agrees). The last signature finalises the report and closes the room."""
    if not isinstance(agrees, bool):
        raise ValidationFailed(_("Agree or disagree."), code="agreement_invalid")
    dissent = clean_text(dissent, code="dissent_required", limit=TEXT_MAX * 5, required=not agrees)
    if agrees and dissent:
        raise ValidationFailed(
            _("A dissent is signed as a disagreement."), code="dissent_requires_disagreement"
        )
    now = timezone.now()
    with transaction.atomic():
        room = room_lock(member.room_id)
        member = member_lock(room, member, actor)
        require_phase(room, Phase.SIGNING)
        report = Report.objects.select_for_update().get(room=room)
        if ReportSignature.objects.filter(report=report, member=member).exists():
            raise Conflict(_("You have already signed the report."), code="already_signed")
        signature = ReportSignature.objects.create(
            report=report,
            member=member,
            agrees=agrees,
            dissent=dissent,
            data_sha256=report.data_sha256,
            signed_at=now,
        )
        journal(
            room,
            action="report_signed",
            actor=actor,
            obj=signature,
            payload={
                "seat": member.seat,
                "agrees": agrees,
                "dissent": dissent,
                "data_sha256": report.data_sha256,
            },
        )
        active = [m.pk for m in room.members.all() if m.active]
        signed = set(ReportSignature.objects.filter(report=report).values_list("member_id", flat=True))
        if set(active) <= signed:
            _finalize(room, report, actor=actor, now=now)
        else:
            room_bump(room, event=Event.SIGNED)
    return signature
