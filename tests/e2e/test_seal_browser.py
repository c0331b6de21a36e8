"""In Chromium: static/bidding/seal.js reproduces the GJ-SEAL v1 known-answer vectors byte for byte,
agrees with the Python envelope in both directions, and the bidder's page seals and uploads a bid
that the platform stores as ciphertext only and Python opens with the bidder's key."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import os
import pathlib
import random
import zipfile
from urllib.parse import parse_qs, urlparse

import pytest
from cryptography.hazmat.primitives import serialization
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from archive.blobs import blob_open
from bidding import envelope
from bidding.models import Bid
from bidding.receipts import receipt_verify
from tests.factories import BidderUserFactory, LotFactory, PersonFactory, TenderFactory
from trading import keyclient
from trading.models import ActivityEvidence, DocumentDownload, Position, PositionRole, TenderState
from trading.pki import ca_certificate_pem
from trading.services.pki import certificate_issue

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPTS = {name: (ROOT / "static/bidding" / name).read_text() for name in ("seal.js", "submit.js")}
VECTORS = json.loads((ROOT / "docs/sealed-bid-vectors.json").read_text())
KEY_PASSWORD = "seal key pass 1"
ORIGIN = "https://seal.test"
BLANK = (
    "<!doctype html><meta charset=utf-8><title>seal</title>"
    "<script src='/seal.js'></script><script src='/submit.js'></script>"
)


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def pkcs8(key) -> str:
    return b64u(
        key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


@pytest.fixture
def seal_page(new_context):
    """A page on a secure origin with only seal.js loaded: no server, no database."""
    context = new_context()

    def serve(route):
        name = route.request.url.rsplit("/", 1)[-1]
        if name in SCRIPTS:
            route.fulfill(body=SCRIPTS[name], content_type="text/javascript")
        else:
            route.fulfill(body=BLANK, content_type="text/html")

    context.route(ORIGIN + "/**", serve)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(ORIGIN + "/")
    page.wait_for_function("() => window.GJSeal !== undefined && window.GJSubmitPage !== undefined")
    yield page
    assert not errors, errors


# --- 1. known-answer vectors ---------------------------------------------------------------------------

SEAL_VECTOR_JS = """
async ({v, keys, viaScalar}) => {
  const d = GJSeal.b64uDecode;
  const hexBytes = (h) => Uint8Array.from(h.match(/../g).map((x) => parseInt(x, 16)));
  const signingKey = await crypto.subtle.importKey("pkcs8", d(keys.bidder.pkcs8),
    {name: "ECDSA", namedCurve: "P-256"}, false, ["sign"]);
  const i = v.inputs;
  const sealed = await GJSeal.seal({
    form: i.form, documentBytes: d(i.document), documentName: i.document_name, contentType: i.content_type,
    tender: i.tender, lot: i.lot, bidder: i.bidder, certSerial: i.cert, signingKey, chunk: i.chunk,
    recipients: i.wraps.map((w) => ({to: w.to, kid: w.kid, publicKey: w.recipient_public_key})),
    _cek: d(i.cek), _noncePrefix: d(i.np),
    _ephemeral: i.wraps.map((w) => viaScalar ? {d: hexBytes(w.ephemeral_d), iv: d(w.iv)} : {pkcs8: w.ephemeral_pkcs8, iv: w.iv}),
  });
  const ciphertext = new Uint8Array(await sealed.ciphertext.arrayBuffer());
  // The vector's signature verifies here; the browser's own (randomized) one too.
  await GJSeal.verifySignature({headerBytes: d(v.header), ciphertextSha256: v.ciphertext_sha256,
    ciphertextSize: v.ciphertext_size, signature: v.signature, publicKey: keys.bidder.public_key});
  await GJSeal.verifySignature({headerBytes: sealed.headerBytes, ciphertextSha256: sealed.ciphertextSha256,
    ciphertextSize: sealed.ciphertextSize, signature: sealed.signature, publicKey: keys.bidder.public_key});
  return {header: GJSeal.b64u(sealed.headerBytes), ciphertext: GJSeal.b64u(ciphertext),
          ciphertextSha256: sealed.ciphertextSha256, ciphertextSize: sealed.ciphertextSize, form: sealed.form};
}
"""

OPEN_VECTOR_JS = """
async ({v, keys}) => {
  const d = GJSeal.b64uDecode;
  const ecdh = async (k) => crypto.subtle.importKey("pkcs8", d(k.pkcs8), {name: "ECDH", namedCurve: "P-256"},
    false, ["deriveBits"]);
  const ceks = [];
  for (const w of v.wraps) {
    const key = await ecdh(w.to === "bidder" ? keys.bidder : keys.custodian);
    ceks.push(GJSeal.b64u(await GJSeal.unwrapContentKey({headerBytes: d(v.header), to: w.to, privateKey: key})));
  }
  const opened = await GJSeal.open({headerBytes: d(v.header), cek: d(ceks[0]), ciphertext: new Blob([d(v.ciphertext)])});
  return {ceks, form: opened.form, document: GJSeal.b64u(new Uint8Array(await opened.document.arrayBuffer()))};
}
"""

# The negative cases applied in JS the way bidding.vectors.apply_mutation does in Python.
NEGATIVE_JS = """
async ({v, keys}) => {
  const d = GJSeal.b64uDecode;
  const piece = v.inputs.chunk + 16;
  const out = [];
  for (const neg of v.negative) {
    const m = neg.mutation;
    let header = d(v.header), cek = d(v.inputs.cek), ct = d(v.ciphertext).slice(), signature = v.signature;
    let binding = {tender: v.inputs.tender, lot: v.inputs.lot, bidder: v.inputs.bidder};
    let key = keys.bidder.pkcs8;
    const cut = [];
    for (let p = 0; p < ct.length; p += piece) cut.push(ct.slice(p, p + piece));
    const join = (parts) => { const n = parts.reduce((a, p) => a + p.length, 0); const r = new Uint8Array(n);
      let o = 0; for (const p of parts) { r.set(p, o); o += p.length; } return r; };
    if (m.op === "flip_bit") ct[m.offset] ^= 1 << m.bit;
    else if (m.op === "truncate") ct = ct.slice(0, m.length);
    else if (m.op === "append") ct = join([ct, d(m.data)]);
    else if (m.op === "swap_chunks") { [cut[m.i], cut[m.j]] = [cut[m.j], cut[m.i]]; ct = join(cut); }
    else if (m.op === "duplicate_chunk") { cut.splice(m.i, 0, cut[m.i]); ct = join(cut); }
    else if (m.op === "drop_chunk") { cut.splice(m.i, 1); ct = join(cut); }
    else if (m.op === "header") { header = d(m.header); if (m.cek) cek = d(m.cek); }
    else if (m.op === "cek") cek = d(m.cek);
    else if (m.op === "signature") signature = m.signature;
    else if (m.op === "binding") binding = Object.assign(binding, m);
    else if (m.op === "key") key = m.pkcs8;
    else { out.push([neg.name, "unknown op " + m.op]); continue; }
    let code = "accepted";
    try {
      if (neg.stage === "open") {
        await GJSeal.open({headerBytes: header, cek, ciphertext: new Blob([ct])});
      } else if (neg.stage === "verify") {
        await GJSeal.verifyEnvelope({headerBytes: header, signature, ciphertextSha256: GJSeal.sha256Hex(ct),
          ciphertextSize: ct.length, publicKey: keys.bidder.public_key,
          tender: binding.tender, lot: binding.lot, bidder: binding.bidder});
      } else {
        const privateKey = await crypto.subtle.importKey("pkcs8", d(key), {name: "ECDH", namedCurve: "P-256"},
          false, ["deriveBits"]);
        await GJSeal.unwrapContentKey({headerBytes: header, to: "bidder", privateKey});
      }
    } catch (e) {
      code = e.code || String(e);
    }
    out.push([neg.name, code]);
  }
  return out;
}
"""


@pytest.mark.parametrize("index", range(len(VECTORS["vectors"])), ids=[v["name"] for v in VECTORS["vectors"]])
def test_browser_seal_reproduces_the_vector_byte_for_byte(seal_page, index):
    # given a known-answer vector with its fixed content key, nonce prefix, ephemeral keys and IVs
    vector = VECTORS["vectors"][index]
    # when the browser seals its inputs (ephemeral keys given as scalar or as PKCS#8, alternately)
    got = seal_page.evaluate(
        SEAL_VECTOR_JS, {"v": vector, "keys": VECTORS["keys"], "viaScalar": index % 2 == 0}
    )
    # then header, ciphertext, digest and form equal the vector's, and both signatures verified
    assert got["header"] == vector["header"]
    assert got["ciphertextSha256"] == vector["ciphertext_sha256"]
    assert got["ciphertextSize"] == vector["ciphertext_size"]
    assert got["ciphertext"] == vector["ciphertext"]
    assert got["form"] == vector["sealed_form"]


@pytest.mark.parametrize("index", range(len(VECTORS["vectors"])), ids=[v["name"] for v in VECTORS["vectors"]])
def test_browser_opens_the_vector_with_each_recipient_key(seal_page, index):
    # given a vector sealed by Python
    vector = VECTORS["vectors"][index]
    # when the browser unwraps every wrap with its recipient's key and opens the ciphertext
    got = seal_page.evaluate(OPEN_VECTOR_JS, {"v": vector, "keys": VECTORS["keys"]})
    # then every wrap gives the vector's content key, and the form and document come back
    assert got["ceks"] == [vector["inputs"]["cek"]] * len(vector["wraps"])
    assert got["form"] == vector["sealed_form"]
    assert got["document"] == vector["inputs"]["document"]


@pytest.mark.parametrize("index", range(len(VECTORS["vectors"])), ids=[v["name"] for v in VECTORS["vectors"]])
def test_browser_refuses_each_negative_vector_with_its_code(seal_page, index):
    # given a vector's tampered variants
    vector = VECTORS["vectors"][index]
    assert vector["negative"]
    # when the browser opens, verifies or unwraps each
    got = seal_page.evaluate(NEGATIVE_JS, {"v": vector, "keys": VECTORS["keys"]})
    # then each is refused with the code the format prescribes (the same code Python reports)
    assert got == [[n["name"], n["code"]] for n in vector["negative"]]


# --- 2. the primitives against references ---------------------------------------------------------------


def test_incremental_sha256_and_md5_match_the_references(seal_page):
    # given random inputs around the block boundaries and beyond, fed in random pieces
    rnd = random.Random(31)
    sizes = [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 65_536, 1_048_583]
    datas = [rnd.randbytes(n) for n in sizes]
    # when the browser hashes them with its own SHA-256 and MD5, and with crypto.subtle.digest
    got = seal_page.evaluate(
        """async (items) => {
          const out = [];
          for (const text of items) {
            const data = GJSeal.b64uDecode(text);
            const sha = new GJSeal.Sha256(), md5 = new GJSeal.Md5();
            for (let p = 0; p < data.length;) {
              const k = Math.min(data.length - p, 1 + Math.floor(Math.random() * 300));
              sha.update(data.subarray(p, p + k)); md5.update(data.subarray(p, p + k)); p += k;
            }
            out.push([GJSeal.hex(new Uint8Array(await crypto.subtle.digest("SHA-256", data))),
                      GJSeal.sha256Hex(data), sha.hexdigest(), md5.hexdigest()]);
          }
          return out;
        }""",
        [b64u(d) for d in datas],
    )
    # then every digest equals the reference
    for data, (subtle, whole, pieces, md5) in zip(datas, got, strict=True):
        assert subtle == whole == pieces == hashlib.sha256(data).hexdigest()
        assert md5 == hashlib.md5(data).hexdigest()


ALPHABET = ["a", "Z", "0", " ", '"', "\\", "\n", "\t", "\x00", "\x1f", "\x7f", "é", "中", "\ue000", "\uffff",
            "\U0001f600", "\U00010000", "/", "<", "\u2028", "~"]  # fmt: skip


def _random_json(rnd: random.Random, depth: int = 0):
    kind = rnd.randint(0, 6 if depth < 3 else 3)
    if kind in (0, 3):
        return "".join(rnd.choice(ALPHABET) for _ in range(rnd.randint(0, 6)))
    if kind == 1:
        return rnd.choice([0, -1, 1, 2**53 - 1, -(2**53 - 1), 123_456_789_012])
    if kind == 2:
        return rnd.choice([True, False, None])
    if kind == 4:
        return [_random_json(rnd, depth + 1) for _ in range(rnd.randint(0, 3))]
    return {
        "".join(rnd.choice(ALPHABET) for _ in range(rnd.randint(0, 4))): _random_json(rnd, depth + 1)
        for _ in range(rnd.randint(0, 5))
    }


def test_canonical_json_equals_python_byte_for_byte(seal_page):
    # given random JSON values with escapes, controls, BMP and astral characters in keys and strings
    rnd = random.Random(7)
    values = [_random_json(rnd) for _ in range(400)]
    # when the browser writes them canonically
    got = seal_page.evaluate("(vs) => vs.map((v) => GJSeal.b64u(GJSeal.canonicalJson(v)))", values)
    # then the bytes are Python's json.dumps(sort_keys, compact separators, ensure_ascii=False)
    for value, text in zip(values, got, strict=True):
        assert unb64u(text) == envelope.canonical_json(value), value


def test_canonical_json_refuses_what_python_would_write_differently(seal_page):
    # given values whose JSON differs between JS and Python (floats) or that are not UTF-8
    # when the browser tries to write them
    got = seal_page.evaluate(
        """() => [1.5, 1e21, NaN, "\\ud800", {"\\udc00": 1}, new Date(0)].map((v) => {
             try { GJSeal.canonicalJson(v); return "written"; } catch (e) { return e.code; } })"""
    )
    # then each is refused
    assert got == ["canonical_json_unsupported"] * 6


# --- 3. cross: browser seals, Python opens; Python seals, the browser opens -------------------------------

TEXT = 'abcXYZ 012 合格工期质量标准王建国桂"\\\n\t\x01/<>é\u2028\ue000\uffff'


def _random_text(rnd: random.Random, n: int) -> str:
    return "".join(rnd.choice(TEXT) for _ in range(rnd.randint(0, n)))


def _random_form(rnd: random.Random) -> dict:
    form = {
        "price": f"{rnd.randint(0, 10**12)}.{rnd.randint(0, 99):02d}",
        "currency": rnd.choice(["CNY", "USD"]),
    }
    if rnd.random() < 0.8:
        form["duration_days"] = rnd.choice([None, 0, rnd.randint(1, 100_000)])
    if rnd.random() < 0.8:
        form["quality"] = _random_text(rnd, 20)
    if rnd.random() < 0.8:
        form["project_manager"] = {"name": _random_text(rnd, 8), "reg_no": _random_text(rnd, 18)}
    if rnd.random() < 0.8:
        form["items"] = {"项" + _random_text(rnd, 6): _random_text(rnd, 30) for _ in range(rnd.randint(0, 6))}
    return form


# (document size, chunk): empty, tiny, one chunk, several chunks, a last chunk exactly full, 1 MiB chunks.
CROSS_CASES = [(0, 4096), (1, 4096), (3000, 4096), (20_000, 4096), (4096 * 5, 8192), (1_500_000, 1_048_576)]

BROWSER_SEAL_JS = """
async ({cases, signing, recipients, binding}) => {
  const d = GJSeal.b64uDecode;
  const signingKey = await crypto.subtle.importKey("pkcs8", d(signing), {name: "ECDSA", namedCurve: "P-256"},
    false, ["sign"]);
  const out = [];
  for (const c of cases) {
    const sealed = await GJSeal.seal(Object.assign({}, binding, {
      form: c.form, documentFile: new File([d(c.document)], c.name, {type: c.type}), chunk: c.chunk,
      signingKey, recipients}));
    out.push({header: GJSeal.b64u(sealed.headerBytes), signature: sealed.signature,
              ciphertext: GJSeal.b64u(new Uint8Array(await sealed.ciphertext.arrayBuffer())),
              ciphertextSha256: sealed.ciphertextSha256, ciphertextSize: sealed.ciphertextSize});
  }
  return out;
}
"""


def _keys():
    bidder, custodian = keyclient.key_generate(), keyclient.key_generate()
    return (
        bidder,
        custodian,
        [
            {"to": "bidder", "kid": "0a1b2c", "publicKey": envelope.public_key_b64u(bidder)},
            {"to": "custodian", "kid": "ck-1", "publicKey": envelope.public_key_b64u(custodian)},
        ],
    )


BINDING = {"tender": "12450000MB0Y95706Y20260301000007I", "lot": 3, "bidder": "91450100MA5KX2Q7AQ"}


def test_what_the_browser_seals_python_opens(seal_page):
    # given random bid forms and documents (empty, tiny, multi-chunk, chunk-aligned, 1 MiB chunks)
    rnd = random.Random(11)
    bidder, custodian, recipients = _keys()
    cases = [
        {"form": _random_form(rnd), "document": b64u(rnd.randbytes(size)), "chunk": chunk,
         "name": f"投标文件{i}.pdf", "type": "application/pdf"}
        for i, (size, chunk) in enumerate(CROSS_CASES)
    ]  # fmt: skip
    # when the browser seals them for the bidder and the custodian
    sealed = seal_page.evaluate(
        BROWSER_SEAL_JS,
        {"cases": cases, "signing": pkcs8(bidder), "recipients": recipients,
         "binding": {**BINDING, "certSerial": "0a1b2c"}},
    )  # fmt: skip
    for case, out in zip(cases, sealed, strict=True):
        header_bytes, ciphertext = unb64u(out["header"]), unb64u(out["ciphertext"])
        # then Python accepts the submission: binding, size, digest and the bidder's signature
        header = envelope.verify_envelope(
            header_bytes=header_bytes,
            signature=out["signature"],
            ciphertext_sha256=hashlib.sha256(ciphertext).hexdigest(),
            ciphertext_size=len(ciphertext),
            public_key=bidder.public_key(),
            declared_sha256=out["ciphertextSha256"],
            declared_size=out["ciphertextSize"],
            **BINDING,
        )
        assert header["chunk"] == case["chunk"]
        # and both recipients unwrap the same content key
        cek = envelope.unwrap(header=header, to="bidder", private_key=bidder)
        assert envelope.unwrap(header=header, to="custodian", private_key=custodian) == cek
        # and the form and the document come back exactly
        document = io.BytesIO()
        opened = envelope.open_stream(
            header_bytes=header_bytes, cek=cek, ciphertext=io.BytesIO(ciphertext), document_out=document
        )
        assert document.getvalue() == unb64u(case["document"])
        assert opened.form == {
            **case["form"], "v": 1, **BINDING,
            "document": {"name": case["name"], "size": len(document.getvalue()),
                         "sha256": hashlib.sha256(document.getvalue()).hexdigest(), "content_type": "application/pdf"},
        }  # fmt: skip


def test_what_python_seals_the_browser_opens(seal_page):
    # given random bid forms and documents sealed by the Python client
    rnd = random.Random(12)
    bidder, custodian, recipients = _keys()
    cases = []
    for i, (size, chunk) in enumerate(CROSS_CASES):
        document, out, form = rnd.randbytes(size), io.BytesIO(), _random_form(rnd)
        sealed = envelope.seal(
            form=form, document=document, document_name=f"商务标{i}.zip", content_type="application/zip",
            cert_serial="0a1b2c", signing_key=bidder, out=out, chunk=chunk,
            recipients=[envelope.Recipient(r["to"], r["kid"], envelope.public_key_from_b64u(r["publicKey"]))
                        for r in recipients],
            **BINDING,
        )  # fmt: skip
        cases.append({"header": b64u(sealed.header_bytes), "ciphertext": b64u(out.getvalue()), "signature": sealed.signature,
                      "sha": sealed.ciphertext_sha256, "size": sealed.ciphertext_size, "document": document,
                      "form": {**form, "v": 1, **BINDING, "document": {
                          "name": f"商务标{i}.zip", "size": size, "sha256": hashlib.sha256(document).hexdigest(),
                          "content_type": "application/zip"}}})  # fmt: skip
    # when the browser verifies each, unwraps with the bidder's and the custodian's keys, and opens it
    got = seal_page.evaluate(
        """async ({cases, keys, signer, binding}) => {
          const d = GJSeal.b64uDecode;
          const ecdh = (k) => crypto.subtle.importKey("pkcs8", d(k), {name: "ECDH", namedCurve: "P-256"}, false,
            ["deriveBits"]);
          const out = [];
          for (const c of cases) {
            await GJSeal.verifyEnvelope(Object.assign({headerBytes: d(c.header), signature: c.signature,
              ciphertextSha256: c.sha, ciphertextSize: c.size, publicKey: signer}, binding));
            const cek = await GJSeal.unwrapContentKey({headerBytes: d(c.header), to: "bidder", privateKey: await ecdh(keys[0])});
            const cek2 = await GJSeal.unwrapContentKey({headerBytes: d(c.header), to: "custodian", privateKey: await ecdh(keys[1])});
            const opened = await GJSeal.open({headerBytes: d(c.header), cek, ciphertext: new Blob([d(c.ciphertext)])});
            out.push({same: GJSeal.b64u(cek) === GJSeal.b64u(cek2), form: opened.form,
                      document: GJSeal.b64u(new Uint8Array(await opened.document.arrayBuffer()))});
          }
          return out;
        }""",
        {"cases": [{k: v for k, v in c.items() if k not in ("document", "form")} for c in cases],
         "keys": [pkcs8(bidder), pkcs8(custodian)], "signer": envelope.public_key_b64u(bidder), "binding": BINDING},
    )  # fmt: skip
    # then both keys give the same content key and the browser reads the form and document Python sealed
    for case, out in zip(cases, got, strict=True):
        assert out["same"] is True
        assert unb64u(out["document"]) == case["document"]
        assert out["form"] == case["form"]


def test_browser_refuses_to_seal_a_form_the_platform_would_refuse(seal_page):
    # given forms that break §1 (a float price, a missing currency, an astral character, a stray key)
    _bidder, _custodian, recipients = _keys()
    bad_forms = [
        {"price": "12.5", "currency": "CNY"},
        {"price": "12.50"},
        {"price": "12.50", "currency": "CNY", "quality": "\U0001f600"},
        {"price": "12.50", "currency": "CNY", "remarks": "x"},
        {"price": "12.50", "currency": "CNY", "lot": 4},
    ]
    # when the browser is asked to seal each
    got = seal_page.evaluate(
        """async ({forms, recipients, binding}) => {
          const pair = await crypto.subtle.generateKey({name: "ECDSA", namedCurve: "P-256"}, false, ["sign"]);
          const out = [];
          for (const form of forms) {
            try {
              await GJSeal.seal(Object.assign({form, documentBytes: new Uint8Array(3), documentName: "a.pdf",
                contentType: "application/pdf", signingKey: pair.privateKey, recipients, chunk: 4096}, binding));
              out.push("sealed");
            } catch (e) { out.push(e.code); }
          }
          return out;
        }""",
        {"forms": bad_forms, "recipients": recipients[:1], "binding": {**BINDING, "certSerial": "0a1b2c"}},
    )
    # then nothing is sealed: each is refused as Python's check_form refuses it
    assert got == ["envelope_plaintext_malformed"] * len(bad_forms)


def test_key_file_loads_as_one_key_that_signs_and_unwraps(seal_page):
    # given a key file written by the Python client, and a bid sealed to that key by Python
    key = keyclient.key_generate()
    key_file = keyclient.keyfile_dump(
        key, KEY_PASSWORD, certificate_serial="0a1b2c", iterations=100_000
    ).decode()
    sealed = envelope.seal(
        form={"price": "1.00", "currency": "CNY"}, document=b"doc", document_name="d.bin", content_type="",
        cert_serial="0a1b2c", signing_key=key, out=io.BytesIO(),
        recipients=[envelope.Recipient("bidder", "0a1b2c", key.public_key())], **BINDING,
    )  # fmt: skip
    # when the browser loads it with the wrong password, as garbage, and with the right password
    got = seal_page.evaluate(
        """async ({text, password, header}) => {
          const codes = [];
          for (const [t, p] of [[text, "wrong password"], ["{}", password], ["not json", password]]) {
            try { await GJSeal.loadKeyFile(t, p); codes.push("loaded"); } catch (e) { codes.push(e.code); }
          }
          const key = await GJSeal.loadKeyFile(new File([text], "k.json"), password);
          const message = new TextEncoder().encode("gongjiao-test");
          const signature = new Uint8Array(await crypto.subtle.sign({name: "ECDSA", hash: "SHA-256"}, key.signingKey, message));
          const cek = await GJSeal.unwrapContentKey({headerBytes: GJSeal.b64uDecode(header), to: "bidder", privateKey: key.ecdhKey});
          return {codes, publicKey: key.publicKey, serial: key.certSerial, signature: GJSeal.b64u(signature), cek: GJSeal.b64u(cek)};
        }""",
        {"text": key_file, "password": KEY_PASSWORD, "header": b64u(sealed.header_bytes)},
    )
    # then refusals carry their codes, and the loaded key is the file's: it signs and it unwraps
    assert got["codes"] == ["key_password_wrong", "key_file_malformed", "key_file_malformed"]
    assert got["publicKey"] == envelope.public_key_b64u(key) and got["serial"] == "0a1b2c"
    assert keyclient.signature_verify(key.public_key(), b"gongjiao-test", unb64u(got["signature"]))
    assert unb64u(got["cek"]) == sealed.cek


def _docx() -> bytes:
    core = (
        '<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties '
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/">'
        "<dc:creator>张编制</dc:creator><cp:lastModifiedBy>李修改</cp:lastModifiedBy>"
        "<dcterms:created>2026-03-01T08:00:00Z</dcterms:created><dcterms:modified>2026-03-20T09:30:00Z</dcterms:modified>"
        "</cp:coreProperties>"
    )
    app = (
        '<?xml version="1.0" encoding="UTF-8"?><Properties '
        'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        "<Application>Microsoft Office Word</Application><AppVersion>16.0000</AppVersion>"
        "<Company>某某造价咨询有限公司</Company><Template>Normal.dotm</Template></Properties>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>" * 500)
        z.writestr("docProps/core.xml", core)
        z.writestr("docProps/app.xml", app)
    return out.getvalue()


def test_authoring_metadata_is_read_from_pdf_and_office_documents(seal_page):
    # given a .docx (a zip with docProps) and a PDF whose Info strings are literal and UTF-16BE hex
    title_hex = ("FEFF" + "投标人".encode("utf-16-be").hex()).upper()
    pdf = (
        b"%PDF-1.4\n1 0 obj\n<< /Author <" + title_hex.encode() + b"> /Creator (Word \\(WPS\\))"
        b" /Producer (PDF\\040Maker) /CreationDate (D:20260301080000+08'00') >>\nendobj\n%%EOF\n"
    )
    # when the page reads their authoring metadata
    got = seal_page.evaluate(
        """async ({docx, pdf}) => [
             await GJSubmitPage.documentMeta(new File([GJSeal.b64uDecode(docx)], "商务标.docx")),
             await GJSubmitPage.documentMeta(new File([GJSeal.b64uDecode(pdf)], "技术标.pdf")),
             await GJSubmitPage.documentMeta(new File([new Uint8Array([1, 2, 3])], "x.bin"))]""",
        {"docx": b64u(_docx()), "pdf": b64u(pdf)},
    )
    # then the evidence keys carry the author, editor, tool, company and times; unknown formats give nothing
    assert got[0] == {
        "author": "张编制",
        "last_modified_by": "李修改",
        "created": "2026-03-01T08:00:00Z",
        "modified": "2026-03-20T09:30:00Z",
        "creator_tool": "Microsoft Office Word 16.0000",
        "company": "某某造价咨询有限公司",
        "template_id": "Normal.dotm",
    }
    assert got[1] == {
        "author": "投标人",
        "creator_tool": "Word (WPS)",
        "producer": "PDF Maker",
        "created": "D:20260301080000+08'00'",
    }
    assert got[2] == {}


def test_price_is_normalised_as_a_string_never_a_float(seal_page):
    # given prices as a bidder types them
    typed = ["1234.5", "0", "007.10", "99999999999999.99", "1.234", "-1", "1e3", " 12 ", ""]
    # when the page normalises them
    got = seal_page.evaluate("(xs) => xs.map((x) => GJSubmitPage.normalisePrice(x))", typed)
    # then two places are written out exactly, and anything else is refused
    assert got == ["1234.50", "0.00", "7.10", "99999999999999.99", None, None, None, "12.00", None]


# --- 4. the bidder's page: seal and upload, receipt, replace, withdraw -----------------------------------


def _session_cookie(user, live_server) -> dict:
    client = Client()
    client.force_login(user)
    return {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}


def _bidder_world(tmp_path, *, deadline_in=dt.timedelta(days=3), obtained=True):
    """A certified bidder with a project manager and a key file, and a published tender it may bid on."""
    bidder = BidderUserFactory(person=PersonFactory(name="陈投标"))
    Position.objects.create(
        entity=bidder.entity,
        person=PersonFactory(name="王建国"),
        role=PositionRole.PROJECT_MANAGER,
        professional_reg_no="桂1452019201912345",
    )
    key = keyclient.key_generate()
    cert = certificate_issue(user=bidder, csr_pem=keyclient.csr_build(key), actor=bidder)
    key_file = tmp_path / "bidder-key.json"
    key_file.write_bytes(
        keyclient.keyfile_dump(
            key, KEY_PASSWORD, username=bidder.username, certificate_serial=cert.serial, iterations=100_000
        )
    )
    now = timezone.now()
    tender = TenderFactory(
        state=TenderState.PUBLISHED,
        published_at=now - dt.timedelta(days=10),
        docs_from=now - dt.timedelta(days=10),
        docs_until=now - dt.timedelta(days=3),
        deadline=now + deadline_in,
    )
    lot = LotFactory(
        tender=tender, read_out_items=["price", "duration", "quality", "project_manager", "投标保证金"]
    )
    if obtained:
        DocumentDownload.objects.create(tender=tender, entity=bidder.entity, user=bidder, first_at=now)
    return bidder, key, cert, key_file, lot


def _watch(page) -> tuple[list, list]:
    bodies: list[bytes] = []
    problems: list[str] = []
    page.on("request", lambda request: bodies.append(request.post_data_buffer or b""))
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return bodies, problems


def _fill_and_seal(page, *, price: str, document, key_file, items="已缴纳") -> None:
    page.fill("#bid-price", price)
    page.fill("#bid-duration", "180")
    page.fill("#bid-quality", "合格")
    page.select_option("#bid-manager", index=0)
    page.fill(".bid-item", items)
    page.set_input_files("#bid-document", str(document))
    page.set_input_files("#bid-keyfile", str(key_file))
    page.fill("#bid-key-password", KEY_PASSWORD)
    page.click("#bid-seal")


def _opened(bid: Bid, key) -> tuple[dict, bytes]:
    header_bytes = envelope.b64u_decode(bid.header)
    cek = envelope.unwrap(header=envelope.parse_header(header_bytes), to="bidder", private_key=key)
    document = io.BytesIO()
    with blob_open(bid.ciphertext) as ciphertext:
        opened = envelope.open_stream(
            header_bytes=header_bytes, cek=cek, ciphertext=ciphertext, document_out=document
        )
    return opened.form, document.getvalue(), cek


@pytest.mark.django_db(transaction=True)
def test_bidder_seals_and_uploads_in_the_browser(live_server, new_context, tmp_path):
    # given a certified bidder that obtained the documents of a published tender, signed in
    bidder, key, cert, key_file, lot = _bidder_world(tmp_path)
    marker = b"PLAINTEXT-MARKER-" + os.urandom(8).hex().encode()
    document = tmp_path / "投标文件.pdf"
    content = (
        b"%PDF-1.7\n1 0 obj << /Author (Chen) /Producer (GJ test) >> endobj\n"
        + marker
        + os.urandom(2_500_000)
    )
    document.write_bytes(content)
    context = new_context()
    context.add_cookies([_session_cookie(bidder, live_server)])
    page = context.new_page()
    bodies, problems = _watch(page)
    # and a network that drops the first part on its way back: the server stores it, the browser never hears
    dropped = []

    def drop_first_answer(route):
        response = route.fetch()
        if not dropped:
            dropped.append(response.status)
            route.abort("connectionreset")
        else:
            route.fulfill(response=response)

    page.route("**/bidding/uploads/*/?offset=*", drop_first_answer)

    # when the bidder opens the submit page, fills the bid form, picks the document and key file, seals and uploads
    page.goto(live_server.url + reverse("bidding:bid-submit", args=[lot.pk]))
    page.wait_for_function(
        "() => /\\d\\d:\\d\\d:\\d\\d/.test(document.querySelector('#bid-countdown').textContent)"
    )
    _fill_and_seal(page, price="12345678.9", document=document, key_file=key_file)

    # then the page shows the receipt, which matches what the browser sealed
    page.wait_for_selector("#bid-status[data-done]", timeout=60_000)
    assert page.get_attribute("#bid-receipt-check", "data-match") == "1"
    assert not page.is_visible("#bid-form")
    assert dropped == [200]  # the first part reached the server; the browser resumed from `received`

    # and the database holds one active bid whose ciphertext Python opens with the bidder's key
    bid = Bid.objects.get(lot=lot, entity=bidder.entity, status=Bid.Status.ACTIVE)
    assert page.text_content("#bid-id").strip() == str(bid.pk)
    assert bid.certificate == cert
    form, opened_document, cek = _opened(bid, key)
    assert opened_document == content
    assert form["price"] == "12345678.90" and form["duration_days"] == 180 and form["quality"] == "合格"
    assert form["project_manager"] == {"name": "王建国", "reg_no": "桂1452019201912345"}
    assert form["items"] == {"投标保证金": "已缴纳"}
    assert form["document"]["name"] == "投标文件.pdf" and form["tender"] == lot.tender.code
    assert bid.content_key == ""

    # and the receipt is the platform's, for exactly this ciphertext
    receipt = receipt_verify(bid.receipt, ca_pem=ca_certificate_pem())
    assert receipt["ciphertext_sha256"] == bid.ciphertext_id and receipt["bid_id"] == str(bid.pk)

    # and the upload evidence has the document's fingerprint and authoring metadata, and the browser's machine code
    evidence = ActivityEvidence.objects.get(action=ActivityEvidence.Action.UPLOAD, entity=bidder.entity)
    assert evidence.file_meta["file_md5"] == hashlib.md5(content).hexdigest()
    assert evidence.file_meta["file_name"] == "投标文件.pdf"
    assert evidence.file_meta["file_size"] == len(content)
    assert evidence.file_meta["author"] == "Chen" and evidence.file_meta["producer"] == "GJ test"
    assert evidence.hardware["machine_code"].startswith("browser:")

    # and no request ever carried the plaintext, the form, the content key or the key password
    sent = b"\n".join(bodies)
    assert marker not in sent and content[-64:] not in sent
    assert b"12345678.90" not in sent and "王建国".encode() not in sent
    for encoded in (cek, cek.hex().encode(), b64u(cek).encode(), base64.b64encode(cek)):
        assert encoded not in sent
    assert KEY_PASSWORD.encode() not in sent
    assert not problems, problems


UPLOAD_IN_PARTS_JS = """
async ({signing, lot, prefix}) => {
  const signingKey = await crypto.subtle.importKey("pkcs8", GJSeal.b64uDecode(signing),
    {name: "ECDSA", namedCurve: "P-256"}, false, ["sign"]);
  const p = await (await fetch(prefix + "lots/" + lot + "/recipients")).json();
  const data = new Uint8Array(500000);
  crypto.getRandomValues(data.subarray(0, 65536));
  const sealed = await GJSeal.seal({form: {price: "1.00", currency: "CNY"}, documentBytes: data,
    documentName: "a.bin", contentType: "", tender: p.tender, lot: p.lot, bidder: p.bidder, certSerial: p.cert,
    signingKey, chunk: p.chunk, recipients: p.recipients.map((r) => ({to: r.to, kid: r.kid, publicKey: r.public_key}))});
  const progress = [];
  const result = await GJSeal.upload({prefix, lot, ciphertext: sealed.ciphertext, headerBytes: sealed.headerBytes,
    signature: sealed.signature, ciphertextSha256: sealed.ciphertextSha256, ciphertextSize: sealed.ciphertextSize,
    csrfToken: document.querySelector("input[name=csrfmiddlewaretoken]").value,
    partSize: 65536, onProgress: (e) => progress.push(e.done)});
  return {bid: result.bid_id, sha: sealed.ciphertextSha256, size: sealed.ciphertextSize, progress};
}
"""


@pytest.mark.django_db(transaction=True)
def test_upload_in_parts_resumes_from_what_the_server_received(live_server, new_context, tmp_path):
    # given a bidder on its submit page, and a network that loses the answer to the third part after the
    # server stored it, and a server too busy (503) to take the fifth part
    bidder, key, _cert, _key_file, lot = _bidder_world(tmp_path)
    context = new_context()
    context.add_cookies([_session_cookie(bidder, live_server)])
    page = context.new_page()
    page.goto(live_server.url + reverse("bidding:bid-submit", args=[lot.pk]))
    offsets: list[int] = []

    def flaky(route):
        offsets.append(int(parse_qs(urlparse(route.request.url).query)["offset"][0]))
        if len(offsets) == 3:
            route.fetch()
            route.abort("connectionreset")
        elif len(offsets) == 5:
            route.fulfill(status=503, body="busy")
        else:
            route.continue_()

    page.route("**/bidding/uploads/*/?offset=*", flaky)
    # when the browser seals a bid and uploads it in 64 KiB parts
    got = page.evaluate(UPLOAD_IN_PARTS_JS, {"signing": pkcs8(key), "lot": lot.pk, "prefix": "/bidding/"})
    # then after the lost answer it went on from what the server had (no part sent twice), after the 503 it
    # sent that part again, and the platform holds exactly the ciphertext the browser sealed
    part = 65536
    assert offsets[:7] == [0, part, 2 * part, 3 * part, 4 * part, 4 * part, 5 * part]
    assert offsets[-1] == (got["size"] - 1) // part * part
    assert got["progress"][-1] == got["size"]
    bid = Bid.objects.get(pk=got["bid"])
    assert bid.ciphertext_id == got["sha"] and bid.ciphertext_size == got["size"]
    assert _opened(bid, key)[0]["price"] == "1.00"


@pytest.mark.django_db(transaction=True)
def test_bidder_replaces_then_withdraws_before_the_deadline(live_server, new_context, tmp_path):
    # given a bidder that has submitted a bid from the page
    bidder, key, _cert, key_file, lot = _bidder_world(tmp_path)
    first, second = tmp_path / "first.bin", tmp_path / "second.bin"
    first.write_bytes(os.urandom(5000))
    second.write_bytes(os.urandom(7000))
    context = new_context()
    context.add_cookies([_session_cookie(bidder, live_server)])
    page = context.new_page()
    _bodies, problems = _watch(page)
    page.on("dialog", lambda dialog: dialog.accept())
    url = live_server.url + reverse("bidding:bid-submit", args=[lot.pk])
    page.goto(url)
    _fill_and_seal(page, price="100", document=first, key_file=key_file)
    page.wait_for_selector("#bid-status[data-done]", timeout=60_000)
    original = Bid.objects.get(lot=lot, status=Bid.Status.ACTIVE)

    # when, after a reload, the bidder replaces it with another document and price
    page.goto(url)
    assert page.text_content("#bid-id").strip() == str(original.pk)
    page.click("#bid-replace")
    _fill_and_seal(page, price="99.5", document=second, key_file=key_file)
    page.wait_for_function(f"() => document.querySelector('#bid-id').textContent.trim() !== '{original.pk}'")

    # then the new bid is the active one and the old one is marked replaced
    replacement = Bid.objects.get(lot=lot, status=Bid.Status.ACTIVE)
    original.refresh_from_db()
    assert original.status == Bid.Status.REPLACED and original.replaced_by == replacement
    form, document, _cek = _opened(replacement, key)
    assert form["price"] == "99.50" and document == second.read_bytes()

    # when the bidder withdraws it
    page.click("#bid-withdraw")
    page.wait_for_selector("#bid-form:not([hidden])")

    # then no bid of the bidder is active, and the page offers the form again
    replacement.refresh_from_db()
    assert replacement.status == Bid.Status.WITHDRAWN
    assert not Bid.objects.filter(lot=lot, status=Bid.Status.ACTIVE).exists()
    assert not problems, problems


@pytest.mark.django_db(transaction=True)
def test_wrong_key_file_is_refused_before_anything_is_sent(live_server, new_context, tmp_path):
    # given a bidder whose key file holds another key than its active certificate's
    bidder, _key, cert, _key_file, lot = _bidder_world(tmp_path)
    stranger = tmp_path / "other-key.json"
    stranger.write_bytes(
        keyclient.keyfile_dump(
            keyclient.key_generate(), KEY_PASSWORD, certificate_serial=cert.serial, iterations=100_000
        )
    )
    document = tmp_path / "bid.bin"
    document.write_bytes(b"bid")
    context = new_context()
    context.add_cookies([_session_cookie(bidder, live_server)])
    page = context.new_page()
    bodies, _problems = _watch(page)
    page.goto(live_server.url + reverse("bidding:bid-submit", args=[lot.pk]))
    # when the bidder seals with it
    _fill_and_seal(page, price="1", document=document, key_file=stranger)
    # then the page refuses with the code, and no upload was started
    page.wait_for_selector("#bid-status[data-error]")
    assert "key_certificate_mismatch" in page.text_content("#bid-status")
    assert not Bid.objects.exists() and not any(bodies)


@pytest.mark.django_db(transaction=True)
def test_submit_page_after_the_deadline_offers_no_form(live_server, new_context, tmp_path):
    # given a tender whose deadline has passed
    bidder, _key, _cert, _key_file, lot = _bidder_world(tmp_path, deadline_in=-dt.timedelta(minutes=1))
    context = new_context()
    context.add_cookies([_session_cookie(bidder, live_server)])
    page = context.new_page()
    # when the bidder opens the submit page
    page.goto(live_server.url + reverse("bidding:bid-submit", args=[lot.pk]))
    # then it says so and has no bid form
    assert page.query_selector("#bid-form") is None
    assert page.text_content("#bid-countdown").strip() != "—"


@pytest.mark.django_db(transaction=True)
def test_submit_page_requires_the_documents_to_have_been_obtained(tmp_path):
    # given a bidder that has not obtained the tender documents
    bidder, _key, _cert, _key_file, lot = _bidder_world(tmp_path, obtained=False)
    client = Client()
    client.force_login(bidder)
    # when it opens the submit page
    response = client.get(reverse("bidding:bid-submit", args=[lot.pk]))
    # then it is refused with the code
    assert response.status_code == 403
    assert b"documents_not_obtained" in response.content
