"""What each app contributes to a project's archival package (DESIGN §2, §8; issue 6 item 1).

`archive` knows nothing of tenders: a *project* is an opaque key ("tender:12"). Every app registers a
provider in its AppConfig.ready(); a provider returns the items it holds for a project (none when the
project is not its business). `collect` gathers them for the package, each under its provider's folder,
and refuses what would make a package ambiguous: an unsafe or repeated path, an item with both or
neither of bytes and a stored blob.

    from archive.providers import Item, register
    register("monitoring", monitoring.archive.items)   # in MonitoringConfig.ready()
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from core.errors import ValidationFailed

# A path inside a package: lower-case folders and names of letters, digits, dot, dash and underscore.
_PATH = re.compile(r"^[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)*$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Item:
    """One file of a package: `path` under the provider's folder, and either its bytes (`data`) or the
    SHA-256 of a stored blob (`blob`). `public` marks what the public may see of an archived project;
    `sealed` marks the ciphertext of a bid that was never opened, which the security check (四性检测)
    requires to stay ciphertext, alone in its folder with its receipt and metadata (no plaintext)."""

    path: str
    media_type: str
    data: bytes | None = None
    blob: str | None = None
    title: str = ""
    public: bool = False
    sealed: bool = False


Provider = Callable[[str], Iterable[Item]]
_providers: dict[str, Provider] = {}


def register(name: str, provider: Provider) -> None:
    """Register (or re-register, idempotently, under the same name) an app's provider."""
    if not _NAME.match(name):
        raise ValueError(f"provider name {name!r} is not a lower-case identifier")
    _providers[name] = provider


def registered() -> list[str]:
    return sorted(_providers)


def _check(name: str, item: Item) -> str:
    if not isinstance(item, Item):
        raise ValidationFailed(f"provider {name} returned {type(item).__name__}", code="archive_item_invalid")
    if not _PATH.match(item.path) or ".." in item.path.split("/"):
        raise ValidationFailed(f"provider {name}: unsafe path {item.path!r}", code="archive_path_invalid")
    if (item.data is None) == (item.blob is None):
        raise ValidationFailed(
            f"provider {name}: {item.path} needs either bytes or a blob", code="archive_item_invalid"
        )
    if item.blob is not None and not re.fullmatch(r"[0-9a-f]{64}", item.blob):
        raise ValidationFailed(f"provider {name}: {item.path} has a bad blob id", code="archive_item_invalid")
    if not item.media_type or "/" not in item.media_type:
        raise ValidationFailed(f"provider {name}: {item.path} has no media type", code="archive_item_invalid")
    return f"{name}/{item.path}"


def collect(project: str) -> list[tuple[str, Item]]:
    """Every item of `project` from every provider, as (package path, item), in path order."""
    out: dict[str, Item] = {}
    for name in registered():
        for item in _providers[name](project) or ():
            path = _check(name, item)
            if path in out:
                raise ValidationFailed(f"two items at {path}", code="archive_path_duplicate")
            out[path] = item
    return sorted(out.items())
