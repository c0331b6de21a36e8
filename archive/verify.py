"""四性检测: the four-property check of an archival package (issue 6 item 4; DOMAIN E4, DA/T 70).

- authenticity (真实性): the manifest's platform signature, the certificate chain at sealing time and
  against the trusted CA, the PDF signatures, the signature of the published root;
- integrity (完整性): every file's SHA-256 and size against the manifest, no file missing or extra, the
  file tree's root, the package's inclusion in the published root, the journal copy's hash chain up to
  the head the manifest names — and, against the database, the live journal rows and file records;
- usability (可用性): every PDF opens and its pages parse, every JSON file parses, the manifest and the
  journal copy have their schema;
- security (安全性): an unopened bid is ciphertext only, alone with its JSON metadata and never public;
  no private key anywhere; the journal is not public.

One code path checks a package in the database and an exported ZIP or directory with no database:
the sources differ only in where bytes come from. Findings name the property, a stable code and the
file or journal row concerned.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import time
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

from archive import package as fmt
from archive import signing
from core.canonical import canonical_json

SAFE_PATH = re.compile(r"^[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)*$")
PROPERTIES = ("authenticity", "integrity", "usability", "security")
CHUNK = 1024 * 1024
MANIFEST_KEYS = {
    "format",
    "project",
    "version",
    "seq",
    "title",
    "regime",
    "state",
    "sealed_at",
    "journal",
    "files",
    "files_root",
}
FILE_KEYS = {"path", "sha256", "size", "media_type", "title", "public", "sealed", "signed"}


@dataclass(frozen=True)
class Finding:
    property: str
    code: str
    path: str = ""
    detail: str = ""
    severity: str = "error"  # "error" fails the property; "warning" is reported only


@dataclass
class Report:
    package: str = ""
    digest: str = ""
    source: str = ""
    findings: list[Finding] = field(default_factory=list)
    checked: dict = field(
        default_factory=lambda: {"files": 0, "bytes": 0, "pdf_signatures": 0, "journal_entries": 0}
    )
    seconds: float = 0.0
    ca_fingerprint: str = ""

    def add(self, prop: str, code: str, path: str = "", detail: str = "", severity: str = "error") -> None:
        self.findings.append(Finding(prop, code, path, detail, severity))

    def errors(self, prop: str | None = None) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error" and (prop is None or f.property == prop)]

    @property
    def ok(self) -> bool:
        return not self.errors()

    def properties(self) -> dict[str, bool]:
        return {p: not self.errors(p) for p in PROPERTIES}

    def as_dict(self) -> dict:
        return {
            "package": self.package,
            "digest": self.digest,
            "source": self.source,
            "ok": self.ok,
            "properties": self.properties(),
            "findings": [asdict(f) for f in self.findings],
            "checked": self.checked,
            "ca_fingerprint": self.ca_fingerprint,
            "seconds": round(self.seconds, 3),
        }

    def lines(self) -> list[str]:
        mark = {True: "OK ", False: "FAIL"}
        out = [f"{self.package} ({self.source}) digest {self.digest[:16]}…: {'OK' if self.ok else 'FAILED'}"]
        out += [f"  {mark[v]} {p}" for p, v in self.properties().items()]
        out += [f"  {f.severity}: {f.property}/{f.code} {f.path} {f.detail}".rstrip() for f in self.findings]
        c = self.checked
        out.append(
            f"  checked {c['files']} files, {c['bytes']:,} bytes, {c['pdf_signatures']} PDF signatures, "
            f"{c['journal_entries']} journal entries in {self.seconds:.2f} s; CA SHA-256 {self.ca_fingerprint[:16]}…"
        )
        return out


# --- where the bytes come from ---------------------------------------------------------------------------


class Source:
    label = ""

    def read(self, name: str) -> bytes | None:  # manifest.json, signature.json, proof.json
        raise LookupError(name)

    def files(self) -> set[str]:
        raise LookupError

    def open(self, path: str):
        raise LookupError(path)


class ZipSource(Source):
    def __init__(self, path: Path):
        self.label = str(path)
        self.zf = zipfile.ZipFile(path)
        self.names = set(self.zf.namelist())

    def read(self, name):
        return self.zf.read(name) if name in self.names else None

    def files(self):
        return {n[len("files/") :] for n in self.names if n.startswith("files/") and not n.endswith("/")}

    def others(self) -> set[str]:
        known = {"manifest.json", "signature.json", "proof.json", "verification.json"}
        return {
            n for n in self.names if not n.startswith("files/") and n not in known and not n.endswith("/")
        }

    def open(self, path):
        return self.zf.open(f"files/{path}")


class DirSource(Source):
    def __init__(self, path: Path):
        self.label = str(path)
        self.root = path

    def read(self, name):
        p = self.root / name
        return p.read_bytes() if p.is_file() else None

    def files(self):
        base = self.root / "files"
        return (
            {PurePosixPath(p.relative_to(base)).as_posix() for p in base.rglob("*") if p.is_file()}
            if base.is_dir()
            else set()
        )

    def others(self) -> set[str]:
        known = {"manifest.json", "signature.json", "proof.json", "verification.json"}
        return {
            PurePosixPath(p.relative_to(self.root)).as_posix()
            for p in self.root.rglob("*")
            if p.is_file() and p.relative_to(self.root).parts[0] != "files" and p.name not in known
        }

    def open(self, path):
        return (self.root / "files" / path).open("rb")


class DbSource(Source):
    """A package in the database: bytes from the blob store, records from the archive tables."""

    def __init__(self, package):
        from archive.services.export import signature_record
        from archive.services.seal import proof_for

        self.package = package
        self.label = "database"
        self.records = {f.path: f for f in package.files.select_related("blob")}
        self._signature = json.dumps(signature_record(package)).encode()
        proof = proof_for(package)
        self._proof = None if proof is None else canonical_json(proof)

    def read(self, name):
        from archive.blobs import blob_open

        if name == "manifest.json":
            with blob_open(self.package.manifest) as fh:
                return fh.read()
        if name == "signature.json":
            return self._signature
        if name == "proof.json":
            return self._proof
        return None

    def files(self):
        from django.core.files.storage import default_storage

        return {p for p, f in self.records.items() if default_storage.exists(f.blob.storage_name)}

    def others(self) -> set[str]:
        return set()

    def open(self, path):
        from archive.blobs import blob_open

        return blob_open(self.records[path].blob)


# --- the check --------------------------------------------------------------------------------------------


def _json(raw: bytes | None):
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return ValueError


def _hash(stream) -> tuple[str, int, bytes, bool]:
    """(sha256, size, the first bytes, whether a private key marker occurs) in one pass."""
    h = hashlib.sha256()
    size, head, key, tail = 0, b"", False, b""
    while chunk := stream.read(CHUNK):
        if not head:
            head = chunk[:16]
        h.update(chunk)
        size += len(chunk)
        window = tail + chunk
        if b"PRIVATE KEY-----" in window:
            key = True
        tail = chunk[-32:]
    return h.hexdigest(), size, head, key


def _parse_time(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    except (TypeError, ValueError):
        return None


def check(source: Source, *, trusted_ca=None, database=None) -> Report:
    started = time.perf_counter()
    r = Report(source=source.label)
    mbytes = source.read("manifest.json")
    manifest = _json(mbytes)
    sig = _json(source.read("signature.json"))
    if not isinstance(manifest, dict) or not set(manifest) >= MANIFEST_KEYS:
        r.add("integrity", "manifest_invalid", "manifest.json", "missing or not a manifest")
        r.seconds = time.perf_counter() - started
        return r
    r.package = f"{manifest['project']} v{manifest['version']}"
    r.digest = hashlib.sha256(mbytes).hexdigest()
    sealed_at = _parse_time(manifest.get("sealed_at"))

    # authenticity: the manifest signature and its chain
    chain = []
    if not isinstance(sig, dict):
        r.add("authenticity", "signature_missing", "signature.json")
    else:
        try:
            chain = signing.load_chain(sig.get("certificates", ""))
        except ValueError:
            r.add("authenticity", "certificate_invalid", "signature.json")
        if sig.get("digest") != r.digest:
            r.add(
                "integrity", "manifest_digest_mismatch", "manifest.json", "the manifest is not the one signed"
            )
        if chain and not signing.verify(mbytes, sig.get("signature", ""), chain[0]):
            r.add(
                "authenticity", "signature_invalid", "manifest.json", "the platform signature does not match"
            )
        for problem in signing.chain_problems(chain, at=sealed_at):
            r.add("authenticity", "certificate_chain_invalid", "signature.json", problem)
    if chain:
        r.ca_fingerprint = signing.fingerprint(chain[-1])
        if trusted_ca is not None and signing.fingerprint(trusted_ca) != r.ca_fingerprint:
            r.add(
                "authenticity", "ca_untrusted", "signature.json", "the chain does not end in the trusted CA"
            )
        elif trusted_ca is None:
            r.add(
                "authenticity",
                "ca_not_pinned",
                "signature.json",
                "compare the CA fingerprint with the published one",
                "warning",
            )
    if database is not None and database.package.digest != r.digest:
        r.add("integrity", "manifest_digest_mismatch", "manifest.json", "differs from the sealed digest")

    # integrity: the files
    entries = manifest["files"] if isinstance(manifest["files"], list) else []
    listed = {}
    for e in entries:
        if not isinstance(e, dict) or not set(e) >= FILE_KEYS:
            r.add("integrity", "manifest_invalid", "manifest.json", "a file entry lacks fields")
            continue
        listed[e["path"]] = e
    if [e["path"] for e in entries if isinstance(e, dict)] != sorted(listed):
        r.add("integrity", "manifest_invalid", "manifest.json", "file entries not unique and sorted")
    if fmt.files_root(list(listed.values())) != manifest["files_root"]:
        r.add("integrity", "files_root_mismatch", "manifest.json")
    present = source.files()
    for path in sorted(set(listed) - present):
        r.add("integrity", "file_missing", path)
    for path in sorted(present - set(listed)):
        r.add("integrity", "file_extra", path)
    for path in sorted(getattr(source, "others", set)()):
        r.add("integrity", "file_extra", path)

    journal_bytes = None
    for path in sorted(set(listed) & present):
        e = listed[path]
        with source.open(path) as fh:
            sha, size, head, key = _hash(fh)
        r.checked["files"] += 1
        r.checked["bytes"] += size
        if sha != e["sha256"] or size != e["size"]:
            r.add(
                "integrity", "file_modified", path, "size differs" if size != e["size"] else "SHA-256 differs"
            )
            continue
        if key:
            r.add("security", "private_key_present", path)
        if e["sealed"] and fmt.looks_like_plaintext(head):
            r.add("security", "sealed_not_ciphertext", path)
        if (
            e["media_type"] == "application/pdf"
            or e["media_type"].endswith("json")
            or path == fmt.JOURNAL_PATH
        ):
            with source.open(path) as fh:
                data = fh.read()
            if path == fmt.JOURNAL_PATH:
                journal_bytes = data
            _usable(r, e, data, chain)
        if database is not None:
            rec = database.records.get(path)
            if (
                rec is None
                or rec.blob.sha256 != e["sha256"]
                or rec.public != e["public"]
                or rec.sealed != e["sealed"]
            ):
                r.add("integrity", "record_mismatch", path, "the file record differs from the manifest")
    if database is not None:
        for path in sorted(set(database.records) - set(listed)):
            r.add("integrity", "record_mismatch", path, "a file record the manifest does not list")

    _journal(r, manifest, journal_bytes, database)
    _proof(r, source, manifest, chain)
    _security(r, listed)
    r.seconds = time.perf_counter() - started
    return r


def _usable(r: Report, e: dict, data: bytes, chain) -> None:
    path = e["path"]
    if e["media_type"] == "application/pdf":
        try:
            from pypdf import PdfReader

            reader = PdfReader(io.BytesIO(data), strict=False)
            if not reader.pages:
                raise ValueError("no page")
            for page in reader.pages:
                page.extract_text()
        except Exception as exc:  # any failure to open is the finding
            r.add("usability", "pdf_unreadable", path, exc.__class__.__name__)
            return
        if e.get("signed"):
            from archive.pdfsign import pdf_signature_problems

            r.checked["pdf_signatures"] += 1
            problems = (
                ["no certificate"]
                if not chain
                else pdf_signature_problems(data, signer_cert=chain[0], roots=[chain[-1]])
            )
            for p in problems:
                r.add("authenticity", "pdf_signature_invalid", path, p)
    else:
        if _json(data) is ValueError:
            r.add("usability", "json_invalid", path)


def _journal(r: Report, manifest: dict, data: bytes | None, database) -> None:
    info = manifest["journal"]
    stream = info.get("stream", "")
    doc = _json(data)
    if data is None:
        return  # reported as file_missing / file_modified already
    if not isinstance(doc, dict) or not isinstance(doc.get("entries"), list) or doc.get("stream") != stream:
        r.add("usability", "journal_invalid", fmt.JOURNAL_PATH, "not a journal of this project")
        return
    records = doc["entries"]
    r.checked["journal_entries"] = len(records)
    from archive.models import GENESIS_HASH

    for code, where in fmt.journal_problems(stream, records, GENESIS_HASH):
        r.add("integrity", code, fmt.JOURNAL_PATH, where)
    last = records[-1] if records else {"seq": 0, "hash": ""}
    if (len(records), last.get("seq"), last.get("hash")) != (
        info["entries"],
        info["head_seq"],
        info["head_hash"],
    ):
        r.add(
            "integrity", "journal_head_mismatch", fmt.JOURNAL_PATH, "the copy does not end at the sealed head"
        )
    if database is None:
        return
    from archive.journal import verify_stream
    from archive.models import JournalEntry

    live = {e.seq: e for e in JournalEntry.objects.filter(stream=stream, seq__lte=info["head_seq"])}
    for rec in records:
        row = live.get(rec.get("seq"))
        if row is None:
            r.add("integrity", "journal_row_missing", "journal", f"{stream}#{rec.get('seq')}")
        elif json.loads(json.dumps(fmt.journal_record(row), default=_iso)) != json.loads(
            json.dumps(rec, default=_iso)
        ):
            r.add("integrity", "journal_row_modified", "journal", f"{stream}#{rec.get('seq')}")
    broken = verify_stream(stream)
    if broken is not None:
        r.add("integrity", "journal_chain_broken", "journal", str(broken))


def _iso(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return str(value)


def _proof(r: Report, source: Source, manifest: dict, chain) -> None:
    proof = _json(source.read("proof.json"))
    if proof is None:
        r.add(
            "integrity",
            "merkle_not_published",
            "proof.json",
            "no published root covers the package yet",
            "warning",
        )
        return
    try:
        root = proof["root"]
        ok = (
            proof["package_digest"] == r.digest
            and int(proof["leaf_index"]) == int(manifest["seq"])
            and fmt.check_package_proof(
                r.digest, int(proof["leaf_index"]), int(root["tree_size"]), proof["path"], root["root_hash"]
            )
        )
    except (KeyError, TypeError, ValueError):
        r.add("integrity", "merkle_proof_invalid", "proof.json", "not a proof")
        return
    if not ok:
        r.add(
            "integrity", "merkle_inclusion_failed", "proof.json", "the package is not in the published root"
        )
    statement = fmt.root_statement(
        tree_size=root["tree_size"], root_hash=root["root_hash"], published_at=root["published_at"]
    )
    try:
        root_chain = signing.load_chain(root["certificates"])
    except ValueError:
        root_chain = []
    if not root_chain or not signing.verify(statement, root["signature"], root_chain[0]):
        r.add("authenticity", "root_signature_invalid", "proof.json")
    elif chain and signing.fingerprint(root_chain[-1]) != signing.fingerprint(chain[-1]):
        r.add("authenticity", "root_signature_invalid", "proof.json", "signed under another CA")


def _security(r: Report, listed: dict) -> None:
    folders: dict[str, list[dict]] = {}
    for e in listed.values():
        folders.setdefault(str(PurePosixPath(e["path"]).parent), []).append(e)
    for _folder, entries in sorted(folders.items()):
        if not any(e["sealed"] for e in entries):
            continue
        for e in entries:
            if e["sealed"] and e["public"]:
                r.add("security", "sealed_public", e["path"], "an unopened bid is marked public")
            if not e["sealed"] and not e["media_type"].endswith("json"):
                r.add("security", "sealed_beside_plaintext", e["path"], "a document beside an unopened bid")
    journal = listed.get(fmt.JOURNAL_PATH)
    if journal is not None and journal["public"]:
        r.add("security", "journal_public", fmt.JOURNAL_PATH)


# --- entry points ------------------------------------------------------------------------------------------


def verify_package(package, *, trusted_ca=None) -> Report:
    """Check a package in the database (the trusted CA is the platform's own)."""
    if trusted_ca is None:
        trusted_ca = signing.signer().chain[-1]
    if package.status != "sealed":
        r = Report(package=f"{package.project} v{package.version}", digest=package.digest, source="database")
        r.add("integrity", "package_disposed", "", "disposed; only its digest remains", "warning")
        return r
    source = DbSource(package)
    return check(source, trusted_ca=trusted_ca, database=source)


def verify_export(path: Path, *, trusted_ca=None) -> Report:
    """Check an exported ZIP or an unpacked directory, with no database."""
    path = Path(path)
    source = DirSource(path) if path.is_dir() else ZipSource(path)
    return check(source, trusted_ca=trusted_ca)


def iter_reports(packages) -> Iterator[Report]:
    for p in packages:
        yield verify_package(p)
