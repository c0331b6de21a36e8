"""The demo builder's simulated clock: services run as if it were another moment."""

from __future__ import annotations

import contextlib
import datetime as dt
from unittest import mock

from django.utils import timezone


@contextlib.contextmanager
def simulated_now(when: dt.datetime):
    """Run services as if it were `when` (only the demo builder does this)."""
    with mock.patch.object(timezone, "now", lambda: when):
        yield
