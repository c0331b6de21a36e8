"""Time-driven work of the experts app, each step idempotent under row locks (safe in several copies):

* draw calls not answered in time pass to the next reserve;
* evaluation rooms whose signing deadline passed record deemed agreement and finalize the report;
* GP lots whose purchaser did not decide in time get the first candidate (87号令68);
* suspensions whose period ended return to active.

    python manage.py run_experts            # loop every 30 seconds until SIGTERM / Ctrl-C
    python manage.py run_experts --once     # one pass (cron, tests)
"""

from __future__ import annotations

import json
import logging
import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections

logger = logging.getLogger(__name__)


def _steps():
    from experts.services.award import award_tick
    from experts.services.draw import draw_tick
    from experts.services.evaluation import room_tick
    from experts.services.pool import suspensions_expire

    return [
        ("draw_calls_expired", draw_tick),
        ("reports_deemed_signed", room_tick),
        ("gp_awards_deemed", award_tick),
        ("suspensions_ended", suspensions_expire),
    ]


class Command(BaseCommand):
    help = "Run the experts app's time-driven steps (--once for a single pass)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument(
            "--interval", type=float, default=30.0, help="seconds between passes (default 30)"
        )

    def handle(self, *args, once=False, interval=30.0, **options):
        stop = threading.Event()
        if not once and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: stop.set())
        while True:
            counts = {}
            for name, step in _steps():
                try:
                    counts[name] = step()
                except Exception:  # one failing step must not stop the others
                    logger.exception("run_experts: %s failed", name)
                    counts[name] = "error"
            if once or options.get("verbosity", 1) > 1:
                self.stdout.write(json.dumps({"run_experts": counts}))
            if once:
                return
            close_old_connections()  # a long-running loop must not hold a stale connection
            if stop.wait(max(interval, 0.1)):
                return
