"""Export a package as one ZIP for transfer to an archive authority (issue 6 item 5): the manifest's
exact signed bytes, the signature, the inclusion proof in a published root (one is published first if
none covers the package yet), every file under files/, and the report of the check made at export."""

from __future__ import annotations

import shutil
import zipfile
from typing import BinaryIO

from django.db import transaction

from archive.blobs import CHUNK, blob_open
from archive.journal import journal_append
from archive.models import ArchivePackage
from archive.services.seal import proof_for, roots_publish
from core.canonical import canonical_json
from core.errors import Conflict


def signature_record(package: ArchivePackage) -> dict:
    return {
        "alg": "ECDSA-SHA256",
        "digest": package.digest,
        "signature": package.signature,
        "certificates": package.certificates,
    }


def package_export(package: ArchivePackage, out: BinaryIO, *, actor=None) -> dict:
    """Write the ZIP to `out`; return the verification report it carries."""
    from archive.verify import verify_package

    if package.status != ArchivePackage.Status.SEALED:
        raise Conflict("a disposed package has no files to export", code="archive_disposed")
    proof = proof_for(package)
    if proof is None:
        roots_publish(actor=actor)
        proof = proof_for(package)
    report = verify_package(package)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        with blob_open(package.manifest) as fh:
            zf.writestr("manifest.json", fh.read())
        zf.writestr("signature.json", canonical_json(signature_record(package)))
        zf.writestr("proof.json", canonical_json(proof))
        for f in package.files.select_related("blob").order_by("path"):
            info = zipfile.ZipInfo(f"files/{f.path}", date_time=(1980, 1, 1, 0, 0, 0))
            # Ciphertext and PDFs do not compress; storing them keeps export at disk speed.
            info.compress_type = zipfile.ZIP_DEFLATED if f.media_type.endswith("json") else zipfile.ZIP_STORED
            with blob_open(f.blob) as src, zf.open(info, "w", force_zip64=True) as dst:
                shutil.copyfileobj(src, dst, CHUNK)
        zf.writestr("verification.json", canonical_json(report.as_dict()))
    with transaction.atomic():
        journal_append(
            stream=package.project,
            action="archive.exported",
            actor=actor,
            obj=package,
            payload={"package": package.pk, "digest": package.digest, "ok": report.ok},
        )
    return report.as_dict()
