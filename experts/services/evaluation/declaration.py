"""The integrity and recusal declaration (诚信廉政承诺书, DOMAIN C5) each member signs before seeing the
bids: the cases that oblige a recusal under the tender's regime, and the conduct rules of C6.

The text is built in the reader's language; what a member signs is recorded with its SHA-256, so
the exact wording shown is provable later.
"""

from __future__ import annotations

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.canonical import sha256_hex
from trading.models import Regime


def recusal_cases(regime: str) -> list[str]:
    if regime == Regime.GP:
        # 政府采购法实施条例第九条: within the three years before the procurement.
        return [
            _("In the last three years I was employed by a supplier of this procurement."),
            _("In the last three years I was a director or supervisor of a supplier."),
            _(
                "In the last three years I was a controlling shareholder or the actual controller of a supplier."
            ),
            _(
                "I am the spouse, a lineal relative, a collateral relative within three generations or a "
                "close in-law of a supplier's legal representative or principal."
            ),
            _("I have any other relation with a supplier that may affect a fair and impartial procurement."),
        ]
    # 招标投标法第三十七条，实施条例第四十六条，评标委员会和评标方法暂行规定第十二条.
    return [
        _("I am a close relative of a bidder or of a bidder's principal."),
        _("I am staff of the project's competent department or of its supervising authority."),
        _("I have an economic interest in a bidder that may affect a fair evaluation."),
        _(
            "I have been penalised, administratively or criminally, for unlawful conduct in tendering, "
            "evaluation or related activities."
        ),
    ]


def declaration_text(regime: str) -> str:
    lines = [
        _("Integrity and recusal declaration of a member of the evaluation committee"),
        "",
        _("I must recuse myself if any of the following applies to me:"),
    ]
    lines += [f"{i}. {case}" for i, case in enumerate(recusal_cases(regime), start=1)]
    lines += [
        "",
        _(
            "I declare that none of these cases applies to me. I will evaluate independently, objectively "
            "and impartially under the law and the tender documents; I will not contact any bidder, accept "
            "any benefit, or discuss subjective scores with other members; I will keep the evaluation "
            "confidential and will not copy or take away any material; I accept lifelong accountability "
            "for my opinions."
        ),
    ]
    return "\n".join(lines)


def declaration_record(regime: str, at) -> dict:
    text = declaration_text(regime)
    return {
        "text": text,
        "sha256": sha256_hex(text.encode()),
        "regime": regime,
        "language": get_language() or "",
        "signed_at": at.isoformat(),
    }
