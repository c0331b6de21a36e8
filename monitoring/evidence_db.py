"""Reading the evidence of lots from the platform's database into the pure contract (monitoring.evidence).

What becomes a link (DOMAIN D1, D2; docs/monitoring.md §Evidence):
- the registry: legal representative, shareholders (controlling or not; people or entities), officers,
  project managers, agents, contacts and other staff, the contact phone, the address, bank accounts;
- the bid: the project manager named in the bid form (resolved to the registry person by the
  registered-professional number), the person of the user who uploaded it, the signing certificate;
- the bid security: the account it was paid from;
- activity evidence of the tender: IPs at download, upload and decryption, the client-reported hardware
  (machine code, CPU, disk and memory serials, MAC), the file digest and authoring metadata of the
  uploaded document (author, last editor, company, pricing-software licence and pricing-file id).

The tender documents' template id is not a link: every bidder of a tender shares it (a benign
collision). Loading is done in a fixed number of queries, whatever the number of bids.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable

from bidding.models import Bid, BidSecurity
from monitoring.evidence import BidRow, Link, LotEvidence, NodeKind, Party, PartyRole, Relation
from trading.models import (
    ActivityEvidence,
    BankAccount,
    Lot,
    MarketEntity,
    Position,
    PositionRole,
    Shareholder,
    Tender,
)

POSITION_RELATIONS = {
    PositionRole.LEGAL_REP: Relation.LEGAL_REP,
    PositionRole.DIRECTOR: Relation.OFFICER,
    PositionRole.SUPERVISOR: Relation.OFFICER,
    PositionRole.MANAGER: Relation.OFFICER,
    PositionRole.PROJECT_MANAGER: Relation.PROJECT_MANAGER,
    PositionRole.AGENT: Relation.AGENT,
    PositionRole.CONTACT: Relation.CONTACT,
    PositionRole.FINANCE: Relation.EMPLOYEE,
    PositionRole.STAFF: Relation.EMPLOYEE,
}
ACTION_RELATIONS = {
    ActivityEvidence.Action.DOWNLOAD: Relation.DOWNLOAD_IP,
    ActivityEvidence.Action.UPLOAD: Relation.UPLOAD_IP,
    ActivityEvidence.Action.DECRYPT: Relation.DECRYPT_IP,
}
DEVICE_KEYS = ("machine_code", "cpu_id", "disk_serial", "memory_serial")
# Authoring metadata that identifies who prepared a file; template_id is the tender's own template.
AUTHOR_KEYS = ("author", "last_modified_by", "company", "pricing_software_id", "pricing_file_id")


def norm_digits(value: str) -> str:
    return re.sub(r"\D", "", value or "")


def norm_text(value: str) -> str:
    """NFKC, upper case, no whitespace or punctuation: "广西 南宁市，民族大道1号" ≡ "广西南宁市民族大道1号"."""
    value = unicodedata.normalize("NFKC", value or "").upper()
    return "".join(ch for ch in value if ch.isalnum())


def norm_serial(value: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", unicodedata.normalize("NFKC", value or "").upper())


def _masked(number: str) -> str:
    return "****" + number[-4:] if len(number) > 4 else "****"


# -- registry ------------------------------------------------------------------------------------------
def registry_links(entity_ids: Iterable[int]) -> dict[int, list[Link]]:
    """Every registry link of the entities, in four queries."""
    ids = sorted(set(entity_ids))
    out: dict[int, list[Link]] = defaultdict(list)
    entities = MarketEntity.objects.filter(pk__in=ids).select_related("legal_rep")
    for e in entities:
        if e.legal_rep_id:
            out[e.pk].append(
                Link(
                    NodeKind.PERSON,
                    str(e.legal_rep_id),
                    Relation.LEGAL_REP,
                    f"registry:entity:{e.pk}",
                    e.legal_rep.name,
                )
            )
        phone = norm_digits(e.contact_phone)
        if len(phone) >= 7:
            out[e.pk].append(Link(NodeKind.PHONE, phone, Relation.PHONE, f"registry:entity:{e.pk}", phone))
        address = norm_text(e.address)
        if len(address) >= 6:
            out[e.pk].append(
                Link(NodeKind.ADDRESS, address, Relation.ADDRESS, f"registry:entity:{e.pk}", e.address)
            )
    holdings = Shareholder.objects.filter(entity_id__in=ids).select_related("person", "holder_entity")
    for s in holdings:
        relation = Relation.CONTROLLER if s.is_controlling else Relation.SHAREHOLDER
        source = f"registry:shareholder:{s.pk}"
        if s.person_id:
            out[s.entity_id].append(Link(NodeKind.PERSON, str(s.person_id), relation, source, s.person.name))
        else:
            out[s.entity_id].append(
                Link(NodeKind.ENTITY, str(s.holder_entity_id), relation, source, s.holder_entity.name)
            )
    for p in Position.objects.filter(entity_id__in=ids, end_date__isnull=True).select_related("person"):
        relation = POSITION_RELATIONS.get(p.role, Relation.EMPLOYEE)
        out[p.entity_id].append(
            Link(NodeKind.PERSON, str(p.person_id), relation, f"registry:position:{p.pk}", p.person.name)
        )
    for a in BankAccount.objects.filter(entity_id__in=ids):
        number = norm_serial(a.account_number)
        if number:
            out[a.entity_id].append(
                Link(
                    NodeKind.ACCOUNT,
                    number,
                    Relation.BANK_ACCOUNT,
                    f"registry:account:{a.pk}",
                    f"{a.bank_name} {_masked(number)}",
                )
            )
    return out


# -- activity evidence ---------------------------------------------------------------------------------
def evidence_links(row: ActivityEvidence) -> list[Link]:
    """The links one evidence row gives its entity."""
    source = f"evidence:{row.pk}"
    links: list[Link] = []
    relation = ACTION_RELATIONS.get(row.action)
    if relation and row.ip:
        links.append(Link(NodeKind.IP, row.ip, relation, source, row.ip))
    hardware = row.hardware or {}
    for key in DEVICE_KEYS:
        value = norm_serial(str(hardware.get(key, "")))
        if len(value) >= 4:
            links.append(
                Link(NodeKind.DEVICE, f"{key}:{value}", Relation.MACHINE_CODE, source, f"{key} {value}")
            )
    mac = norm_serial(str(hardware.get("mac", "")))
    if len(mac) == 12:
        links.append(Link(NodeKind.MAC, mac, Relation.MAC, source, mac))
    if row.certificate_serial:
        links.append(
            Link(NodeKind.DONGLE, row.certificate_serial, Relation.DONGLE, source, row.certificate_serial)
        )
    if row.action == ActivityEvidence.Action.UPLOAD:
        if row.file_sha256:
            links.append(
                Link(NodeKind.DOCUMENT, row.file_sha256, Relation.FILE_DIGEST, source, row.file_sha256[:12])
            )
        meta = row.file_meta or {}
        md5 = str(meta.get("file_md5", "")).lower()
        if re.fullmatch(r"[0-9a-f]{32}", md5):
            links.append(Link(NodeKind.DOCUMENT, f"md5:{md5}", Relation.FILE_DIGEST, source, md5[:12]))
        for key in AUTHOR_KEYS:
            value = norm_text(str(meta.get(key, "")))
            if len(value) >= 2:
                links.append(
                    Link(NodeKind.AUTHOR, f"{key}:{value}", Relation.AUTHOR, source, f"{key}: {meta[key]}")
                )
    return links


def _tender_evidence(tender_ids: Iterable[int]) -> dict[tuple[int, int], list[Link]]:
    out: dict[tuple[int, int], list[Link]] = defaultdict(list)
    rows = ActivityEvidence.objects.filter(
        tender_id__in=list(tender_ids), entity__isnull=False, action__in=list(ACTION_RELATIONS)
    ).order_by("pk")
    for row in rows:
        out[(row.tender_id, row.entity_id)].extend(evidence_links(row))
    return out


# -- bids ----------------------------------------------------------------------------------------------
def _price(bid: Bid) -> float | None:
    try:
        return float(bid.form["price"]) if bid.form and bid.form.get("price") not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _manager_people(reg_nos: Iterable[str]) -> dict[str, Position]:
    nos = {n for n in reg_nos if n}
    rows = Position.objects.filter(professional_reg_no__in=nos).select_related("person").order_by("pk")
    return {p.professional_reg_no: p for p in rows}


def _dedupe(links: Iterable[Link]) -> tuple[Link, ...]:
    seen: dict[tuple[str, str, str], Link] = {}
    for link in links:
        seen.setdefault((link.kind, link.value, link.relation), link)
    return tuple(seen.values())


def lots_evidence(
    lots: Iterable[Lot], *, texts: dict[str, str] | None = None, template: str | None = None
) -> list[LotEvidence]:
    """LotEvidence for each lot (bids read out so far; parties with their links), in a fixed number of
    queries. `texts` (bid key → document text) and `template` come from the caller that decrypted them."""
    lots = list(lots)
    if not lots:
        return []
    lot_ids = [lot.pk for lot in lots]
    tender_ids = {lot.tender_id for lot in lots}
    tenders = {t.pk: t for t in Tender.objects.filter(pk__in=tender_ids)}
    bids_by_lot: dict[int, list[Bid]] = defaultdict(list)
    bids = (
        Bid.objects.filter(lot_id__in=lot_ids, status=Bid.Status.ACTIVE)
        .select_related("user", "certificate")
        .order_by("submitted_at", "pk")
    )
    for bid in bids:
        bids_by_lot[bid.lot_id].append(bid)
    entity_ids = {b.entity_id for bs in bids_by_lot.values() for b in bs}
    for t in tenders.values():
        entity_ids.add(t.tenderee_id)
        if t.agency_id:
            entity_ids.add(t.agency_id)
    entities = {e.pk: e for e in MarketEntity.objects.filter(pk__in=entity_ids)}
    registry = registry_links(entity_ids)
    activity = _tender_evidence(tender_ids)
    deposits: dict[tuple[int, int], list[Link]] = defaultdict(list)
    for s in BidSecurity.objects.filter(lot_id__in=lot_ids).exclude(payer_account_number=""):
        number = norm_serial(s.payer_account_number)
        if number:
            deposits[(s.lot_id, s.entity_id)].append(
                Link(NodeKind.ACCOUNT, number, Relation.DEPOSIT_ACCOUNT, f"security:{s.pk}", _masked(number))
            )
    managers = _manager_people(
        str((b.form or {}).get("project_manager", {}).get("reg_no", ""))
        for bs in bids_by_lot.values()
        for b in bs
    )
    out: list[LotEvidence] = []
    for lot in lots:
        tender = tenders[lot.tender_id]
        rows: list[BidRow] = []
        parties: list[Party] = []
        for bid in bids_by_lot.get(lot.pk, []):
            entity = entities[bid.entity_id]
            links = list(registry.get(entity.pk, []))
            links += activity.get((tender.pk, entity.pk), [])
            links += deposits.get((lot.pk, entity.pk), [])
            source = f"bid:{bid.pk}"
            if bid.user.person_id:
                links.append(
                    Link(
                        NodeKind.PERSON,
                        str(bid.user.person_id),
                        Relation.AGENT,
                        source,
                        bid.user.get_full_name() or bid.user.username,
                    )
                )
            links.append(
                Link(NodeKind.DONGLE, bid.certificate.serial, Relation.DONGLE, source, bid.certificate.serial)
            )
            pm = (bid.form or {}).get("project_manager") or {}
            reg_no = str(pm.get("reg_no", "")) if isinstance(pm, dict) else ""
            if reg_no:
                position = managers.get(reg_no)
                if position is not None:
                    links.append(
                        Link(
                            NodeKind.PERSON,
                            str(position.person_id),
                            Relation.PROJECT_MANAGER,
                            source,
                            position.person.name,
                        )
                    )
                else:
                    links.append(
                        Link(
                            NodeKind.PERSON,
                            f"reg:{norm_text(reg_no)}",
                            Relation.PROJECT_MANAGER,
                            source,
                            str(pm.get("name", reg_no)),
                        )
                    )
            parties.append(
                Party(
                    key=str(entity.pk),
                    name=entity.name,
                    role=PartyRole.BIDDER,
                    uscc=entity.uscc,
                    links=_dedupe(links),
                )
            )
            winner = None
            if lot.awarded_to_id is not None:
                winner = lot.awarded_to_id == entity.pk
            rows.append(
                BidRow(
                    bid=str(bid.pk),
                    party=str(entity.pk),
                    price=_price(bid),
                    submitted_at=bid.submitted_at,
                    is_winner=winner,
                    text=(texts or {}).get(str(bid.pk)),
                    file_sha256=str((bid.document_meta or {}).get("sha256", "")),
                )
            )
        bidder_keys = {p.key for p in parties}
        for entity_id, role in (
            (tender.tenderee_id, PartyRole.TENDEREE),
            (tender.agency_id, PartyRole.AGENCY),
        ):
            if entity_id and str(entity_id) not in bidder_keys and entity_id in entities:
                entity = entities[entity_id]
                links = list(registry.get(entity_id, [])) + activity.get((tender.pk, entity_id), [])
                parties.append(
                    Party(
                        key=str(entity_id),
                        name=entity.name,
                        role=role,
                        uscc=entity.uscc,
                        links=_dedupe(links),
                    )
                )
        out.append(
            LotEvidence(
                tender=str(tender.pk),
                lot=str(lot.pk),
                regime=tender.regime,
                category=tender.category,
                region=tender.region_code,
                date=tender.deadline.date() if tender.deadline else None,
                ceiling=float(lot.ceiling_price) if lot.ceiling_price else None,
                estimate=float(lot.budget) if lot.budget else None,
                template_text=template,
                bids=tuple(rows),
                parties=tuple(parties),
            )
        )
    return out


def lot_evidence(lot: Lot, **kwargs) -> LotEvidence:
    return lots_evidence([lot], **kwargs)[0]
