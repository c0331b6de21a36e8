"""What the platform records about the client and the document (DOMAIN D2): hardware, authoring metadata."""

from __future__ import annotations

import hashlib
import platform
import re
import uuid
import zipfile
from pathlib import Path
from xml.etree import ElementTree


def hardware_fingerprint() -> dict:
    """What the platform records as the client's hardware (DOMAIN D2: two bidders, one machine)."""
    fingerprint = {"mac": f"{uuid.getnode():012x}"}
    try:
        machine_id = Path("/etc/machine-id").read_text().strip()
    except OSError:
        machine_id = platform.node()
    if machine_id:
        fingerprint["machine_code"] = hashlib.sha256(machine_id.encode()).hexdigest()[:32]
    return fingerprint


# --- the document's metadata (DOMAIN D2) ---------------------------------------------------------------

_OOXML = {
    "author": ("docProps/core.xml", "{http://purl.org/dc/elements/1.1/}creator"),
    "last_modified_by": (
        "docProps/core.xml",
        "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}lastModifiedBy",
    ),
    "created": ("docProps/core.xml", "{http://purl.org/dc/terms/}created"),
    "modified": ("docProps/core.xml", "{http://purl.org/dc/terms/}modified"),
    "creator_tool": (
        "docProps/app.xml",
        "{http://schemas.openxmlformats.org/officeDocument/2006/extended-properties}Application",
    ),
    "company": (
        "docProps/app.xml",
        "{http://schemas.openxmlformats.org/officeDocument/2006/extended-properties}Company",
    ),
    "template_id": (
        "docProps/app.xml",
        "{http://schemas.openxmlformats.org/officeDocument/2006/extended-properties}Template",
    ),
}
_PDF_INFO = {
    "author": b"Author",
    "creator_tool": b"Creator",
    "producer": b"Producer",
    "created": b"CreationDate",
    "modified": b"ModDate",
}


def _pdf_string(raw: bytes) -> str:
    if raw.startswith(b"\xfe\xff"):
        return raw[2:].decode("utf-16-be", "replace")
    return raw.decode("latin-1")


def _authoring(path: Path) -> dict:
    """Authoring metadata of Office (OOXML) and PDF documents, best effort: a document we cannot read
    is still sealed, only without these hints."""
    found: dict = {}
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
                trees = {
                    name: ElementTree.fromstring(archive.read(name))  # noqa: S314 - small trusted parts of our own file
                    for name in ("docProps/core.xml", "docProps/app.xml")
                    if name in names and archive.getinfo(name).file_size < 1_000_000
                }
            for field, (part, tag) in _OOXML.items():
                element = trees[part].find(tag) if part in trees else None
                if element is not None and (element.text or "").strip():
                    found[field] = element.text.strip()
        else:
            with open(path, "rb") as fh:
                head = fh.read(5)
                if head != b"%PDF-":
                    return found
                fh.seek(max(0, Path(path).stat().st_size - 256 * 1024))
                tail = head + fh.read()
            for field, name in _PDF_INFO.items():
                match = re.search(rb"/" + name + rb"\s*\(((?:\\.|[^\\)]){0,400})\)", tail)
                if match:
                    found[field] = _pdf_string(match.group(1))
    except (OSError, zipfile.BadZipFile, ElementTree.ParseError, KeyError):
        return {}
    return found


def file_metadata(path: Path, *, content_type: str) -> dict:
    """The `file_meta` sent at completion: name, size, MD5 (what platforms compare) and authoring."""
    path = Path(path)
    md5 = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        while block := fh.read(1024 * 1024):
            md5.update(block)
    return {
        "file_name": path.name,
        "file_size": path.stat().st_size,
        "file_md5": md5.hexdigest(),
        "content_type": content_type,
        **_authoring(path),
    }
