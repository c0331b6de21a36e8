"""The platform side of the simulated market: staff, the expert pool, and the entities and accounts of
the synthetic firms, tenderees and agencies, created through the real services, idempotently.

Everything the simulation creates is named so it never meets the demo world: user names start with
`sim-` (staff, experts) or `sim<seed>-` (accounts of a seed's entities), credit codes are derived from
the seed and the generator's key, the entities' names carry 模拟 and the seed, and the experts sit in a
county no demo expert lives in (SIM_EXPERT_REGION), which every simulated draw is restricted to. A
second run with the same seed finds its entities, users and experts and reuses them; a run with another
seed gets its own entities, and the expert pool is shared.

The private keys of the simulated bidders live in this process only: each run issues every bidder
account it uses a fresh certificate (the newest active certificate is the one the platform wraps to).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from demo.simulate.facts import FirmFacts, OrgFacts, Person, person_number, resident_id, uscc_for
from trading.models import MarketEntity, Role, User
from trading.models import Person as PersonRow
from trading.regions import GUANGXI_CITIES
from trading.services.accounts import user_create
from trading.services.entities import entity_register, entity_verify
from trading.services.entities.people import person_id_digest

STAFF_PREFIX = "sim-"
SIM_EXPERT_REGION = "450126"  # 宾阳县: the simulated pool's county (no demo expert lives there)
CITIES = list(GUANGXI_CITIES)  # synthetic regions R01… map to Guangxi's cities in order
CITY_NAMES = {code: names[0] for code, names in GUANGXI_CITIES.items()}
# Committee groups per category (发改法规〔2018〕316号 level-3 codes) and the main specialty of their experts.
GROUPS = {
    "A": ("A0802", "A0601"),  # 工程施工·市政工程 + 工程造价·土建工程
    "B": ("B0148", "C0402"),  # 医疗设备 + 财务管理
    "C": ("C0705", "C0402"),  # 信息系统运维与评估 + 财务管理
}
MAIN_SPECIALTY = {
    "A0802": "A080201",
    "A0601": "A060101",
    "B0148": "B0148",
    "C0402": "C0402",
    "C0705": "C070502",
}
ECONOMIC = frozenset({"A0601", "C0402"})
EXPERT_AREA = "450126"
ENTITY_AREA_BASE = 469000  # resident IDs of simulated people: area 469xxx by seed (never a demo person)


def city(region: str) -> str:
    """R01 → 450100 (Nanning), R02 → 450200, …"""
    index = int(region[1:]) - 1 if region[1:].isdigit() else 0
    return CITIES[index % len(CITIES)]


class World:
    def __init__(
        self, *, seed: int, firms: dict[str, FirmFacts], tenderees: dict, agencies: dict, clock=None
    ):
        self.seed = seed
        self.clock = clock  # the simulation's clock: certificates are issued at the timeline's start
        self.issue_at = clock() if clock is not None else None
        self.firms, self.tenderees, self.agencies = firms, tenderees, agencies
        self.entities: dict[str, MarketEntity] = {}
        self.users: dict[str, User] = {}  # by firm/agency key: the account that acts for it
        self.proxies: dict[tuple[str, str], User] = {}  # (firm key, person key) → account
        self.persons: dict[str, PersonRow] = {}
        self.keys: dict[int, object] = {}  # user pk → private key of its certificate of this run
        self.reg_nos: dict[str, str] = {}  # person key → registered-professional number
        self.staff: dict[str, User] = {}
        self.experts: dict[str, list] = defaultdict(list)  # group → experts
        self.tag = f"S{seed}"

    # --- people --------------------------------------------------------------------------------------
    def people_index(self) -> dict[str, dict]:
        """Agents, contacts (also by their phone) and project managers of every firm, by person key."""
        if not hasattr(self, "_people"):
            index: dict[str, dict] = {"agent": {}, "contact": {}, "phone": {}, "manager": {}}
            for f in self.firms.values():
                index["agent"][f.agent.key] = f.agent
                index["contact"][f.contact.key] = f.contact
                if f.contact_phone:
                    index["phone"][f.contact_phone] = f.contact
                for m in f.managers:
                    index["manager"].setdefault(m.key, m)
            self._people = index
        return self._people

    def id_number(self, key: str) -> str:
        area = str(ENTITY_AREA_BASE + self.seed % 1000)
        return resident_id(area, person_number(key) + 7919 * (self.seed // 1000))

    def person_form(self, p: Person) -> dict:
        n = person_number(p.key)
        return {
            "name": p.name or "模拟人员",
            "id_number": self.id_number(p.key),
            "phone": f"138{n % 10**8:08d}",
        }

    def person(self, p: Person) -> PersonRow:
        row = self.persons.get(p.key)
        if row is None:
            digest = person_id_digest("resident_id", self.id_number(p.key))
            row = self.persons[p.key] = PersonRow.objects.get(id_digest=digest)
        return row

    def reg_no(self, p: Person) -> str:
        return self.reg_nos.setdefault(p.key, f"模拟{self.seed}-{p.key}")

    # --- staff and experts -----------------------------------------------------------------------------
    def ensure_staff(self) -> None:
        wanted = {
            "centre": (Role.CENTRE, "模拟交易中心·经办"),
            "host": (Role.CENTRE, "模拟交易中心·主持人"),
            "regulator": (Role.REGULATOR, "模拟监管·审查员"),
        }
        for name, (role, label) in wanted.items():
            username = f"{STAFF_PREFIX}{name}"
            user = User.objects.filter(username=username).first()
            if user is None:
                user = user_create(
                    username=username,
                    password=None,
                    role=role,
                    first_name=label,
                    region_code="450100",
                    department="模拟市场（simulate）",
                )
            self.staff[name] = user

    def ensure_pool(self, needed: dict[str, int]) -> int:
        """At least `needed[group]` experts in each group; returns how many were admitted now."""
        from experts.models import Expert
        from experts.services.pool import expert_create

        made = 0
        for group, count in sorted(needed.items()):
            prefix = f"{STAFF_PREFIX}expert-{group.lower()}-"
            existing = list(
                Expert.objects.filter(user__username__startswith=prefix).select_related("user").order_by("pk")
            )
            for k in range(len(existing) + 1, count + 1):
                username = f"{prefix}{k:03d}"
                n = 100_000 * (list(MAIN_SPECIALTY).index(group) + 1) + k
                account = user_create(
                    username=username,
                    password=None,
                    role=Role.EXPERT,
                    actor=self.staff["centre"],
                    first_name=f"模拟专家{group}-{k}",
                    region_code=SIM_EXPERT_REGION,
                )
                economic = group in ECONOMIC
                existing.append(
                    expert_create(
                        actor=self.staff["centre"],
                        user=account,
                        data={
                            "name": f"模拟专家{group}-{k}",
                            "id_number": resident_id(EXPERT_AREA, n),
                            "phone": f"137{n % 10**8:08d}",
                            "email": f"{username}@sim.example.cn",
                            "region_code": SIM_EXPERT_REGION,
                            "employer_name": f"模拟评标专家工作单位{group}-{k}",
                            "employer_uscc": "",
                            "title": "高级经济师" if economic else "高级工程师",
                            "title_level": "senior",
                            "group": "economic" if economic else "technical",
                            "qualifications": [],
                            "birth_year": 1965 + k % 20,
                            "years_in_field": 10 + k % 15,
                            "remote_ok": True,
                            "specialties": [{"code": MAIN_SPECIALTY[group], "main": True}],
                            "employments": [],
                        },
                    )
                )
                made += 1
            self.experts[group] = existing
        return made

    # --- entities --------------------------------------------------------------------------------------
    def _register(self, form: dict) -> MarketEntity:
        entity = MarketEntity.objects.filter(uscc=form["uscc"]).first()
        if entity is None:
            with transaction.atomic():
                entity = entity_register(data=form)
                entity_verify(entity=entity, actor=self.staff["centre"], approve=True)
            entity.refresh_from_db()
        return entity

    def _address(self, region: str, value: str) -> str:
        return f"{CITY_NAMES.get(region, '')}模拟产业园{value}号"

    def _name(self, name: str) -> str:
        return f"{name}[{self.tag}]"

    def _account(self, holder: str, number: str) -> list[dict]:
        if not number:
            return []
        return [
            {"bank_name": "模拟商业银行", "account_name": holder, "account_number": number, "is_basic": True}
        ]

    def firm_entity(self, key: str) -> MarketEntity:
        if key in self.entities:
            return self.entities[key]
        f = self.firms[key]
        region = city(f.region)
        name = self._name(f.name)
        holders = [{"person": self.person_form(f.legal_rep), "share_pct": "60", "is_controlling": True}]
        for s in f.shareholders:
            holders.append(
                {"person": self.person_form(s), "share_pct": str(round(40 / len(f.shareholders), 2))}
            )
        positions = [
            {"role": "legal_rep", "person": self.person_form(f.legal_rep), "title": "法定代表人"},
            {"role": "agent", "person": self.person_form(f.agent), "title": "投标委托代理人"},
            {"role": "contact", "person": self.person_form(f.contact), "title": "联系人"},
        ]
        for m in f.managers:
            positions.append(
                {
                    "role": "project_manager",
                    "person": self.person_form(m),
                    "title": "项目经理",
                    "professional_kind": "一级注册建造师" if f.category == "A" else "项目负责人",
                    "professional_reg_no": self.reg_no(m),
                }
            )
        entity = self._register(
            {
                "uscc": uscc_for(self.seed, key, region),
                "name": name,
                "kind": "company",
                "is_bidder": True,
                "legal_rep": self.person_form(f.legal_rep),
                "registered_capital": "10000000",
                "founded_on": "2010-01-01",
                "region_code": region,
                "address": self._address(region, f.address),
                "contact_name": f.contact.name or "联系人",
                "contact_phone": f.phone or "0771-0000000",
                "business_scope": "工程施工；货物供应；技术服务（模拟市场）",
                "qualifications": [
                    {
                        "kind": "资质证书",
                        "name": "模拟资质",
                        "level": "一级",
                        "number": f"SIM{self.seed}-{key}",
                        "issuer": "模拟发证机关",
                        "valid_from": "2015-01-01",
                    }
                ],
                "shareholders": holders,
                "positions": positions,
                "bank_accounts": self._account(name, f.account),
            }
        )
        self.entities[key] = entity
        return entity

    def org_entity(self, org: OrgFacts, *, agency: bool) -> MarketEntity:
        if org.key in self.entities:
            return self.entities[org.key]
        region = city(org.region)
        rep = org.legal_rep or Person(f"{org.key}-L", "负责人")
        positions = [{"role": "legal_rep", "person": self.person_form(rep), "title": "负责人"}]
        positions += [{"role": "staff", "person": self.person_form(p), "title": "经办人"} for p in org.staff]
        entity = self._register(
            {
                "uscc": uscc_for(self.seed, org.key, region, org="91" if agency else "11"),
                "name": self._name(org.name),
                "kind": "company" if agency else "government",
                "is_bidder": False,
                "is_tenderee": not agency,
                "is_agency": agency,
                "legal_rep": self.person_form(rep),
                "registered_capital": "5000000" if agency else "0",
                "founded_on": "2005-01-01",
                "region_code": region,
                "address": self._address(region, org.address or org.key),
                "contact_name": rep.name or "负责人",
                "contact_phone": org.phone or "0771-0000001",
                "qualifications": [
                    {
                        "kind": "招标代理",
                        "name": "工程招标代理",
                        "level": "甲级",
                        "number": f"SIM{self.seed}-{org.key}",
                        "issuer": "模拟发证机关",
                        "valid_from": "2015-01-01",
                    }
                ]
                if agency
                else [],
                "shareholders": [],
                "positions": positions,
                "bank_accounts": [],
            }
        )
        self.entities[org.key] = entity
        return entity

    def tenderee(self, key: str) -> MarketEntity:
        return self.org_entity(self.tenderees[key], agency=False)

    def agency(self, key: str) -> MarketEntity:
        return self.org_entity(self.agencies[key], agency=True)

    # --- accounts --------------------------------------------------------------------------------------
    def _account_user(self, username: str, *, role: str, entity: MarketEntity, person: PersonRow) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(
                username=username,
                password=None,
                role=role,
                entity=entity,
                person=person,
                first_name=person.name,
                region_code=entity.region_code,
            )
        return user

    def bidder_user(self, key: str) -> User:
        """The firm's own account (its authorised agent)."""
        if key not in self.users:
            entity = self.firm_entity(key)
            person = self.person(self.firms[key].agent)
            self.users[key] = self._account_user(
                f"sim{self.seed}-{key.lower()}", role=Role.BIDDER, entity=entity, person=person
            )
        return self.users[key]

    def proxy_user(self, key: str, acting: Person) -> User:
        """An account of firm `key` used by someone else's person (a cartel's shared agent or contact,
        or the agency's staff in a tenderee plot): what the platform sees as the bid's agent."""
        if acting.key == self.firms[key].agent.key:
            return self.bidder_user(key)
        ref = (key, acting.key)
        if ref not in self.proxies:
            self.proxies[ref] = self._account_user(
                f"sim{self.seed}-{key.lower()}-{acting.key.lower()}",
                role=Role.BIDDER,
                entity=self.firm_entity(key),
                person=self.person(acting),
            )
        return self.proxies[ref]

    def agency_user(self, key: str) -> User:
        if key not in self.users:
            org = self.agencies[key]
            entity = self.agency(key)
            rep = org.legal_rep or Person(f"{org.key}-L", "负责人")
            self.users[key] = self._account_user(
                f"sim{self.seed}-{key.lower()}", role=Role.AGENCY, entity=entity, person=self.person(rep)
            )
        return self.users[key]

    def key_for(self, user: User):
        """The private key of the user's certificate issued in this run (issued on first use)."""
        key = self.keys.get(user.pk)
        if key is None:
            from trading import keyclient
            from trading.services.pki import certificate_issue

            key = keyclient.key_generate()
            saved = self.clock() if self.clock is not None else None
            if saved is not None:
                self.clock.set(self.issue_at)  # valid for every tender of the run, whenever it is used
            try:
                certificate_issue(user=user, csr_pem=keyclient.csr_build(key), actor=user)
            finally:
                if saved is not None:
                    self.clock.set(saved)
            self.keys[user.pk] = key
        return key


# --- the expert pool's size --------------------------------------------------------------------------------


def pool_needs(plans: list, *, tenderee_limit: int, window_days: int, busy_hours: float) -> dict[str, int]:
    """How many experts each group needs for the planned committees: the most draws one tenderee makes
    from the group within any `window_days` (each expert may sit for it `tenderee_limit` times), plus
    the committees sitting at the same time, plus spares for the employer limit and the reserves."""
    by_key: dict[tuple[str, str], list[tuple[dt.datetime, int]]] = defaultdict(list)
    sittings: dict[str, list[tuple[dt.datetime, int]]] = defaultdict(list)
    for p in plans:
        for group, count in p.groups:
            by_key[(group, p.tenderee)].append((p.evaluation_at, count))
            sittings[group].append((p.evaluation_at, count))
    window = dt.timedelta(days=window_days)
    needs: dict[str, int] = defaultdict(int)
    for (group, _tenderee), rows in by_key.items():
        rows.sort()
        lo, total, best = 0, 0, 0
        for at, count in rows:
            total += count
            while at - rows[lo][0] >= window:
                total -= rows[lo][1]
                lo += 1
            best = max(best, total)
        needs[group] = max(needs[group], math.ceil(best / max(1, tenderee_limit)))
    span = dt.timedelta(hours=busy_hours)
    out = {}
    for group, rows in sittings.items():
        rows.sort()
        lo, total, busy, largest = 0, 0, 0, 0
        for at, count in rows:
            total += count
            largest = max(largest, count)
            while at - rows[lo][0] >= span:
                total -= rows[lo][1]
                lo += 1
            busy = max(busy, total)
        out[group] = needs[group] + busy + largest + 2
    return out


def now_local() -> dt.datetime:
    return timezone.localtime(timezone.now())
