"""People, market entities, users, experts and certificates of the demo world (a WorldBuilder mixin)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from demo import data as D
from trading.models import (
    CreditRecord,
    MarketEntity,
    Role,
    User,
)
from trading.services.accounts import user_create
from trading.services.credit import credit_record_create
from trading.services.entities import entity_register, entity_verify

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _uscc(rng: random.Random, prefix: str, region: str) -> str:
    from trading.codes import uscc_make

    body = prefix + region + "".join(rng.choice(USCC_ALPHABET) for _ in range(8)) + rng.choice("0123456789")
    return uscc_make(body)


def _id_number(rng: random.Random, region: str) -> str:
    """A well-formed 18-digit resident ID (GB 11643 check digit) for a made-up person."""
    birth = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(0, 14000))
    body = f"{region}{birth:%Y%m%d}{rng.randrange(0, 999):03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
    return body + check


def _person(rng: random.Random, region: str) -> dict:
    name = rng.choice(D.SURNAMES) + rng.choice(D.GIVEN)
    return {
        "name": name,
        "id_number": _id_number(rng, region),
        "phone": f"13{rng.randrange(100000000, 999999999)}",
    }


class RegistryMixin:
    # --- people and entities -------------------------------------------------------------------
    def entity_form(
        self, name: str, region: str, *, kind: str = "company", roles=("bidder",), qual=None
    ) -> dict:
        rng = self.rng
        rep = _person(rng, region)
        form = {
            "uscc": _uscc(
                rng, "91" if kind == "company" else ("11" if kind == "government" else "12"), region
            ),
            "name": name,
            "kind": kind,
            "is_bidder": "bidder" in roles,
            "is_tenderee": "tenderee" in roles,
            "is_agency": "agency" in roles,
            "legal_rep": rep,
            "registered_capital": str(Decimal(rng.choice([500, 1000, 2000, 5000, 10000, 30000])) * 10000),
            "founded_on": str(dt.date(rng.randrange(1995, 2020), rng.randrange(1, 13), rng.randrange(1, 28))),
            "region_code": region,
            "address": f"{name[:2]}市{rng.choice(['青秀区', '城中区', '七星区', '西乡塘区'])}"
            f"{rng.choice(['民族大道', '东环路', '中山路', '解放路'])}{rng.randrange(1, 300)}号",
            "contact_name": rng.choice(D.SURNAMES) + rng.choice(D.GIVEN),
            "contact_phone": f"0771-{rng.randrange(2000000, 9999999)}",
            "contact_email": f"contact{rng.randrange(100, 999)}@example.cn",
            "business_scope": "工程施工；技术服务；设备销售",
            "qualifications": [],
            "shareholders": [{"person": rep, "share_pct": "60", "is_controlling": True}],
            "positions": [{"role": "legal_rep", "person": rep, "title": "法定代表人"}],
            "bank_accounts": [
                {
                    "bank_name": rng.choice(D.BANKS),
                    "account_name": name,
                    "is_basic": True,
                    "account_number": "".join(rng.choice("0123456789") for _ in range(19)),
                }
            ],
        }
        if qual:
            kind_, qname, level = qual
            form["qualifications"].append(
                {
                    "kind": kind_,
                    "name": qname,
                    "level": level,
                    "number": f"D{rng.randrange(100000000, 999999999)}",
                    "issuer": "广西壮族自治区住房和城乡建设厅",
                    "valid_from": "2022-01-01",
                    "valid_until": "2027-12-31",
                }
            )
        if "bidder" in roles:
            pm = _person(rng, region)
            form["positions"].append(
                {
                    "role": "project_manager",
                    "person": pm,
                    "title": "项目经理",
                    "professional_kind": "一级注册建造师",
                    "professional_reg_no": f"桂1{rng.randrange(10, 99)}{rng.randrange(100000, 999999)}",
                }
            )
            form["positions"].append(
                {"role": "agent", "person": _person(rng, region), "title": "投标委托代理人"}
            )
            form["shareholders"].append({"person": _person(rng, region), "share_pct": "40"})
        return form

    def register(self, form: dict, centre: User) -> MarketEntity:
        entity = entity_register(data=form)
        entity_verify(entity=entity, actor=centre, approve=True)
        entity.refresh_from_db()
        return entity

    def build_registry(self) -> None:
        rng, pw = self.rng, self.password
        admin = user_create(username="admin", password=pw, role=Role.ADMIN, first_name="系统管理员")
        centre = user_create(
            username="centre",
            password=pw,
            role=Role.CENTRE,
            first_name="交易中心·陆见证",
            region_code="450100",
            department="南宁市公共资源交易中心",
        )
        centre2 = user_create(
            username="centre2",
            password=pw,
            role=Role.CENTRE,
            first_name="交易中心·韦主持",
            region_code="450100",
            department="南宁市公共资源交易中心",
        )
        regulator = user_create(
            username="regulator",
            password=pw,
            role=Role.REGULATOR,
            first_name="监管·覃科长",
            region_code="450100",
            department="广西壮族自治区住房和城乡建设厅",
        )
        regulator_gp = user_create(
            username="regulator_gp",
            password=pw,
            role=Role.REGULATOR,
            first_name="监管·蒙科长",
            region_code="450100",
            department="广西壮族自治区财政厅政府采购监督管理处",
        )
        self.users.update(
            admin=admin, centre=centre, centre2=centre2, regulator=regulator, regulator_gp=regulator_gp
        )
        self.build_departments()  # before any tender: publication assigns the supervising departments

        for name, kind, region in D.TENDEREES:
            self.entities[name] = self.register(
                self.entity_form(
                    name, region, kind=kind if kind != "institution" else "institution", roles=("tenderee",)
                ),
                centre,
            )
        for i, (name, region) in enumerate(D.AGENCIES):
            ent = self.register(
                self.entity_form(name, region, roles=("agency",), qual=("招标代理", "工程招标代理", "甲级")),
                centre,
            )
            self.entities[name] = ent
            self.users[f"agency{i + 1}"] = user_create(
                username="agency" if i == 0 else f"agency{i + 1}",
                password=pw,
                role=Role.AGENCY,
                entity=ent,
                first_name=f"{name[:4]}·经办人",
            )
        self.bidder_users: dict[int, User] = {}  # by index into D.BIDDERS
        shared_holder = _person(rng, "450100")  # one person behind two "competitors" (for monitoring demos)
        shared_pm = None
        for i, (name, region, qk, qn, ql) in enumerate(D.BIDDERS):
            form = self.entity_form(name, region, qual=(qk, qn, ql))
            if i in (2, 4):
                form["shareholders"][1] = {"person": shared_holder, "share_pct": "40"}
            if i == 8:
                shared_pm = next(p for p in form["positions"] if p["role"] == "project_manager")
            if i == 9 and shared_pm:
                form["positions"] = [p for p in form["positions"] if p["role"] != "project_manager"] + [
                    shared_pm
                ]
            ent = self.register(form, centre)
            self.entities[name] = ent
            username = "bidder" if i == 0 else f"bidder{i + 1}"
            rep = ent.positions.filter(role="agent").select_related("person").first()
            self.users[username] = self.bidder_users[i] = user_create(
                username=username,
                password=pw,
                role=Role.BIDDER,
                entity=ent,
                person=rep.person if rep else None,
                first_name=(rep.person.name if rep else name[:4]),
            )
        # One blacklisted bidder (a pending registration comes last, see build()).
        barred = self.entities["北海蓝湾建设工程有限公司"]
        credit_record_create(
            actor=regulator,
            entity=barred,
            kind=CreditRecord.Kind.DISQUALIFICATION,
            legal_basis="《招标投标法实施条例》第六十七条",
            restricted_action="参加依法必须进行招标的项目的投标",
            starts_on=timezone.localdate(self.now) - dt.timedelta(days=100),
            ends_on=timezone.localdate(self.now) + dt.timedelta(days=265),
            description="以他人名义投标，经查实。",
        )
        credit_record_create(
            actor=regulator,
            entity=self.entities["广西路桥建设集团有限公司"],
            kind=CreditRecord.Kind.COMMENDATION,
            legal_basis="广西建筑市场诚信评价",
            starts_on=timezone.localdate(self.now) - dt.timedelta(days=200),
            description="年度优质工程",
        )
        self.log(f"registry: {MarketEntity.objects.count()} entities, {User.objects.count()} users\n")

    def build_certificates(self) -> None:
        """Keys and certificates for bidders and for the custodians of k-of-n opening keys.

        Each key is generated here (the demo stands in for the users' own devices) and written as a
        key file protected by the demo password to DEMO_KEYS_DIR, so the demo accounts can seal,
        decrypt and log in with their keys; the platform stores only the certificates.
        """
        from trading import keyclient
        from trading.services.pki import certificate_issue

        out = Path(settings.DEMO_KEYS_DIR)
        out.mkdir(parents=True, exist_ok=True)
        holders = [u for name, u in self.users.items() if name.startswith(("bidder", "agency"))]
        holders += list(User.objects.filter(role__in=[Role.CENTRE, Role.REGULATOR]).order_by("pk"))
        for user in holders:
            if (
                user.entity_id
                and MarketEntity.objects.filter(pk=user.entity_id, name="北海蓝湾建设工程有限公司").exists()
            ):
                continue  # blacklisted: no certificate
            key = keyclient.key_generate()
            cert = certificate_issue(user=user, csr_pem=keyclient.csr_build(key), actor=user)
            (out / f"{user.username}.key.json").write_bytes(
                keyclient.keyfile_dump(
                    key,
                    self.password,
                    username=user.username,
                    certificate_serial=cert.serial,
                    iterations=keyclient.KEYFILE_MIN_ITERATIONS,
                )
            )
