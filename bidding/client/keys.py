"""The bidder's key and the recipients the platform names for a lot."""

from __future__ import annotations

from pathlib import Path

from bidding import envelope
from bidding.client.http import ClientError
from trading import keyclient

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
