"""Time-driven work of the experts app: seats not answered in time call the next reserve.

python manage.py run_experts            # loop every 30 seconds until SIGTERM / Ctrl-C
python manage.py run_experts --once     # one pass (cron, tests)
"""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from experts.services.draw import draw_tick


class Command(BaseCommand):
    help = "Expire unanswered draw notices and call reserves (--once for a single pass)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true")
        parser.add_argument("--interval", type=float, default=30.0)

    def handle(self, *args, once=False, interval=30.0, **options):
        stop = threading.Event()
        if not once and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: stop.set())
        while True:
            expired = draw_tick()
            self.stdout.write(f"run_experts: {expired} unanswered seat(s) passed to reserves")
            close_old_connections()
            if once or stop.wait(max(interval, 0.1)):
                return
