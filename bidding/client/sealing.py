"""Sealing to a file, the manifest, the self-check, the offline receipt check and the whole submission."""

from __future__ import annotations

import json
import mimetypes
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from bidding import envelope
from bidding.client.http import PART_DEFAULT, ClientError, PlatformClient
from bidding.client.keys import check_own_key, recipients_from
from bidding.client.metadata import file_metadata
from bidding.receipts import ReceiptInvalid, receipt_verify

MANIFEST_FORMAT = "GJ-SEAL-1 envelope/1"


def _content_type(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def seal_to_file(
    *,
    form: dict,
    document_path: Path,
    info: dict,
    key,
    out_path: Path,
    content_type: str | None = None,
    document_name: str | None = None,
) -> dict:
    """Seal `form` + the document for the recipients in `info` (the recipients response), streaming
    the ciphertext to `out_path`; write and return the manifest (`out_path` + ".json")."""
    document_path, out_path = Path(document_path), Path(out_path)
    check_own_key(info, key)
    content_type = content_type or _content_type(document_path)
    with document_path.open("rb") as document, out_path.open("xb") as out:
        sealed = envelope.seal(
            form=form,
            document=document,
            document_name=document_name or document_path.name,
            content_type=content_type,
            tender=info["tender"],
            lot=info["lot"],
            bidder=info["bidder"],
            cert_serial=info["cert"],
            signing_key=key,
            recipients=recipients_from(info),
            out=out,
            chunk=info.get("chunk", envelope.DEFAULT_CHUNK),
        )
    manifest = {
        "format": MANIFEST_FORMAT,
        "tender": info["tender"],
        "lot": info["lot"],
        "bidder": info["bidder"],
        "cert": info["cert"],
        "header": envelope.b64u(sealed.header_bytes),
        "header_sha256": sealed.header_sha256,
        "signature": sealed.signature,
        "ciphertext_file": out_path.name,
        "ciphertext_sha256": sealed.ciphertext_sha256,
        "ciphertext_size": sealed.ciphertext_size,
        "file_meta": file_metadata(document_path, content_type=content_type),
    }
    manifest_write(out_path.with_name(out_path.name + ".json"), manifest)
    return manifest


def manifest_write(path: Path, manifest: dict) -> None:
    Path(path).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def manifest_read(path: Path) -> dict:
    try:
        manifest = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ClientError("manifest_unreadable", f"Cannot read the envelope manifest {path}: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise ClientError("manifest_malformed", f"{path} is not a GJ-SEAL envelope manifest.")
    return manifest


def unwrap_content_key(*, header: bytes | str, key, to: str = "bidder") -> str:
    """The content key (b64u) for the opening hall, unwrapped locally from the sealed header."""
    header_bytes = envelope.b64u_decode(header, what="header") if isinstance(header, str) else header
    return envelope.b64u(envelope.unwrap(header=envelope.parse_header(header_bytes), to=to, private_key=key))


def self_check(manifest: dict, ciphertext_path: Path, key) -> envelope.Opened:
    """Open our own envelope as the platform will at the opening: unwrap, decrypt, verify, signature."""
    header_bytes = envelope.b64u_decode(manifest["header"])
    cek = envelope.unwrap(header=envelope.parse_header(header_bytes), to="bidder", private_key=key)
    with Path(ciphertext_path).open("rb") as fh:
        opened = envelope.open_stream(
            header_bytes=header_bytes, cek=cek, ciphertext=fh, ciphertext_sha256=manifest["ciphertext_sha256"]
        )
    envelope.verify_envelope(
        header_bytes=header_bytes,
        signature=manifest["signature"],
        ciphertext_sha256=manifest["ciphertext_sha256"],
        ciphertext_size=manifest["ciphertext_size"],
        public_key=key.public_key(),
        tender=manifest["tender"],
        lot=manifest["lot"],
        bidder=manifest["bidder"],
    )
    return opened


# --- receipts ------------------------------------------------------------------------------------------


def receipt_check(signed: dict, *, ca_pem: str | bytes, manifest: dict | None = None) -> dict:
    """Verify the platform's signature offline (bidding/receipts.py) and, given our manifest, that the
    receipt names exactly what we sealed."""
    try:
        receipt = receipt_verify(signed, ca_pem=ca_pem)
    except ReceiptInvalid as exc:
        raise ClientError(exc.code, exc.message) from None
    if manifest is not None:
        for field in ("tender", "lot", "bidder", "header_sha256", "ciphertext_sha256", "ciphertext_size"):
            if receipt.get(field) != manifest.get(field):
                raise ClientError("receipt_mismatch", f"The receipt's {field} is not the sealed envelope's.")
    return receipt


def submit(
    *,
    client: PlatformClient,
    lot_id: int,
    key,
    form: dict | None = None,
    document_path: Path | None = None,
    manifest_path: Path | None = None,
    upload_id: str | None = None,
    workdir: Path | None = None,
    ca_pem: str | None = None,
    part_size: int = PART_DEFAULT,
    retries: int = 5,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Seal (or reuse a sealed envelope), self-check, upload resumably, complete, verify the receipt.

    Returns {"bid_id", "receipt" (signed), "manifest", "upload_id"}. The sealed file stays in `workdir`
    when the upload fails, so `manifest_path` + `upload_id` can resume it in another run.
    """
    if manifest_path is not None:
        manifest_path = Path(manifest_path)
        manifest = manifest_read(manifest_path)
        ciphertext_path = manifest_path.with_name(manifest["ciphertext_file"])
    else:
        info = client.recipients(lot_id)
        directory = Path(workdir or tempfile.gettempdir())
        ciphertext_path = directory / f"bid-{info['tender']}-{info['lot']}-{uuid.uuid4().hex[:8]}.gjseal"
        manifest = seal_to_file(
            form=form or {}, document_path=document_path, info=info, key=key, out_path=ciphertext_path
        )
    self_check(manifest, ciphertext_path, key)
    done: dict = {}
    try:
        upload_id = client.upload_file(
            ciphertext_path,
            lot_id=lot_id,
            upload_id=upload_id,
            part_size=part_size,
            retries=retries,
            on_progress=on_progress,
        )
        done = client.complete(upload_id, manifest)
        receipt_check(done["receipt"], ca_pem=ca_pem or client.ca_pem(), manifest=manifest)
    except ClientError as exc:
        # What the caller needs to resume (or to look at a bid whose receipt did not check out).
        exc.params.update(
            manifest_path=str(ciphertext_path.with_name(ciphertext_path.name + ".json")),
            upload_id=client.last_upload_id,
            bid_id=done.get("bid_id"),
        )
        raise
    if manifest_path is None:
        ciphertext_path.unlink(missing_ok=True)
        ciphertext_path.with_name(ciphertext_path.name + ".json").unlink(missing_ok=True)
    return {
        "bid_id": done["bid_id"],
        "receipt": done["receipt"],
        "manifest": manifest,
        "upload_id": upload_id,
    }
