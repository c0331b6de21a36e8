"""Reads of the archive that its pages share: search over packages, the facets to filter by, a package's
files grouped by folder, its manifest and journal, disposals, and the published roots."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.db.models.functions import ExtractYear

from archive.blobs import blob_open
from archive.models import ArchiveFile, ArchivePackage, ArchiveRoot, Disposal, JournalEntry


def package_search(
    *,
    q: str = "",
    regime: str = "",
    category: str = "",
    state: str = "",
    year: int | None = None,
    status: str = "",
    interim: bool | None = None,
    public: bool = False,
) -> QuerySet[ArchivePackage]:
    """Packages, newest first, matching every filter given. `q` looks in the title, the project code
    and the project key ("tender:12"). The public sees sealed packages only."""
    qs = ArchivePackage.objects.all()
    if public:
        qs = qs.filter(status=ArchivePackage.Status.SEALED)
    elif status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(code__icontains=q) | Q(project__iexact=q))
    if regime:
        qs = qs.filter(regime=regime)
    if category:
        qs = qs.filter(category=category)
    if state:
        qs = qs.filter(state=state)
    if year is not None:
        qs = qs.filter(sealed_at__year=year)
    if interim is not None:
        qs = qs.filter(interim=interim)
    return qs.order_by("-sealed_at", "-seq")


def package_facets(*, public: bool = False) -> dict[str, list]:
    """The values the filters offer: those that occur among the packages (the archive keeps no list of
    regimes, categories or states of its own)."""
    qs = ArchivePackage.objects.all()
    if public:
        qs = qs.filter(status=ArchivePackage.Status.SEALED)

    def distinct(field: str) -> list:
        return sorted(
            v for v in qs.order_by().values_list(field, flat=True).distinct() if v not in ("", None)
        )

    years = qs.order_by().annotate(y=ExtractYear("sealed_at")).values_list("y", flat=True).distinct()
    return {
        "regime": distinct("regime"),
        "category": distinct("category"),
        "state": distinct("state"),
        "year": sorted({y for y in years if y}, reverse=True),
    }


def package_get(package_id: int, *, public: bool = False) -> ArchivePackage | None:
    qs = ArchivePackage.objects.select_related("manifest")
    if public:
        qs = qs.filter(status=ArchivePackage.Status.SEALED)
    return qs.filter(pk=package_id).first()


def package_manifest(package: ArchivePackage) -> dict:
    """The sealed manifest (small: one entry per file); {} if its bytes cannot be read or parsed, which
    the four-property check then names."""
    try:
        with blob_open(package.manifest) as fh:
            data = json.loads(fh.read())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class Folder:
    name: str  # the provider ("kit", "trading", ...), "journal", or "" for the archive's own top files
    files: list[ArchiveFile]

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


def package_folders(package: ArchivePackage, *, public_only: bool = False) -> list[Folder]:
    """The package's files grouped by their first path segment (the provider that contributed them)."""
    qs = package.files.select_related("blob").order_by("path")
    if public_only:
        qs = qs.filter(public=True)
    groups: dict[str, list[ArchiveFile]] = {}
    for f in qs:
        folder = f.path.split("/", 1)[0] if "/" in f.path else ""
        groups.setdefault(folder, []).append(f)
    return [Folder(name, files) for name, files in sorted(groups.items())]


def package_file(package: ArchivePackage, path: str, *, public_only: bool = False) -> ArchiveFile | None:
    qs = package.files.select_related("blob").filter(path=path)
    if public_only:
        qs = qs.filter(public=True)
    return qs.first()


def package_hidden_count(package: ArchivePackage) -> int:
    """How many files the public does not see."""
    return package.files.filter(public=False).count()


def package_journal(package: ArchivePackage) -> QuerySet[JournalEntry]:
    """The project's journal stream as it is now (the package holds a copy up to its sealed head)."""
    return JournalEntry.objects.filter(stream=package.project).order_by("seq")


def package_versions(package: ArchivePackage) -> QuerySet[ArchivePackage]:
    return ArchivePackage.objects.filter(project=package.project).order_by("version")


def disposal_history(package: ArchivePackage) -> QuerySet[Disposal]:
    return package.disposals.order_by("-requested_at", "-pk")


def disposal_get(disposal_id: int) -> Disposal | None:
    return Disposal.objects.select_related("package").filter(pk=disposal_id).first()


def roots_published(*, before: int | None = None) -> QuerySet[ArchiveRoot]:
    qs = ArchiveRoot.objects.order_by("-tree_size")
    if before is not None:
        qs = qs.filter(tree_size__lt=before)
    return qs
