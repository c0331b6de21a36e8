"""The monitoring worker, each step idempotent (safe in several copies):

* re-score the market (co-bidding, cover bidding, rotation, communities, the model) when the last run is
  older than MONITORING_BATCH_MINUTES (default 60), raising or updating alerts;
* produce the monitoring report of tenders that have reached their end (awarded, failed, terminated)
  and have none yet;
* seal into the archive the projects that are due (monitoring.services.closing.closing_due: failed and
  terminated ones, awarded ones with their contracts or ARCHIVE_DUE_DAYS after the award; never one
  with an undecided alert);
* publish a new signed archive root when packages were sealed and the last root is older than
  ARCHIVE_ROOT_MINUTES.

    python manage.py run_monitoring            # loop until SIGTERM / Ctrl-C
    python manage.py run_monitoring --once     # one pass (cron, tests)
    python manage.py run_monitoring --once --market   # force a market run now
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)

BATCH_MINUTES_DEFAULT = 60
REPORT_STATES = ("awarded", "failed", "terminated")


def market_due(force: bool = False) -> bool:
    from monitoring.models import MarketRun

    if force:
        return True
    last = MarketRun.objects.filter(finished_at__isnull=False).order_by("-started_at").first()
    minutes = float(getattr(settings, "MONITORING_BATCH_MINUTES", BATCH_MINUTES_DEFAULT))
    return last is None or timezone.now() - last.started_at >= dt.timedelta(minutes=minutes)


def market_step(force: bool = False):
    from monitoring.services.analysis import market_run

    if not market_due(force):
        return "not_due"
    run = market_run()
    return {"lots": run.lots, "alerts": run.alerts_raised, "seconds": run.figures.get("total_seconds")}


def reports_step() -> int:
    from monitoring.services.report import report_produce
    from trading.models import Tender

    done = 0
    for tender in Tender.objects.filter(state__in=REPORT_STATES, monitoring_reports__isnull=True).order_by(
        "pk"
    ):
        report_produce(tender=tender)
        done += 1
    return done


def archive_step() -> dict:
    from archive.models import ArchivePackage, ArchiveRoot
    from archive.services import roots_publish
    from monitoring.services.closing import close_due

    sealed = close_due()
    last = ArchiveRoot.objects.order_by("-tree_size").first()
    published = None
    behind = ArchivePackage.objects.count() > (last.tree_size if last else 0)
    stale = last is None or timezone.now() - last.published_at >= dt.timedelta(
        minutes=settings.ARCHIVE_ROOT_MINUTES
    )
    if behind and (stale or sealed):
        root = roots_publish(actor="system")
        published = root.tree_size if root else None
    return {"sealed": len(sealed), "root": published}


class Command(BaseCommand):
    help = (
        "Run monitoring's scheduled work: the market batch, the monitoring reports and the archiving of "
        "finished projects (--once for one pass)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument(
            "--market", action="store_true", help="run the market batch now, whatever its schedule"
        )
        parser.add_argument(
            "--interval", type=float, default=60.0, help="seconds between passes (default 60)"
        )

    def handle(self, *args, once=False, market=False, interval=60.0, **options):
        stop = threading.Event()
        if not once and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: stop.set())
        force = market
        while True:
            counts = {}
            steps = (
                ("market", lambda f=force: market_step(f)),
                ("reports", reports_step),
                ("archive", archive_step),
            )
            for name, step in steps:
                try:
                    counts[name] = step()
                except Exception:  # one failing step must not stop the other
                    logger.exception("run_monitoring: %s failed", name)
                    counts[name] = "error"
            force = False
            if once or options.get("verbosity", 1) > 1:
                self.stdout.write(json.dumps({"run_monitoring": counts}))
            if once:
                return
            close_old_connections()
            if stop.wait(max(interval, 0.1)):
                return
