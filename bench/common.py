"""Helpers for benchmarks: timing and the one-JSON-line + one-human-line report."""

from __future__ import annotations

import json
import time
from contextlib import contextmanager


@contextmanager
def timer():
    box = {}
    start = time.perf_counter()
    yield box
    box["seconds"] = time.perf_counter() - start


def report(name: str, figures: dict, human: str) -> None:
    print(json.dumps({"bench": name, **figures}, ensure_ascii=False, sort_keys=True))
    print(f"  {name}: {human}")
