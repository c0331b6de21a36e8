"""A bid document's text, and the normalisation every comparison starts from."""

from __future__ import annotations

import io
import re
import unicodedata

from monitoring.similarity import settings

_CJK = (
    "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
)
_SPACE_NEAR_CJK = re.compile(f"(?<=[{_CJK}]) | (?=[{_CJK}])")
_WS = re.compile(r"\s+")


def document_text(data: bytes, content_type: str = "", name: str = "") -> str:
    """The text of a bid document: PDF or text/*; "" for anything else or broken input (never raises)."""
    try:
        ct = (content_type or "").split(";")[0].strip().lower()
        low = (name or "").lower()
        if not data:
            return ""
        if ct == "application/pdf" or low.endswith(".pdf") or data[:5] == b"%PDF-":
            return _pdf_text(data)
        if ct.startswith("text/") or low.endswith((".txt", ".text", ".csv", ".md")):
            return _decode(data)[: settings.MAX_TEXT]
    except Exception:  # a broken document is "no text", never an error
        return ""
    return ""


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        reader.decrypt("")
    parts, size = [], 0
    for i, page in enumerate(reader.pages):
        if i >= settings.MAX_PAGES or size >= settings.MAX_TEXT:
            break
        t = page.extract_text() or ""
        parts.append(t)
        size += len(t)
    return "\n".join(parts)[: settings.MAX_TEXT]


def _decode(data: bytes) -> str:
    if b"\x00" in data[:4096]:
        return ""  # UTF-16/32 or binary: not a text file we read
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return ""


def normalise(text: str) -> str:
    """NFKC, lower case, whitespace collapsed and dropped next to CJK characters."""
    t = unicodedata.normalize("NFKC", text or "").lower()
    t = _WS.sub(" ", t).strip()
    return _SPACE_NEAR_CJK.sub("", t)
