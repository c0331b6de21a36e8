"""`python manage.py simulate --tenders N --seed S`: N complete tenders, headless, on the synthetic market.

The market (monitoring.simulate.simulate_market) draws each tender — its bidders, costs and prices, a
cartel or none and the evidence the cartel leaves, the benign coincidences — and the firms, tenderees and
agencies it draws become registered entities (demo.simulate.world). Each tender then runs through the
real services under a simulated clock (demo.simulate.lifecycle): publication, sealed bids made with the
bidder's Python client, the remote opening hall with the live monitoring check at the read-out (or
failure when fewer than three bids open), the draw, the evaluation room, publicity and award, the
contract, the regulator's decisions on the alerts, the closing pipeline that seals the archival package,
and the package's verification. The run prints what happened (demo.simulate.summary).

Determinism: the market, every choice of the run (no-shows, draw seeds and nonces, scores, the chair) and
the timeline come from the seed, so two runs with the same seed on fresh databases report the same
figures apart from the timings. The timeline starts on a fixed Monday (SIM_START), or after what is
already there (the platform CA's creation, an earlier simulation's tenders), one tender published a day
(tighter when there are more than a year's worth).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings

from demo.simulate.clock import running
from demo.simulate.facts import read_facts
from demo.simulate.lifecycle import EVALUATION_HOURS, TenderRun, plan_tender
from demo.simulate.summary import Summary
from demo.simulate.transport import platform_host
from demo.simulate.world import World, pool_needs

logger = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")
SIM_START = dt.datetime(2025, 3, 3, 9, 0, tzinfo=SHANGHAI)  # a Monday
TITLE_PREFIX = "模拟市场"
RUN_GAP = dt.timedelta(days=100)  # after an earlier run: past its experts' 90-day tenderee window
MAX_TENDERS = 10_000
# The market as the generator draws it, with bid texts (document similarity reads them from the PDFs) and
# fewer bidders per competitive tender than its default of 11: every bid costs the evaluation room ten
# verdicts (five members, two review stages) and the opening hall four steps, which is most of a
# tender's time; 7 gives about 6.5 bids a tender (3 at the least, as the law asks).
MARKET_OPTIONS = {"texts": True, "mean_bidders": 7.0}
MODEL_TENDERS = 1500  # the model trained when none is active (as the demo world does)
MODEL_SEED = 2026


def _pki_not_before() -> dt.datetime | None:
    """When the platform's CA and signing certificates start (None before they exist): certificates
    issued under the simulated clock must not predate them. Read from the files, never created here."""
    from cryptography import x509

    from trading.pki.ca import CA_CERT_FILE, PLATFORM_CERT_FILE

    found = []
    for name in (CA_CERT_FILE, PLATFORM_CERT_FILE):
        path = Path(settings.KEYS_DIR) / name
        if path.exists():
            found.append(x509.load_pem_x509_certificate(path.read_bytes()).not_valid_before_utc)
    return max(found) if found else None


def timeline_start() -> dt.datetime:
    from django.db.models import Max

    from trading.models import Tender

    start = SIM_START
    pki = _pki_not_before()
    if pki is not None:
        start = max(start, pki.astimezone(SHANGHAI) + dt.timedelta(days=2))
    last = Tender.objects.filter(title__startswith=TITLE_PREFIX).aggregate(m=Max("state_changed_at"))["m"]
    if last is not None:
        start = max(start, last.astimezone(SHANGHAI) + RUN_GAP)
    day = start.date() + dt.timedelta(days=(7 - start.weekday()) % 7 if start > SIM_START else 0)
    return dt.datetime.combine(day, dt.time(9, 0), tzinfo=SHANGHAI)


def ensure_model(summary: Summary, actor) -> None:
    """The live checks use the active model; when there is none, train one as the demo world does."""
    from monitoring.services.modelstore import model_version_current

    version = model_version_current()
    if version is not None:
        summary.model = {"version": str(version), "trained": False}
        return
    from threadpoolctl import threadpool_limits

    from monitoring.learn import fit_model, table_from_lots
    from monitoring.services.modelstore import model_version_save, training_digest
    from monitoring.simulate import simulate_market

    market = simulate_market(MODEL_TENDERS, seed=MODEL_SEED)
    table = table_from_lots(market.lots, bid_labels=market.bid_labels)
    with threadpool_limits(limits=1):
        model = fit_model(table, kind="supervised", seed=MODEL_SEED)
    version = model_version_save(
        model=model,
        training_source=f"simulate_market({MODEL_TENDERS}, seed={MODEL_SEED})",
        training_digest=training_digest(table),
        training_tenders=table.n_tenders,
        training_bids=table.n_bids,
        training_positives=int(table.tender_labels().sum()),
        actor=actor,
        note="模拟：在合成市场上训练的初始模型（simulate 命令，平台尚无模型时）。",
    )
    summary.model = {"version": str(version), "trained": True}


def _tally(summary: Summary, run: TenderRun) -> None:
    from monitoring.models import Alert

    truth = run.plan.truth
    tender = run.tender
    tender.refresh_from_db()
    summary.states[tender.state] += 1
    alerts = list(Alert.objects.filter(tender=tender))
    a = summary.alerts
    a["total"] += len(alerts)
    for alert in alerts:
        a["by_level"][alert.level] += 1
        a["by_node"][alert.node] += 1
        for code in sorted({i["code"] for i in alert.indicators or [] if i.get("fired", True)}):
            a["by_kind"][code] += 1
        if alert.status == Alert.Status.CONFIRMED:
            a["confirmed"] += 1
            a["true_positive"] += bool(truth.get("label"))
        elif alert.status == Alert.Status.DISMISSED:
            a["dismissed"] += 1
            a["false_positive"] += not truth.get("label")
    if truth.get("label"):
        summary.cartel[truth["kind"]] += 1
        if alerts:
            summary.cartel_alerted[truth["kind"]] += 1
    elif alerts:
        summary.clean_alerted += 1


def _prepare(*, tenders: int, seed: int, summary: Summary, market, clock, start, step) -> tuple:
    """The world the tenders run in: staff, model, plans, the pool they need, entities and accounts
    (with this run's certificates), so the tenders themselves create nothing shared."""
    from experts import rules as expert_rules
    from trading.pki.ca import ca_certificate_pem

    firms, tenderees, agencies = read_facts(market.lots, market.truth)
    world = World(seed=seed, firms=firms, tenderees=tenderees, agencies=agencies, clock=clock)
    world.ensure_staff()
    ensure_model(summary, world.staff["centre"])
    plans = [
        plan_tender(
            index=i,
            lot=lot,
            truth=market.truth[lot.lot],
            published=start + i * step,
            world=world,
            rng=random.Random(f"simulate:{seed}:{i}"),
        )
        for i, lot in enumerate(market.lots)
    ]
    needs = pool_needs(
        plans,
        tenderee_limit=int(expert_rules.setting("tenderee_limit")),
        window_days=int(expert_rules.setting("tenderee_window_days")),
        busy_hours=EVALUATION_HOURS + 1,
    )
    admitted = world.ensure_pool(needs)
    for key in sorted({b.firm for p in plans for b in p.bids}):
        world.key_for(world.bidder_user(key))
    for p in plans:
        world.tenderee(p.tenderee)
        world.agency_user(p.agency)
        for b in p.bids:
            world.key_for(world.proxy_user(b.firm, b.acting))
    env = {"host": platform_host(), "ca_pem": ca_certificate_pem().decode("ascii")}
    env["base_url"] = f"http://{env['host']}"
    summary.world = {
        "firms": len(firms),
        "entities": len(world.entities),
        "experts": sum(len(v) for v in world.experts.values()),
        "experts_admitted": admitted,
        "starts": start.date().isoformat(),
    }
    return world, plans, env


def _run_plans(plans, *, world, clock, summary: Summary, env: dict, seed: int, progress=None) -> None:
    for plan in plans:
        run = TenderRun(
            plan=plan,
            world=world,
            clock=clock,
            summary=summary,
            rng=random.Random(f"simulate-run:{seed}:{plan.index}"),
            env=env,
        )
        try:
            run.run()
        except Exception as exc:  # one tender that cannot run must not stop the others
            code = getattr(exc, "code", "") or type(exc).__name__
            summary.errors[code] += 1
            summary.error_tenders.append({"index": plan.index, "lot": plan.lot.lot, "code": code})
            logger.exception("simulated tender %s (%s) failed", plan.index, plan.lot.lot)
        else:
            summary.completed += 1
            summary.failed += run.outcome == "failed"
            summary.awarded += run.outcome == "awarded"
        if run.tender is not None:
            _tally(summary, run)
        if progress is not None:
            progress(plan.index + 1, summary.tenders, run)


def simulate(*, tenders: int, seed: int, progress=None) -> dict:
    """Run the simulation; returns the summary (Summary.as_dict)."""
    from monitoring.simulate import simulate_market

    if not 1 <= tenders <= MAX_TENDERS:
        raise ValueError(f"tenders is between 1 and {MAX_TENDERS}")
    summary = Summary(tenders=tenders, seed=seed)
    with summary.phase("market"):
        market = simulate_market(tenders, seed=seed, **MARKET_OPTIONS)
    start = timeline_start()
    step = dt.timedelta(days=1) if tenders <= 365 else dt.timedelta(days=365) / tenders
    with running(start) as clock:
        with summary.phase("world"):
            world, plans, env = _prepare(
                tenders=tenders,
                seed=seed,
                summary=summary,
                market=market,
                clock=clock,
                start=start,
                step=step,
            )
        _run_plans(plans, world=world, clock=clock, summary=summary, env=env, seed=seed, progress=progress)
    return summary.as_dict()
