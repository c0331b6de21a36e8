"""Process-wide cache of the loaded platform CA and signing key (reset by tests)."""

from __future__ import annotations

_cache: dict = {}


def get(name: str):
    return _cache.get(name)


def put(name: str, value) -> None:
    _cache[name] = value


def reset() -> None:
    _cache.clear()
