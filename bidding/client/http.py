"""The platform's submission API over HTTP (standard library only): transport, session, resumable upload."""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

from bidding.client.metadata import hardware_fingerprint
from trading import keyclient

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
