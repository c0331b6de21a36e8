"""Nothing archived is updated or deleted through the application (issue 6 item 3).

Archived rows (journal entries, packages, their files, published roots) refuse `save()` on an existing
row, `delete()`, and the bulk `update()` / `delete()` of their querysets. The one lawful exception, the
disposal of a package whose retention has run out, opens a window for the rows it names with
`unlocked(...)`. On PostgreSQL, triggers (migration 0002) refuse the same writes whatever the client.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from core.errors import Conflict

_window: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "archive_unlocked", default=frozenset()
)


class ArchiveImmutable(Conflict):
    code = "archive_immutable"
    default_message = "Archived records cannot be changed or deleted."


def _label(model) -> str:
    return model._meta.label_lower


@contextlib.contextmanager
def unlocked(*models) -> Iterator[None]:
    """Allow writes to the given archived models within this block (disposal only)."""
    token = _window.set(_window.get() | {_label(m) for m in models})
    try:
        yield
    finally:
        _window.reset(token)


def check_unlocked(model, operation: str) -> None:
    if _label(model) not in _window.get():
        raise ArchiveImmutable(
            f"{model._meta.label}: {operation} refused, archived rows are immutable", code="archive_immutable"
        )
