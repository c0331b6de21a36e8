"""The bidder's Python client for sealed bids (docs/sealed-bid.md): log in with the certified key, seal a
bid form and document to a file, upload it resumably, complete, and keep a receipt checked offline.

Standard library (urllib) and `cryptography` only, so a bidder's own scripts need nothing else; the
command line is `python manage.py bid_client ...`. The content key never leaves this process unwrapped
before the opening; the manifest written next to a sealed file holds the header and signature, not it.
"""

from __future__ import annotations

import hashlib
import http.client
import http.cookiejar
import json
import mimetypes
import platform
import re
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

from bidding import envelope
from bidding.receipts import ReceiptInvalid, receipt_verify
from trading import keyclient

MANIFEST_FORMAT = "GJ-SEAL-1 envelope/1"
PART_DEFAULT = 8 * 1024 * 1024
USER_AGENT = "gongjiao-bid-client/1 (Python)"


class ClientError(Exception):
    """A refused step: `code` is the server's code when it refused, else the client's own."""

    def __init__(self, code: str, message: str, *, status: int | None = None, params: dict | None = None):
        self.code, self.message, self.status, self.params = code, message, status, params or {}
        super().__init__(f"{code}: {message}")


# --- HTTP ----------------------------------------------------------------------------------------------


class Transport:
    """urllib with a cookie jar (the session and CSRF cookies). Network failures raise OSError or
    http.client.HTTPException; HTTP error statuses are returned, not raised."""

    def __init__(self, *, timeout: float = 60.0):
        self.timeout = timeout
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def send(self, method: str, url: str, body: bytes | None, headers: dict) -> tuple[int, bytes]:
        request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.read()

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.cookies if c.name == name), None)


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


class PlatformClient:
    """The submission API of one platform, with one login session."""

    def __init__(
        self,
        base_url: str,
        *,
        transport: Transport | None = None,
        hardware: dict | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ClientError("url_invalid", "The platform URL must be http(s)://host[:port].")
        self.base_url = base_url.rstrip("/")
        self.transport = transport or Transport()
        self.hardware = hardware_fingerprint() if hardware is None else hardware
        self.sleep = sleep
        self.last_upload_id: str | None = None  # to resume after a failure, in this run or another

    def call(self, method: str, path: str, *, json_body=None, data: bytes | None = None, raw: bool = False):
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT, "Referer": self.base_url + "/"}
        if self.hardware:
            headers["X-Client-Hardware"] = json.dumps(self.hardware, sort_keys=True)
        token = self.transport.cookie("csrftoken")
        if token:
            headers["X-CSRFToken"] = token
        if json_body is not None:
            data = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        elif data is not None:
            headers["Content-Type"] = "application/octet-stream"
        status, body = self.transport.send(method, self.base_url + path, data, headers)
        if status >= 400:
            try:
                error = json.loads(body)["error"]
                code, message = str(error["code"]), str(error.get("message", ""))
                params = error.get("params") or {}
            except (ValueError, KeyError, TypeError):
                code, message, params = f"http_{status}", body[:200].decode("utf-8", "replace"), {}
            raise ClientError(code, message, status=status, params=params)
        if raw:
            return body
        try:
            return json.loads(body) if body else {}
        except ValueError:
            raise ClientError("response_malformed", f"{method} {path} did not answer JSON.") from None

    # --- log in ------------------------------------------------------------------------------------

    def key_login(self, *, username: str, key, certificate_serial: str = "") -> dict:
        """docs/pki.md: fetch a challenge (which also sets the CSRF cookie), sign it, send the answer."""
        query = urllib.parse.urlencode({"username": username})
        challenge = self.call("GET", f"/accounts/key-login/challenge?{query}")
        signature = keyclient.challenge_sign(key, nonce=challenge["nonce"], username=username)
        answer = {"username": username, "nonce": challenge["nonce"], "signature": signature}
        if certificate_serial:
            answer["certificate_serial"] = certificate_serial
        return self.call("POST", "/accounts/key-login/", json_body=answer)

    # --- the submission API ------------------------------------------------------------------------

    def recipients(self, lot_id: int) -> dict:
        return self.call("GET", f"/bidding/lots/{int(lot_id)}/recipients")

    def upload_start(self, lot_id: int, size: int) -> dict:
        return self.call("POST", f"/bidding/lots/{int(lot_id)}/uploads/", json_body={"size": size})

    def upload_status(self, upload_id: str) -> dict:
        return self.call("GET", f"/bidding/uploads/{_uuid(upload_id)}/")

    def upload_part(self, upload_id: str, offset: int, data: bytes) -> int:
        return self.call("PUT", f"/bidding/uploads/{_uuid(upload_id)}/?offset={int(offset)}", data=data)[
            "received"
        ]

    def upload_file(
        self,
        path: Path,
        *,
        lot_id: int | None = None,
        upload_id: str | None = None,
        part_size: int = PART_DEFAULT,
        retries: int = 5,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> str:
        """Upload `path` in parts; on a network error, a server error or an offset conflict, ask the
        server what it has (`received`) and continue from there. Resumes `upload_id` when given."""
        size = Path(path).stat().st_size
        self.last_upload_id = upload_id
        if upload_id is None:
            started = self.upload_start(lot_id, size)
            upload_id, received, part_max = started["upload_id"], started["received"], started.get("part_max")
        else:
            status = self.upload_status(upload_id)
            if status.get("expected_size") != size:
                raise ClientError(
                    "upload_size_mismatch", "This upload was started for a file of another size."
                )
            received, part_max = status["received"], status.get("part_max")
        self.last_upload_id = upload_id
        part = max(1, min(part_size, part_max or part_size))
        failures = 0
        with open(path, "rb") as fh:
            while received < size:
                fh.seek(received)
                data = fh.read(min(part, size - received))
                try:
                    received = self.upload_part(upload_id, received, data)
                    failures = 0
                except (ClientError, OSError, http.client.HTTPException) as exc:
                    if (
                        isinstance(exc, ClientError)
                        and exc.code != "upload_offset_mismatch"
                        and (exc.status or 0) < 500
                    ):
                        raise
                    failures += 1
                    if failures > retries:
                        raise ClientError(
                            "upload_failed", f"The upload failed {failures} times in a row: {exc}"
                        ) from exc
                    self.sleep(min(30.0, 0.5 * 2**failures))
                    received = self._received(upload_id, fallback=received)
                if on_progress:
                    on_progress(received, size)
        return upload_id

    def _received(self, upload_id: str, *, fallback: int) -> int:
        try:
            return self.upload_status(upload_id)["received"]
        except (OSError, http.client.HTTPException):
            return fallback  # the next PUT tells us (409 with the offset) once the network is back
        except ClientError as exc:
            if (exc.status or 0) >= 500:
                return fallback
            raise

    def complete(self, upload_id: str, manifest: dict) -> dict:
        return self.call(
            "POST",
            f"/bidding/uploads/{_uuid(upload_id)}/complete",
            json_body={
                "header": manifest["header"],
                "signature": manifest["signature"],
                "ciphertext_sha256": manifest["ciphertext_sha256"],
                "ciphertext_size": manifest["ciphertext_size"],
                "file_meta": manifest.get("file_meta", {}),
            },
        )

    def receipt(self, bid_id: str) -> dict:
        return self.call("GET", f"/bidding/bids/{_uuid(bid_id)}/receipt")

    def withdraw(self, bid_id: str) -> dict:
        return self.call("POST", f"/bidding/bids/{_uuid(bid_id)}/withdraw", json_body={})

    def ca_pem(self) -> str:
        return self.call("GET", "/pki/ca.pem", raw=True).decode("ascii")


def _uuid(value: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ClientError("id_invalid", f"{value!r} is not an upload or bid id.") from None


# --- keys and recipients -----------------------------------------------------------------------------


def load_key(path: Path, password: str | None):
    """The bidder's key from the key file trading/keyclient.py (or the browser) wrote, or encrypted PEM."""
    try:
        return keyclient.key_load(Path(path).read_bytes(), password)
    except keyclient.KeyClientError as exc:
        raise ClientError(exc.code, exc.message) from None


def keyfile_username(path: Path) -> str:
    """The user name recorded in a platform key file ("" for PEM keys)."""
    data = Path(path).read_bytes()
    if not data.lstrip().startswith(b"{"):
        return ""
    try:
        return str(keyclient.keyfile_read(data).get("username") or "")
    except keyclient.KeyClientError:
        return ""


def recipients_from(info: dict) -> list[envelope.Recipient]:
    try:
        return [
            envelope.Recipient(
                to=r["to"], kid=r["kid"], public_key=envelope.public_key_from_b64u(r["public_key"])
            )
            for r in info["recipients"]
        ]
    except (KeyError, TypeError):
        raise ClientError(
            "recipients_malformed", "The recipients document lacks to/kid/public_key."
        ) from None


def check_own_key(info: dict, key) -> None:
    """Refuse to seal when the platform's bidder recipient is not this key: such a bid could only be
    opened by the custodians, if at all — and a failed decryption is the bidder's fault (DOMAIN B5)."""
    mine = envelope.public_key_b64u(key.public_key())
    bidder = next((r for r in info.get("recipients", []) if r.get("to") == "bidder"), None)
    if bidder is None or bidder.get("public_key") != mine or bidder.get("kid") != info.get("cert"):
        raise ClientError(
            "key_mismatch",
            "The platform wraps to another certificate than this key: use the key of your active certificate.",
        )


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


# --- sealing ----------------------------------------------------------------------------------------------


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


__all__ = [
    "ClientError",
    "PlatformClient",
    "Transport",
    "check_own_key",
    "file_metadata",
    "hardware_fingerprint",
    "keyfile_username",
    "load_key",
    "manifest_read",
    "receipt_check",
    "recipients_from",
    "seal_to_file",
    "self_check",
    "submit",
    "unwrap_content_key",
]
