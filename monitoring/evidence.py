"""The data contract of monitoring: plain, frozen records with no Django in them.

Everything monitoring analyses arrives in these shapes, from one of two places:
- `monitoring.selectors` reads them from the platform's database (registry, bids, bid securities,
  activity evidence: DOMAIN D2);
- `monitoring.simulate` generates them for a synthetic market.

The pure modules (screens, rules, graph, market, similarity, learn, pipeline) only ever see these
records, so the same code runs live on one lot, in the batch over the market, in the simulator and in
the benchmarks.

A *link* is one fact tying a party (a bidder, the tenderee or the agency) to a node of the
relationship graph: a person in a role, a device, an address, an account, a document fingerprint.
Two parties share a node when two links have the same (kind, value). Values are normalised by the
producer (digits only for phones and accounts, upper case for hardware serials, a registry person key
for people), so equality is identity.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


class NodeKind:
    """The kinds of graph node (DESIGN §7; issue 5 item 1)."""

    ENTITY = "entity"  # a market entity (bidder, tenderee, agency, a holding company)
    PERSON = "person"  # a registry person (legal representative, shareholder, officer, manager, agent)
    IP = "ip"  # an IP address seen at download, upload or decryption
    DEVICE = "device"  # a hardware fingerprint: machine code, CPU id, disk or memory serial
    MAC = "mac"  # a network card address
    DONGLE = "dongle"  # a CA certificate / dongle serial
    ACCOUNT = "account"  # a bank account number
    PHONE = "phone"  # a telephone number
    ADDRESS = "address"  # a normalised postal address
    DOCUMENT = "document"  # a file digest (SHA-256 / MD5)
    AUTHOR = "author"  # authoring metadata: author, company or licence id in the file / pricing XML

    ALL = (ENTITY, PERSON, IP, DEVICE, MAC, DONGLE, ACCOUNT, PHONE, ADDRESS, DOCUMENT, AUTHOR)


class Relation:
    """The kinds of edge (what the link says): the statutory rules are keyed on these."""

    LEGAL_REP = "legal_rep"  # person → entity: 法定代表人 / 单位负责人
    CONTROLLER = "controller"  # person or entity controls the entity (控股 / 实际控制人)
    SHAREHOLDER = "shareholder"  # person or entity holds shares (not controlling)
    OFFICER = "officer"  # director, supervisor, senior manager (管理关系)
    PROJECT_MANAGER = "project_manager"  # the bid's project manager (项目负责人), or a registered one
    AGENT = "agent"  # the authorised agent handling the bid (委托代理人), or the uploading user
    CONTACT = "contact"  # contact person (联系人)
    PHONE = "phone"  # a phone number of the entity or of its contact
    ADDRESS = "address"  # registered or contact address
    BANK_ACCOUNT = "bank_account"  # a registered account of the entity
    DEPOSIT_ACCOUNT = "deposit_account"  # the account the bid security was paid from
    DOWNLOAD_IP = "download_ip"
    UPLOAD_IP = "upload_ip"
    DECRYPT_IP = "decrypt_ip"
    MACHINE_CODE = "machine_code"  # hardware fingerprint of the computer that made / sent the bid
    MAC = "mac"
    DONGLE = "dongle"  # CA certificate or dongle serial used to sign
    FILE_DIGEST = "file_digest"  # digest of the bid document
    AUTHOR = "author"  # authoring metadata of the bid document (author / company / tool licence)
    EMPLOYEE = "employee"  # a person employed by the entity (staff)

    ALL = (
        LEGAL_REP,
        CONTROLLER,
        SHAREHOLDER,
        OFFICER,
        PROJECT_MANAGER,
        AGENT,
        CONTACT,
        PHONE,
        ADDRESS,
        BANK_ACCOUNT,
        DEPOSIT_ACCOUNT,
        DOWNLOAD_IP,
        UPLOAD_IP,
        DECRYPT_IP,
        MACHINE_CODE,
        MAC,
        DONGLE,
        FILE_DIGEST,
        AUTHOR,
        EMPLOYEE,
    )


class PartyRole:
    BIDDER = "bidder"
    TENDEREE = "tenderee"
    AGENCY = "agency"


@dataclass(frozen=True)
class Link:
    """One fact: the party is tied to node (kind, value) by `relation`, as `source` shows.

    `source` names where the fact was read ("registry:position:12", "evidence:345", "security:7",
    "bid:<uuid>", "sim"); `label` is what a regulator is shown (a name, a masked number).
    """

    kind: str
    value: str
    relation: str
    source: str = ""
    label: str = ""

    @property
    def node(self) -> tuple[str, str]:
        return (self.kind, self.value)


@dataclass(frozen=True)
class Party:
    """A bidder, the tenderee or the agency of one lot, with every link known for it."""

    key: str  # stable key: "12" (entity pk) in the platform, "F0042" in the simulator
    name: str
    role: str = PartyRole.BIDDER
    uscc: str = ""
    links: tuple[Link, ...] = ()


@dataclass(frozen=True)
class BidRow:
    """One bid of the lot as monitoring sees it once read out."""

    bid: str  # bid key
    party: str  # Party.key of the bidder
    price: float | None  # None when the bid has no readable price (not decrypted)
    submitted_at: dt.datetime | None = None
    is_winner: bool | None = None  # known after the award, None before
    text: str | None = None  # the bid document's text (document similarity), None if unavailable
    file_sha256: str = ""


@dataclass(frozen=True)
class LotEvidence:
    """Everything known about one lot (bid section) at read-out or later."""

    tender: str  # tender key
    lot: str  # lot key
    regime: str = "TB"  # "TB" (招标投标法) or "GP" (政府采购法): picks the legal source of a rule
    category: str = ""
    region: str = ""
    date: dt.date | None = None
    ceiling: float | None = None  # 最高投标限价
    estimate: float | None = None  # budget / engineer's estimate
    template_text: str | None = None  # the tender documents' text: template passages are removed
    bids: tuple[BidRow, ...] = ()
    parties: tuple[Party, ...] = ()  # the bidders and, when known, the tenderee and the agency

    def party(self, key: str) -> Party | None:
        for p in self.parties:
            if p.key == key:
                return p
        return None

    @property
    def bidders(self) -> tuple[Party, ...]:
        return tuple(p for p in self.parties if p.role == PartyRole.BIDDER)


@dataclass(frozen=True)
class Finding:
    """One indicator that fired (or was measured) on a lot.

    `code` is stable (e.g. "same_deposit_account"); `statutory` says whether it is a deemed-collusion
    situation of the law (DOMAIN D1) with `legal_source`, or a configurable vendor indicator (D3) or
    a model signal. `parties` are the bidders concerned; `paths` the evidence paths in the graph, each
    a list of node ids ("entity:12", "ip:1.2.3.4", …) from one party to the other; `value` and
    `threshold` what was measured and what it was compared with.
    """

    code: str
    statutory: bool
    legal_source: str = ""
    weight: float = 0.0
    parties: tuple[str, ...] = ()
    value: float | str | None = None
    threshold: float | str | None = None
    paths: tuple[tuple[str, ...], ...] = ()
    detail: dict = field(default_factory=dict)


def node_id(kind: str, value: str) -> str:
    """The graph's node id for (kind, value): "ip:1.2.3.4", "entity:12"."""
    return f"{kind}:{value}"
