"""PDF signatures (PAdES baseline B) on the PDFs the archive renders, with pyHanko, and their check.

The archive signs only what it renders itself (the catalogue, 卷内目录): stored originals — bidders'
files, notices already signed by the platform — keep their bytes, because receipts and journal entries
name those bytes by their hash.
"""

from __future__ import annotations

import io
import logging

from cryptography import x509

from archive.signing import Signer

logger = logging.getLogger(__name__)
FIELD = "ArchiveSeal"


def sign_pdf(data: bytes, signer: Signer, *, reason: str = "archive seal") -> bytes:
    from pyhanko.keys.internal import (
        translate_pyca_cryptography_cert_to_asn1,
        translate_pyca_cryptography_key_to_asn1,
    )
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    cert = translate_pyca_cryptography_cert_to_asn1(signer.certificate)
    chain = [translate_pyca_cryptography_cert_to_asn1(c) for c in signer.chain]
    pdf_signer = signers.SimpleSigner(
        signing_cert=cert,
        signing_key=translate_pyca_cryptography_key_to_asn1(signer.key),
        cert_registry=SimpleCertificateStore.from_certs(chain),
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    out = signers.sign_pdf(
        writer, signers.PdfSignatureMetadata(field_name=FIELD, reason=reason), signer=pdf_signer
    )
    return out.getvalue()


def pdf_signature_problems(
    data: bytes, *, signer_cert: x509.Certificate, roots: list[x509.Certificate]
) -> list[str]:
    """Empty when the PDF carries an intact signature that covers the whole file, made by
    `signer_cert`, whose chain ends in one of `roots`; else what is wrong."""
    from pyhanko.keys.internal import translate_pyca_cryptography_cert_to_asn1
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        sigs = reader.embedded_signatures
    except Exception as exc:  # any parse failure is a finding, not a crash
        return [f"cannot read the PDF: {exc.__class__.__name__}"]
    if not sigs:
        return ["no PDF signature"]
    problems = []
    context = ValidationContext(
        trust_roots=[translate_pyca_cryptography_cert_to_asn1(c) for c in roots], allow_fetching=False
    )
    for sig in sigs:
        try:
            status = validate_pdf_signature(sig, context, skip_diff=True)
        except Exception as exc:
            problems.append(f"{sig.field_name}: {exc.__class__.__name__}: {exc}")
            continue
        if not status.intact or not status.valid:
            problems.append(f"{sig.field_name}: the signed bytes were changed")
        if status.coverage.name != "ENTIRE_FILE":
            problems.append(f"{sig.field_name}: bytes were added after signing")
        if status.signing_cert.dump() != translate_pyca_cryptography_cert_to_asn1(signer_cert).dump():
            problems.append(f"{sig.field_name}: signed by another certificate")
        if not status.trusted:
            problems.append(f"{sig.field_name}: the signer's chain does not end in the platform CA")
    return problems
