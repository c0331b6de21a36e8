"""Where the demo's bidders work from, and what their bid files say about who prepared them.

Every request a bidder's client makes (downloading the tender documents, uploading a bid, decrypting it
at the opening) carries the evidence the platform records for monitoring (DOMAIN D2): the IP address and
the client-reported hardware fingerprint (X-Client-Hardware: machine code, CPU, disk, MAC). Each bidder
has its own office computer, deterministic per username and distinct between bidders (derived from a
hash, not from the world's random generator, so adding evidence does not change the rest of the world).
The uploaded file's authoring metadata names a person of the bidder, the bidder itself, the editing tool
and, for works, the licence id of its pricing software.

The monitoring stories bend this: two colluding bidders prepare their bids on one computer with one
author (LotPlan.collude), two honest bidders upload from the same internet café (LotPlan.cafe).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

USER_AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) BidClient/3.2"
CAFE_IP = "116.252.78.34"  # the public address of an internet café (网吧) in Nanning
CREATOR_TOOLS = ("Microsoft Word 2019", "WPS Office 2023", "Microsoft Word 2016", "WPS Office 2019")
PRICING_SOFTWARE = "广联达云计价平台GCCP6.0"


def _h(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:8], "big")


@dataclass(frozen=True)
class Machine:
    ip: str
    machine_code: str
    cpu_id: str
    disk_serial: str
    mac: str

    def hardware(self) -> dict:
        return {
            "machine_code": self.machine_code,
            "cpu_id": self.cpu_id,
            "disk_serial": self.disk_serial,
            "mac": self.mac,
        }


def _machine(key: str, ip: str) -> Machine:
    h = _h("machine", key)
    mac_tail = "-".join(f"{(h >> (8 * k)) & 0xFF:02X}" for k in range(3))
    return Machine(
        ip=ip,
        machine_code=f"{h:016X}"[:16],
        cpu_id=f"BFEBFBFF{(h >> 20) % 16**8:08X}",
        disk_serial=f"WD-WX{(h >> 11) % 10**10:010d}",
        mac=f"00-E0-4C-{mac_tail}",  # a Realtek network card
    )


def office_machine(username: str) -> Machine:
    """The bidder's own office computer, behind its office's public IP."""
    h = _h("office", username)
    return _machine(username, f"171.{104 + h % 16}.{(h >> 8) % 250 + 1}.{(h >> 16) % 240 + 10}")


def cafe_machine(seat: int) -> Machine:
    """A seat of the internet café: its own computer, the café's one public IP."""
    return _machine(f"cafe-seat-{seat}", CAFE_IP)


def client_request(rf, machine: Machine, path: str = "/"):
    """A request as the bidder's client sends it from `machine` (RequestFactory)."""
    return rf.post(
        path,
        REMOTE_ADDR=machine.ip,
        HTTP_USER_AGENT=USER_AGENT,
        HTTP_X_CLIENT_HARDWARE=json.dumps(machine.hardware()),
    )


def pricing_licence(username: str) -> str:
    """The licence (dongle) id of the bidder's pricing software."""
    return f"GLD-{_h('pricing', username) % 10**10:010d}"


def file_meta(
    *,
    username: str,
    document: bytes,
    name: str,
    author: str,
    company: str,
    works: bool,
    licence: str | None = None,
) -> dict:
    """The authoring metadata the bidder's client reads from the bid file before sealing it."""
    meta = {
        "file_name": name,
        "file_md5": hashlib.md5(document, usedforsecurity=False).hexdigest(),
        "file_size": len(document),
        "content_type": "application/pdf",
        "author": author,
        "last_modified_by": author,
        "company": company,
        "creator_tool": CREATOR_TOOLS[_h("tool", username) % len(CREATOR_TOOLS)],
    }
    if works:
        meta["pricing_software"] = PRICING_SOFTWARE
        meta["pricing_software_id"] = licence or pricing_licence(username)
    return meta


# The technical part both colluding bidders' documents share, word for word (one author wrote it, typo
# included: 砼 written 同 in the fourth line).
COLLUSION_TECHNICAL = [
    "一、施工部署：站台拆除与新建分三个区段流水作业，每段不超过8个站台，",
    "夜间22:00至次日5:00进行拆除，白天恢复公交停靠，设置临时站牌与导向标识。",
    "二、基础施工：采用C30商品混凝土独立基础，基坑开挖后及时验槽，",
    "同强度达到设计强度75%后方可安装钢结构雨棚立柱，预埋件采用热镀锌处理。",
    "三、钢结构雨棚：工厂化预制、现场螺栓拼装，焊缝100%外观检查、20%超声波探伤，",
    "面层采用氟碳喷涂两遍，顶棚采用8+1.52PVB+8钢化夹胶玻璃。",
    "四、交通疏解：每个作业点设置锥桶、水马和爆闪灯，安排两名专职交通协管员，",
    "施工期间与公交集团每周召开一次协调会，提前三天发布站点临时调整公告。",
    "五、工期保证：总工期90日历天，关键线路为基础施工—雨棚安装—电子站牌调试。",
]
