"""The evaluation report (DOMAIN C8, C9): computed from the verdicts and scores with experts.rules,
signed by the platform, then signed by every active member, agreeing or with a written dissent.

Digests: the members sign the digest of the report as built (`Report.body_sha256`, copied to each
`ReportSignature.data_sha256`). When the last member has signed, the final data is the built data
plus `"body_sha256"` (that digest) and `"signatures"`; it is signed again by the platform, printed to
the PDF and stored as the Report's data — so the PDF shows the signatures and still binds what the
members signed.

Deemed agreement (条例53, 87号令61): building the report sets the room's `signing_due_at` (now +
`signing_hours`, [G] 2, see timing.py). After it a member can no longer sign (`signing_overdue`);
`room_tick` records every active member who has not signed as agreeing, `deemed`, and finalises
the report as the last signature would.

A report is built once per revision. A correction after the summary (corrections.py) discards an
unsigned report, a re-evaluation (revisions.py) supersedes a final one; both leave the Report row
reset (empty data) for the next `report_build`, which fills the same row. The data carries its
`"revision"` and, from the second on, `"supersedes"` (the superseded revision's digest and why).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from archive.blobs import blob_put
from archive.models import JournalEntry
from core.errors import AccessDenied, Conflict, ValidationFailed
from experts import rules
from experts.models import (
    Clarification,
    EvaluationRoom,
    Member,
    Outlier,
    Report,
    ReportRevision,
    ReportSignature,
)
from experts.services.evaluation.common import (
    TEXT_MAX,
    Phase,
    active_members,
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
from experts.services.evaluation.timing import hours
from trading.models import Notification, TenderState, User

SRC_DEEMED = "招标投标法实施条例第五十三条；87号令第六十一条"


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


def _corrections(snap: Snapshot, by_bid: dict) -> list[dict]:
    """Scores of the active members corrected after the summary (87号令64): the value at the summary,
    the value now, the case and the member's reason (kept in the journal entry of the correction)."""
    corrected = [
        (m, s)
        for m in snap.active
        for (mid, _bid, _c), s in snap.scores.items()
        if mid == m.pk and s.corrected_from is not None
    ]
    if not corrected:
        return []
    order = {str(b.pk): i for i, b in enumerate(snap.bids)}
    reasons = {}
    for entry in JournalEntry.objects.filter(
        stream=snap.lot.tender.stream,
        action="experts.score_corrected",
        object_type="experts.score",
        object_id__in=[str(s.pk) for _m, s in corrected],
    ).order_by("seq"):
        reasons[entry.object_id] = entry.payload.get("reason", "")
    corrected.sort(key=lambda ms: (order.get(str(ms[1].bid_id), 0), ms[1].criterion, ms[0].seat))
    return [
        {
            "seat": m.seat,
            "bid": str(s.bid_id),
            "bidder": by_bid[str(s.bid_id)]["bidder"] if str(s.bid_id) in by_bid else "",
            "criterion": s.criterion,
            "from": str(s.corrected_from),
            "to": str(s.value),
            "case": s.correction_case,
            "reason": reasons.get(str(s.pk), ""),
            "at": _iso(s.at),
        }
        for m, s in corrected
    ]


def _revision(room: EvaluationRoom) -> tuple[int, dict | None]:
    """(this report's revision, what it supersedes) — 1 and None until a re-evaluation."""
    revision = Report.objects.filter(room=room).values_list("revision", flat=True).first() or 1
    previous = ReportRevision.objects.filter(room=room, revision=revision - 1).first()
    if previous is None:
        return revision, None
    return revision, {
        "revision": previous.revision,
        "data_sha256": previous.data_sha256,
        "superseded_at": _iso(previous.superseded_at),
        "reason": previous.reason,
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
    revision, supersedes = _revision(room)
    return {
        "v": 1,
        "revision": revision,
        "supersedes": supersedes,
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
        # Not in the briefing's format: scores changed after the summary (87号令64).
        "corrections": _corrections(snap, by_bid),
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
        existing = Report.objects.select_for_update().filter(room=room).first()
        if existing is not None and existing.data:
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
        fields = {"data": data, "data_sha256": sha, "body_sha256": sha, "platform_signature": signature}
        if existing is None:
            report = Report.objects.create(room=room, created_at=now, **fields)
        else:  # reset by a correction or a re-evaluation: the same row, the same revision
            report = existing
            for name, value in {**fields, "created_at": now, "pdf": None, "finalized_at": None}.items():
                setattr(report, name, value)
            report.save()
        due = now + hours("signing_hours")
        room_bump(room, event=Event.REPORT, now=now, phase=Phase.SIGNING, signing_due_at=due)
        journal(
            room,
            action="report_built",
            actor=actor,
            obj=report,
            payload={
                "data_sha256": sha,
                "revision": report.revision,
                "signing_due_at": due,
                "candidates": [c["bid"] for c in data["candidates"]],
            },
        )
    return report


def report_reset(report: Report) -> None:
    """Empty a report for the next `report_build` (its signatures are deleted by the caller)."""
    report.data, report.data_sha256, report.body_sha256 = {}, "", ""
    report.platform_signature, report.pdf, report.finalized_at = "", None, None
    report.save(
        update_fields=["data", "data_sha256", "body_sha256", "platform_signature", "pdf", "finalized_at"]
    )


def _finalize(room: EvaluationRoom, report: Report, *, actor, now) -> None:
    from experts import documents

    signatures = (
        ReportSignature.objects.filter(report=report).select_related("member__user").order_by("member__seat")
    )
    body = report.body_sha256 or report.data_sha256
    final = {
        **report.data,
        "body_sha256": body,
        "signatures": [
            {
                "seat": s.member.seat,
                "name": s.member.user.display_name,
                "agrees": s.agrees,
                "dissent": s.dissent,
                "signed_at": _iso(s.signed_at),
                "deemed": s.deemed,
            }
            for s in signatures
        ],
    }
    sha, signature = documents.sign(final)
    pdf = blob_put(data=documents.report_pdf(final, signature=signature), content_type="application/pdf")
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
            "revision": report.revision,
            "signatures": len(final["signatures"]),
            "deemed": [x["seat"] for x in final["signatures"] if x["deemed"]],
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
    signs without a dissent agrees), until the room's `signing_due_at`. The last signature finalises
    the report and closes the room."""
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
        if room.signing_due_at is not None and now > room.signing_due_at:
            raise Conflict(
                _("The time to sign has passed: members who have not signed are deemed to agree."),
                code="signing_overdue",
                source=SRC_DEEMED,
            )
        signature = ReportSignature.objects.create(
            report=report,
            member=member,
            agrees=agrees,
            dissent=dissent,
            data_sha256=report.body_sha256 or report.data_sha256,
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


def room_tick(*, now: dt.datetime | None = None) -> int:
    """Rooms in signing whose `signing_due_at` has passed: every active member who has not signed is
    recorded as agreeing, `deemed` (signed at the deadline, no dissent; 条例53, 87号令61), and the
    report is finalised as by the last signature. Idempotent (each room re-checked under its lock);
    returns the number of reports finalised. Run by `manage.py run_experts`."""
    now = now or timezone.now()
    done = 0
    due = EvaluationRoom.objects.filter(phase=Phase.SIGNING, signing_due_at__lt=now)
    for pk in due.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            room = room_lock(pk, live=False)
            if room.phase != Phase.SIGNING or room.signing_due_at is None or room.signing_due_at >= now:
                continue
            if room.lot.tender.state == TenderState.SUSPENDED:
                continue  # nobody is deemed to sign while the tender is suspended
            report = Report.objects.select_for_update().filter(room=room).first()
            if report is None or not report.data or report.finalized_at is not None:
                continue
            signed = set(ReportSignature.objects.filter(report=report).values_list("member_id", flat=True))
            silent = [m for m in active_members(room) if m.pk not in signed]
            ReportSignature.objects.bulk_create(
                [
                    ReportSignature(
                        report=report,
                        member=m,
                        agrees=True,
                        deemed=True,
                        dissent="",
                        data_sha256=report.body_sha256 or report.data_sha256,
                        signed_at=room.signing_due_at,
                    )
                    for m in silent
                ]
            )
            journal(
                room,
                action="report_deemed_signed",
                actor=None,
                obj=report,
                payload={
                    "seats": [m.seat for m in silent],
                    "signing_due_at": room.signing_due_at,
                    "body_sha256": report.body_sha256,
                    "source": SRC_DEEMED,
                },
            )
            tender = room.lot.tender
            Notification.objects.bulk_create(
                [
                    Notification(
                        user_id=m.user_id,
                        kind="evaluation.report_deemed",
                        subject=gettext(
                            "You did not sign the evaluation report of %(lot)s in time: you are deemed to agree."
                        )
                        % {"lot": f"{tender.code} / {room.lot.number}"},
                        link=reverse("experts:evaluation-room", args=[room.lot_id]),
                        created_at=now,
                    )
                    for m in silent
                ]
            )
            _finalize(room, report, actor=None, now=now)
            done += 1
    return done
