"""Known-answer vectors for GJ-SEAL v1: `python -m bidding.vectors > docs/sealed-bid-vectors.json`.

Every input is derived from fixed labels, and the signature uses RFC 6979, so the file is the same on
every run; another implementation reproduces header and ciphertext bytes from the inputs, verifies
the signature, and refuses each negative case with its code (docs/sealed-bid.md, "Known-answer vectors").
"""

from __future__ import annotations

import hashlib
import io
import json
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bidding.envelope import (
    Recipient,
    b64u,
    b64u_decode,
    canonical_json,
    open_stream,
    parse_header,
    public_key_b64u,
    seal,
    sign_statement,
    signature_statement,
)
from bidding.envelope.codec import TAG
from bidding.envelope.form import form_prefix

FORMAT = "GJ-SEAL-1 vectors/1"
_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
TENDER = "12450000MB0Y95706Y20260301000007I"
OTHER_TENDER = "12450000MB0Y95706Y20260301000008G"
BIDDER = "91450100MA5KX2Q7AQ"
CERT = "5f0c2a9e8d7b4c3a1e6f9d8c7b6a5e4d"
CUSTODIAN_KID = "ck-2026-0007"


def _bytes(label: str, n: int) -> bytes:
    """n bytes from SHA-256 in counter mode over a label: reproducible, random-looking."""
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(f"GJ-SEAL-1 vectors|{label}|{counter}".encode()).digest()
        counter += 1
    return bytes(out[:n])


def _key(label: str) -> ec.EllipticCurvePrivateKey:
    scalar = int.from_bytes(_bytes(f"key|{label}", 32), "big") % (_N - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def _pkcs8(key: ec.EllipticCurvePrivateKey) -> str:
    return b64u(
        key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


def _key_json(key: ec.EllipticCurvePrivateKey) -> dict:
    return {
        "pkcs8": _pkcs8(key),
        "d": f"{key.private_numbers().private_value:064x}",
        "public_key": public_key_b64u(key),
    }


BIDDER_KEY = _key("bidder")
CUSTODIAN_KEY = _key("custodian")
OTHER_KEY = _key("other")

FULL_FORM = {
    "price": "12345678.00",
    "currency": "CNY",
    "duration_days": 180,
    "quality": "合格",
    "project_manager": {"name": "王建国", "reg_no": "桂1452019201912345"},
    "items": {"工期": "180日历天", "质量标准": "合格", "投标保证金": "已缴纳"},
}

# name, chunk, document bytes, document name, form, with custodian wrap
CASES = [
    ("small", 4096, b"%PDF-1.7\n% a small bid document\n%%EOF\n", "投标文件.pdf", FULL_FORM, False),
    ("multi-chunk-custodian", 4096, _bytes("document|multi", 10_000), "商务标.pdf", FULL_FORM, True),
    ("empty-document", 4096, b"", "empty.bin", {"price": "0.00", "currency": "CNY"}, False),
    ("exact-chunk-boundary", 4096, None, "boundary.bin", {"price": "99.50", "currency": "USD"}, True),
    ("chunk-64k", 65536, _bytes("document|64k", 70_000), "技术标.zip", FULL_FORM, False),
]


def _boundary_document(form: dict, name: str) -> bytes:
    """A document that makes the plaintext exactly three chunks of 4096 (the last chunk is full)."""
    size = 3 * 4096 - 300
    for _ in range(5):
        meta = {"name": name, "size": size, "sha256": "0" * 64, "content_type": "application/octet-stream"}
        prefix = form_prefix({**form, "v": 1, "tender": TENDER, "lot": 2, "bidder": BIDDER, "document": meta})
        size = 3 * 4096 - len(prefix)
    return _bytes("document|boundary", size)


def _seal(name, chunk, document, document_name, form, custodian, *, salt=""):
    recipients = [Recipient("bidder", CERT, BIDDER_KEY.public_key())]
    if custodian:
        recipients.append(Recipient("custodian", CUSTODIAN_KID, CUSTODIAN_KEY.public_key()))
    ephemeral = [
        (_key(f"{name}{salt}|ephemeral|{r.to}"), _bytes(f"{name}{salt}|iv|{r.to}", 12)) for r in recipients
    ]
    cek, nonce_prefix = _bytes(f"{name}{salt}|cek", 32), _bytes(f"{name}{salt}|np", 7)
    out = io.BytesIO()
    sealed = seal(
        form=form,
        document=document,
        document_name=document_name,
        content_type="application/octet-stream" if not document_name.endswith(".pdf") else "application/pdf",
        tender=TENDER,
        lot=2 if name == "exact-chunk-boundary" else 1,
        bidder=BIDDER,
        cert_serial=CERT,
        signing_key=BIDDER_KEY,
        recipients=recipients,
        out=out,
        chunk=chunk,
        _cek=cek,
        _nonce_prefix=nonce_prefix,
        _ephemeral=ephemeral,
        _deterministic=True,
    )
    return sealed, out.getvalue(), recipients, ephemeral


def _header_variant(header_bytes: bytes, **changes) -> str:
    header = json.loads(header_bytes)
    header.update(changes)
    return b64u(canonical_json(header))


def _negatives(sealed, ciphertext: bytes, twin, header: dict) -> list[dict]:
    size, chunk = len(ciphertext), header["chunk"] + TAG
    chunks = -(-size // chunk)
    cases = [
        ("flip first bit", "open", {"op": "flip_bit", "offset": 0, "bit": 0}, "envelope_chunk_invalid"),
        (
            "flip last tag bit",
            "open",
            {"op": "flip_bit", "offset": size - 1, "bit": 7},
            "envelope_chunk_invalid",
        ),
        ("truncate by one byte", "open", {"op": "truncate", "length": size - 1}, "envelope_truncated"),
        ("truncate to nothing", "open", {"op": "truncate", "length": 0}, "envelope_truncated"),
        ("trailing byte", "open", {"op": "append", "data": b64u(b"\0")}, "envelope_trailing_data"),
        ("wrong content key", "open", {"op": "cek", "cek": b64u(bytes(32))}, "envelope_key_invalid"),
        (
            "header names lot 3",
            "open",
            {"op": "header", "header": _header_variant(sealed.header_bytes, lot=3)},
            "envelope_chunk_invalid",
        ),
        (
            "header not canonical",
            "open",
            {"op": "header", "header": b64u(sealed.header_bytes[:-1] + b" }")},
            "envelope_header_malformed",
        ),
        (
            "header of a twin envelope, with its key",
            "open",
            {"op": "header", "header": b64u(twin.header_bytes), "cek": b64u(twin.cek)},
            "envelope_chunk_invalid",
        ),
        (
            "signed by another key",
            "verify",
            {"op": "signature", "signature": twin.signature},
            "envelope_signature_invalid",
        ),
        (
            "replayed into another tender",
            "verify",
            {"op": "binding", "tender": OTHER_TENDER},
            "envelope_binding_mismatch",
        ),
        (
            "unwrap with another key",
            "unwrap",
            {"op": "key", "pkcs8": _pkcs8(OTHER_KEY)},
            "envelope_key_invalid",
        ),
    ]
    if chunks >= 3:
        cases += [
            (
                "flip a bit in chunk 1",
                "open",
                {"op": "flip_bit", "offset": chunk + 100, "bit": 3},
                "envelope_chunk_invalid",
            ),
            (
                "truncate at a chunk boundary",
                "open",
                {"op": "truncate", "length": chunk},
                "envelope_truncated",
            ),
            ("swap chunks 0 and 1", "open", {"op": "swap_chunks", "i": 0, "j": 1}, "envelope_chunk_invalid"),
            ("duplicate chunk 0", "open", {"op": "duplicate_chunk", "i": 0}, "envelope_chunk_invalid"),
            ("drop chunk 0", "open", {"op": "drop_chunk", "i": 0}, "envelope_chunk_invalid"),
            (
                "duplicate the final chunk",
                "open",
                {"op": "duplicate_chunk", "i": chunks - 1},
                "envelope_trailing_data",
            ),
        ]
    return [{"name": n, "stage": s, "mutation": m, "code": c} for n, s, m, c in cases]


def build() -> dict:
    vectors = []
    for name, chunk, document, document_name, form, custodian in CASES:
        if document is None:
            document = _boundary_document(form, document_name)
        sealed, ciphertext, recipients, ephemeral = _seal(
            name, chunk, document, document_name, form, custodian
        )
        # The twin differs only in its random inputs, signed by another key: same length, other bytes.
        twin, _, _, _ = _seal(name, chunk, document, document_name, form, custodian, salt="|twin")
        twin.signature = _signature_by(OTHER_KEY, twin)
        header = parse_header(sealed.header_bytes)
        # Opening the vector checks it, and gives the form exactly as sealed (with v, binding, document).
        sealed_form = open_stream(
            header_bytes=sealed.header_bytes, cek=sealed.cek, ciphertext=io.BytesIO(ciphertext)
        ).form
        vectors.append(
            {
                "name": name,
                "inputs": {
                    "form": form,
                    "document": b64u(document),
                    "document_name": document_name,
                    "content_type": sealed_form["document"]["content_type"],
                    "tender": header["tender"],
                    "lot": header["lot"],
                    "bidder": header["bidder"],
                    "cert": header["cert"],
                    "chunk": chunk,
                    "cek": b64u(sealed.cek),
                    "np": header["np"],
                    "wraps": [
                        {
                            "to": r.to,
                            "kid": r.kid,
                            "recipient_public_key": public_key_b64u(r.public_key),
                            "ephemeral_pkcs8": _pkcs8(e),
                            "ephemeral_d": f"{e.private_numbers().private_value:064x}",
                            "iv": b64u(iv),
                        }
                        for r, (e, iv) in zip(recipients, ephemeral, strict=True)
                    ],
                },
                "sealed_form": sealed_form,
                "plaintext_size": header["size"],
                "plaintext_sha256": hashlib.sha256(form_prefix(sealed_form) + document).hexdigest(),
                "header": b64u(sealed.header_bytes),
                "header_sha256": sealed.header_sha256,
                "wraps": header["wraps"],
                "ciphertext": b64u(ciphertext),
                "ciphertext_sha256": sealed.ciphertext_sha256,
                "ciphertext_size": sealed.ciphertext_size,
                "statement": signature_statement(
                    header_bytes=sealed.header_bytes,
                    ciphertext_sha256=sealed.ciphertext_sha256,
                    ciphertext_size=sealed.ciphertext_size,
                ).decode(),
                "signature": sealed.signature,
                "negative": _negatives(sealed, ciphertext, twin, header),
            }
        )
    return {
        "format": FORMAT,
        "spec": "docs/sealed-bid.md",
        "keys": {
            "bidder": _key_json(BIDDER_KEY),
            "custodian": _key_json(CUSTODIAN_KEY),
            "other": _key_json(OTHER_KEY),
        },
        "vectors": vectors,
    }


def _signature_by(key, sealed) -> str:
    statement = signature_statement(
        header_bytes=sealed.header_bytes,
        ciphertext_sha256=sealed.ciphertext_sha256,
        ciphertext_size=sealed.ciphertext_size,
    )
    return sign_statement(key, statement, deterministic=True)


# --- applying a negative case (the Python tests use this; seal.js's tests do the same in JS) ---------


def apply_mutation(vector: dict, mutation: dict) -> dict:
    """The vector's {header_bytes, cek, ciphertext, signature, tender, lot, bidder, key} after `mutation`."""
    state = {
        "header_bytes": b64u_decode(vector["header"]),
        "cek": b64u_decode(vector["inputs"]["cek"]),
        "ciphertext": bytearray(b64u_decode(vector["ciphertext"])),
        "signature": vector["signature"],
        "tender": vector["inputs"]["tender"],
        "lot": vector["inputs"]["lot"],
        "bidder": vector["inputs"]["bidder"],
        "key": None,
    }
    op, ct = mutation["op"], state["ciphertext"]
    piece = vector["inputs"]["chunk"] + TAG
    cut = [bytes(ct[i : i + piece]) for i in range(0, len(ct), piece)]
    if op == "flip_bit":
        ct[mutation["offset"]] ^= 1 << mutation["bit"]
    elif op == "truncate":
        del ct[mutation["length"] :]
    elif op == "append":
        ct += b64u_decode(mutation["data"])
    elif op == "swap_chunks":
        cut[mutation["i"]], cut[mutation["j"]] = cut[mutation["j"]], cut[mutation["i"]]
        state["ciphertext"] = bytearray(b"".join(cut))
    elif op == "duplicate_chunk":
        cut.insert(mutation["i"], cut[mutation["i"]])
        state["ciphertext"] = bytearray(b"".join(cut))
    elif op == "drop_chunk":
        del cut[mutation["i"]]
        state["ciphertext"] = bytearray(b"".join(cut))
    elif op == "header":
        state["header_bytes"] = b64u_decode(mutation["header"])
        if "cek" in mutation:
            state["cek"] = b64u_decode(mutation["cek"])
    elif op == "cek":
        state["cek"] = b64u_decode(mutation["cek"])
    elif op == "signature":
        state["signature"] = mutation["signature"]
    elif op == "binding":
        state.update({k: mutation[k] for k in ("tender", "lot", "bidder") if k in mutation})
    elif op == "key":
        state["key"] = serialization.load_der_private_key(b64u_decode(mutation["pkcs8"]), password=None)
    else:
        raise ValueError(f"unknown mutation {op!r}")
    state["ciphertext"] = bytes(state["ciphertext"])
    return state


def main() -> int:
    sys.stdout.write(json.dumps(build(), ensure_ascii=False, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
