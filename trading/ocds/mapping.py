"""Identifiers and the mappings of our states, methods and categories onto the OCDS codelists."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings

from trading.models import (
    AnnouncementKind,
    Category,
    EvaluationMethod,
    Lot,
    MarketEntity,
    ProcurementMethod,
    Tender,
    TenderState,
)

OCDS_VERSION = "1.1"
# Lots are not in the core schema; the official lots extension adds tender.lots,
# awards[].relatedLots. The package declares it so consumers know where those fields come from.
LOTS_EXTENSION = (
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_lots_extension/v1.1.5/extension.json"
)
SHANGHAI = ZoneInfo("Asia/Shanghai")

# --- identifiers --------------------------------------------------------------------------


def ocds_prefix() -> str:
    """The publisher's registered ocid prefix (`ocds-` + 6 characters); the default is a placeholder."""
    return getattr(settings, "OCDS_PREFIX", "ocds-gjxx00")


def tender_ocid(tender: Tender) -> str:
    return f"{ocds_prefix()}-{tender.code}"


def identifier_scheme(uscc: str) -> str:
    """The org-id.guide scheme for a unified social credit code.

    org-id.guide lists China's enterprise register as `CN-SAIC` (the State Administration for
    Industry and Commerce, now SAMR); since 2015 the identifier that register issues is the
    USCC, whose first character names the registering authority — "9" is market regulation.
    Codes issued by other authorities (1 机构编制 for government bodies and institutions,
    5 民政 for social organisations, ...) are not in that register and org-id.guide has no list
    for them, so they use `CN-USCC`, a scheme we name ourselves and document in
    docs/open-data.md, until such a list exists.
    """
    return "CN-SAIC" if (uscc or "").upper().startswith("9") else "CN-USCC"


def party_id(entity: MarketEntity) -> str:
    return f"{identifier_scheme(entity.uscc)}-{entity.uscc}"


# --- mappings onto the codelists ------------------------------------------------------------

# tenderStatus is a closed codelist. Every state in which bids are still being taken, opened or
# evaluated (and a suspension, which pauses but does not end the process) is `active`.
TENDER_STATUS = {
    TenderState.DRAFT: "planning",
    TenderState.PUBLISHED: "active",
    TenderState.OPENING: "active",
    TenderState.EVALUATION: "active",
    TenderState.PUBLICITY: "active",
    TenderState.SUSPENDED: "active",
    TenderState.AWARDED: "complete",
    TenderState.ARCHIVED: "complete",  # or unsuccessful when no lot was awarded, see _tender_status
    TenderState.FAILED: "unsuccessful",
    TenderState.TERMINATED: "cancelled",
}

# method is closed: open / selective / limited / direct. Invited tendering (邀请招标) invites
# qualified suppliers only: selective. Negotiation, consultation and quotation requests contact
# a few suppliers chosen by the purchaser: limited. Single source is direct. Auctions and
# listings of land and property are open to every registered bidder.
PROCUREMENT_METHOD = {
    ProcurementMethod.OPEN: "open",
    ProcurementMethod.INVITED: "selective",
    ProcurementMethod.COMPETITIVE_NEGOTIATION: "limited",
    ProcurementMethod.COMPETITIVE_CONSULTATION: "limited",
    ProcurementMethod.INQUIRY: "limited",
    ProcurementMethod.SINGLE_SOURCE: "direct",
    ProcurementMethod.AUCTION: "open",
}

# The legal name of each method, as the announcements print it.
PROCUREMENT_METHOD_DETAILS = {
    ProcurementMethod.OPEN: "公开招标",
    ProcurementMethod.INVITED: "邀请招标",
    ProcurementMethod.COMPETITIVE_NEGOTIATION: "竞争性谈判",
    ProcurementMethod.COMPETITIVE_CONSULTATION: "竞争性磋商",
    ProcurementMethod.INQUIRY: "询价",
    ProcurementMethod.SINGLE_SOURCE: "单一来源采购",
    ProcurementMethod.AUCTION: "拍卖 / 挂牌出让",
}

REGIME_DETAILS = {"TB": "依法必须招标项目（招标投标法）", "GP": "政府采购项目（政府采购法）"}

# procurementCategory is closed (goods / works / services). Land-use and mining rights and
# state-owned property rights are disposals — the public body sells — so no procurement
# category fits; the field is left out for them and the category is stated in
# procurementMethodDetails instead.
MAIN_CATEGORY = {Category.WORKS: "works", Category.GOODS: "goods", Category.SERVICES: "services"}
DISPOSAL_DETAILS = {Category.LAND: "土地使用权和矿业权出让", Category.PROPERTY: "国有产权交易"}

AWARD_CRITERIA = {EvaluationMethod.SCORING: "ratedCriteria", EvaluationMethod.LOWEST_PRICE: "priceOnly"}

DOCUMENT_TYPE = {
    AnnouncementKind.TENDER: "tenderNotice",
    AnnouncementKind.AMENDMENT: "clarifications",
    AnnouncementKind.QUALIFICATION: "shortlistedFirms",
    AnnouncementKind.CANDIDATES: "evaluationReports",
    AnnouncementKind.RESULT: "awardNotice",
    AnnouncementKind.CONTRACT: "contractNotice",
    AnnouncementKind.TERMINATION: "cancellationDetails",
}

LOT_STATUS = {
    Lot.Status.FAILED: "unsuccessful",
    Lot.Status.AWARDED: "complete",
    Lot.Status.TERMINATED: "cancelled",
}

# Objections to tender documents close 10 days before the deadline (条例22, DOMAIN A4).
TB_ENQUIRY_CLOSES_BEFORE_DEADLINE = dt.timedelta(days=10)


# --- small helpers ----------------------------------------------------------------------------


def iso(value: dt.datetime) -> str:
    """RFC 3339 in Beijing time, to the second."""
    return value.astimezone(SHANGHAI).isoformat(timespec="seconds")


def number(amount: Decimal) -> int | float:
    """A JSON number for a yuan amount. Amounts below 10^13 yuan with two decimals round-trip
    exactly through a double; the schema wants a number, not a string."""
    amount = Decimal(amount)
    return int(amount) if amount == amount.to_integral_value() else float(amount)
