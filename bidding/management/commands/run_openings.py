"""Tick every opening hall with time-driven work due: sign-in opening, the deadline, the end of the
decryption and confirmation windows (DESIGN §5). Safe to run in several copies and beside the
websocket consumers, which tick too: every step is idempotent under the hall's row locks.

    python manage.py run_openings            # loop every 5 seconds until SIGTERM / Ctrl-C
    python manage.py run_openings --once     # one pass (cron, tests)

Events reach connected browsers through the channel layer: with several processes that is Redis.
"""

from __future__ import annotations

import logging
import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection

from bidding.opening import selectors, services

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Tick the opening halls whose time-driven steps are due (--once for a single pass)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between passes (default 5)")

    def handle(self, *args, once: bool = False, interval: float = 5.0, **options):
        stop = threading.Event()
        if not once and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: stop.set())
        while True:
            ticked = self.tick_due()
            if options.get("verbosity", 1) > 1 or once:
                self.stdout.write(f"run_openings: ticked {ticked} lot(s)")
            if once or stop.wait(max(interval, 0.1)):
                return

    def tick_due(self) -> int:
        ticked = 0
        try:
            for lot_id in selectors.lots_due():
                try:
                    services.opening_tick(lot=selectors.hall_lot(lot_id))
                    ticked += 1
                except Exception:  # one broken lot must not stop the others' openings
                    logger.exception("run_openings: lot %s", lot_id)
        finally:
            # A long-running loop drops stale connections between passes; called inside a
            # transaction (a test, another command) it must not close that transaction's connection.
            if not connection.in_atomic_block:
                close_old_connections()
        return ticked
