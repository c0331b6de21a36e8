"""Experts' contribution to a project's archival package (一项一档, DOMAIN E1/E2; issue 6 item 1), per lot:
every draw with its public record (the seed once revealed, so anyone can re-run it) and a PDF of it, the
called experts and their replies; the evaluation room — members, the declarations they signed or their
recusals (回避), review verdicts, scores with corrections and outliers, clarifications and low-price
explanations, the signed report (data and PDF) and every superseded revision; the candidate publicity
with the objections and their answers; the award decision with the signed award notice (中标通知书)
and the result notices to the other bidders; the contract; and the ratings and sanctions of the
committee's experts for this lot.

Bids are referred to by their number in bidding's folders (`lots/<lot>/bids/<n>/`). Paths:
    lots/<lot>/draws/<n>/record.json   record.pdf   assignments.json
    lots/<lot>/evaluation/room.json   declarations.json   reviews.json   scores.json   clarifications.json
    lots/<lot>/evaluation/report.json   report.pdf   revisions/<r>.json   revisions/<r>.pdf   conduct.json
    lots/<lot>/publicity.json   publicity.pdf
    lots/<lot>/award/award.json   notice.pdf   contract.json   result-notices/<n>.json   <n>.pdf
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from archive.providers import Item
from bidding.archive import bid_numbers
from experts import documents
from experts.models import (
    Assignment,
    Award,
    Clarification,
    Draw,
    EvaluationRoom,
    LowPriceJustification,
    Member,
    Outlier,
    Publicity,
    Rating,
    Report,
    ReportRevision,
    ResultNotice,
    Review,
    Sanction,
    Score,
)
from experts.services.draw.verify import draw_record
from trading.archive import (
    PDF,
    entity_ref,
    json_item,
    local,
    number,
    pdf_item,
    published_language,
    tender_id,
    user_ref,
)
from trading.models import Lot, Tender


def _pdf_item(path: str, title: str, *, blob=None, data: bytes | None = None) -> Item:
    return Item(path=path, media_type=PDF, blob=blob, data=None if blob else data, title=str(title))


# --- the draw ----------------------------------------------------------------------------------------------


def _draw_items(lot: Lot, draw: Draw, n: int) -> list[Item]:
    folder = f"lots/{lot.number}/draws/{number(n)}"
    revealed = draw.state == Draw.State.REVEALED and bool(draw.seed)
    label = {"lot": lot.number, "n": n}
    record = {
        "v": 1,
        "lot": lot.number,
        "n": n,
        "state": draw.state,
        "record": draw_record(draw),  # the public record experts.services.draw.record_verify re-runs
        "requested_at": draw.requested_at,
        "drawn_at": draw.drawn_at,
        "revealed_at": draw.revealed_at,
        "cancelled_reason": draw.cancelled_reason,
    }
    assignments = [
        {
            "group": a.group,
            "position": a.position,
            "expert": a.expert.public_id,
            "status": a.status,
            "called_at": a.called_at,
            "reply_due_at": a.reply_due_at,
            "responded_at": a.responded_at,
            "reason": a.reason,
            "replaces": a.replaces.expert.public_id if a.replaces_id else None,
        }
        for a in draw.assignments.select_related("expert", "replaces__expert").order_by("group", "position")
    ]
    overview = [
        (_("Lot"), f"{lot.number} {lot.title}"),
        (_("State"), draw.get_state_display()),
        (_("Requested at"), local(draw.requested_at)),
        (_("Drawn at"), local(draw.drawn_at)),
        (_("Seed revealed at"), local(draw.revealed_at)),
        (_("Request digest (SHA-256)"), draw.request_digest),
        (_("Seed commitment (SHA-256)"), draw.seed_commitment),
        (_("Supervisor's nonce"), draw.nonce),
        (_("Revealed seed"), draw.seed or _("not revealed")),
    ]
    if draw.cancelled_reason:
        overview.append((_("Cancelled because"), draw.cancelled_reason))
    sections: list = [(_("Draw"), overview)]
    for g in draw.groups or []:
        sections.append(
            (
                _("Group %(n)s") % {"n": g.get("group", "")},
                [
                    (_("Specialty"), g.get("specialty", "")),
                    (_("Experts drawn"), g.get("count", "")),
                    (_("Eligible pool"), len(g.get("pool") or [])),
                    (_("Pool digest (SHA-256)"), g.get("pool_digest", "")),
                    (_("Drawn order"), " ".join(g.get("order") or [])),
                    (_("Members"), " ".join(g.get("members") or [])),
                ],
            )
        )
    if assignments:
        sections.append(
            (
                _("Experts called"),
                [
                    (f"{a['group']}-{a['position']} {a['expert']}", Assignment.Status(a["status"]).label)
                    for a in assignments
                ],
            )
        )
    return [
        json_item(
            f"{folder}/record.json", record, _("Lot %(lot)s: draw %(n)s record") % label, public=revealed
        ),
        pdf_item(
            f"{folder}/record.pdf", _("Lot %(lot)s: draw %(n)s record") % label, sections, public=revealed
        ),
        json_item(
            f"{folder}/assignments.json",
            {
                "lot": lot.number,
                "n": n,
                "requested_by": user_ref(draw.requested_by),
                "drawn_by": user_ref(draw.drawn_by),
                "assignments": assignments,
                "excluded": draw.excluded,
            },
            _("Lot %(lot)s: draw %(n)s, experts called and their replies") % label,
        ),
    ]


# --- the evaluation ---------------------------------------------------------------------------------------


def _signatures(report: Report) -> list[dict]:
    return [
        {
            "seat": s.member.seat,
            "agrees": s.agrees,
            "dissent": s.dissent,
            "data_sha256": s.data_sha256,
            "signature": s.signature,
            "signed_at": s.signed_at,
            "deemed": s.deemed,
        }
        for s in report.signatures.select_related("member").order_by("member__seat", "pk")
    ]


def _evaluation_items(lot: Lot, room: EvaluationRoom, numbers: dict) -> list[Item]:
    folder = f"lots/{lot.number}/evaluation"
    label = {"lot": lot.number}
    members = list(
        Member.objects.filter(room=room)
        .select_related("user", "assignment__expert", "chair_vote")
        .order_by("seat")
    )
    seats = {m.pk: m.seat for m in members}

    def bid(pk) -> dict:
        return {"n": numbers.get(pk), "bid": str(pk)}

    out = [
        json_item(
            f"{folder}/room.json",
            {
                "v": 1,
                "lot": lot.number,
                "phase": room.phase,
                "phase_changed_at": room.phase_changed_at,
                "opens_at": room.opens_at,
                "ends_at": room.ends_at,
                "extended_until": room.extended_until,
                "signing_due_at": room.signing_due_at,
                "closed_at": room.closed_at,
                "chair": seats.get(room.chair_id),
                "members": [
                    {
                        "seat": m.seat,
                        "kind": m.kind,
                        "user": user_ref(m.user),
                        "expert": m.assignment.expert.public_id if m.assignment_id else None,
                        "joined_at": m.joined_at,
                        "voided": m.voided,
                        "chair_vote": seats.get(m.chair_vote_id),
                        "time_insufficient": m.time_insufficient,
                    }
                    for m in members
                ],
            },
            _("Lot %(lot)s: evaluation committee") % label,
        ),
        json_item(
            f"{folder}/declarations.json",
            {
                "lot": lot.number,
                "declarations": [
                    {
                        "seat": m.seat,
                        "user": user_ref(m.user),
                        "declared_at": m.declared_at,
                        "declaration": m.declaration,  # the text signed, with its SHA-256
                        "recused_at": m.recused_at,
                        "recusal_reason": m.recusal_reason,
                    }
                    for m in members
                ],
            },
            _("Lot %(lot)s: declarations and recusals (回避)") % label,
        ),
    ]
    reviews = [
        {
            "seat": seats.get(r.member_id),
            **bid(r.bid_id),
            "stage": r.stage,
            "criterion": r.criterion,
            "passed": r.passed,
            "reason": r.reason,
            "at": r.at,
        }
        for r in Review.objects.filter(member__room=room).order_by(
            "stage", "member__seat", "bid_id", "criterion"
        )
    ]
    reviews.sort(key=lambda r: (r["stage"], r["seat"], r["n"] or 0, r["criterion"]))
    scores = [
        {
            "seat": seats.get(s.member_id),
            **bid(s.bid_id),
            "criterion": s.criterion,
            "value": s.value,
            "comment": s.comment,
            "at": s.at,
            "corrected_from": s.corrected_from,
            "correction_case": s.correction_case,
        }
        for s in Score.objects.filter(member__room=room)
    ]
    scores.sort(key=lambda s: (s["seat"], s["n"] or 0, s["criterion"]))
    outliers = [
        {
            "seat": seats.get(o.member_id),
            **bid(o.bid_id),
            "criterion": o.criterion,
            "value": o.value,
            "median": o.median,
            "deviation": o.deviation,
            "threshold": o.threshold,
            "detected_at": o.detected_at,
        }
        for o in Outlier.objects.filter(room=room)
    ]
    outliers.sort(key=lambda o: (o["seat"], o["n"] or 0, o["criterion"]))
    if reviews:
        out.append(
            json_item(
                f"{folder}/reviews.json",
                {"lot": lot.number, "reviews": reviews},
                _("Lot %(lot)s: qualification and preliminary review") % label,
            )
        )
    if scores or outliers:
        out.append(
            json_item(
                f"{folder}/scores.json",
                {"lot": lot.number, "scores": scores, "outliers": outliers},
                _("Lot %(lot)s: scores") % label,
            )
        )
    clarifications = [
        {
            **bid(c.bid_id),
            "asked_by": seats.get(c.asked_by_id),
            "question": c.question,
            "asked_at": c.asked_at,
            "due_at": c.due_at,
            "answer": c.answer,
            "answered_by": user_ref(c.answered_by),
            "answered_at": c.answered_at,
        }
        for c in Clarification.objects.filter(room=room)
        .select_related("answered_by")
        .order_by("asked_at", "pk")
    ]
    low_prices = [
        {
            **bid(j.bid_id),
            "ratio": j.ratio,
            "requested_at": j.requested_at,
            "due_at": j.due_at,
            "text": j.text,
            "answered_at": j.answered_at,
            "accepted": j.accepted,
            "decided_by": user_ref(j.decided_by),
            "decided_at": j.decided_at,
        }
        for j in LowPriceJustification.objects.filter(room=room)
        .select_related("decided_by")
        .order_by("requested_at", "pk")
    ]
    if clarifications or low_prices:
        out.append(
            json_item(
                f"{folder}/clarifications.json",
                {"lot": lot.number, "clarifications": clarifications, "low_prices": low_prices},
                _("Lot %(lot)s: clarifications and low-price explanations") % label,
            )
        )
    for rev in ReportRevision.objects.filter(room=room).select_related("pdf").order_by("revision"):
        title = _("Lot %(lot)s: evaluation report, revision %(r)s (superseded)") % {
            **label,
            "r": rev.revision,
        }
        path = f"{folder}/revisions/{number(rev.revision, 2)}"
        out.append(
            json_item(
                f"{path}.json",
                {
                    "data": rev.data,
                    "sha256": rev.data_sha256,
                    "signature": rev.platform_signature,
                    "revision": rev.revision,
                    "finalized_at": rev.finalized_at,
                    "superseded_at": rev.superseded_at,
                    "reason": rev.reason,
                },
                title,
            )
        )
        out.append(_report_pdf(f"{path}.pdf", title, rev.pdf_id, rev.data, rev.platform_signature))
    report = Report.objects.filter(room=room).select_related("pdf").first()
    if report is not None:
        title = _("Lot %(lot)s: evaluation report") % label
        out.append(
            json_item(
                f"{folder}/report.json",
                {
                    "data": report.data,
                    "sha256": report.data_sha256,
                    "body_sha256": report.body_sha256,
                    "signature": report.platform_signature,
                    "revision": report.revision,
                    "created_at": report.created_at,
                    "finalized_at": report.finalized_at,
                    "signatures": _signatures(report),
                },
                title,
            )
        )
        out.append(
            _report_pdf(f"{folder}/report.pdf", title, report.pdf_id, report.data, report.platform_signature)
        )
    return out


def _report_pdf(path: str, title: str, blob: str | None, data: dict, signature: str) -> Item:
    if blob:
        return _pdf_item(path, title, blob=blob)
    # Built but never finalized (the tender stopped while the committee signed): printed from its data.
    return _pdf_item(path, title, data=documents.report_pdf(data, signature=signature or ""))


def _conduct_items(lot: Lot) -> list[Item]:
    ratings = [
        {
            "expert": r.expert.public_id,
            "score": r.score,
            "marks": r.marks,
            "comment": r.comment,
            "rated_by": user_ref(r.rated_by),
            "rated_at": r.rated_at,
            "due_on": r.due_on,
            "late": r.late,
        }
        for r in Rating.objects.filter(lot=lot)
        .select_related("expert", "rated_by")
        .order_by("rated_at", "pk")
    ]
    sanctions = [
        {
            "expert": s.expert.public_id,
            "kind": s.kind,
            "legal_basis": s.legal_basis,
            "description": s.description,
            "fine_amount": s.fine_amount,
            "starts_on": s.starts_on,
            "ends_on": s.ends_on,
            "credit_record": s.credit_record_id,
            "decided_by": user_ref(s.decided_by),
            "decided_at": s.decided_at,
        }
        for s in Sanction.objects.filter(lot=lot)
        .select_related("expert", "decided_by")
        .order_by("decided_at", "pk")
    ]
    if not ratings and not sanctions:
        return []
    return [
        json_item(
            f"lots/{lot.number}/evaluation/conduct.json",
            {"lot": lot.number, "ratings": ratings, "sanctions": sanctions},
            _("Lot %(lot)s: ratings and sanctions of the experts") % {"lot": lot.number},
        )
    ]


# --- publicity and award ------------------------------------------------------------------------------------


def _publicity_items(lot: Lot, publicity: Publicity) -> list[Item]:
    label = {"lot": lot.number}
    objections = [
        {
            "id": o.pk,
            "raised_by": user_ref(o.raised_by),
            "entity": entity_ref(o.entity),
            "text": o.text,
            "raised_at": o.raised_at,
            "reply_due_at": o.reply_due_at,
            "answer": o.answer,
            "upheld": o.upheld,
            "answered_by": user_ref(o.answered_by),
            "answered_at": o.answered_at,
        }
        for o in publicity.objections.select_related("raised_by", "entity", "answered_by").order_by(
            "raised_at", "pk"
        )
    ]
    record = {
        "v": 1,
        "lot": lot.number,
        "report_revision": publicity.report.revision,
        "report_sha256": publicity.report.data_sha256,
        "announcement": publicity.announcement_id,
        "candidates": publicity.candidates,
        "state": publicity.state,
        "late": publicity.late,
        "starts_at": publicity.starts_at,
        "ends_at": publicity.ends_at,
        "created_at": publicity.created_at,
        "objections": objections,
    }
    title = _("Lot %(lot)s: candidate publicity and objections") % label
    sections: list = [
        (
            _("Candidate publicity"),
            [
                (_("Lot"), f"{lot.number} {lot.title}"),
                (_("State"), publicity.get_state_display()),
                (_("From"), local(publicity.starts_at)),
                (_("Until"), local(publicity.ends_at)),
            ],
        ),
        (
            _("Candidates"),
            [
                (str(c.get("rank", "")), f"{c.get('bidder', '')} {c.get('price', '')}")
                for c in publicity.candidates
            ],
        ),
    ]
    for i, o in enumerate(objections, start=1):
        sections.append(
            (
                _("Objection %(n)s") % {"n": i},
                [
                    (
                        _("Raised by"),
                        (o["entity"] or {}).get("name") or (o["raised_by"] or {}).get("name", ""),
                    ),
                    (_("Raised at"), local(o["raised_at"])),
                    (_("Objection"), o["text"]),
                    (_("Answer"), o["answer"] or "—"),
                    (_("Upheld"), "—" if o["upheld"] is None else (_("Yes") if o["upheld"] else _("No"))),
                    (_("Answered at"), local(o["answered_at"])),
                ],
            )
        )
    return [
        json_item(f"lots/{lot.number}/publicity.json", record, title),
        pdf_item(f"lots/{lot.number}/publicity.pdf", title, sections),
    ]


def _award_items(lot: Lot, award: Award, numbers: dict) -> list[Item]:
    folder = f"lots/{lot.number}/award"
    label = {"lot": lot.number}
    record = {
        "v": 1,
        "lot": lot.number,
        "winner": entity_ref(award.winner),
        "bid": {"n": numbers.get(award.bid_id), "bid": str(award.bid_id)},
        "amount": award.amount,
        "rank": award.rank,
        "report_revision": award.report.revision,
        "report_sha256": award.report.data_sha256,
        "decided_by": user_ref(award.decided_by),
        "decided_at": award.decided_at,
        "reason": award.reason,
        "pass_over_ground": award.pass_over_ground,
        "deemed": award.deemed,
        "announcement": award.announcement_id,
        "notice": {"data": award.notice, "sha256": award.notice_sha256, "signature": award.notice_signature},
    }
    notice_title = _("Lot %(lot)s: award notice (中标通知书)") % label
    out = [
        json_item(f"{folder}/award.json", record, _("Lot %(lot)s: award decision") % label),
        _pdf_item(
            f"{folder}/notice.pdf",
            notice_title,
            blob=award.notice_pdf_id,
            data=None
            if award.notice_pdf_id
            else documents.award_notice_pdf(award.notice, signature=award.notice_signature),
        ),
        json_item(
            f"{folder}/contract.json",
            {
                "v": 1,
                "lot": lot.number,
                "winner": entity_ref(award.winner),
                "awarded_amount": award.amount,
                "contract_due_on": award.contract_due_on,
                "contract_signed_on": award.contract_signed_on,
                "contract_amount": award.contract_amount,
                "report_due_on": award.report_due_on,
                "report_filed_on": award.report_filed_on,
            },
            _("Lot %(lot)s: contract") % label,
        ),
    ]
    notices = ResultNotice.objects.filter(award=award).select_related("entity")
    for notice in sorted(notices, key=lambda x: (numbers.get(x.bid_id) or 0, x.pk)):
        n = numbers.get(notice.bid_id) or 0
        title = _("Lot %(lot)s: result notice to %(bidder)s") % {**label, "bidder": notice.entity.name}
        path = f"{folder}/result-notices/{number(n)}"
        out.append(
            json_item(
                f"{path}.json",
                {
                    "bid": {"n": n, "bid": str(notice.bid_id)},
                    "entity": entity_ref(notice.entity),
                    "data": notice.data,
                    "sha256": notice.data_sha256,
                    "signature": notice.signature,
                    "sent_at": notice.sent_at,
                },
                title,
            )
        )
        out.append(
            _pdf_item(
                f"{path}.pdf",
                title,
                blob=notice.pdf_id,
                data=None
                if notice.pdf_id
                else documents.result_notice_pdf(notice.data, signature=notice.signature),
            )
        )
    return out


# --- the provider ---------------------------------------------------------------------------------------


def items(project: str) -> list[Item]:
    pk = tender_id(project)
    if pk is None:
        return []
    if not Tender.objects.filter(pk=pk).exists():
        return []
    out: list[Item] = []
    with published_language():
        for lot in Lot.objects.filter(tender_id=pk).order_by("number"):
            numbers = bid_numbers(lot)
            draws = Draw.objects.filter(lot=lot).select_related("requested_by", "drawn_by")
            for n, draw in enumerate(draws.order_by("requested_at", "pk"), start=1):
                out += _draw_items(lot, draw, n)
            room = EvaluationRoom.objects.filter(lot=lot).select_related("chair").first()
            if room is not None:
                out += _evaluation_items(lot, room, numbers)
            out += _conduct_items(lot)
            publicity = Publicity.objects.filter(lot=lot).select_related("report").first()
            if publicity is not None:
                out += _publicity_items(lot, publicity)
            award = Award.objects.filter(lot=lot).select_related("winner", "report", "decided_by").first()
            if award is not None:
                out += _award_items(lot, award, numbers)
    return out
