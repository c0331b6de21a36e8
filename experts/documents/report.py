"""The evaluation report as a PDF (landscape A4, score tables split in column blocks)."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _

from experts.documents.common import (
    MARGIN,
    SEATS_PER_TABLE,
    _correction_label,
    _group_label,
    _kind_label,
    _language,
    _method_label,
    _Pdf,
    _regime_label,
    _stage_label,
    _when,
    money,
)


def report_pdf(data: dict, *, signature: str, language: str | None = None) -> bytes:
    """The evaluation report (C9): cover, committee by seat with names (the report goes to the
    tenderee and the supervisor, and the law wants every member's signature), criteria, review
    results and rejections, every member's score per bid and criterion, price scores, totals, ranking,
    candidates, abnormally low prices, outliers, clarifications, signatures with agreement or dissent."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Spacer

    with translation.override(_language(language)):
        full = landscape(A4)[0] - 2 * MARGIN
        pdf = _Pdf(data, signature, frame_width=full)
        p = pdf.p
        tender, lot = data.get("tender") or {}, data.get("lot") or {}
        method = data.get("method", "scoring")
        scoring = method == "scoring"
        members = sorted(data.get("members") or [], key=lambda m: m.get("seat", 0))
        criteria = data.get("criteria") or []
        bids = data.get("bids") or []
        names = {b.get("bid"): b.get("bidder", "") for b in bids}
        title = _("Evaluation report")

        # cover
        story: list = [Spacer(1, 25 * mm), p(title, pdf.h1), p(tender.get("title", ""), pdf.sub)]
        story.append(
            p(_("Lot %(n)s: %(t)s") % {"n": lot.get("number", ""), "t": lot.get("title", "")}, pdf.sub)
        )
        story.append(Spacer(1, 12 * mm))
        chair = next((m for m in members if m.get("chair")), None)
        cover = [
            (_("Transaction code"), tender.get("code", "")),
            (_("Regime"), _regime_label(tender.get("regime", ""))),
            (_("Budget (yuan)"), money(lot.get("budget"))),
            (_("Ceiling price (yuan)"), money(lot.get("ceiling_price"))),
            (_("Evaluation method"), _method_label(method)),
            (_("Bids opened at"), _when(data.get("opened_at"))),
            (_("Report generated at"), _when(data.get("generated_at"))),
            (_("Bids evaluated"), len(bids)),
            (
                _("Committee"),
                _("%(n)s members, chaired by seat %(s)s")
                % {"n": len(members), "s": chair.get("seat") if chair else "—"},
            ),
            (_("Data digest (SHA-256)"), pdf.digest),
        ]
        supersedes = data.get("supersedes") or {}
        if supersedes:
            cover.append((_("Report revision"), data.get("revision", "")))
            cover.append(
                (
                    _("Supersedes"),
                    _("revision %(n)s (%(sha)s): %(reason)s")
                    % {
                        "n": supersedes.get("revision", ""),
                        "sha": str(supersedes.get("data_sha256", ""))[:16],
                        "reason": supersedes.get("reason", ""),
                    },
                )
            )
        story += [pdf.pairs(cover, [60 * mm, 150 * mm]), PageBreak()]

        # the committee
        story.append(p(_("1. Evaluation committee"), pdf.h2))
        rows = [
            [
                m.get("seat"),
                m.get("name", ""),
                _kind_label(m.get("kind", "")),
                _("Chair") if m.get("chair") else "",
            ]
            for m in members
        ]
        story.append(
            pdf.table(
                [_("Seat"), _("Member name"), _("Member type"), _("Role")],
                rows,
                [20 * mm, 70 * mm, 70 * mm, 40 * mm],
            )
        )

        # criteria
        story.append(p(_("2. Scoring criteria"), pdf.h2))
        rows = [
            [c.get("code", ""), c.get("name", ""), _group_label(c.get("group", "")), c.get("max", "")]
            for c in criteria
        ]
        if scoring:
            rows.append(
                ["", _("Price"), _group_label("price"), data.get("price_points", "") or _("by formula")]
            )
        story.append(
            pdf.table(
                [_("Code"), _("Criterion"), _("Group"), _("Maximum points")],
                rows,
                [35 * mm, 120 * mm, 45 * mm, 35 * mm],
            )
        )

        # the bids and the review
        story.append(p(_("3. Bids, qualification and preliminary review"), pdf.h2))
        rows = [
            [i, b.get("bidder", ""), b.get("uscc", ""), money(b.get("price")), money(b.get("evaluated_price")),
             _("Passed") if b.get("qualified") else _("Did not pass")]
            for i, b in enumerate(bids, start=1)
        ]  # fmt: skip
        header = [_("No."), _("Bidder"), _("Credit code"), _("Bid price"), _("Evaluated price"), _("Review")]
        story.append(pdf.table(header, rows, [12 * mm, 85 * mm, 45 * mm, 40 * mm, 40 * mm, 30 * mm]))
        rejections = [(b, r) for b in bids for r in (b.get("rejections") or [])]
        story.append(p(_("Rejected bids and reasons"), pdf.h2))
        if rejections:
            rows = [
                [b.get("bidder", ""), _stage_label(r.get("stage", "")), r.get("criterion", ""),
                 "、".join(str(s) for s in r.get("seats") or []), "\n".join(str(x) for x in r.get("reasons") or [])]
                for b, r in rejections
            ]  # fmt: skip
            header = [_("Bidder"), _("Stage"), _("Criterion"), _("Seats"), _("Reasons")]
            story.append(pdf.table(header, rows, [60 * mm, 35 * mm, 40 * mm, 25 * mm, 113 * mm]))
        else:
            story.append(p(_("None."), pdf.text))

        qualified = [b for b in bids if b.get("qualified")]

        # scores per seat
        if scoring and criteria:
            story.append(p(_("4. Scores by member"), pdf.h2))
            seats = [m.get("seat") for m in members]
            blocks = [seats[i : i + SEATS_PER_TABLE] for i in range(0, len(seats), SEATS_PER_TABLE)] or [[]]
            for block in blocks:
                fixed = 55 * mm + 45 * mm + 20 * mm
                seat_w = min((full - fixed) / max(len(block), 1), 22 * mm)
                header = (
                    [_("Bidder"), _("Criterion")]
                    + [_("Seat %(n)s") % {"n": s} for s in block]
                    + [_("Average")]
                )
                rows = []
                for b in qualified:
                    for c in criteria:
                        cell = (b.get("scores") or {}).get(c.get("code"), {})
                        by_seat = cell.get("by_seat") or {}
                        rows.append(
                            [b.get("bidder", ""), c.get("name", "")]
                            + [by_seat.get(str(s), "—") for s in block]
                            + [cell.get("average", "")]
                        )
                widths = [55 * mm, 45 * mm] + [seat_w] * len(block) + [20 * mm]
                story += [pdf.table(header, rows, widths), Spacer(1, 3 * mm)]
            corrections = data.get("corrections") or []
            if corrections:
                crit = {c.get("code"): c.get("name", "") for c in criteria}
                story.append(p(_("Scores corrected after the summary (87号令第六十四条)"), pdf.h2))
                rows = [[x.get("seat", ""), x.get("bidder") or names.get(x.get("bid"), ""),
                         crit.get(x.get("criterion"), x.get("criterion", "")), x.get("from", ""), x.get("to", ""),
                         _correction_label(x.get("case", "")), x.get("reason", "")] for x in corrections]  # fmt: skip
                header = [_("Seat"), _("Bidder"), _("Criterion"), _("At the summary"), _("Corrected"),
                          _("Case"), _("Reason")]  # fmt: skip
                widths = [15 * mm, 50 * mm, 40 * mm, 22 * mm, 22 * mm, 55 * mm, 60 * mm]
                story.append(pdf.table(header, rows, widths))

        # results
        story.append(
            p(
                _("5. Price scores, totals and ranking") if scoring else _("5. Ranking by evaluated price"),
                pdf.h2,
            )
        )
        if scoring and data.get("price_base"):
            story.append(p(_("Base price (yuan): %(b)s") % {"b": money(data["price_base"])}, pdf.text))
        ranked = sorted(qualified, key=lambda b: (b.get("rank") is None, b.get("rank") or 0))
        if scoring:
            header = [
                _("Rank"),
                _("Bidder"),
                _("Evaluated price"),
                _("Price score"),
                _("Total score"),
                _("Tie"),
            ]
            rows = [[b.get("rank", ""), b.get("bidder", ""), money(b.get("evaluated_price")), b.get("price_score", ""),
                     b.get("total", ""), _("Yes") if b.get("tie") else ""] for b in ranked]  # fmt: skip
            widths = [18 * mm, 100 * mm, 45 * mm, 35 * mm, 35 * mm, 25 * mm]
        else:
            header = [_("Rank"), _("Bidder"), _("Bid price"), _("Evaluated price"), _("Tie")]
            rows = [[b.get("rank", ""), b.get("bidder", ""), money(b.get("price")), money(b.get("evaluated_price")),
                     _("Yes") if b.get("tie") else ""] for b in ranked]  # fmt: skip
            widths = [18 * mm, 120 * mm, 45 * mm, 45 * mm, 25 * mm]
        story.append(pdf.table(header, rows, widths))
        if any(b.get("tie") for b in ranked):
            story.append(
                p(
                    _(
                        "Bids marked as tied are equal on both score and price; their order follows the rule of the tender documents."
                    ),
                    pdf.small,
                )
            )

        # candidates
        story.append(p(_("6. Recommended candidates"), pdf.h2))
        rows = [[c.get("rank", ""), c.get("bidder") or names.get(c.get("bid"), ""), money(c.get("price")),
                 c.get("total", "") if scoring else ""] for c in data.get("candidates") or []]  # fmt: skip
        story.append(
            pdf.table(
                [_("Rank"), _("Candidate"), _("Bid price"), _("Total score")],
                rows,
                [18 * mm, 140 * mm, 50 * mm, 35 * mm],
            )
        )

        # abnormally low prices
        lows = [b for b in bids if b.get("low_price")]
        story.append(p(_("7. Abnormally low prices"), pdf.h2))
        if lows:
            rows = []
            for b in lows:
                low = b["low_price"]
                accepted = low.get("accepted")
                verdict = (
                    _("Pending") if accepted is None else (_("Accepted") if accepted else _("Not accepted"))
                )
                rows.append([b.get("bidder", ""), low.get("ratio", ""), low.get("text", ""), verdict])
            header = [
                _("Bidder"),
                _("Price / mean of the others"),
                _("Written justification"),
                _("Committee's verdict"),
            ]
            story.append(pdf.table(header, rows, [60 * mm, 35 * mm, 143 * mm, 35 * mm]))
        else:
            story.append(p(_("None."), pdf.text))

        # outliers
        story.append(p(_("8. Scoring outliers"), pdf.h2))
        outliers = data.get("outliers") or []
        if outliers:
            crit_names = {c.get("code"): c.get("name", "") for c in criteria}
            rows = [[o.get("seat", ""), o.get("bidder") or names.get(o.get("bid"), ""),
                     crit_names.get(o.get("criterion"), o.get("criterion", "")), o.get("value", ""), o.get("median", "")]
                    for o in outliers]  # fmt: skip
            header = [_("Seat"), _("Bidder"), _("Criterion"), _("Score"), _("Median of the others")]
            story.append(pdf.table(header, rows, [20 * mm, 90 * mm, 80 * mm, 30 * mm, 45 * mm]))
        else:
            story.append(p(_("None."), pdf.text))

        # clarifications
        story.append(p(_("9. Written clarifications"), pdf.h2))
        clar = data.get("clarifications") or []
        if clar:
            rows = [[c.get("bidder", ""), c.get("question", ""), c.get("answer", "") or "—", _when(c.get("asked_at")),
                     _when(c.get("answered_at"))] for c in clar]  # fmt: skip
            header = [_("Bidder"), _("Question"), _("Answer"), _("Asked at"), _("Answered at")]
            story.append(pdf.table(header, rows, [50 * mm, 80 * mm, 80 * mm, 31 * mm, 31 * mm]))
        else:
            story.append(p(_("None."), pdf.text))

        # signatures
        story.append(p(_("10. Signatures of the committee"), pdf.h2))
        signed = {s.get("seat"): s for s in data.get("signatures") or []}
        rows = []
        for m in members:
            s = signed.get(m.get("seat"))
            if s is None:
                rows.append([m.get("seat"), m.get("name", ""), _("Not signed"), "", ""])
                continue
            opinion = _("Agrees") if s.get("agrees") else _("Dissents")
            if s.get("deemed"):
                opinion = _("Deemed to agree (did not sign in time)")
            rows.append(
                [
                    m.get("seat"),
                    s.get("name") or m.get("name", ""),
                    opinion,
                    s.get("dissent", ""),
                    _when(s.get("signed_at")),
                ]
            )
        header = [_("Seat"), _("Member name"), _("Opinion"), _("Dissent (in writing)"), _("Signed at")]
        story.append(pdf.table(header, rows, [18 * mm, 50 * mm, 30 * mm, 140 * mm, 35 * mm]))
        story.append(
            p(
                _(
                    "A member who neither signs nor states a dissent in writing is deemed to agree with the report (%(source)s)."
                )
                % {"source": "招标投标法实施条例第五十三条；87号令第六十一条"},
                pdf.small,
            )
        )
        story += pdf.verification()
        return pdf.build(story, title=f"{title} {tender.get('code', '')}", pagesize=landscape(A4))


# -- the notices -----------------------------------------------------------------------------------------
