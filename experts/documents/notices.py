"""The award notice (中标通知书) and the result notices as PDFs."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from experts.documents.common import (
    MARGIN,
    _day,
    _dec,
    _language,
    _Pdf,
    _person,
    _when,
    money,
    rmb_upper,
)

_CONTRACT_SOURCE = {"TB": "招标投标法第四十六条", "GP": "87号令第七十一条"}
_RESULT_SOURCE = {"TB": "招标投标法第四十五条", "GP": "87号令第六十九条"}


def _amount_rows(data: dict) -> list[tuple[str, Any]]:
    amount = data.get("amount")
    shown = money(amount) + " " + _("yuan")
    if _dec(amount) is not None and translation.get_language().startswith("zh"):
        shown += f"（{_('in words')}：人民币{rmb_upper(amount)}）"
    return [(_("Amount"), shown)]


def _issuer(pdf: _Pdf, data: dict) -> list:
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    out = [Spacer(1, 12 * mm)]
    if data.get("tenderee"):
        out.append(pdf.p(_("Tenderee: %(n)s (seal)") % {"n": data["tenderee"]}, pdf.right))
    if data.get("agency"):
        out.append(pdf.p(_("Tendering agency: %(n)s (seal)") % {"n": data["agency"]}, pdf.right))
    out.append(pdf.p(_("Date: %(d)s") % {"d": _day(data.get("decided_at"))}, pdf.right))
    return out


def _notice(data: dict, signature: str, language: str | None, *, award: bool) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    with translation.override(_language(language)):
        pdf = _Pdf(data, signature, frame_width=A4[0] - 2 * MARGIN)
        p = pdf.p
        tender, lot = data.get("tender") or {}, data.get("lot") or {}
        winner = data.get("winner") or {}
        regime = tender.get("regime", "TB")
        title = _("Award notice") if award else _("Notice of the award result")
        addressee = winner if award else (data.get("bidder") or {})
        project = _("%(title)s (transaction code %(code)s), lot %(n)s %(lot)s") % {
            "title": tender.get("title", ""),
            "code": tender.get("code", ""),
            "n": lot.get("number", ""),
            "lot": lot.get("title", ""),
        }
        story: list = [
            Spacer(1, 8 * mm),
            p(title, pdf.h1),
            p(_("No. %(n)s") % {"n": data.get("number", "")}, pdf.right),
        ]
        story += [
            Spacer(1, 6 * mm),
            p(_("To: %(n)s") % {"n": addressee.get("name", "")}, pdf.letter),
            Spacer(1, 2 * mm),
        ]
        rows = [
            (_("Project"), project),
            (_("Winning bidder"), winner.get("name", "")),
            (_("Credit code"), winner.get("uscc", "")),
            *_amount_rows(data),
        ]
        if award:
            story.append(
                p(
                    _(
                        "Following the evaluation of %(project)s, your bid has been accepted and you are the winning bidder. The award is as follows."
                    )
                    % {"project": project},
                    pdf.letter,
                )
            )
            if data.get("duration_days") not in (None, ""):
                rows.append((_("Duration"), _("%(n)s days") % {"n": data["duration_days"]}))
            if data.get("quality"):
                rows.append((_("Quality"), data["quality"]))
            if data.get("project_manager"):
                rows.append((_("Project manager"), _person(data["project_manager"])))
        else:
            story.append(
                p(
                    _(
                        "The evaluation of %(project)s is complete and the winning bidder has been determined. Your bid was not successful. Thank you for taking part. The result is as follows."
                    )
                    % {"project": project},
                    pdf.letter,
                )
            )
            # 87号令69: a GP bidder also learns why it failed the review, or its own score and rank.
            own = data.get("bidder") or {}
            if own.get("reason"):
                rows.append((_("Why your bid was not successful"), own["reason"]))
            if own.get("total") not in (None, ""):
                rows.append((_("Your score"), own["total"]))
            if own.get("rank") not in (None, ""):
                rows.append((_("Your rank"), own["rank"]))
        rows.append((_("Decided at"), _when(data.get("decided_at"))))
        story += [Spacer(1, 3 * mm), pdf.pairs(rows, [40 * mm, 142 * mm]), Spacer(1, 4 * mm)]
        if award:
            story.append(
                p(
                    _(
                        "Please sign the written contract with the tenderee on the terms of the tender documents and of your bid by %(due)s, within 30 days of this notice (%(source)s)."
                    )
                    % {
                        "due": _day(data.get("contract_due_on")),
                        "source": _CONTRACT_SOURCE.get(regime, _CONTRACT_SOURCE["TB"]),
                    },
                    pdf.letter,
                )
            )
        else:
            story.append(
                p(
                    _(
                        "This notice is given under %(source)s. Your bid security is refunded as the law and the tender documents provide."
                    )
                    % {"source": _RESULT_SOURCE.get(regime, _RESULT_SOURCE["TB"])},
                    pdf.letter,
                )
            )
        story += _issuer(pdf, data)
        story += pdf.verification()
        return pdf.build(story, title=f"{title} {data.get('number', '')}", pagesize=A4)


def award_notice_pdf(data: dict, *, signature: str, language: str | None = None) -> bytes:
    """The award notice (中标通知书) to the winner (法45): number, parties, amount, duration, quality,
    project manager, the contract deadline (法46 / 87号令71), issuer and date."""
    return _notice(data, signature, language, award=True)


def result_notice_pdf(data: dict, *, signature: str, language: str | None = None) -> bytes:
    """The result notice (中标结果通知书) to a bidder that did not win (法45): the winner and its amount."""
    return _notice(data, signature, language, award=False)
