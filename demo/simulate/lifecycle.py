"""One simulated tender, from the synthetic market's lot to its verified archival package, through the
real services under the simulation's clock:

publish (the agency) → the bidders download the documents from their computers → each bidder's
Python client (bidding.client) logs in with its key, seals its form and PDF, uploads and completes,
and checks its receipt; the centre records the bid securities → at the deadline the remote opening hall:
sign-in, the bidder list, each bidder unwraps its content key and decrypts, the read-out (the live
monitoring check runs on it), the record signed by the bidders — or 流标 when fewer than three bids
open → the verifiable draw of the committee (restricted to the simulated pool) → the evaluation room:
declarations, the chair, the reviews, the scores, the report signed → TB: the candidates' publicity,
then the award; GP: the award → the contract → the regulator decides every open alert as the synthetic
truth says (confirm on a collusive lot, dismiss on a clean one) → monitoring.services.closing
.project_close seals the package → archive.verify.verify_package checks it.

What the generator says a cartel left behind becomes what the platform records: the preparer's
computer (machine code, MAC, upload IP) in the cover's upload request, the preparer's agent or contact
acting for the cover (its account's person), the preparer's project manager named in the cover's form,
the deposit paid from the preparer's (or a third) account, the preparer's document author or the very
same file, and in a tenderee plot the agency's staff member handling the favoured bid.
"""

from __future__ import annotations

import base64
import datetime as dt
import random
import tempfile
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from unittest import mock

from django.test import RequestFactory
from django.utils import timezone

from demo.simulate import documents
from demo.simulate.facts import SIM_BID, Person, tainted
from demo.simulate.transport import InProcessTransport
from demo.simulate.world import GROUPS, SIM_EXPERT_REGION, World, city
from monitoring.evidence import LotEvidence, Relation

MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
EVALUATION_HOURS = 3
MIN_BIDDERS = 3  # 招标投标法28: fewer valid bids fail the lot
NO_SHOW = 0.04  # a bidder who does not decrypt in the window (lost dongle, no network): its bid fails
CATEGORY = {"A": "works", "B": "goods", "C": "services"}
CLASSIFICATION = {"A": "A010101", "B": "B080201", "C": "C010101"}
CLIENT_TOOL = "WPS Office 2023"
LEGAL_BASIS = "《招标投标法》第三十二条；《招标投标法实施条例》第三十九条、第四十条"
LEGAL_BASIS_TENDEREE = "《招标投标法》第三十二条；《招标投标法实施条例》第四十一条"


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass
class BidPlan:
    """One bid of the lot as the generator drew it, in platform terms."""

    firm: str
    price: Decimal
    text: str | None
    submitted_at: dt.datetime
    upload_ip: str
    hardware: dict
    acting: Person  # whose person handles the bid (the account it is uploaded from)
    manager: Person
    author: str
    digest: str  # the generator's file digest: equal digests, one file
    deposit: str  # account the security was paid from; "" for a bank guarantee
    no_show: bool = False
    # filled in as the tender runs
    user: object = None
    bid: object = None
    cek: str = ""


@dataclass
class TenderPlan:
    index: int
    lot: LotEvidence
    truth: dict
    published: dt.datetime
    docs_until: dt.datetime
    deadline: dt.datetime
    evaluation_at: dt.datetime
    groups: list[tuple[str, int]]
    budget: Decimal
    ceiling: Decimal
    method: str
    price_max: int
    large: bool
    tenderee: str
    agency: str
    bids: list[BidPlan] = field(default_factory=list)

    @property
    def gp(self) -> bool:
        return self.lot.regime == "GP"


def plan_tender(
    *, index: int, lot: LotEvidence, truth: dict, published: dt.datetime, world: World, rng: random.Random
) -> TenderPlan:
    """Dates (the earliest lawful ones plus the agencies' usual margin), lot figures and committee."""
    from trading import rules

    gp = lot.regime == "GP"
    local = timezone.localtime(published)
    docs_until = dt.datetime.combine(
        rules.period_end(local, 5, working_days=gp) + 2 * DAY, dt.time(17, 0), tzinfo=local.tzinfo
    )
    deadline = dt.datetime.combine(
        rules.period_end(local, 20, working_days=False) + 4 * DAY, dt.time(9, 30), tzinfo=local.tzinfo
    )
    deadline += (index % 4) * 10 * MINUTE  # several halls a morning do not open at the same minute
    estimate, ceiling = money(lot.estimate or 1_000_000), money(lot.ceiling or lot.estimate or 1_000_000)
    budget = max(estimate, ceiling)
    large = gp and budget >= Decimal("10000000")
    main, economic = GROUPS[lot.category]
    groups = [(main, 5 if large else 4), (economic, 2 if large else 1)]
    method = truth.get("award") or "scoring"
    price_max = rng.choice((10, 15, 20, 30, 40) if lot.category == "C" else (30, 40, 50, 60))
    plan = TenderPlan(
        index=index,
        lot=lot,
        truth=truth,
        published=published,
        docs_until=docs_until,
        deadline=deadline,
        evaluation_at=deadline + HOUR + 15 * MINUTE,
        groups=groups,
        budget=budget,
        ceiling=ceiling,
        method=method,
        price_max=price_max,
        large=large,
        tenderee=next(p.key for p in lot.parties if p.role == "tenderee"),
        agency=next(p.key for p in lot.parties if p.role == "agency"),
    )
    plan.bids = _bid_plans(plan, world, rng)
    return plan


def _bid_plans(plan: TenderPlan, world: World, rng: random.Random) -> list[BidPlan]:
    lot, truth = plan.lot, plan.truth
    bent, _relations = tainted(truth)
    parties = {p.key: p for p in lot.parties}
    people = world.people_index()
    agency = world.agencies[plan.agency]
    syn_deadline = dt.datetime.combine(lot.date, dt.time(9, 30), tzinfo=plan.deadline.tzinfo)
    out = []
    for row in lot.bids:
        firm = world.firms[row.party]
        links = [x for x in parties[row.party].links if x.source == SIM_BID]

        def value(relation: str, links=links) -> str:
            return next((x.value for x in links if x.relation == relation), "")

        hardware = {}
        if value(Relation.MACHINE_CODE):
            hardware = {"machine_code": value(Relation.MACHINE_CODE), "mac": value(Relation.MAC)}
        # Whose person handles the bid: its own agent, or what the cartel's leak put there.
        acting = firm.agent
        if truth.get("kind") == "tenderee" and row.party in bent:
            # The agency's staff member handles the favoured bid (both variants of the plot: the
            # platform holds no device of the agency, its staff it does).
            staff = {p.key: p for p in agency.staff}
            acting = staff.get(value(Relation.AGENT)) or (agency.staff[0] if agency.staff else acting)
        elif value(Relation.AGENT) not in ("", firm.agent.key):
            acting = people["agent"].get(value(Relation.AGENT), acting)
        elif value(Relation.CONTACT) not in ("", firm.contact.key):
            acting = people["contact"].get(value(Relation.CONTACT), acting)
        elif value(Relation.PHONE) not in ("", firm.contact_phone):
            acting = people["phone"].get(value(Relation.PHONE), acting)
        manager = people["manager"].get(value(Relation.PROJECT_MANAGER), firm.managers[0])
        offset = syn_deadline - row.submitted_at if row.submitted_at else 6 * HOUR
        out.append(
            BidPlan(
                firm=row.party,
                price=money(row.price),
                text=row.text,
                submitted_at=plan.deadline - offset,
                upload_ip=value(Relation.UPLOAD_IP) or firm.office_ip,
                hardware=hardware,
                acting=acting,
                manager=manager,
                author=value(Relation.AUTHOR) or firm.author,
                digest=value(Relation.FILE_DIGEST) or row.bid,
                deposit=value(Relation.DEPOSIT_ACCOUNT),
                no_show=rng.random() < NO_SHOW,
            )
        )
    return out


class Machine:
    """What a request from a bidder's computer carries: its IP and its client's hardware header."""

    rf = RequestFactory()

    @classmethod
    def request(cls, ip: str, hardware: dict, path: str = "/"):
        import json

        extra = {"REMOTE_ADDR": ip or "127.0.0.1", "HTTP_X_FORWARDED_FOR": ip or "127.0.0.1"}
        if hardware:
            extra["HTTP_X_CLIENT_HARDWARE"] = json.dumps(hardware, sort_keys=True)
        return cls.rf.post(path, HTTP_USER_AGENT="gongjiao-bid-client/1 (Python)", **extra)


class TenderRun:
    def __init__(self, *, plan: TenderPlan, world: World, clock, summary, rng: random.Random, env: dict):
        self.plan, self.world, self.clock, self.summary, self.rng, self.env = (
            plan,
            world,
            clock,
            summary,
            rng,
            env,
        )
        self.tender = None
        self.lot = None
        self.agency_user = world.agency_user(plan.agency)
        self.package = None
        self.outcome = ""  # "awarded" or "failed" (流标) once the tender has ended

    def at(self, when: dt.datetime) -> dt.datetime:
        return self.clock.set(when)

    # --- the whole tender --------------------------------------------------------------------------------
    def run(self) -> None:
        s = self.summary
        with s.phase("publish"):
            self.publish()
        with s.phase("bidding"):
            self.bidding()
        with s.phase("opening"):
            opened = self.opening()
        if opened:
            with s.phase("draw"):
                self.draw()
            with s.phase("evaluation"):
                finalized = self.evaluation()
            with s.phase("award"):
                ended = self.award(finalized)
            self.outcome = "awarded"
        else:
            ended = self.plan.deadline + DAY
            self.outcome = "failed"
        with s.phase("monitoring"):
            self.decide_alerts(ended + HOUR)
        with s.phase("archive"):
            self.close(ended + 2 * HOUR)
        with s.phase("verify"):
            self.verify()

    # --- publication -------------------------------------------------------------------------------------
    def form(self) -> dict:
        p = self.plan
        world = self.world
        tenderee = world.tenderee(p.tenderee)
        agency = world.agency(p.agency)
        category = CATEGORY[p.lot.category]
        tb_works = p.lot.regime == "TB" and category == "works"
        evaluation = {
            "qualification": [{"code": "qual", "name": "资格条件（营业执照、资质、业绩、信誉）"}],
            "preliminary": [{"code": "resp", "name": "形式及响应性（签章、报价唯一、工期质量）"}],
        }
        if p.method == "scoring":
            evaluation["criteria"] = [
                {"code": "tech", "name": "技术及商务", "group": "technical", "max": 100 - p.price_max},
                {"code": "price", "name": "投标报价", "group": "price", "max": p.price_max},
            ]
            evaluation["price_formula"] = (
                {"kind": "deviation", "base": "mean", "k": "0.03", "above": "2", "below": "1"}
                if tb_works
                else {"kind": "gp_base_over_price"}
            )
        experts = sum(n for _g, n in p.groups)
        title = f"模拟市场{p.lot.tender}（{world.tag}）{'工程施工' if category == 'works' else '采购项目'}"
        return {
            "title": title,
            "regime": p.lot.regime,
            "category": category,
            "method": "open",
            "tenderee_id": tenderee.pk,
            "agency_id": agency.pk,
            "region_code": city(p.lot.region),
            "description": f"<p>{title}：由合成市场生成（simulate，种子 {world.seed}）。</p>",
            "funding_source": "财政资金",
            "large_or_complex": p.large,
            "docs_from": p.published.isoformat(),
            "docs_until": p.docs_until.isoformat(),
            "deadline": p.deadline.isoformat(),
            "decryption_minutes": 30,
            "lots": [
                {
                    "title": "全部",
                    "classification_code": CLASSIFICATION[p.lot.category],
                    "budget": str(p.budget),
                    "ceiling_price": str(p.ceiling),
                    "bid_security": str(
                        min((p.budget * Decimal("0.01")).quantize(Decimal(1)), Decimal(800000))
                    ),
                    "duration_days": 180,
                    "evaluation_method": p.method,
                    "evaluation": evaluation,
                    "committee": {
                        "size": experts,
                        "experts": experts,
                        "tenderee_reps": 0,
                        "specialties": [{"code": g, "count": n} for g, n in p.groups],
                    },
                }
            ],
            "decryption_policy": "bidder",
        }

    def publish(self) -> None:
        from trading.services.tenders import tender_create, tender_document_download, tender_publish

        p, world = self.plan, self.world
        self.at(p.published - 2 * HOUR)
        self.tender = tender_create(actor=self.agency_user, data=self.form())
        self.at(p.published)
        tender_publish(
            tender=self.tender,
            actor=self.agency_user,
            body_html=f"<p>{self.tender.title}：招标公告（模拟）。</p>",
            documents=documents.tender_documents(self.tender.title, p.lot.template_text),
        )
        self.tender.refresh_from_db()
        self.lot = self.tender.lots.get(number=1)
        for j, b in enumerate(p.bids):
            firm = world.firms[b.firm]
            self.at(p.published + HOUR + j * 7 * MINUTE)
            tender_document_download(
                tender=self.tender,
                user=world.bidder_user(b.firm),
                request=Machine.request(firm.office_ip, firm.device),
            )

    # --- bids --------------------------------------------------------------------------------------------
    def bidding(self) -> None:
        from bidding import client as bc
        from bidding.models import BidSecurity
        from bidding.services.security import bid_security_record

        p, world = self.plan, self.world
        centre = world.staff["centre"]
        files: dict[str, bytes] = {}  # the generator's digest → the document (one file, one digest)
        for j, b in enumerate(sorted(p.bids, key=lambda x: x.submitted_at)):
            entity = world.firm_entity(b.firm)
            self.at(b.submitted_at - 2 * HOUR)
            # A transfer from the bidder's own basic account (条例26); a deposit the generator has paid
            # from another account (the preparer's, a ring's third one) is a bank guarantee whose fee
            # was paid from it — a transfer from there would be refused — and none is a guarantee.
            own = bool(b.deposit) and b.deposit == world.firms[b.firm].account
            bid_security_record(
                lot=self.lot,
                entity=entity,
                amount=self.lot.bid_security,
                method=BidSecurity.Method.TRANSFER if own else BidSecurity.Method.GUARANTEE,
                payer_account_number=b.deposit,
                reference=f"SIM{self.tender.pk}-{j + 1:02d}",
                actor=centre,
                received_at=b.submitted_at - 2 * HOUR,
            )
            user = b.user = world.proxy_user(b.firm, b.acting)
            key = world.key_for(user)
            document = files.get(b.digest)
            if document is None:
                document = files[b.digest] = documents.bid_document(
                    title=self.tender.title,
                    bidder=entity.name,
                    price=f"{b.price:,.2f}",
                    text=b.text,
                    author=b.author,
                    creator=CLIENT_TOOL,
                )
            self.at(b.submitted_at)
            client = bc.PlatformClient(
                self.env["base_url"],
                transport=InProcessTransport(ip=b.upload_ip, host=self.env["host"]),
                hardware=b.hardware,
                sleep=lambda _s: None,
            )
            client.key_login(username=user.username, key=key)
            with tempfile.TemporaryDirectory(prefix="sim-bid-") as tmp:
                path = Path(tmp) / "投标文件.pdf"
                path.write_bytes(document)
                done = bc.submit(
                    client=client,
                    lot_id=self.lot.pk,
                    key=key,
                    form={
                        "price": str(b.price),
                        "currency": "CNY",
                        "duration_days": 180,
                        "quality": "合格",
                        "project_manager": {"name": b.manager.name, "reg_no": world.reg_no(b.manager)},
                        "items": {},
                    },
                    document_path=path,
                    workdir=Path(tmp),
                    ca_pem=self.env["ca_pem"],
                )
            b.cek = bc.unwrap_content_key(header=done["manifest"]["header"], key=key)
            b.bid = done["bid_id"]
            self.summary.bids += 1

    # --- the opening hall ----------------------------------------------------------------------------------
    def opening(self) -> bool:
        """Returns True when the lot goes on to the evaluation, False when it failed (流标)."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        from bidding.models import Bid, OpeningRecord
        from bidding.opening import rules as hall_rules
        from bidding.opening import services as hall

        p, world = self.plan, self.world
        host = world.staff["host"]
        lot, deadline = self.lot, p.deadline
        self.at(deadline - 40 * MINUTE)
        hall.opening_tick(lot=lot)
        for j, b in enumerate(p.bids):
            firm = world.firms[b.firm]
            self.at(deadline - 30 * MINUTE + j * 10 * dt.timedelta(seconds=1))
            hall.opening_signin(lot=lot, user=b.user, request=Machine.request(firm.office_ip, firm.device))
        self.at(deadline)
        hall.opening_tick(lot=lot)
        t = self.at(deadline + MINUTE)
        hall.opening_publish_bidders(lot=lot, actor=host)
        t = self.at(t + MINUTE)
        session = hall.opening_start_decryption(lot=lot, actor=host)
        bids = {str(b.pk): b for b in Bid.objects.filter(lot=lot)}
        opened = 0
        for j, b in enumerate(p.bids):
            if b.no_show:
                continue
            firm = world.firms[b.firm]
            self.at(t + (1 + j) * 20 * dt.timedelta(seconds=1))
            hall.bid_decrypt(
                bid=bids[str(b.bid)],
                cek=b.cek,
                actor=b.user,
                request=Machine.request(firm.office_ip, firm.device, "/bidding/opening/decrypt"),
            )
            opened += 1
        if opened < len(p.bids):  # someone did not decrypt: the window runs out before the read-out
            session.refresh_from_db()
            t = self.at(session.decryption_ends_at + MINUTE)
        else:
            t = self.at(t + (2 + len(p.bids)) * 20 * dt.timedelta(seconds=1))
        if opened < max(MIN_BIDDERS, self.lot.min_bidders or MIN_BIDDERS):
            hall.opening_start_readout(
                lot=lot,
                actor=host,
                decision=hall_rules.FAIL,
                reason="解密成功的投标人不足3家，依法流标。",
            )
            return False
        with self.summary.phase("readout"):  # 唱标, and the live monitoring check it sets off
            hall.opening_start_readout(lot=lot, actor=host)
        t = self.at(t + 3 * MINUTE)
        hall.opening_start_confirmation(lot=lot, actor=host)
        record = OpeningRecord.objects.get(session__lot=lot)
        message = hall_rules.confirmation_message(body_sha256=record.data["body_sha256"])
        for j, b in enumerate(p.bids):
            if b.no_show:
                continue
            self.at(t + (1 + j) * 10 * dt.timedelta(seconds=1))
            signature = base64.b64encode(
                world.key_for(b.user).sign(message, ec.ECDSA(hashes.SHA256()))
            ).decode()
            hall.bid_confirm_record(lot=lot, user=b.user, signature=signature)
        self.at(t + 5 * MINUTE)
        hall.opening_close(lot=lot, actor=host)
        return True

    # --- the committee ---------------------------------------------------------------------------------------
    def draw(self) -> None:
        from experts import draw as core_draw
        from experts.services import draw as draws

        p, world = self.plan, self.world
        t = self.at(p.deadline + 40 * MINUTE)
        seed = self.rng.randbytes(core_draw.SEED_BYTES)
        with mock.patch.object(core_draw, "seed_new", lambda: seed):
            draw = draws.draw_request(
                lot=self.lot,
                actor=world.staff["centre"],
                evaluation_starts_at=p.evaluation_at,
                evaluation_ends_at=p.evaluation_at + EVALUATION_HOURS * HOUR,
                groups=[{"specialty": g, "count": n} for g, n in p.groups],
                region_include=[SIM_EXPERT_REGION],
            )
        t = self.at(t + 3 * MINUTE)
        draw = draws.draw_perform(
            draw=draw, nonce=f"sim-{self.rng.randrange(10**8):08d}", actor=world.staff["regulator"]
        )
        for k, a in enumerate(draws.committee_assignments(draw)):
            self.at(t + (2 + k) * MINUTE)
            draws.assignment_confirm(assignment=a, actor=a.expert.user)

    def evaluation(self) -> dt.datetime:
        """The room, start to signed report; returns when the report was finalized."""
        from experts.models import LowPriceJustification, Member
        from experts.services import evaluation as ev
        from experts.services.evaluation.common import review_criteria, scored_criteria

        p, world = self.plan, self.world
        t = self.at(p.evaluation_at)
        room = ev.room_open(lot=self.lot, actor=world.staff["centre"], tenderee_reps=[])
        members = list(Member.objects.filter(room=room).select_related("user").order_by("seat"))
        # 15 seconds a verdict, less when a big lot would otherwise outlast the room's hours
        verdicts = len(members) * sum(not b.no_show for b in p.bids) * (2 + len(scored_criteria(self.lot)))
        step = min(dt.timedelta(seconds=15), dt.timedelta(minutes=100) / max(1, verdicts))
        for m in members:
            t = self.at(t + step)
            ev.member_declare(member=m, actor=m.user)
        chair = members[self.rng.randrange(len(members))]
        for m in members:
            t = self.at(t + step)
            room = ev.chair_vote(member=m, actor=m.user, candidate=chair)
            if room.chair_id is not None:
                break
        room.refresh_from_db()
        chair = next(m for m in members if m.pk == room.chair_id)
        user_of = {str(b.bid): b.user for b in p.bids}
        opened = [b for b in p.bids if not b.no_show]
        from bidding.models import Bid

        bids = list(Bid.objects.filter(pk__in=[b.bid for b in opened]).order_by("submitted_at", "pk"))
        for stage in ("qualification", "preliminary"):
            criteria = review_criteria(self.lot, stage)
            for m in members:
                for bid in bids:
                    for c in criteria:
                        t = self.at(t + step)
                        ev.review_submit(
                            member=m, actor=m.user, bid=bid, stage=stage, criterion=c["code"], passed=True
                        )
            t = self.at(t + 2 * MINUTE)
            ev.stage_complete(room=room, actor=chair.user)
        for j in LowPriceJustification.objects.filter(room=room).order_by("pk"):
            t = self.at(t + 10 * MINUTE)
            ev.justification_submit(
                justification=j,
                actor=user_of[str(j.bid_id)],
                text="本公司报价依据企业定额和现有设备、人员配置测算，不低于成本，详见分项报价明细。",
            )
            t = self.at(t + 5 * MINUTE)
            ev.justification_decide(justification=j, actor=chair.user, accepted=True)
        criteria = scored_criteria(self.lot)
        if criteria:
            quality = self._quality(bids)
            for m in members:
                bias = self.rng.uniform(-0.03, 0.03)
                for bid in bids:
                    for c in criteria:
                        mx = Decimal(str(c["max"]))
                        q = min(1.0, max(0.3, quality[str(bid.pk)] + bias + self.rng.uniform(-0.03, 0.03)))
                        value = (mx * Decimal(str(round(q, 4))) * 2).quantize(Decimal(1)) / 2
                        t = self.at(t + step)
                        ev.score_submit(
                            member=m,
                            actor=m.user,
                            bid=bid,
                            criterion=c["code"],
                            value=value.quantize(Decimal("0.01")),
                        )
        t = self.at(t + 2 * MINUTE)
        ev.stage_complete(room=room, actor=chair.user)
        t = self.at(t + 10 * MINUTE)
        ev.report_build(room=room, actor=chair.user)
        for m in members:
            t = self.at(t + MINUTE)
            ev.report_sign(member=m, actor=m.user, agrees=True)
        return t

    def _quality(self, bids) -> dict[str, float]:
        """The technical quality the experts see in each bid: N(0.72, 0.07), the designated winner of a
        cartel better presented (+0.04…0.12), its covers worse (−0.03…0.10), as the generator has it."""
        truth = self.plan.truth
        by_bid = {str(b.bid): b.firm for b in self.plan.bids}
        members = set(truth.get("members") or ())
        out = {}
        for bid in bids:
            firm = by_bid[str(bid.pk)]
            q = self.rng.gauss(0.72, 0.07)
            if firm == truth.get("designated"):
                q += (
                    self.rng.uniform(0.15, 0.25)
                    if truth.get("kind") == "tenderee"
                    else self.rng.uniform(0.04, 0.12)
                )
            elif firm in members:
                q -= self.rng.uniform(0.03, 0.10)
            out[str(bid.pk)] = q
        return out

    # --- award and contract ------------------------------------------------------------------------------
    def award(self, finalized: dt.datetime) -> dt.datetime:
        from experts.models import Award
        from experts.services import award as aw

        next_morning = (timezone.localtime(finalized) + DAY).replace(
            hour=9, minute=0, second=0, microsecond=0
        )
        if self.plan.gp:
            decided = self.at(next_morning + HOUR)
        else:
            self.at(next_morning)
            publicity = aw.publicity_start(lot=self.lot, actor=self.agency_user)
            decided = self.at(publicity.ends_at + 2 * HOUR)
        aw.award_decide(lot=self.lot, actor=self.agency_user)
        award = Award.objects.get(lot=self.lot)
        signed = self.at(decided + 7 * DAY)
        aw.contract_record(
            award=award, actor=self.agency_user, signed_on=timezone.localdate(signed), amount=award.amount
        )
        return signed

    # --- monitoring and the archive ----------------------------------------------------------------------------
    def decide_alerts(self, when: dt.datetime) -> int:
        """The regulator decides every open alert of the tender as the synthetic truth says."""
        from monitoring.models import Alert
        from monitoring.services.alerts import alert_confirm, alert_dismiss

        truth = self.plan.truth
        regulator = self.world.staff["regulator"]
        decided = 0
        for alert in Alert.objects.filter(tender=self.tender, status=Alert.Status.OPEN).order_by("pk"):
            self.at(when + decided * MINUTE)
            if truth.get("label"):
                alert_confirm(
                    alert=alert,
                    actor=regulator,
                    legal_basis=LEGAL_BASIS_TENDEREE if truth.get("kind") == "tenderee" else LEGAL_BASIS,
                    reason=f"经核查，投标人之间存在串通投标行为（合成市场标注：{truth.get('kind')}）。",
                    entity_ids=(),
                    sanction="none",
                )
            else:
                alert_dismiss(
                    alert=alert,
                    actor=regulator,
                    reason="经核查，所涉投标人之间无人员、设备、账户关联，报价差异属正常竞争，不构成串通投标。",
                )
            decided += 1
        return decided

    def close(self, when: dt.datetime) -> None:
        from core.errors import Conflict
        from monitoring.services.closing import project_close

        self.at(when)
        for attempt in range(3):
            try:
                self.package = project_close(tender=self.tender, actor=self.world.staff["centre"])
                return
            except Conflict as exc:
                if exc.code != "archive_alert_open" or attempt == 2:
                    raise
            # The monitoring report's re-check raised an alert of its own: the regulator decides it too.
            with self.summary.phase("monitoring"):
                self.decide_alerts(when + (attempt + 1) * 10 * MINUTE)
            self.at(when + (attempt + 1) * 20 * MINUTE)

    def verify(self) -> None:
        from archive.verify import verify_package

        if self.package is None:
            return
        report = verify_package(self.package)
        self.summary.archive["sealed"] += 1
        if report.ok:
            self.summary.archive["verified_ok"] += 1
        else:
            self.summary.archive["failed"] += 1
            for f in report.findings:
                self.summary.archive["findings"][f"{f.property}:{f.code}"] += 1
