"""The sealed bid form (投标函) of GJ-SEAL v1 §1: what the opening reads out, checked the same way when
sealing and when opening, so a client never seals what the platform would refuse."""

from __future__ import annotations

import json
import re
import struct
from typing import Any

from .codec import FRAMING, _fail, binding_check, canonical_json

MAGIC = b"GJPT1\n"
FORM_MAX = 1024 * 1024
TEXT_MAX = 1000
ITEMS_MAX = 100

_REQUIRED = {"v", "tender", "lot", "bidder", "price", "currency", "document"}
_OPTIONAL = {"duration_days", "quality", "project_manager", "items"}
_PRICE_RE = re.compile(r"^(0|[1-9][0-9]{0,13})\.[0-9]{2}$")
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
_HEX64_RE = re.compile(r"^[0-9a-f]{64}$")


def _bad(detail: str):
    return _fail("envelope_plaintext_malformed", detail)


def _text(value: Any, what: str, *, empty: bool = True) -> None:
    if not isinstance(value, str) or len(value) > TEXT_MAX or (not empty and not value):
        raise _bad(f"{what} must be a string of at most {TEXT_MAX} characters")
    if any(ord(c) > 0xFFFF for c in value):
        # JavaScript sorts object keys by UTF-16 units, Python by code points: the two orders differ
        # only for characters beyond the BMP, so the canonical form refuses them.
        raise _bad(f"{what} must not contain characters beyond U+FFFF")


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_form(form: Any, *, tender: str, lot: int, bidder: str) -> dict:
    """Every rule of §1; `envelope_plaintext_malformed`. Returns the form."""
    if not isinstance(form, dict):
        raise _bad("the form is not an object")
    keys = set(form)
    if not keys >= _REQUIRED or keys - _REQUIRED - _OPTIONAL:
        raise _bad(f"the form needs {sorted(_REQUIRED)} and may have {sorted(_OPTIONAL)}")
    if form["v"] != 1 or not _int(form["v"]):
        raise _bad("form version must be 1")
    binding_check(
        tender=form["tender"], lot=form["lot"], bidder=form["bidder"], code="envelope_plaintext_malformed"
    )
    if (form["tender"], form["lot"], form["bidder"]) != (tender, lot, bidder):
        raise _bad("the form names another tender, lot or bidder than the header")
    if not isinstance(form["price"], str) or not _PRICE_RE.match(form["price"]):
        raise _bad("price is a decimal string with two places")
    if not isinstance(form["currency"], str) or not _CURRENCY_RE.match(form["currency"]):
        raise _bad("currency is three capital letters")
    duration = form.get("duration_days")
    if duration is not None and (not _int(duration) or not 0 <= duration <= 100_000):
        raise _bad("duration_days is a non-negative integer")
    if "quality" in form:
        _text(form["quality"], "quality")
    if "project_manager" in form:
        manager = form["project_manager"]
        if not isinstance(manager, dict) or set(manager) != {"name", "reg_no"}:
            raise _bad("project_manager is {name, reg_no}")
        _text(manager["name"], "project_manager.name")
        _text(manager["reg_no"], "project_manager.reg_no")
    if "items" in form:
        items = form["items"]
        if not isinstance(items, dict) or len(items) > ITEMS_MAX:
            raise _bad(f"items is an object of at most {ITEMS_MAX} strings")
        for name, value in items.items():
            _text(name, "an item name", empty=False)
            _text(value, f"item {name}")
    document = form["document"]
    if not isinstance(document, dict) or set(document) != {"name", "size", "sha256", "content_type"}:
        raise _bad("document is {name, size, sha256, content_type}")
    _text(document["name"], "document.name", empty=False)
    _text(document["content_type"], "document.content_type")
    if not _int(document["size"]) or document["size"] < 0:
        raise _bad("document.size is a non-negative integer")
    if not isinstance(document["sha256"], str) or not _HEX64_RE.match(document["sha256"]):
        raise _bad("document.sha256 is 64 lower-case hex digits")
    return form


def form_prefix(form: dict) -> bytes:
    """The plaintext up to the document: "GJPT1\\n" ‖ uint32-BE len(form) ‖ form."""
    try:
        data = canonical_json(form)
    except (TypeError, ValueError):
        raise _bad("the form is not canonical JSON (no floats, no lone surrogates)") from None
    if len(data) > FORM_MAX:
        raise _bad("the form is larger than 1 MiB")
    return MAGIC + struct.pack(">I", len(data)) + data


class FormReader:
    """Collects the plaintext's framing and form from decrypted pieces, then passes the rest on."""

    def __init__(self, *, size: int, tender: str, lot: int, bidder: str):
        self.size, self.binding = size, (tender, lot, bidder)
        self.buffer = bytearray()
        self.need = FRAMING
        self.form: dict | None = None

    def feed(self, piece: memoryview) -> memoryview:
        """Consume framing bytes from `piece`; return what is left of it (document bytes)."""
        if self.form is not None:
            return piece
        take = min(self.need - len(self.buffer), len(piece))
        self.buffer += piece[:take]
        rest = piece[take:]
        if len(self.buffer) < self.need:
            return rest
        if self.need == FRAMING:
            if bytes(self.buffer[:6]) != MAGIC:
                raise _bad("the plaintext does not start with GJPT1")
            (length,) = struct.unpack(">I", self.buffer[6:FRAMING])
            if length > FORM_MAX or FRAMING + length > self.size:
                raise _bad("the form length is out of range")
            self.need = FRAMING + length
            return self.feed(rest)
        self._parse(bytes(self.buffer[FRAMING:]))
        return rest

    def _parse(self, data: bytes) -> None:
        try:
            form = json.loads(data.decode("utf-8"))
            canonical = canonical_json(form)
        except (UnicodeError, ValueError):
            raise _bad("the form is not UTF-8 JSON") from None
        if canonical != data:
            raise _bad("the form is not canonical JSON")
        tender, lot, bidder = self.binding
        check_form(form, tender=tender, lot=lot, bidder=bidder)
        if self.need + form["document"]["size"] != self.size:
            raise _bad("document.size does not match the plaintext length")
        self.form = form
