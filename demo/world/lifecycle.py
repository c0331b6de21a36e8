"""A demo tender past its deadline, driven through the real services under the simulated clock (a
WorldBuilder mixin): sealed bids and bid securities, the verifiable draw of each lot's committee,
the remote opening hall, the evaluation room (declarations, the chair, reviews, scores, the report
signed by every member), then the candidates' publicity with an objection, the award with its
signed notices, and the contract.

`stop` says where a tender is left: "qualification" (a room in its first review stage, the demo
`expert` in the chair with their own verdicts still to give), "signing" (the report drawn up, one
signature missing), "publicity" (candidates published, the publicity running) or None (awarded).
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from unittest import mock

from django.db import transaction
from django.utils import timezone

from demo.world.clients import COLLUSION_TECHNICAL, cafe_machine, client_request, office_machine
from demo.world.clock import simulated_now
from trading.models import Lot, Regime, User

MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


class _Refused(Exception):
    """Raised inside a savepoint to roll a trial draw back."""


@dataclass
class LotPlan:
    """What happens to one lot, beyond the ordinary: the knobs the tender table turns."""

    bidders: list[str]
    stop: str | None = None
    chair: str | None = None  # username of the expert who must chair (found by trying nonces)
    decline: bool = False  # the first called expert declines; a reserve takes the seat
    outlier: bool = False  # one member's score of one bid lies far from the others'
    reject: bool = False  # the committee rejects one bid at the preliminary review
    dissent: bool = False  # one member signs the report with a dissent
    clarify: bool = False  # a clarification asked of a bidder during the detailed scoring
    doubt: bool = False  # one member fails a bid at the qualification review (a minority verdict)
    objection: bool = False  # an objection to the candidates, answered (not upheld)
    collude: bool = False  # the first two bidders rig the lot (demo.world.clients; a level-1 alert)
    cafe: bool = False  # the first two bidders upload from one internet café (a weak indicator)
    dismiss: str = ""  # the regulator's reason for dismissing the weak alert the read-out raised, if any
    contract: bool = True
    window: tuple[dt.datetime, dt.datetime] | None = None
    bids: list = field(default_factory=list)  # [(user, bid, cek)]
    machines: dict = field(default_factory=dict)  # username -> the computer it decrypts from


class LifecycleMixin:
    # --- small helpers --------------------------------------------------------------------------------
    def act(self, when: dt.datetime, fn, /, **kwargs):
        """Call a service as if it were `when`, in its own transaction."""
        with simulated_now(when), transaction.atomic():
            return fn(**kwargs)

    def _tenderee_rep(self, tender) -> User | None:
        for k, u in self.users.items():
            if k.startswith("tenderee") and u.entity_id == tender.tenderee_id:
                return u
        return None

    def _money(self, value: Decimal) -> Decimal:
        """A bid price: whole yuan, two places."""
        return value.quantize(Decimal(1), rounding=ROUND_HALF_UP).quantize(Decimal("0.01"))

    # --- bids -----------------------------------------------------------------------------------------
    def lot_bids(self, *, lot: Lot, plan: LotPlan, start: dt.datetime) -> None:
        """The bidders seal and upload their bids; the centre records their bank guarantees, with the
        account each guarantee's fee was paid from (the bidder's basic account).

        In the collusion story the first two bidders' bids are prepared on the first one's computer by
        its staff, share their technical part word for word, are priced a round 2 % apart, and both
        guarantees are paid from the first one's account. In the internet-café story the first two
        upload from the café (each from its own seat) and decrypt from their offices."""
        from bidding.models import BidSecurity
        from bidding.services.security import bid_security_record
        from trading.models import BankAccount

        ceiling = lot.ceiling_price or lot.budget
        last = len(plan.bidders) - 1
        first = plan.bidders[0]
        first_price = None
        for i, username in enumerate(plan.bidders):
            ratio = Decimal(self.rng.randrange(84000, 99000)) / 100000
            price = self._money(ceiling * ratio)
            user = self.users[username]
            machine, prepared_by, technical, payer = office_machine(username), None, None, user.entity
            if plan.collude and i < 2:
                machine, prepared_by, technical = office_machine(first), first, COLLUSION_TECHNICAL
                payer = self.users[first].entity
                if i == 1:
                    price = self._money(first_price * Decimal("1.02"))
            elif plan.cafe and i < 2:
                machine = cafe_machine(seat=7 + 5 * i)
            plan.machines[username] = office_machine(first if plan.collude and i < 2 else username)
            bid, cek = self.bid_seal_submit(
                lot=lot,
                username=username,
                price=price,
                at=start + i * 3 * HOUR + self.rng.randrange(0, 50) * MINUTE,
                # The bid the committee rejects promises a longer duration than the lot allows.
                duration_days=(lot.duration_days or 180) + (30 if plan.reject and i == last else 0),
                machine=machine,
                prepared_by=prepared_by,
                technical=technical,
            )
            if i == 0:
                first_price = price
            account = BankAccount.objects.filter(entity=payer, is_basic=True).first()
            self.act(
                start + DAY + i * 20 * MINUTE,
                bid_security_record,
                lot=lot,
                entity=user.entity,
                amount=lot.bid_security,
                method=BidSecurity.Method.GUARANTEE,
                payer_account_number=account.account_number if account else "",
                reference=f"BH{lot.tender.code[-8:]}{lot.number}{i + 1:02d}",
                actor=self.users["centre"],
                received_at=start + DAY - HOUR,
            )
            plan.bids.append((user, bid, cek))

    # --- the draw --------------------------------------------------------------------------------------
    def lot_draw(self, *, lot: Lot, plan: LotPlan, at: dt.datetime):
        """Centre staff commit the seed; the supervisor types the nonce; the called experts confirm.

        The seed comes from the builder's random generator (so a demo seed gives the same world) and is
        still committed before any nonce. When the lot's plan names a chair, nonces demo-0001,
        demo-0002… are tried (each in a savepoint that is rolled back) until that expert is drawn —
        the draw designates no one; the record still verifies."""
        from experts import draw as core_draw
        from experts.models import Assignment
        from experts.services import draw as draws

        starts, ends = plan.window
        supervisor = self.users["regulator" if lot.tender.regime == Regime.TB else "regulator_gp"]
        seed = self.rng.randbytes(core_draw.SEED_BYTES)
        with mock.patch.object(core_draw, "seed_new", lambda: seed):
            draw = self.act(
                at,
                draws.draw_request,
                lot=lot,
                actor=self.users["centre"],
                evaluation_starts_at=starts,
                evaluation_ends_at=ends,
            )
        nonce = f"{supervisor.first_name[-3:]}-{lot.tender.code[-6:]}-{lot.number}"
        if plan.chair:
            wanted = self.users[plan.chair].pk
            for n in range(1, 200):
                nonce = f"demo-{n:04d}"
                try:
                    with simulated_now(at + 5 * MINUTE), transaction.atomic():
                        trial = draws.draw_perform(draw=draw, nonce=nonce, actor=supervisor)
                        if any(a.expert.user_id == wanted for a in draws.committee_assignments(trial)):
                            break
                        raise _Refused
                except _Refused:
                    continue
            else:  # pragma: no cover - the pool is large enough for this never to happen
                raise RuntimeError("no nonce draws the wanted expert")
            draw.refresh_from_db()
        else:
            draw = self.act(at + 5 * MINUTE, draws.draw_perform, draw=draw, nonce=nonce, actor=supervisor)
        t = at + 8 * MINUTE
        for k, a in enumerate(draws.committee_assignments(draw)):
            t += self.rng.randrange(1, 4) * MINUTE
            if plan.decline and k == 0:
                reserve = self.act(
                    t,
                    draws.assignment_decline,
                    assignment=a,
                    actor=a.expert.user,
                    reason="评标当天已安排外地出差，无法按时参加。",
                )
                self.act(
                    t + 4 * MINUTE, draws.assignment_confirm, assignment=reserve, actor=reserve.expert.user
                )
                continue
            self.act(t, draws.assignment_confirm, assignment=a, actor=a.expert.user)
        draw.refresh_from_db()
        if any(a.status != Assignment.Status.CONFIRMED for a in draws.committee_assignments(draw)):
            raise RuntimeError(f"the committee of lot {lot.pk} did not confirm")
        return draw

    # --- the opening hall ------------------------------------------------------------------------------
    def tender_opening(self, *, tender, plans: dict[int, LotPlan]) -> None:
        """不见面开标 for every lot: sign-in, the bidder list, decryption by each bidder with its content
        key, the read-out, the record confirmed with the bidders' signatures, closed."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        from bidding import envelope
        from bidding.models import OpeningRecord
        from bidding.opening import rules as hall_rules
        from bidding.opening import services as hall

        host = self.users["centre2"]
        deadline = tender.deadline
        lots = list(tender.lots.order_by("number"))
        for lot in lots:
            self.act(deadline - 2 * HOUR, hall.opening_tick, lot=lot)
            for j, (user, _bid, _cek) in enumerate(plans[lot.pk].bids):
                self.act(deadline - 90 * MINUTE + j * 7 * MINUTE, hall.opening_signin, lot=lot, user=user)
        self.act(deadline, hall.opening_tick, lot=lots[0])
        for n, lot in enumerate(lots):
            t = deadline + n * 30 * MINUTE + MINUTE
            bids = plans[lot.pk].bids
            self.act(t, hall.opening_publish_bidders, lot=lot, actor=host)
            self.act(t + MINUTE, hall.opening_start_decryption, lot=lot, actor=host)
            for j, (user, bid, cek) in enumerate(bids):
                machine = plans[lot.pk].machines.get(user.username) or office_machine(user.username)
                self.act(
                    t + (3 + 2 * j) * MINUTE,
                    hall.bid_decrypt,
                    bid=bid,
                    cek=envelope.b64u(cek),
                    actor=user,
                    request=client_request(self.rf, machine, "/bidding/opening/decrypt"),
                )
            t += (4 + 2 * len(bids)) * MINUTE
            self.act(t, hall.opening_start_readout, lot=lot, actor=host)
            self.act(t + 3 * MINUTE, hall.opening_start_confirmation, lot=lot, actor=host)
            record = OpeningRecord.objects.get(session__lot=lot)
            message = hall_rules.confirmation_message(body_sha256=record.data["body_sha256"])
            for j, (user, _bid, _cek) in enumerate(bids):
                key = self.bidder_key(user.username)
                signature = base64.b64encode(key.sign(message, ec.ECDSA(hashes.SHA256()))).decode()
                self.act(
                    t + (4 + j) * MINUTE, hall.bid_confirm_record, lot=lot, user=user, signature=signature
                )
            self.act(t + (5 + len(bids)) * MINUTE, hall.opening_close, lot=lot, actor=host)

    # --- the evaluation room -----------------------------------------------------------------------------
    def lot_publicity(self, *, lot: Lot, plan: LotPlan, at: dt.datetime, agency_user: User):
        from experts.services import award as aw

        publicity = self.act(at, aw.publicity_start, lot=lot, actor=agency_user)
        if plan.objection:
            objector = plan.bids[-1][0]
            objection = self.act(
                at + DAY + 2 * HOUR,
                aw.objection_raise,
                publicity=publicity,
                actor=objector,
                text="第一中标候选人拟派项目经理目前在其他在建项目担任项目经理，存在“一人多岗”情形，请予核查。",
            )
            self.act(
                at + 2 * DAY + 3 * HOUR,
                aw.objection_answer,
                objection=objection,
                actor=agency_user,
                answer="经向项目所在地住建部门核实，该项目经理原任职项目已于今年3月竣工验收并办理变更，"
                "不存在在建项目任职情形，异议不成立。",
                upheld=False,
            )
        publicity.refresh_from_db()
        return publicity

    def lot_award(self, *, lot: Lot, at: dt.datetime, agency_user: User):
        from experts.services import award as aw

        return self.act(at, aw.award_decide, lot=lot, actor=agency_user)

    def lot_contract(self, *, lot: Lot, at: dt.datetime, agency_user: User):
        from experts.models import Award
        from experts.services import award as aw

        award = Award.objects.get(lot=lot)
        return self.act(
            at,
            aw.contract_record,
            award=award,
            actor=agency_user,
            signed_on=timezone.localdate(at),
            amount=award.amount,
        )
