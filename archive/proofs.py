"""A bidder's proof that its receipt is archived (issue 6 item 2): the receipt is a file of the package
(file tree → `files_root`), the manifest holding that root hashes to the package digest, and the digest
is a leaf of a published, signed root. `receipt_proof` assembles it; `check_receipt_proof` re-checks it
with nothing but the proof and the receipt's bytes (and the CA to trust)."""

from __future__ import annotations

import contextlib
import hashlib
import json

from archive import package as fmt
from archive import signing
from archive.blobs import blob_open
from archive.models import ArchiveFile, ArchivePackage
from archive.services.seal import proof_for
from core.canonical import canonical_json


def receipt_bytes(raw: bytes) -> bytes:
    """The receipt as the archive keeps it: canonical JSON. A receipt saved from the API or pretty-printed
    by an editor is the same receipt, so it is canonicalised before it is hashed; bytes that are not
    JSON are taken as they are."""
    try:
        return canonical_json(json.loads(raw))
    except (ValueError, TypeError, UnicodeDecodeError):
        return raw


def receipt_digest(raw: bytes) -> str:
    return hashlib.sha256(receipt_bytes(raw)).hexdigest()


def receipt_proof(sha256: str) -> dict | None:
    """The newest sealed package holding a receipt with these bytes, and the proof chain; None if none.

    Only receipts are looked up: the proof carries the whole signed manifest (which names every file of
    the project), and a receipt's digest is known only to the bidder who holds it and the platform —
    whereas public files' digests are shown to anyone. Until the worker publishes a root that covers the
    package, `package` is None (a public request never publishes a root itself)."""
    afile = (
        ArchiveFile.objects.filter(
            blob_id=sha256.lower(),
            package__status=ArchivePackage.Status.SEALED,
            path__endswith="/receipt.json",
        )
        .select_related("package", "package__manifest")
        .order_by("-package__seq", "path")
        .first()
    )
    if afile is None:
        return None
    package = afile.package
    proof = proof_for(package)
    with blob_open(package.manifest) as fh:
        manifest_bytes = fh.read()
    manifest = json.loads(manifest_bytes)
    return {
        "kind": "archive-receipt-proof",
        "file": fmt.file_proof(manifest["files"], afile.path),
        "manifest": manifest_bytes.decode("utf-8"),
        "signature": {"signature": package.signature, "certificates": package.certificates},
        "package": proof,
    }


def check_receipt_proof(proof: dict, receipt: bytes, *, trusted_ca=None) -> list[str]:
    """Empty when every link holds; else the broken links, in order."""
    problems: list[str] = []
    try:
        entry = proof["file"]["entry"]
        mbytes = proof["manifest"].encode("utf-8")
        manifest = json.loads(mbytes)
        digest = hashlib.sha256(mbytes).hexdigest()
        pp = proof["package"]
        root = pp["root"] if pp is not None else None
    except (KeyError, TypeError, ValueError, AttributeError):
        return ["not_a_proof"]
    receipt = receipt_bytes(receipt)
    if hashlib.sha256(receipt).hexdigest() != entry.get("sha256") or len(receipt) != entry.get("size"):
        problems.append("receipt_not_this_file")
    if not fmt.check_file_proof(proof["file"], manifest.get("files_root", "")):
        problems.append("file_not_in_package")
    chain = []
    with contextlib.suppress(KeyError, TypeError, ValueError):
        chain = signing.load_chain(proof["signature"]["certificates"])
    if not chain or not signing.verify(mbytes, proof["signature"].get("signature", ""), chain[0]):
        problems.append("package_signature_invalid")
    if pp is None:
        return [*problems, "package_not_published"]
    if pp.get("package_digest") != digest or not fmt.check_package_proof(
        digest,
        int(pp.get("leaf_index", -1)),
        int(root.get("tree_size", 0)),
        pp.get("path", []),
        root.get("root_hash", ""),
    ):
        problems.append("package_not_in_root")
    statement = fmt.root_statement(
        tree_size=root.get("tree_size"),
        root_hash=root.get("root_hash"),
        published_at=root.get("published_at"),
    )
    try:
        root_chain = signing.load_chain(root["certificates"])
    except (KeyError, TypeError, ValueError):
        root_chain = []
    if not root_chain or not signing.verify(statement, root.get("signature", ""), root_chain[0]):
        problems.append("root_signature_invalid")
    if trusted_ca is not None and chain and signing.fingerprint(chain[-1]) != signing.fingerprint(trusted_ca):
        problems.append("ca_untrusted")
    return problems
