"""Signed documents of the evaluation and award: the evaluation report (评标报告, DOMAIN C9), the award
notice (中标通知书) and the result notice to the other bidders (中标结果通知书, 法45).

Each document is canonical JSON data (core.canonical) signed by the platform key (trading.pki), plus a
PDF printed from that data alone: A4, a Chinese font, the digest and the signature's fingerprint in
the footer of every page. No database access: the services build the data and store the blobs.
"""

from experts.documents.common import FONT, fingerprint, money, rmb_upper, sign, verify
from experts.documents.notices import award_notice_pdf, result_notice_pdf
from experts.documents.report import report_pdf

__all__ = [
    "FONT",
    "award_notice_pdf",
    "fingerprint",
    "money",
    "report_pdf",
    "result_notice_pdf",
    "rmb_upper",
    "sign",
    "verify",
]
