"""Expert draw latency through the service (issue 4, goal: median < 100 ms): a pool of 100 000
experts of one specialty (small mode 20 000) against a lot with 50 bidders, whose officers,
shareholders, employees and declared relatives make a conflict set of a few hundred experts.

Timed per round, in the same process:
* eligibility — `conflicts.candidates` + `conflicts.exclusions` (the database queries);
* ranking — pool snapshot, digest and the keyed shuffle with the employer limit (`draw._rank`);
* the two together are the draw latency of the goal; `draw_perform` end to end (with its writes:
  assignments, journal entry, the pool snapshot in the record) is timed separately.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time

from bench.common import report


def _world(size: int):
    from django.utils import timezone

    from experts.models import Expert, ExpertSpecialty, Relationship
    from tests.factories import BidderUserFactory, LotFactory, MarketEntityFactory, TenderFactory
    from trading.models import (
        MarketEntity,
        Person,
        Position,
        PositionRole,
        Role,
        Shareholder,
        TenderState,
        User,
    )

    rng = random.Random(7)
    now = timezone.now()
    tender = TenderFactory(state=TenderState.PUBLISHED, deadline=now + dt.timedelta(days=1))
    lot = LotFactory(tender=tender, number=1, committee={"size": 7, "experts": 7, "tenderee_reps": 0})
    bidders = [MarketEntityFactory() for _ in range(50)]
    people = Person.objects.bulk_create(
        [Person(name=f"专家{i}", id_number=f"B{i:017d}", id_digest=f"{i:064x}") for i in range(size)],
        batch_size=5000,
    )
    users = User.objects.bulk_create(
        [User(username=f"bench-expert-{i}", role=Role.EXPERT, password="!") for i in range(size)],
        batch_size=5000,
    )
    rep = Person.objects.create(name="代表", id_number="R0", id_digest="r" * 64)
    employers = MarketEntity.objects.bulk_create(
        [
            MarketEntity(
                uscc=f"BENCH{i:013d}",  # not a valid USCC, never one a factory makes
                name=f"单位{i}",
                registered_capital=1,
                region_code="450100",
                address="-",
                contact_name="-",
                contact_phone="-",
                legal_rep=rep,
            )
            for i in range(2000)
        ]
    )
    experts = Expert.objects.bulk_create(
        [
            Expert(
                user=u,
                person=p,
                region_code="450100",
                employer=rng.choice(employers),
                title="高级工程师",
                birth_year=1975,
            )
            for u, p in zip(users, people, strict=True)
        ],
        batch_size=5000,
    )
    ExpertSpecialty.objects.bulk_create(
        [ExpertSpecialty(expert=e, specialty_id="A010101", is_main=True) for e in experts], batch_size=5000
    )
    # The conflict set: 4 employees, 1 director, 1 shareholder and 1 declared relative per bidder.
    conflicted = rng.sample(experts, 50 * 7)
    it = iter(conflicted)
    for b in bidders:
        for _ in range(4):
            e = next(it)
            Expert.objects.filter(pk=e.pk).update(employer=b)
        Position.objects.create(entity=b, person_id=next(it).person_id, role=PositionRole.DIRECTOR)
        Shareholder.objects.create(entity=b, person_id=next(it).person_id, share_pct=10)
        officer = Person.objects.create(name="法人", id_number=f"L{b.pk:017d}", id_digest=f"l{b.pk:063x}")
        b.legal_rep = officer
        b.save(update_fields=["legal_rep"])
        Relationship.objects.create(expert=next(it), kind="kin", person=officer, declared_at=now)
    from trading.models import DocumentDownload

    DocumentDownload.objects.bulk_create(
        [
            DocumentDownload(tender=tender, entity=b, user=BidderUserFactory(entity=b), first_at=now)
            for b in bidders
        ]
    )
    return tender, lot


def run(*, small: bool) -> None:
    from django.db import transaction
    from django.utils import timezone

    from experts.models import Draw
    from experts.services import conflicts
    from experts.services import draw as draws
    from tests.factories import UserFactory
    from trading.models import Role

    size, rounds, full_rounds = (20_000, 15, 3) if small else (100_000, 25, 5)
    t0 = time.perf_counter()
    with transaction.atomic():
        _tender, lot = _world(size)
    setup_s = time.perf_counter() - t0
    centre, supervisor = UserFactory(role=Role.CENTRE), UserFactory(role=Role.REGULATOR)
    starts = timezone.now() + dt.timedelta(days=2)
    groups = [{"specialty": "A0101", "count": 7, "reserves": 3}]
    draw = draws.draw_request(
        lot=lot,
        actor=centre,
        groups=groups,
        evaluation_starts_at=starts,
        evaluation_ends_at=starts + dt.timedelta(hours=4),
    )
    seed = draws.draw_seed(draw)
    eligibility, ranking, query_times, excluded_n = [], [], [], 0
    for k in range(rounds):
        a = time.perf_counter()
        cands = conflicts.candidates(group=draw.request["groups"][0], request=draw.request, lot=lot)
        query_times.append(time.perf_counter() - a)
        excluded = conflicts.exclusions(
            expert_ids=set(cands), lot=lot, request=draw.request, at=timezone.now()
        )
        b = time.perf_counter()
        pool = [draws.public_id(pk) for pk in cands if pk not in excluded]

        def tag_of(ids):
            keys = conflicts.employer_keys([int(x[1:]) for x in ids])
            return [draws.employer_tag(keys[int(x[1:])]) for x in ids]

        draws._rank(
            seed,
            f"nonce-{k}",
            pool,
            tag_of,
            gdigest=draw.request_digest,
            count=7,
            reserves=3,
            limit=1,
            taken={},
        )
        c = time.perf_counter()
        eligibility.append(b - a)
        ranking.append(c - b)
        excluded_n = len(excluded)
    full = []
    for k in range(full_rounds):
        if k:
            draws.draw_cancel(draw=draw, actor=centre, reason="bench")
            draw = draws.draw_request(
                lot=lot,
                actor=centre,
                groups=groups,
                evaluation_starts_at=starts,
                evaluation_ends_at=starts + dt.timedelta(hours=4),
            )
        a = time.perf_counter()
        draws.draw_perform(draw=draw, nonce=f"full-{k}", actor=supervisor)
        full.append(time.perf_counter() - a)
    assert Draw.objects.filter(state=Draw.State.DRAWN).count() == 1
    total = [e + r for e, r in zip(eligibility, ranking, strict=True)]

    def ms(values, q=0.5):
        values = sorted(values)
        return round(
            (statistics.median(values) if q == 0.5 else values[int(q * (len(values) - 1))]) * 1000, 1
        )

    figures = {
        "pool": size,
        "bidders": 50,
        "excluded": excluded_n,
        "rounds": rounds,
        "eligibility_median_ms": ms(eligibility),
        "pool_query_median_ms": ms(query_times),
        "ranking_median_ms": ms(ranking),
        "draw_median_ms": ms(total),
        "draw_p95_ms": ms(total, 0.95),
        "perform_median_ms": ms(full),
        "setup_s": round(setup_s, 1),
    }
    human = (
        f"draw 7+3 from {size} experts vs 50 bidders ({excluded_n} excluded): median {figures['draw_median_ms']} ms "
        f"(eligibility {figures['eligibility_median_ms']}, of which the pool query {figures['pool_query_median_ms']}; ranking {figures['ranking_median_ms']}), "
        f"p95 {figures['draw_p95_ms']} ms; draw_perform with writes {figures['perform_median_ms']} ms (goal < 100 ms)"
    )
    report("draw_service", figures, human)
