"""The simulation's clock: services run as if it were the moment the simulated tender has reached.

One callable replaces django.utils.timezone.now for the whole run (cheaper than patching around every
call, as demo.world.clock does for the demo builder) and is restored afterwards, even on failure.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from unittest import mock

from django.utils import timezone


class SimClock:
    def __init__(self, start: dt.datetime):
        if timezone.is_naive(start):
            raise ValueError("the simulated clock needs an aware datetime")
        self.current = start

    def __call__(self) -> dt.datetime:
        return self.current

    def set(self, when: dt.datetime) -> dt.datetime:
        self.current = when
        return when


@contextlib.contextmanager
def running(start: dt.datetime):
    """Yield a SimClock that stands in for timezone.now until the block ends."""
    clock = SimClock(start)
    with mock.patch.object(timezone, "now", clock):
        yield clock
