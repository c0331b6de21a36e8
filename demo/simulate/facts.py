"""What the synthetic market says about each firm, tenderee and agency, read back from its lots.

`simulate_market` hands out lots (monitoring.evidence.LotEvidence) and the truth per lot, not its firm
objects. A firm's registry links are the same in every lot; its per-bid facts (agent, contact, project
managers, document author, computer, office IP) are its own except where a cartel's leak put the
preparer's there (the covers in `evidence_pairs`, the favoured bidder of a tenderee plot): those
appearances are skipped for the leaked relations. Also here: the deterministic identifiers the platform
needs (credit codes, resident IDs, registered-professional numbers) derived from the seed and the key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from monitoring.evidence import Link, LotEvidence, PartyRole, Relation
from monitoring.simulate import EVIDENCE_KINDS

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
SIM_REGISTRY = "sim:registry"
SIM_BID = "sim:bid"
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _h(*parts) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


def uscc_for(seed: int, key: str, region: str, org: str = "91") -> str:
    """A check-digit-valid 统一社会信用代码 for the simulated entity `key` of this seed."""
    from trading.codes import uscc_make

    h = _h("uscc", seed, key)
    body = ""
    for _ in range(8):
        body += USCC_ALPHABET[h % len(USCC_ALPHABET)]
        h //= len(USCC_ALPHABET)
    return uscc_make(f"{org}{region}{body}{h % 10}")


def resident_id(area: str, n: int) -> str:
    """An 18-character resident ID (GB 11643 check character), one per `n` within an area code."""
    birth = dt.date(1962, 1, 1) + dt.timedelta(days=n % 9000)
    body = f"{area}{birth:%Y%m%d}{(n // 9000) % 1000:03d}"
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, ID_WEIGHTS, strict=True)) % 11]
    return body + check


def person_number(key: str) -> int:
    """P0001234 → 1234 (the generator's person counter)."""
    digits = "".join(ch for ch in key if ch.isdigit())
    return int(digits or "0")


@dataclass
class Person:
    key: str
    name: str


@dataclass
class FirmFacts:
    key: str
    name: str
    legal_rep: Person
    shareholders: list[Person]
    address: str  # the generator's address value (shared by a cluster)
    account: str  # the basic account, which deposits are paid from
    phone: str  # the company phone (registry)
    agent: Person
    contact: Person
    contact_phone: str
    managers: list[Person]
    author: str
    office_ip: str
    device: dict  # {"machine_code", "mac"} of its own computer, {} when never reported
    region: str = ""
    category: str = ""


@dataclass
class OrgFacts:
    """A tenderee or an agency."""

    key: str
    name: str
    region: str
    legal_rep: Person | None
    staff: list[Person] = field(default_factory=list)
    address: str = ""
    phone: str = ""


def tainted(truth: dict) -> tuple[set[str], set[str]]:
    """(parties whose bid links were bent by the cartel's leak, the relations bent)."""
    kind = truth.get("kind", "")
    if kind not in EVIDENCE_KINDS:
        return set(), set()
    relations = set(truth.get("evidence") or ())
    if kind == "tenderee":
        return {pair[0] for pair in truth.get("evidence_pairs") or ()}, relations
    return {pair[1] for pair in truth.get("evidence_pairs") or ()}, relations


def _first(links, relation: str, source: str) -> Link | None:
    return next((x for x in links if x.relation == relation and x.source == source), None)


def _person(link: Link | None) -> Person | None:
    return Person(link.value, link.label) if link is not None else None


def read_facts(lots: list[LotEvidence], truth: dict[str, dict]) -> tuple[dict, dict, dict]:
    """(firms, tenderees, agencies) by key, from every lot of the market."""
    seen: dict[str, dict] = {}
    tenderees: dict[str, OrgFacts] = {}
    agencies: dict[str, OrgFacts] = {}
    for lot in lots:
        bent, relations = tainted(truth[lot.lot])
        for party in lot.parties:
            if party.role == PartyRole.TENDEREE and party.key not in tenderees:
                tenderees[party.key] = OrgFacts(
                    key=party.key,
                    name=party.name,
                    region=lot.region,
                    legal_rep=_person(_first(party.links, Relation.LEGAL_REP, SIM_REGISTRY)),
                    address=next((x.value for x in party.links if x.relation == Relation.ADDRESS), ""),
                    phone=next((x.value for x in party.links if x.relation == Relation.PHONE), ""),
                )
                continue
            if party.role == PartyRole.AGENCY and party.key not in agencies:
                staff = [Person(x.value, x.label) for x in party.links if x.relation == Relation.EMPLOYEE]
                agencies[party.key] = OrgFacts(
                    key=party.key,
                    name=party.name,
                    region=lot.region,
                    legal_rep=staff[0] if staff else None,
                    staff=staff,
                    address=next((x.value for x in party.links if x.relation == Relation.ADDRESS), ""),
                    phone=next((x.value for x in party.links if x.relation == Relation.PHONE), ""),
                )
                continue
            if party.role != PartyRole.BIDDER:
                continue
            own = [x for x in party.links if not (party.key in bent and x.relation in relations)]
            f = seen.setdefault(
                party.key,
                {"name": party.name, "links": party.links, "own": [], "managers": {}, "region": lot.region},
            )
            f["category"] = lot.category
            f["own"].append(own)
            for x in own:
                if x.relation == Relation.PROJECT_MANAGER:
                    f["managers"].setdefault(x.value, x.label)
    firms = {key: _firm(key, f) for key, f in seen.items()}
    return firms, tenderees, agencies


def _firm(key: str, f: dict) -> FirmFacts:
    registry = [x for x in f["links"] if x.source == SIM_REGISTRY]

    def own(relation: str, source: str = SIM_BID) -> Link | None:
        for links in f["own"]:
            found = _first(links, relation, source)
            if found is not None:
                return found
        return None

    legal = _person(_first(registry, Relation.LEGAL_REP, SIM_REGISTRY))
    agent = _person(own(Relation.AGENT)) or Person(f"{key}-A", "代理人")
    contact = _person(own(Relation.CONTACT)) or Person(f"{key}-C", "联系人")
    device = {}
    for links in f["own"]:
        mc, mac = _first(links, Relation.MACHINE_CODE, SIM_BID), _first(links, Relation.MAC, SIM_BID)
        if mc is not None and mac is not None:
            device = {"machine_code": mc.value, "mac": mac.value}
            break
    ip = own(Relation.DECRYPT_IP)
    phone = own(Relation.PHONE)
    author = own(Relation.AUTHOR)
    return FirmFacts(
        key=key,
        name=f["name"],
        legal_rep=legal or Person(f"{key}-L", "法定代表人"),
        shareholders=[Person(x.value, x.label) for x in registry if x.relation == Relation.SHAREHOLDER],
        address=next((x.value for x in registry if x.relation == Relation.ADDRESS), f"{key}-ADDR"),
        account=next((x.value for x in registry if x.relation == Relation.BANK_ACCOUNT), ""),
        phone=next((x.value for x in registry if x.relation == Relation.PHONE), ""),
        agent=agent,
        contact=contact,
        contact_phone=phone.value if phone is not None else "",
        managers=[Person(k, v) for k, v in sorted(f["managers"].items())] or [Person(f"{key}-M", "项目经理")],
        author=author.value if author is not None else f"{agent.key}|{key}",
        office_ip=ip.value if ip is not None else "",
        device=device,
        region=f["region"],
        category=f["category"],
    )
