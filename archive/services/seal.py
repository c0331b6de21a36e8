"""Sealing a project's archival package (issue 6 items 1–2) and publishing the signed Merkle root.

`package_seal` runs in one transaction: collect every provider's items, store them content-addressed,
copy the project's journal stream, render and PDF-sign the catalogue, write the manifest, sign it, and
append the package to the tree of all packages (its `seq`). The `archive` stream's row lock orders
seals, so leaf indexes never collide. Either all of it is written or none.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from archive import package as fmt
from archive import rules
from archive.blobs import CHUNK, blob_open, blob_put
from archive.journal import journal_append, stream_lock
from archive.models import ArchiveFile, ArchivePackage, ArchiveRoot, Blob, JournalEntry
from archive.pdfsign import sign_pdf
from archive.providers import collect
from archive.signing import signer
from core.canonical import canonical_json, sha256_hex
from core.errors import ValidationFailed

ARCHIVE_STREAM = "archive"


@dataclass(frozen=True)
class ProjectInfo:
    """What the archive is told about a project; it knows nothing else of tenders."""

    project: str  # "tender:12", also the project's journal stream
    title: str
    code: str
    regime: str
    category: str
    state: str
    ended_on: dt.date
    interim: bool = False
    override: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


def _blob_checked(sha: str) -> Blob:
    """A stored blob named by a provider, re-hashed: a package never seals bytes that lie."""
    blob = Blob.objects.filter(sha256=sha).first()
    if blob is None:
        raise ValidationFailed(f"stored document {sha} is missing", code="archive_blob_missing")
    h = hashlib.sha256()
    size = 0
    with blob_open(blob) as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    if h.hexdigest() != sha or size != blob.size:
        raise ValidationFailed(f"stored document {sha} does not match its name", code="archive_blob_corrupt")
    return blob


def _catalogue(info: ProjectInfo, entries: list[dict], sealed_at) -> bytes:
    """卷内目录: the package's table of contents as a human-readable PDF (signed afterwards)."""
    from archive.pdf import render_document

    rows = [(e["path"], f"{e['size']:,} B · SHA-256 {e['sha256'][:16]}…  {e['title']}") for e in entries]
    head = [
        (_("Project"), info.title),
        (_("Project code"), info.code),
        (_("Regime"), info.regime),
        (_("State"), info.state),
        (_("Sealed at"), timezone.localtime(sealed_at).strftime("%Y-%m-%d %H:%M:%S")),
        (_("Files"), str(len(entries))),
    ]
    return render_document(_("Archive catalogue (卷内目录)"), [(_("Project"), head), (_("Files"), rows)])


def package_seal(*, info: ProjectInfo, actor) -> ArchivePackage:
    # The catalogue and the archive's own titles are written in the platform's language, whoever seals.
    with translation.override(settings.LANGUAGE_CODE):
        return _seal(info=info, actor=actor)


def _seal(*, info: ProjectInfo, actor) -> ArchivePackage:
    years = rules.retention_years(info.regime, settings.ARCHIVE_RETENTION)
    items = collect(info.project)
    sign = signer()
    with transaction.atomic():
        stream_lock(ARCHIVE_STREAM)
        sealed_at = timezone.now()
        version = (
            ArchivePackage.objects.filter(project=info.project).aggregate(v=Max("version"))["v"] or 0
        ) + 1
        last_seq = ArchivePackage.objects.aggregate(s=Max("seq"))["s"]
        seq = 0 if last_seq is None else last_seq + 1

        files: list[tuple[dict, Blob]] = []
        for path, item in items:
            if path.split("/", 1)[0] in fmt.RESERVED or path == fmt.CATALOGUE_PATH:
                raise ValidationFailed(f"{path} is reserved for the archive", code="archive_path_invalid")
            blob = (
                blob_put(data=item.data, content_type=item.media_type)
                if item.data is not None
                else _blob_checked(item.blob)
            )
            files.append((_entry(path, blob, item.media_type, item.title, item.public, item.sealed), blob))

        journal = list(JournalEntry.objects.filter(stream=info.project).order_by("seq"))
        jbytes = canonical_json({"stream": info.project, "entries": [fmt.journal_record(e) for e in journal]})
        jblob = blob_put(data=jbytes, content_type="application/json")
        files.append(
            (
                _entry(
                    fmt.JOURNAL_PATH, jblob, "application/json", _("journal of the project"), False, False
                ),
                jblob,
            )
        )
        files.sort(key=lambda f: f[0]["path"])

        catalogue = sign_pdf(_catalogue(info, [f[0] for f in files], sealed_at), sign)
        cblob = blob_put(data=catalogue, content_type="application/pdf")
        centry = _entry(fmt.CATALOGUE_PATH, cblob, "application/pdf", _("archive catalogue"), False, False)
        centry["signed"] = True
        files.append((centry, cblob))
        files.sort(key=lambda f: f[0]["path"])
        entries = [f[0] for f in files]

        retain = rules.retain_until(info.ended_on, years)
        manifest = {
            "format": rules.FORMAT,
            "project": info.project,
            "version": version,
            "seq": seq,
            "title": info.title,
            "code": info.code,
            "regime": info.regime,
            "category": info.category,
            "state": info.state,
            "interim": info.interim,
            "ended_on": info.ended_on,
            "sealed_at": sealed_at,
            "sealed_by": getattr(actor, "username", None) or str(actor or "system"),
            "retain_until": retain.isoformat() if retain else rules.PERMANENT,
            "override": info.override or None,
            "extra": info.extra,
            "journal": {
                "stream": info.project,
                "entries": len(journal),
                "head_seq": journal[-1].seq if journal else 0,
                "head_hash": journal[-1].hash if journal else "",
            },
            "files": entries,
            "files_root": fmt.files_root(entries),
            "total_size": sum(e["size"] for e in entries),
        }
        mbytes = canonical_json(manifest)
        mblob = blob_put(data=mbytes, content_type="application/json")
        package = ArchivePackage.objects.create(
            project=info.project,
            version=version,
            seq=seq,
            title=info.title[:300],
            code=info.code[:64],
            regime=info.regime,
            category=info.category,
            state=info.state,
            interim=info.interim,
            manifest=mblob,
            digest=sha256_hex(mbytes),
            signature=sign.sign(mbytes),
            certificates=sign.pem_chain(),
            file_count=len(entries),
            total_size=manifest["total_size"],
            sealed_at=sealed_at,
            sealed_by=manifest["sealed_by"][:200],
            retain_until=retain,
            override=info.override or {},
        )
        ArchiveFile.objects.bulk_create(
            ArchiveFile(
                package=package,
                path=e["path"],
                blob=blob,
                size=e["size"],
                media_type=e["media_type"],
                title=e["title"][:300],
                public=e["public"],
                sealed=e["sealed"],
            )
            for e, blob in files
        )
        record = {"package": package.pk, "version": version, "seq": seq, "digest": package.digest}
        journal_append(stream=info.project, action="archive.sealed", actor=actor, obj=package, payload=record)
        journal_append(
            stream=ARCHIVE_STREAM,
            action="archive.sealed",
            actor=actor,
            obj=package,
            payload={**record, "project": info.project},
        )
        if info.override:
            journal_append(
                stream=info.project,
                action="archive.override",
                actor=actor,
                obj=package,
                payload=info.override,
            )
    return package


def _entry(path: str, blob: Blob, media_type: str, title: str, public: bool, sealed: bool) -> dict:
    return {
        "path": path,
        "sha256": blob.sha256,
        "size": blob.size,
        "media_type": media_type,
        "title": str(title),
        "public": bool(public),
        "sealed": bool(sealed),
        "signed": False,
    }


def roots_publish(*, actor=None) -> ArchiveRoot | None:
    """Sign and publish the root over every package sealed so far (nothing new: the last root)."""
    sign = signer()
    with transaction.atomic():
        stream_lock(ARCHIVE_STREAM)
        digests = list(ArchivePackage.objects.order_by("seq").values_list("digest", flat=True))
        last = ArchiveRoot.objects.order_by("-tree_size").first()
        if not digests or (last is not None and last.tree_size == len(digests)):
            return last
        head = fmt.merkle.root([bytes.fromhex(d) for d in digests]).hex()
        now = timezone.now()
        root = ArchiveRoot.objects.create(
            tree_size=len(digests),
            root_hash=head,
            published_at=now,
            signature=sign.sign(fmt.root_statement(tree_size=len(digests), root_hash=head, published_at=now)),
            certificates=sign.pem_chain(),
        )
        journal_append(
            stream=ARCHIVE_STREAM,
            action="archive.root_published",
            actor=actor,
            obj=root,
            payload={"tree_size": root.tree_size, "root_hash": head},
        )
    return root


def proof_for(package: ArchivePackage, root: ArchiveRoot | None = None) -> dict | None:
    """The package's inclusion proof in `root` (default: the newest root that covers it)."""
    root = root or ArchiveRoot.objects.filter(tree_size__gt=package.seq).order_by("-tree_size").first()
    if root is None or root.tree_size <= package.seq:
        return None
    digests = list(
        ArchivePackage.objects.filter(seq__lt=root.tree_size).order_by("seq").values_list("digest", flat=True)
    )
    return {
        "package_digest": package.digest,
        "leaf_index": package.seq,
        "tree_size": root.tree_size,
        "path": fmt.package_proof(digests, package.seq),
        "root": {
            "tree_size": root.tree_size,
            "root_hash": root.root_hash,
            "published_at": root.published_at,
            "signature": root.signature,
            "certificates": root.certificates,
        },
    }
