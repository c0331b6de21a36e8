"""The shared expert pool of the demo world (a WorldBuilder mixin), admitted by the centre through
experts.services.pool: about sixty experts across the specialties the demo lots' committees draw
from, with employment histories (some recently at demo bidders, one at a demo agency), declared
relatives and interests, a suspension, an unavailability and a profile change awaiting review."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from demo import data as D
from demo.world.clock import simulated_now
from demo.world.lifecycle import DAY
from experts.models import Expert, Relationship
from experts.services.pool import (
    expert_create,
    expert_set_status,
    profile_change_decide,
    profile_change_propose,
    relationship_declare,
    unavailability_add,
)
from trading.models import Role
from trading.services.accounts import user_create


def _interleave(groups: list[list[str]]) -> list[str]:
    """Round-robin over the specialty groups, so the first accounts span several specialties."""
    out, i = [], 0
    while any(i < len(g) for g in groups):
        out += [g[i] for g in groups if i < len(g)]
        i += 1
    return out


class PoolMixin:
    def pool_expert(self, slot: tuple[str, int]) -> Expert:
        """The k-th expert of a specialty group of D.POOL."""
        return self.experts[self.pool_slots[slot]]

    def build_tenderee_staff(self) -> None:
        """Staff accounts of the tenderees: they sit on committees as the tenderee's representatives."""
        for i, (name, _kind, region) in enumerate(D.TENDEREES):
            username = "tenderee" if i == 0 else f"tenderee{i + 1}"
            self.users[username] = user_create(
                username=username,
                password=self.password,
                role=Role.AGENCY,
                entity=self.entities[name],
                first_name=f"{name[:5]}·招标人代表",
                region_code=region if region != "450000" else "450100",
            )

    def build_pool(self, start: dt.datetime) -> None:
        """Admit the pool (centre staff), then the experts' own declarations, over the year before now."""
        from demo.world.registry import _person

        rng, centre = self.rng, self.users["centre"]
        self.experts: dict[str, Expert] = {}
        per_group = [
            [(group, k, mains[k % len(mains)], kind) for k in range(count)]
            for group, count, kind, mains in D.POOL
        ]
        self.pool_slots: dict[tuple[str, int], str] = {}
        bidder = {name: self.entities[name] for name, *_rest in D.BIDDERS}
        agency = self.entities[D.AGENCIES[0][0]]
        today = timezone.localdate(start)
        with simulated_now(start), transaction.atomic():
            for i, (group, k, main, kind) in enumerate(_interleave(per_group)):
                region = D.REGIONS[i % len(D.REGIONS)] if i % 3 else "450100"
                p = _person(rng, region)
                employers = D.EXPERT_EMPLOYERS[group]
                employer_name, employer_uscc = employers[k % len(employers)], ""
                hired = dt.date(rng.randrange(2000, 2018), rng.randrange(1, 13), 1)
                jobs = [{"employer_name": employer_name, "position": "", "start_date": hired.isoformat()}]
                special = D.POOL_SPECIAL.get((group, k))
                if special and special[0] == "employee":  # works for a bidder today
                    ent = bidder[special[1]]
                    employer_name, employer_uscc = ent.name, ent.uscc
                    jobs = [
                        {
                            "employer_name": ent.name,
                            "employer_uscc": ent.uscc,
                            "position": "总工程师",
                            "start_date": hired.isoformat(),
                        }
                    ]
                elif special and special[0] == "agency":  # works for the agency
                    employer_name, employer_uscc = agency.name, agency.uscc
                    jobs = [
                        {
                            "employer_name": agency.name,
                            "employer_uscc": agency.uscc,
                            "position": "造价部经理",
                            "start_date": hired.isoformat(),
                        }
                    ]
                elif special and special[0] in ("recent", "former"):  # left a bidder ~2 / ~6 years before now
                    ent = bidder[special[1]]
                    left = today - dt.timedelta(days=400 if special[0] == "recent" else 1900)
                    hired = left + dt.timedelta(days=90)
                    jobs = [
                        {
                            "employer_name": employer_name,
                            "position": "高级工程师",
                            "start_date": hired.isoformat(),
                        },
                        {
                            "employer_name": ent.name,
                            "employer_uscc": ent.uscc,
                            "position": "项目技术负责人",
                            "start_date": dt.date(2008, 3, 1).isoformat(),
                            "end_date": left.isoformat(),
                        },
                    ]
                for job in jobs:
                    job.setdefault("employer_uscc", "")
                    job.setdefault("end_date", "")
                number = i + 1
                username = "expert" if number == 1 else f"expert{number}"
                # The account first (the demo password is shorter than the pool's password policy
                # asks of new accounts), then the centre admits it to the pool. expert…expert12 and
                # the experts of the committees the tour visits log in with the demo password; the
                # rest are login-less (an unusable password, until the centre sets one).
                loginable = number <= 12 or group in D.POOL_LOGIN_GROUPS
                account = user_create(
                    username=username,
                    password=self.password if loginable else None,
                    role=Role.EXPERT,
                    actor=centre,
                    first_name=p["name"],
                    region_code=region,
                )
                expert = expert_create(
                    actor=centre,
                    user=account,
                    data={
                        **p,
                        "email": f"{username}@experts.example.cn",
                        "region_code": region,
                        "employer_name": employer_name,
                        "employer_uscc": employer_uscc,
                        "title": rng.choice(D.EXPERT_TITLES[kind]),
                        "title_level": rng.choice(["senior", "deputy_senior", "deputy_senior"]),
                        "group": kind,
                        "qualifications": [
                            {
                                "name": rng.choice(D.EXPERT_CERTIFICATES[kind]),
                                "number": f"{rng.randrange(10**9, 10**10)}",
                                "issuer": "广西壮族自治区人力资源和社会保障厅",
                                "valid_until": "2029-12-31",
                            }
                        ],
                        "birth_year": rng.randrange(1962, 1988),
                        "years_in_field": rng.randrange(8, 30),
                        "remote_ok": rng.random() < 0.8,
                        "specialties": [
                            {"code": main, "main": True},
                            *[{"code": c} for c in D.POOL_SECOND.get(group, []) if c != main][:1],
                        ],
                        "employments": jobs,
                    },
                )
                self.experts[username] = expert
                self.users[username] = expert.user
                self.pool_slots[(group, k)] = username
        # The experts' own declarations (C5): relatives and interests in the demo bidders.
        for n, (slot, kind, entity_name, relation, how) in enumerate(D.POOL_DECLARATIONS):
            expert = self.pool_expert(slot)
            ent = self.entities[entity_name]
            with simulated_now(start + dt.timedelta(days=3 + n)), transaction.atomic():
                if kind == Relationship.Kind.KIN:
                    person = (
                        ent.legal_rep
                        if how == "legal_rep"
                        else ent.shareholders.exclude(person=ent.legal_rep).order_by("pk").first().person
                    )
                    relationship_declare(
                        expert=expert,
                        actor=expert.user,
                        kind=kind,
                        relation=relation,
                        person_name=person.name,
                        person_id_number=person.id_number,
                        note=f"系{ent.name}{'法定代表人' if how == 'legal_rep' else '股东'}",
                    )
                else:
                    relationship_declare(
                        expert=expert,
                        actor=expert.user,
                        kind=kind,
                        entity_uscc=ent.uscc,
                        note=relation,
                    )
        self.log(f"pool: {Expert.objects.count()} experts\n")

    def pool_agenda(self) -> list[tuple[dt.datetime, object]]:
        """What happens to the pool during the year, as (when, step): an approved profile change, a
        suspension with its period, and a profile change still waiting in the centre's review queue.
        The builder runs each step when the tender table's clock passes it (`pool_agenda_run`), so
        every expert's journal reads in time order."""
        centre, now = self.users["centre"], self.now

        def approved_change():
            e = self.pool_expert(D.POOL_EVENTS["approved_change"])
            change = profile_change_propose(
                expert=e, actor=e.user, data={"title": "正高级工程师", "title_level": "senior"}
            )
            with simulated_now(now - 208 * DAY), transaction.atomic():
                profile_change_decide(change=change, actor=centre, approve=True, note="已核验职称证书原件。")

        def suspension():
            expert_set_status(
                expert=self.pool_expert(D.POOL_EVENTS["suspended"]),
                actor=centre,
                status=Expert.Status.SUSPENDED,
                suspended_from=timezone.localdate(now) - 40 * DAY,
                suspended_until=timezone.localdate(now) + 140 * DAY,
                reason="无正当理由拒不参加已确认的评标活动，暂停抽取6个月。",
            )

        def pending_change():
            e = self.pool_expert(D.POOL_EVENTS["pending_change"])
            profile_change_propose(
                expert=e,
                actor=e.user,
                data={
                    "employer_name": "广西城建咨询有限公司",
                    "title": "正高级工程师",
                    "title_level": "senior",
                    "years_in_field": (e.years_in_field or 10) + 1,
                },
            )

        return [
            (now - 210 * DAY, approved_change),
            (now - 40 * DAY, suspension),
            (now - 2 * DAY, pending_change),
        ]

    def pool_agenda_run(self, until: dt.datetime) -> None:
        """Run the pool's steps due by `until`, each at its own time."""
        agenda = self.__dict__.setdefault("_pool_agenda", self.pool_agenda())
        while agenda and agenda[0][0] <= until:
            when, step = agenda.pop(0)
            with simulated_now(when), transaction.atomic():
                step()

    def rate_committee(self, *, lot, at: dt.datetime, actor) -> None:
        """The agency rates every expert who sat on the lot (C11), the day after the evaluation."""
        from experts.models import Member
        from experts.services.pool import rating_record

        for m in Member.objects.filter(room__lot=lot, kind=Member.Kind.EXPERT).select_related("user__expert"):
            punctual = 5 if self.rng.random() < 0.85 else 3
            marks = {"punctuality": punctual, "professionalism": self.rng.randrange(4, 6), "discipline": 5}
            score = 55 + 2 * sum(marks.values()) + self.rng.randrange(0, 11)
            comment = "" if punctual == 5 else "未按通知时间进入远程评标室，迟到约20分钟。"
            with simulated_now(at), transaction.atomic():
                rating_record(
                    expert=m.user.expert,
                    lot=lot,
                    actor=actor,
                    score=score,
                    marks=marks,
                    comment=comment,
                )

    def pool_unavailability(self, *, slot: tuple[str, int], starts_at, ends_at, declared_at) -> None:
        """An expert blocks a period in the availability calendar (it keeps them out of draws then)."""
        e = self.pool_expert(slot)
        with simulated_now(declared_at), transaction.atomic():
            unavailability_add(
                expert=e, actor=e.user, starts_at=starts_at, ends_at=ends_at, reason="外出参加行业技术交流会"
            )
