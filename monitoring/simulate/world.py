"""The simulated world: firms with their registry facts and equipment, agencies and tenderees.

Every identifier is drawn from a counter, so two firms never share a person, phone, account, address or
device unless the generator puts them together on purpose (a cartel's leak, a benign collision).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from monitoring.evidence import Link, NodeKind, Relation

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红文辉鹏飞宇浩然"
TRADES = {
    "A": ("建设工程", "市政工程", "路桥建设", "水利水电", "建筑安装", "园林绿化"),
    "B": ("机电设备", "医疗器械", "办公设备", "电子科技", "仪器仪表", "环保设备"),
    "C": ("信息技术", "物业服务", "工程咨询", "测绘技术", "检测技术", "规划设计"),
}
PLACES = "江汉临川安平宁远长丰永和清河东湖南山西城北岭海宁"
REGISTRY = "sim:registry"
BID = "sim:bid"


class Ids:
    """Counters for every kind of identifier; values are normalised as the evidence contract asks."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.n: dict[str, int] = {}

    def next(self, kind: str) -> int:
        self.n[kind] = self.n.get(kind, 0) + 1
        return self.n[kind]

    def person(self) -> tuple[str, str]:
        name = self.rng.choice(SURNAMES) + "".join(self.rng.choices(GIVEN, k=self.rng.choice((1, 2))))
        return f"P{self.next('person'):07d}", name

    def phone(self) -> str:
        return f"139{self.next('phone'):08d}"

    def account(self) -> str:
        return f"6217{self.next('account'):015d}"

    def address(self, region: str) -> str:
        return f"{region}-ADDR-{self.next('address'):06d}"

    def ip(self, first: int) -> str:
        k = self.next(f"ip{first}")
        return f"{first}.{k // 65536 % 256}.{k // 256 % 256}.{k % 256}"

    def device(self) -> str:
        return f"MC{self.next('device'):012X}"

    def mac(self) -> str:
        k = self.next("mac")
        return "02:00:" + ":".join(f"{(k >> s) & 0xFF:02X}" for s in (24, 16, 8, 0))

    def dongle(self) -> str:
        return f"CA{self.next('dongle'):010d}"


@dataclass
class Firm:
    key: str
    name: str
    uscc: str
    region: str
    category: str
    effect: float  # persistent log-cost advantage (negative: cheaper)
    registry: tuple[Link, ...]  # legal rep, shareholders, address, bank account, company phone
    account: str
    managers: tuple[Link, ...]  # PROJECT_MANAGER links, one is named per bid
    agent: Link
    contact: tuple[Link, Link]  # CONTACT person and the contact's PHONE
    office_ip: str
    device: tuple[Link, Link]  # MACHINE_CODE and MAC of the firm's own computer
    dongle: Link
    author: Link
    cluster: int = -1  # index of the cluster address shared with other firms, -1 if none
    ring: int = -1  # index of the cartel ring the firm belongs to, -1 if none


@dataclass
class Agency:
    key: str
    name: str
    links: tuple[Link, ...]
    hall_ip: str  # public IP of its self-service hall: bidders may upload from it (benign)
    staff: tuple[tuple[str, str], ...]  # (person key, name)
    device: str  # machine code of its office computer


@dataclass
class Tenderee:
    key: str
    name: str
    region: str
    links: tuple[Link, ...] = field(default_factory=tuple)


def uscc(ids: Ids, rng: random.Random) -> str:
    # Looks like a 统一社会信用代码 (18 characters); not check-digit valid, never mistaken for a real one.
    return f"91{rng.randrange(110000, 659999)}MA{ids.next('uscc'):08d}X"


def make_firm(ids: Ids, rng: random.Random, region: str, category: str, firm_sigma: float) -> Firm:
    n = ids.next("firm")
    key = f"F{n:05d}"
    name = f"{rng.choice(PLACES)}{rng.choice(PLACES)}{rng.choice(TRADES[category])}有限公司（模拟{n}）"
    people = [ids.person() for _ in range(1 + rng.randint(1, 2))]
    registry = [Link(NodeKind.PERSON, people[0][0], Relation.LEGAL_REP, REGISTRY, people[0][1])]
    registry += [Link(NodeKind.PERSON, p, Relation.SHAREHOLDER, REGISTRY, name_) for p, name_ in people[1:]]
    account = ids.account()
    registry += [
        Link(NodeKind.ADDRESS, ids.address(region), Relation.ADDRESS, REGISTRY, f"{region} 注册地址"),
        Link(NodeKind.ACCOUNT, account, Relation.BANK_ACCOUNT, REGISTRY, f"****{account[-4:]}"),
        Link(NodeKind.PHONE, ids.phone(), Relation.PHONE, REGISTRY, "单位电话"),
    ]
    managers = tuple(
        Link(NodeKind.PERSON, p, Relation.PROJECT_MANAGER, BID, nm)
        for p, nm in (ids.person() for _ in range(rng.randint(1, 3)))
    )
    agent_key, agent_name = ids.person()
    contact_key, contact_name = ids.person()
    phone = ids.phone()
    author_key, author_name = ids.person()
    return Firm(
        key=key,
        name=name,
        uscc=uscc(ids, rng),
        region=region,
        category=category,
        effect=rng.gauss(0.0, firm_sigma),
        registry=tuple(registry),
        account=account,
        managers=managers,
        agent=Link(NodeKind.PERSON, agent_key, Relation.AGENT, BID, agent_name),
        contact=(
            Link(NodeKind.PERSON, contact_key, Relation.CONTACT, BID, contact_name),
            Link(NodeKind.PHONE, phone, Relation.PHONE, BID, f"联系人电话 ****{phone[-4:]}"),
        ),
        office_ip=ids.ip(58),
        device=(
            Link(NodeKind.DEVICE, ids.device(), Relation.MACHINE_CODE, BID, "机器码"),
            Link(NodeKind.MAC, ids.mac(), Relation.MAC, BID, "MAC"),
        ),
        dongle=Link(NodeKind.DONGLE, ids.dongle(), Relation.DONGLE, BID, "CA 证书"),
        author=Link(NodeKind.AUTHOR, f"{author_key}|{key}", Relation.AUTHOR, BID, f"{author_name}/{name}"),
    )


def set_cluster_address(firm: Firm, address: str, cluster: int) -> None:
    """Re-register the firm at a shared cluster address (集群注册): a benign same-region collision."""
    firm.registry = tuple(
        Link(NodeKind.ADDRESS, address, Relation.ADDRESS, REGISTRY, "集群注册地址")
        if link.kind == NodeKind.ADDRESS
        else link
        for link in firm.registry
    )
    firm.cluster = cluster


def make_agency(ids: Ids, rng: random.Random, region: str) -> Agency:
    n = ids.next("agency")
    key = f"G{n:03d}"
    name = f"{rng.choice(PLACES)}{rng.choice(PLACES)}招标代理有限公司（模拟{n}）"
    staff = tuple(ids.person() for _ in range(rng.randint(2, 4)))
    device = ids.device()
    hall_ip = ids.ip(117)
    links = [Link(NodeKind.PERSON, p, Relation.EMPLOYEE, REGISTRY, nm) for p, nm in staff]
    links += [
        Link(NodeKind.ADDRESS, ids.address(region), Relation.ADDRESS, REGISTRY, "代理机构地址"),
        Link(NodeKind.PHONE, ids.phone(), Relation.PHONE, REGISTRY, "代理机构电话"),
        Link(NodeKind.DEVICE, device, Relation.MACHINE_CODE, REGISTRY, "代理机构办公电脑"),
        Link(NodeKind.IP, hall_ip, Relation.UPLOAD_IP, REGISTRY, "自助服务区公网 IP"),
    ]
    return Agency(key=key, name=name, links=tuple(links), hall_ip=hall_ip, staff=staff, device=device)


def make_tenderee(ids: Ids, rng: random.Random, region: str) -> Tenderee:
    n = ids.next("tenderee")
    rep_key, rep_name = ids.person()
    links = (
        Link(NodeKind.PERSON, rep_key, Relation.LEGAL_REP, REGISTRY, rep_name),
        Link(NodeKind.ADDRESS, ids.address(region), Relation.ADDRESS, REGISTRY, "招标人地址"),
        Link(NodeKind.PHONE, ids.phone(), Relation.PHONE, REGISTRY, "招标人电话"),
    )
    kind = rng.choice(
        ("人民政府办公室", "交通运输局", "教育局", "卫生健康委员会", "住房和城乡建设局", "水务局")
    )
    return Tenderee(
        key=f"E{n:04d}",
        name=f"{rng.choice(PLACES)}{rng.choice(PLACES)}{kind}（模拟）",
        region=region,
        links=links,
    )
