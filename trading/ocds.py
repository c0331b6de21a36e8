"""Open data in the Open Contracting Data Standard 1.1: one release per tender, release packages,
the dated bulk export, and offline validation against the official schema and codelists.

Mapping decisions (statuses, methods, categories, identifiers) are explained where they are
made and summarised in docs/open-data.md. Releases are written in Chinese (`language: zh`)
whatever the reader's language: open data is one text, the same for everyone.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import json
import re
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Prefetch, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import strip_tags
from jsonschema import Draft4Validator, FormatChecker, ValidationError, validators
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from trading.models import (
    Announcement,
    AnnouncementAttachment,
    AnnouncementKind,
    Category,
    EvaluationMethod,
    Lot,
    MarketEntity,
    ProcurementMethod,
    Tender,
    TenderState,
)
from trading.regions import region_name

OCDS_VERSION = "1.1"
RELEASE_SCHEMA_ID = "https://standard.open-contracting.org/schema/1__1__5/release-schema.json"
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


def _money(amount: Decimal, currency: str) -> dict:
    return {"amount": number(amount), "currency": currency}


def _plain(html: str) -> str:
    return re.sub(r"\s+\n", "\n", strip_tags(html or "")).strip()


def default_base_url() -> str:
    return getattr(settings, "PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")


def _absolute(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


def tender_package_path(tender_id: int) -> str:
    return reverse("portal:opendata_tender", kwargs={"pk": tender_id})


def bulk_package_path(day: dt.date) -> str:
    return reverse("portal:opendata_releases", kwargs={"day": day.isoformat()})


def document_path(sha256: str, filename: str) -> str:
    """The portal's content-addressed download: the address carries the SHA-256."""
    return reverse("portal:attachment", kwargs={"sha256": sha256, "filename": filename})


def _announcement_path(announcement: Announcement) -> str | None:
    """The portal page of an announcement when the portal has one, else its API resource."""
    for name in ("portal:announcement", "api:announcement-detail"):
        try:
            return reverse(name, kwargs={"pk": announcement.pk})
        except NoReverseMatch:
            continue
    return None


# --- which tenders are public --------------------------------------------------------------------


def public_tenders():
    """Tenders the public may see: everything that has left draft."""
    return Tender.objects.exclude(state=TenderState.DRAFT).filter(published_at__isnull=False)


def _published_announcements():
    attachments = AnnouncementAttachment.objects.select_related("blob").order_by("id")
    return (
        Announcement.objects.filter(state=Announcement.State.PUBLISHED)
        .prefetch_related(Prefetch("attachments", queryset=attachments))
        .order_by("published_at", "id")
    )


def with_release_data(queryset):
    """Everything tender_release reads, fetched in a fixed number of queries for any count of tenders."""
    return queryset.select_related("tenderee", "agency").prefetch_related(
        Prefetch("lots", queryset=Lot.objects.select_related("awarded_to").order_by("number")),
        Prefetch("announcements", queryset=_published_announcements(), to_attr="public_announcements"),
    )


def _public_announcements(tender: Tender) -> list[Announcement]:
    cached = getattr(tender, "public_announcements", None)
    if cached is not None:
        return cached
    return list(_published_announcements().filter(tender=tender))


def last_change(tender: Tender, announcements: list[Announcement], lots: list[Lot]) -> dt.datetime:
    """When the tender last changed in a way the release shows."""
    moments = [tender.published_at, tender.state_changed_at]
    moments += [a.published_at for a in announcements]
    moments += [lot.awarded_at for lot in lots]
    present = [m for m in moments if m is not None]
    return max(present) if present else tender.created_at


# --- the release -----------------------------------------------------------------------------------


def _party(entity: MarketEntity, roles: list[str], *, contact: bool) -> dict:
    party: dict[str, Any] = {
        "id": party_id(entity),
        "name": entity.name,
        "identifier": {"scheme": identifier_scheme(entity.uscc), "id": entity.uscc, "legalName": entity.name},
        "address": {"countryName": "中国"},
        "roles": roles,
    }
    if entity.address:
        party["address"]["streetAddress"] = entity.address
    if entity.region_code:
        party["address"]["region"] = region_name(entity.region_code, language="zh-hans")
    # The tenderee's and agency's contacts are printed on every announcement (they receive
    # enquiries); a supplier's contact is not public.
    if contact and (entity.contact_name or entity.contact_phone):
        point = {"name": entity.contact_name, "telephone": entity.contact_phone}
        if entity.contact_email:
            point["email"] = entity.contact_email
        party["contactPoint"] = {k: v for k, v in point.items() if v}
    return party


def _reference(entity: MarketEntity) -> dict:
    return {"id": party_id(entity), "name": entity.name}


def _tender_status(tender: Tender, lots: list[Lot]) -> str:
    if tender.state == TenderState.ARCHIVED and not any(lot.status == Lot.Status.AWARDED for lot in lots):
        return "unsuccessful"
    return TENDER_STATUS[TenderState(tender.state)]


def _tags(tender: Tender, has_amendments: bool, has_awards: bool) -> list[str]:
    state = tender.state
    if state == TenderState.DRAFT:
        tags = ["planning"]
    elif state == TenderState.TERMINATED:
        tags = ["tenderCancellation"]
    elif state in (TenderState.FAILED, TenderState.SUSPENDED, TenderState.AWARDED, TenderState.ARCHIVED):
        tags = ["tenderUpdate"]
    else:
        tags = ["tenderAmendment" if has_amendments else "tender"]
    if has_awards:
        tags.append("award")
    return tags


def _enquiry_period(tender: Tender) -> dict:
    """TB: objections to the documents close 10 days before the deadline (条例22).

    GP: a supplier may question the documents within 7 working days of obtaining them, which
    differs per supplier; the period published is the documents period, the earliest end.
    """
    start = tender.docs_from
    end = tender.deadline - TB_ENQUIRY_CLOSES_BEFORE_DEADLINE if tender.regime == "TB" else tender.docs_until
    return {"startDate": iso(start), "endDate": iso(max(start, end))}


def _documents(announcements: list[Announcement], base_url: str) -> list[dict]:
    documents = []
    for a in announcements:
        doc_type = DOCUMENT_TYPE.get(a.kind, "tenderNotice")
        doc: dict[str, Any] = {
            "id": f"announcement-{a.pk}",
            "documentType": doc_type,
            "title": a.title,
            "format": "text/html",
            "language": "zh",
        }
        if a.published_at:
            doc["datePublished"] = iso(a.published_at)
        path = _announcement_path(a)
        if path:
            doc["url"] = _absolute(base_url, path)
        if a.content_digest:
            doc["description"] = f"SHA-256: {a.content_digest}"
        documents.append(doc)
        for att in a.attachments.all():
            # OCDS 1.1 documents have no hash field: the SHA-256 is the document's address
            # (content-addressed URL) and is repeated in the description.
            sha = att.blob.sha256
            attachment: dict[str, Any] = {
                "id": f"attachment-{att.pk}",
                "documentType": "biddingDocuments" if att.is_tender_document else doc_type,
                "title": att.filename,
                "description": f"SHA-256: {sha}",
                "url": _absolute(base_url, document_path(sha, att.filename)),
                "format": att.blob.content_type,
            }
            if a.published_at:
                attachment["datePublished"] = iso(a.published_at)
            documents.append(attachment)
    return documents


def tender_release(tender: Tender, *, base_url: str | None = None) -> dict:
    """The OCDS 1.1 release describing one tender as it stands now.

    Call with a tender fetched through `with_release_data` to avoid per-tender queries.
    """
    base_url = (base_url or default_base_url()).rstrip("/")
    lots = list(tender.lots.all())
    announcements = _public_announcements(tender)
    currency = tender.currency or "CNY"
    ocid = tender_ocid(tender)

    tenderee, agency = tender.tenderee, tender.agency
    # The tenderee buys; when an agency runs the process it is the procuring entity
    # (招标代理), otherwise the tenderee is both (自行招标).
    parties: dict[str, dict] = {}
    parties[party_id(tenderee)] = _party(
        tenderee, ["buyer"] if agency else ["buyer", "procuringEntity"], contact=True
    )
    procuring = agency or tenderee
    if agency:
        parties.setdefault(party_id(agency), _party(agency, [], contact=True))
        parties[party_id(agency)]["roles"].append("procuringEntity")

    awards = []
    for lot in lots:
        if lot.status != Lot.Status.AWARDED or lot.awarded_to is None or lot.award_amount is None:
            continue
        supplier = lot.awarded_to
        pid = party_id(supplier)
        parties.setdefault(pid, _party(supplier, [], contact=False))
        if "supplier" not in parties[pid]["roles"]:
            parties[pid]["roles"].append("supplier")
        award: dict[str, Any] = {
            "id": f"{tender.code}-{lot.number}",
            "title": f"{lot.title} 中标（成交）结果",
            "status": "active",
            "value": _money(lot.award_amount, currency),
            "suppliers": [_reference(supplier)],
            "relatedLots": [str(lot.number)],
        }
        if lot.awarded_at:
            award["date"] = iso(lot.awarded_at)
        awards.append(award)

    amendments = [a for a in announcements if a.kind == AnnouncementKind.AMENDMENT]
    method = ProcurementMethod(tender.method)
    details = [PROCUREMENT_METHOD_DETAILS[method], REGIME_DETAILS.get(tender.regime, "")]
    if tender.category in DISPOSAL_DETAILS:
        details.append(DISPOSAL_DETAILS[Category(tender.category)])

    tender_block: dict[str, Any] = {
        "id": tender.code,
        "title": tender.title,
        "status": _tender_status(tender, lots),
        "procuringEntity": _reference(procuring),
        "value": _money(sum((lot.budget for lot in lots), Decimal("0")), currency),
        "procurementMethod": PROCUREMENT_METHOD[method],
        "procurementMethodDetails": "；".join(d for d in details if d),
        "submissionMethod": ["electronicSubmission"],
        "submissionMethodDetails": "投标文件在投标人一侧加密后通过平台在线递交，开标时由投标人远程解密。",
        "tenderPeriod": {"startDate": iso(tender.docs_from), "endDate": iso(tender.deadline)},
        "enquiryPeriod": _enquiry_period(tender),
        "hasEnquiries": bool(amendments),
        "lots": [
            {
                "id": str(lot.number),
                "title": lot.title,
                "status": LOT_STATUS.get(lot.status) or _tender_status(tender, lots),
                "value": _money(lot.budget, currency),
            }
            for lot in lots
        ],
    }
    description = _plain(tender.description)
    if description:
        tender_block["description"] = description
    if tender.category in MAIN_CATEGORY:
        tender_block["mainProcurementCategory"] = MAIN_CATEGORY[Category(tender.category)]
    methods = {lot.evaluation_method for lot in lots}
    if len(methods) == 1:
        tender_block["awardCriteria"] = AWARD_CRITERIA[EvaluationMethod(methods.pop())]
    documents = _documents(announcements, base_url)
    if documents:
        tender_block["documents"] = documents
    if amendments:
        tender_block["amendments"] = [
            {
                "id": f"announcement-{a.pk}",
                "date": iso(a.published_at),
                "rationale": a.title,
                **({"description": f"投标截止时间变更为 {iso(a.new_deadline)}"} if a.new_deadline else {}),
            }
            for a in amendments
            if a.published_at
        ]

    changed = last_change(tender, announcements, lots)
    release: dict[str, Any] = {
        "ocid": ocid,
        "id": f"{ocid}-{changed.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}",
        "date": iso(changed),
        "tag": _tags(tender, bool(amendments), bool(awards)),
        "initiationType": "tender",
        "language": "zh",
        "parties": list(parties.values()),
        "buyer": _reference(tenderee),
        "tender": tender_block,
    }
    if awards:
        release["awards"] = awards
    return release


def publisher() -> dict:
    """The platform operator, identified by its USCC."""
    data: dict[str, Any] = {"name": getattr(settings, "PLATFORM_NAME", "公共资源交易平台")}
    operator = getattr(settings, "PLATFORM_OPERATOR_USCC", "")
    if operator:
        data.update(scheme=identifier_scheme(operator), uid=operator)
    return data


def release_package(releases: Iterable[dict], *, uri: str, published_date: dt.datetime) -> dict:
    """A release package: the releases with who published them, when, and under which version."""
    package: dict[str, Any] = {
        "uri": uri,
        "version": OCDS_VERSION,
        "extensions": [LOTS_EXTENSION],
        "publishedDate": iso(published_date),
        "publisher": publisher(),
        "releases": list(releases),
    }
    license_url = getattr(settings, "OCDS_LICENSE", "")
    if license_url:
        package["license"] = license_url
    return package


def tender_package(tender: Tender, *, base_url: str | None = None) -> dict:
    base_url = (base_url or default_base_url()).rstrip("/")
    return release_package(
        [tender_release(tender, base_url=base_url)],
        uri=_absolute(base_url, tender_package_path(tender.pk)),
        published_date=timezone.now(),
    )


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The Beijing-time day as a half-open [start, end) pair of aware datetimes."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI)
    return start, start + dt.timedelta(days=1)


def tenders_changed_on(day: dt.date):
    """Public tenders published, moved to another state, announced or awarded on that day."""
    start, end = day_bounds(day)
    announced = Announcement.objects.filter(
        state=Announcement.State.PUBLISHED, published_at__gte=start, published_at__lt=end
    ).values("tender_id")
    awarded = Lot.objects.filter(awarded_at__gte=start, awarded_at__lt=end).values("tender_id")
    return public_tenders().filter(
        Q(published_at__gte=start, published_at__lt=end)
        | Q(state_changed_at__gte=start, state_changed_at__lt=end)
        | Q(pk__in=announced)
        | Q(pk__in=awarded)
    )


def bulk_releases(day: dt.date, *, base_url: str | None = None) -> list[dict]:
    """The current release of every tender that changed on `day` (Beijing time)."""
    tenders = with_release_data(tenders_changed_on(day)).order_by("published_at", "pk")
    return [tender_release(t, base_url=base_url) for t in tenders]


def bulk_package(day: dt.date, *, base_url: str | None = None) -> dict:
    base_url = (base_url or default_base_url()).rstrip("/")
    return release_package(
        bulk_releases(day, base_url=base_url),
        uri=_absolute(base_url, bulk_package_path(day)),
        published_date=timezone.now(),
    )


# --- validation ---------------------------------------------------------------------------------


def ocds_schema_dir() -> Path:
    """Where the official 1.1.5 schema and codelists are: OCDS_SCHEMA_DIR, else ../shared/ocds-1.1.5."""
    configured = getattr(settings, "OCDS_SCHEMA_DIR", None)
    candidates = [Path(configured)] if configured else []
    candidates += [
        Path(settings.BASE_DIR) / "trading" / "ocds_schema",
        Path(settings.BASE_DIR).parent / "shared" / "ocds-1.1.5",
    ]
    for candidate in candidates:
        if (candidate / "release-package-schema.json").is_file():
            return candidate
    raise FileNotFoundError("OCDS 1.1.5 schema not found; set OCDS_SCHEMA_DIR")


def load_codelists(directory: Path) -> dict[str, frozenset[str]]:
    """Codelist file name -> its codes, without the deprecated ones."""
    codelists = {}
    for path in sorted((directory / "codelists").glob("*.csv")):
        with path.open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        codelists[path.name] = frozenset(r["Code"] for r in rows if r.get("Code") and not r.get("Deprecated"))
    return codelists


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*$")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    try:
        dt.datetime.fromisoformat(value.upper())
    except ValueError:
        return False
    return True


def _is_uri(value: object) -> bool:
    """An absolute RFC 3986 URI: a scheme, ASCII only, no spaces, well-formed escapes."""
    if not isinstance(value, str):
        return True
    if not value.isascii() or any(c.isspace() for c in value) or _BAD_PERCENT.search(value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return bool(_URI_SCHEME.match(parts.scheme)) and bool(parts.netloc or parts.path)


def format_checker() -> FormatChecker:
    # jsonschema checks "date-time" and "uri" only when optional packages are installed;
    # these two are written out so the check never silently does nothing.
    checker = FormatChecker(formats=())
    checker.checks("date-time")(_is_datetime)
    checker.checks("uri")(_is_uri)
    return checker


def _codelist_keyword(codelists: dict[str, frozenset[str]]):
    """The schema marks fields with `codelist`; open codelists have no enum, so check them here."""

    def check(validator, codelist, instance, schema):
        codes = codelists.get(codelist)
        if codes is None:
            return
        for value in instance if isinstance(instance, list) else [instance]:
            if isinstance(value, str) and value not in codes:
                yield ValidationError(f"{value!r} is not a code of the {codelist} codelist")

    return check


@functools.cache
def _validator_for(directory: str):
    root = Path(directory)
    release_schema = json.loads((root / "release-schema.json").read_text(encoding="utf-8"))
    package_schema = json.loads((root / "release-package-schema.json").read_text(encoding="utf-8"))
    # Both declare draft-04 in `$schema`; jsonschema then switches to the stock Draft4Validator
    # when it follows a $ref, dropping our `codelist` keyword. Without `$schema` the extended
    # validator below (draft 4 plus codelists) stays in charge throughout.
    release_schema.pop("$schema", None)
    package_schema.pop("$schema", None)
    # The package schema $refs the release schema by its URL: serve it from disk. A registry
    # without a `retrieve` function cannot fetch anything, so no network is ever used.
    registry = Registry().with_resources(
        [
            (RELEASE_SCHEMA_ID, Resource.from_contents(release_schema, default_specification=DRAFT4)),
            (package_schema["id"], Resource.from_contents(package_schema, default_specification=DRAFT4)),
        ]
    )
    codelists = load_codelists(root)
    validator_class = validators.extend(Draft4Validator, {"codelist": _codelist_keyword(codelists)})
    return validator_class(package_schema, registry=registry, format_checker=format_checker()), codelists


def _path(parts) -> str:
    return "/".join(str(p) for p in parts) or "(package)"


def _check_release_links(release: dict, index: int, codelists: dict[str, frozenset[str]]) -> list[str]:
    """What the schema cannot say: references resolve to parties with the right role, and the
    lots extension's fields (not in the core schema) are well formed."""
    errors = []
    where = f"releases/{index}"
    prefix = ocds_prefix()
    if not str(release.get("ocid", "")).startswith(prefix + "-"):
        errors.append(f"{where}/ocid: does not start with the publisher prefix {prefix!r}")
    roles = {
        p.get("id"): set(p.get("roles") or []) for p in release.get("parties") or [] if isinstance(p, dict)
    }

    def needs(ref: object, role: str, at: str) -> None:
        if not isinstance(ref, dict):
            return
        if ref.get("id") not in roles:
            errors.append(f"{at}: refers to {ref.get('id')!r}, which is not among the parties")
        elif role not in roles[ref["id"]]:
            errors.append(f"{at}: party {ref['id']!r} lacks the role {role!r}")

    needs(release.get("buyer"), "buyer", f"{where}/buyer")
    tender = release.get("tender") or {}
    needs(tender.get("procuringEntity"), "procuringEntity", f"{where}/tender/procuringEntity")

    lots = tender.get("lots") or []
    lot_ids = [lot.get("id") for lot in lots if isinstance(lot, dict)]
    if len(lot_ids) != len(set(lot_ids)):
        errors.append(f"{where}/tender/lots: lot ids are not unique")
    statuses = codelists.get("tenderStatus.csv", frozenset())
    currencies = codelists.get("currency.csv", frozenset())
    for i, lot in enumerate(lots):
        if not isinstance(lot, dict) or not isinstance(lot.get("id"), str) or not lot["id"]:
            errors.append(f"{where}/tender/lots/{i}: a lot needs a string id")
            continue
        if "status" in lot and lot["status"] not in statuses:
            errors.append(
                f"{where}/tender/lots/{i}/status: {lot['status']!r} is not a code of tenderStatus.csv"
            )
        value = lot.get("value") or {}
        if value and (
            not isinstance(value.get("amount"), int | float) or value.get("currency") not in currencies
        ):
            errors.append(f"{where}/tender/lots/{i}/value: needs a numeric amount and a currency code")

    for i, award in enumerate(release.get("awards") or []):
        for j, supplier in enumerate(award.get("suppliers") or []):
            needs(supplier, "supplier", f"{where}/awards/{i}/suppliers/{j}")
        for lot_id in award.get("relatedLots") or []:
            if lot_id not in lot_ids:
                errors.append(f"{where}/awards/{i}/relatedLots: {lot_id!r} is not a lot of the tender")
    return errors


def ocds_validate(package: dict) -> list[str]:
    """Every problem with a release package, as "path: message" lines; empty when it is valid.

    Checks the official release-package and release schemas (Draft 4, with date-time and
    uri formats), every codelist the schema names (open ones included: we publish no
    extended codes), and the references the schema cannot express.
    """
    validator, codelists = _validator_for(str(ocds_schema_dir()))
    errors = [
        f"{_path(e.absolute_path)}: {e.message}"
        for e in sorted(validator.iter_errors(package), key=lambda e: _path(e.absolute_path))
    ]
    releases = package.get("releases") if isinstance(package, dict) else None
    if isinstance(releases, list):
        seen: set[tuple[str, str]] = set()
        for index, release in enumerate(releases):
            if not isinstance(release, dict):
                continue
            key = (release.get("ocid"), release.get("id"))
            if key in seen:
                errors.append(f"releases/{index}/id: the same release appears twice")
            seen.add(key)
            errors += _check_release_links(release, index, codelists)
    return errors
