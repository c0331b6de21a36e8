"""GJ-SEAL v1 (docs/sealed-bid.md): sealing, opening, wrapping, signatures, the header rules, refusal
codes, and the known-answer vectors that bind the Python and browser implementations."""

from __future__ import annotations

import hashlib
import io
import json
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from bidding import envelope as E
from bidding import vectors
from bidding.envelope import stream as envelope_stream
from bidding.envelope.codec import canonical_json as codec_canonical_json
from bidding.envelope.form import MAGIC

ROOT = Path(__file__).resolve().parents[2]
TENDER, BIDDER, CERT = "12450000MB0Y95706Y20260301000007I", "91450100MA5KX2Q7AQ", "0a1b2c3d"
FORM = {"price": "1000.00", "currency": "CNY", "duration_days": 90, "items": {"工期": "90日历天"}}


@pytest.fixture(scope="module")
def keys():
    return {name: ec.generate_private_key(ec.SECP256R1()) for name in ("bidder", "custodian", "other")}


def recipients(keys, *, custodian=True):
    result = [E.Recipient("bidder", CERT, keys["bidder"].public_key())]
    if custodian:
        result.append(E.Recipient("custodian", "ck-1", keys["custodian"].public_key()))
    return result


def make(keys, document=b"document bytes", *, chunk=4096, custodian=True, form=FORM, lot=1):
    out = io.BytesIO()
    sealed = E.seal(
        form=form,
        document=document,
        document_name="投标文件.pdf",
        content_type="application/pdf",
        tender=TENDER,
        lot=lot,
        bidder=BIDDER,
        cert_serial=CERT,
        signing_key=keys["bidder"],
        recipients=recipients(keys, custodian=custodian),
        out=out,
        chunk=chunk,
    )
    return sealed, out.getvalue()


def seal_raw(keys, plaintext: bytes, *, chunk=4096, size=None):
    """An envelope around arbitrary plaintext: what a broken or hostile client could produce."""
    cek, np_ = bytes(range(32)), bytes(7)
    header = {
        "alg": "GJ-SEAL-1",
        "v": 1,
        "tender": TENDER,
        "lot": 1,
        "bidder": BIDDER,
        "cert": CERT,
        "chunk": chunk,
        "size": len(plaintext) if size is None else size,
        "np": E.b64u(np_),
        "kc": E.b64u(E.key_commitment(cek)),
        "wraps": [E.wrap_key(cek=cek, recipient=recipients(keys)[0], tender=TENDER, lot=1, bidder=BIDDER)],
    }
    header_bytes = E.canonical_json(header)
    out = io.BytesIO()
    envelope_stream._encrypt(
        cek=cek,
        nonce_prefix=np_,
        header_bytes=header_bytes,
        chunk=chunk,
        size=len(plaintext),
        prefix=plaintext,
        document=io.BytesIO(b""),
        document_sha256=hashlib.sha256(b"").hexdigest(),
        out=out,
    )
    return header_bytes, cek, out.getvalue()


def form_plaintext(form: dict, document: bytes) -> bytes:
    data = codec_canonical_json(form)
    return MAGIC + struct.pack(">I", len(data)) + data + document


def full_form(document: bytes, **changes) -> dict:
    form = {
        **FORM,
        "v": 1,
        "tender": TENDER,
        "lot": 1,
        "bidder": BIDDER,
        "document": {
            "name": "a.pdf",
            "size": len(document),
            "sha256": hashlib.sha256(document).hexdigest(),
            "content_type": "application/pdf",
        },
    }
    form.update(changes)
    return form


def refused(code: str, fn, *args, **kwargs):
    with pytest.raises(E.EnvelopeError) as info:
        fn(*args, **kwargs)
    assert info.value.code == code, info.value.params
    return info.value


# --- round trip -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 4000, 4096 * 3, 50_000])
def test_seal_then_open_returns_the_form_and_document(keys, size):
    # given a document of this size, sealed in 4 KiB chunks
    document = hashlib.sha256(str(size).encode()).digest() * (size // 32 + 1)
    document = document[:size]
    sealed, ciphertext = make(keys, document)
    # when the bidder unwraps its key and the platform opens the envelope
    header = E.parse_header(sealed.header_bytes)
    cek = E.unwrap(header=header, to="bidder", private_key=keys["bidder"])
    out = io.BytesIO()
    opened = E.open_stream(
        header_bytes=sealed.header_bytes, cek=cek, ciphertext=io.BytesIO(ciphertext), document_out=out
    )
    # then the form and document come back, and the sizes agree with the header
    assert out.getvalue() == document
    assert opened.form["price"] == "1000.00" and opened.form["items"] == {"工期": "90日历天"}
    assert opened.document_meta == opened.form["document"]
    assert opened.document_meta["sha256"] == hashlib.sha256(document).hexdigest() == opened.document_sha256
    assert opened.plaintext_size == header["size"]
    assert len(ciphertext) == sealed.ciphertext_size == E.expected_ciphertext_size(header)
    assert sealed.ciphertext_sha256 == hashlib.sha256(ciphertext).hexdigest()


def test_a_document_stream_is_sealed_from_its_current_position(keys, tmp_path):
    # given a file whose first bytes are not part of the document
    path = tmp_path / "doc.bin"
    path.write_bytes(b"SKIP" + b"x" * 9000)
    with path.open("rb") as fh:
        fh.seek(4)
        sealed, ciphertext = make(keys, fh)
    # when opened
    out = io.BytesIO()
    E.open_stream(
        header_bytes=sealed.header_bytes, cek=sealed.cek, ciphertext=io.BytesIO(ciphertext), document_out=out
    )
    # then the document is what followed the position
    assert out.getvalue() == b"x" * 9000


def test_a_document_stream_without_readinto_is_sealed(keys):
    # given a seekable stream that only offers read() (some upload wrappers do)
    class ReadOnly:
        def __init__(self, data):
            self.inner = io.BytesIO(data)

        def read(self, n=-1):
            return self.inner.read(n)

        def seek(self, pos, whence=0):
            return self.inner.seek(pos, whence)

        def tell(self):
            return self.inner.tell()

    sealed, ciphertext = make(keys, ReadOnly(b"q" * 9000))
    out = io.BytesIO()
    E.open_stream(
        header_bytes=sealed.header_bytes, cek=sealed.cek, ciphertext=io.BytesIO(ciphertext), document_out=out
    )
    assert out.getvalue() == b"q" * 9000


def test_the_custodian_wrap_opens_with_the_custodian_key(keys):
    sealed, _ = make(keys)
    header = E.parse_header(sealed.header_bytes)
    assert E.unwrap(header=header, to="custodian", private_key=keys["custodian"]) == sealed.cek


def test_the_header_is_canonical_and_binds_tender_lot_bidder_and_key(keys):
    sealed, _ = make(keys, lot=3)
    header = json.loads(sealed.header_bytes)
    assert sealed.header_bytes == E.canonical_json(header)
    assert (header["tender"], header["lot"], header["bidder"], header["cert"]) == (TENDER, 3, BIDDER, CERT)
    assert [w["to"] for w in header["wraps"]] == ["bidder", "custodian"]
    assert E.b64u_decode(header["kc"]) == hashlib.sha256(b"GJ-SEAL-1 key" + sealed.cek).digest()
    assert header["chunk"] == 4096


def test_the_default_chunk_is_one_mebibyte(keys):
    out = io.BytesIO()
    sealed = E.seal(
        form=FORM,
        document=b"",
        document_name="a",
        content_type="",
        tender=TENDER,
        lot=1,
        bidder=BIDDER,
        cert_serial=CERT,
        signing_key=keys["bidder"],
        recipients=recipients(keys, custodian=False),
        out=out,
    )
    assert E.parse_header(sealed.header_bytes)["chunk"] == 1024 * 1024 == E.DEFAULT_CHUNK


def test_a_file_is_opened_through_a_mapping_like_a_stream(keys, tmp_path):
    # given the same envelope on disk (mapped) and in memory (read)
    document = bytes(range(256)) * 200
    sealed, ciphertext = make(keys, document)
    path = tmp_path / "ct.bin"
    path.write_bytes(ciphertext)
    with path.open("rb") as fh:
        out = io.BytesIO()
        opened = E.open_stream(
            header_bytes=sealed.header_bytes, cek=sealed.cek, ciphertext=fh, document_out=out
        )
        # then both give the document, and the file is left at its end
        assert fh.tell() == len(ciphertext)
    assert out.getvalue() == document and opened.document_sha256 == hashlib.sha256(document).hexdigest()


def test_opening_reads_in_bounded_pieces(keys):
    # given a stream that records how much is asked of it at once
    sealed, ciphertext = make(keys, b"y" * 100_000)

    class Recorder(io.RawIOBase):
        def __init__(self, data):
            self.data, self.pos, self.largest = data, 0, 0

        def readable(self):
            return True

        def readinto(self, buffer):
            n = min(len(buffer), len(self.data) - self.pos)
            self.largest = max(self.largest, len(buffer))
            buffer[:n] = self.data[self.pos : self.pos + n]
            self.pos += n
            return n

    source = Recorder(ciphertext)
    # when opened
    E.open_stream(header_bytes=sealed.header_bytes, cek=sealed.cek, ciphertext=source)
    # then no read was larger than the fixed window: memory does not grow with the bid
    assert 0 < source.largest <= envelope_stream.WINDOW


def test_a_stream_without_readinto_still_opens(keys):
    sealed, ciphertext = make(keys, b"z" * 9000)

    class ReadOnly:
        def __init__(self, data):
            self.inner = io.BytesIO(data)

        def read(self, n=-1):
            return self.inner.read(min(n, 1000))  # short reads, as a socket gives

    opened = E.open_stream(header_bytes=sealed.header_bytes, cek=sealed.cek, ciphertext=ReadOnly(ciphertext))
    assert opened.document_meta["size"] == 9000


# --- keys ------------------------------------------------------------------------------------------------


def test_unwrap_with_another_key_is_refused(keys):
    sealed, _ = make(keys)
    refused(
        "envelope_key_invalid",
        E.unwrap,
        header=E.parse_header(sealed.header_bytes),
        to="bidder",
        private_key=keys["other"],
    )


def test_unwrap_for_an_absent_custodian_wrap_is_refused(keys):
    sealed, _ = make(keys, custodian=False)
    header = E.parse_header(sealed.header_bytes)
    refused("envelope_key_invalid", E.unwrap, header=header, to="custodian", private_key=keys["custodian"])


def test_a_wrap_is_bound_to_tender_lot_and_bidder(keys):
    # given the bidder wrap of an envelope, moved into a header that names lot 2
    sealed, _ = make(keys)
    header = dict(E.parse_header(sealed.header_bytes), lot=2)
    # when unwrapped, the KEK derives from another info string
    refused("envelope_key_invalid", E.unwrap, header=header, to="bidder", private_key=keys["bidder"])


def test_a_content_key_that_is_not_committed_is_refused_before_reading(keys):
    # given the right header and a wrong content key
    sealed, ciphertext = make(keys)
    source = io.BytesIO(ciphertext)
    # when opened
    refused(
        "envelope_key_invalid",
        E.open_stream,
        header_bytes=sealed.header_bytes,
        cek=bytes(32),
        ciphertext=source,
    )
    # then nothing was read
    assert source.tell() == 0


def test_a_wrap_that_carries_another_key_is_refused(keys):
    # given a custodian wrap around a key other than the committed one (a client's mistake or ruse)
    sealed, _ = make(keys)
    header = E.parse_header(sealed.header_bytes)
    header["wraps"][1] = E.wrap_key(
        cek=bytes(32), recipient=recipients(keys)[1], tender=TENDER, lot=1, bidder=BIDDER
    )
    # then the custodian's unwrap refuses it rather than yield a key that opens nothing
    refused("envelope_key_invalid", E.unwrap, header=header, to="custodian", private_key=keys["custodian"])


@pytest.mark.parametrize("text", ["", "AAAA", "A" * 44, "not base64!"])
def test_a_content_key_in_b64u_must_be_32_bytes(text):
    refused("envelope_key_invalid", E.cek_from_b64u, text)


def test_public_keys_round_trip_as_uncompressed_points(keys):
    text = E.public_key_b64u(keys["bidder"].public_key())
    assert len(E.b64u_decode(text)) == 65 and E.b64u_decode(text)[0] == 4
    assert E.public_key_from_b64u(text).public_numbers() == keys["bidder"].public_key().public_numbers()


def test_a_point_off_the_curve_is_refused():
    refused("envelope_header_malformed", E.public_key_from_b64u, E.b64u(b"\x04" + bytes(64)))


# --- encodings -----------------------------------------------------------------------------------------


def test_b64u_has_no_padding_and_round_trips():
    for data in (b"", b"\xff", b"\xfb\xff", b"abc", bytes(range(100))):
        text = E.b64u(data)
        assert "=" not in text and "+" not in text and "/" not in text
        assert E.b64u_decode(text) == data


@pytest.mark.parametrize("text", ["QQ==", "QR", "A", "a+b/", "QQ\n"])
def test_b64u_refuses_padding_other_alphabets_and_non_canonical_text(text):
    refused("envelope_header_malformed", E.b64u_decode, text)


def test_canonical_json_sorts_keys_and_keeps_chinese():
    assert E.canonical_json({"b": 1, "a": ["质量", None]}) == '{"a":["质量",null],"b":1}'.encode()


def test_canonical_json_refuses_nan_and_lone_surrogates():
    # JavaScript prints NaN as null and escapes lone surrogates: no shared canonical form exists
    with pytest.raises(ValueError):
        E.canonical_json({"a": float("nan")})
    with pytest.raises(UnicodeError):
        E.canonical_json({"a": "\ud800"})


def test_a_float_in_the_form_is_refused():
    # floats are legal JSON, but JavaScript and Python print them differently
    form = {**full_form(b""), "duration_days": 1.5}
    refused("envelope_plaintext_malformed", E.check_form, form, tender=TENDER, lot=1, bidder=BIDDER)


# --- header rules ---------------------------------------------------------------------------------------


def _mutated_header(sealed, **changes) -> bytes:
    header = json.loads(sealed.header_bytes)
    for key, value in changes.items():
        if value is KeyError:
            del header[key]
        else:
            header[key] = value
    return E.canonical_json(header)


@pytest.mark.parametrize(
    "changes",
    [
        {"alg": "GJ-SEAL-2"},
        {"v": 2},
        {"v": True},
        {"lot": True},
        {"lot": 0},
        {"lot": "1"},
        {"tender": "a|b"},
        {"bidder": ""},
        {"cert": "0A1B"},
        {"chunk": 5000},
        {"chunk": 2048},
        {"chunk": 8 * 1024 * 1024},
        {"size": 9},
        {"np": "AAAA"},
        {"kc": "AAAA"},
        {"wraps": []},
        {"extra": 1},
        {"np": KeyError},
    ],
)
def test_header_rules_refuse_malformed_headers(keys, changes):
    sealed, _ = make(keys)
    refused("envelope_header_malformed", E.parse_header, _mutated_header(sealed, **changes))


def test_a_header_that_is_not_canonical_is_refused(keys):
    sealed, _ = make(keys)
    spaced = json.dumps(json.loads(sealed.header_bytes), sort_keys=True, ensure_ascii=False).encode()
    refused("envelope_header_malformed", E.parse_header, spaced)
    refused("envelope_header_malformed", E.parse_header, b"\xff{}")
    refused("envelope_header_malformed", E.parse_header, b"[]")
    refused("envelope_header_malformed", E.parse_header, b"")


def test_wraps_must_be_bidder_first_with_the_certificate_as_kid(keys):
    sealed, _ = make(keys)
    wraps = json.loads(sealed.header_bytes)["wraps"]
    refused("envelope_header_malformed", E.parse_header, _mutated_header(sealed, wraps=wraps[::-1]))
    refused(
        "envelope_header_malformed",
        E.parse_header,
        _mutated_header(sealed, wraps=[{**wraps[0], "kid": "ff"}]),
    )
    refused(
        "envelope_header_malformed",
        E.parse_header,
        _mutated_header(sealed, wraps=[{**wraps[0], "ct": "AAAA"}]),
    )
    refused(
        "envelope_header_malformed",
        E.parse_header,
        _mutated_header(sealed, wraps=[{**wraps[0], "epk": E.b64u(b"\x04" + bytes(64))}]),
    )


def test_the_ciphertext_size_counts_one_tag_per_chunk():
    base = {"chunk": 4096}
    assert E.expected_ciphertext_size({**base, "size": 10}) == 26
    assert E.expected_ciphertext_size({**base, "size": 4096}) == 4112
    assert E.expected_ciphertext_size({**base, "size": 4097}) == 4097 + 32
    assert E.expected_ciphertext_size({**base, "size": 3 * 4096}) == 3 * 4112


# --- sealing refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "form",
    [
        {"price": "12.3", "currency": "CNY"},
        {"price": "-1.00", "currency": "CNY"},
        {"price": 12, "currency": "CNY"},
        {"price": "1.00", "currency": "cny"},
        {"price": "1.00"},
        {"price": "1.00", "currency": "CNY", "colour": "red"},
        {"price": "1.00", "currency": "CNY", "tender": "OTHER"},
        {"price": "1.00", "currency": "CNY", "project_manager": {"name": "王"}},
        {"price": "1.00", "currency": "CNY", "items": {"😀": "x"}},
        {"price": "1.00", "currency": "CNY", "duration_days": -1},
    ],
)
def test_sealing_refuses_a_form_the_platform_would_refuse(keys, form):
    refused("envelope_plaintext_malformed", make, keys, form=form)


def test_sealing_needs_the_bidder_wrap_first(keys):
    with pytest.raises(E.EnvelopeError) as info:
        E.seal(
            form=FORM,
            document=b"",
            document_name="a",
            content_type="",
            tender=TENDER,
            lot=1,
            bidder=BIDDER,
            cert_serial=CERT,
            signing_key=keys["bidder"],
            recipients=recipients(keys)[::-1],
            out=io.BytesIO(),
            chunk=4096,
        )
    assert info.value.code == "envelope_header_malformed"


# --- opening refusals ----------------------------------------------------------------------------------


def test_plaintext_without_the_gjpt1_magic_is_refused(keys):
    document = b"abc"
    plaintext = b"XXXXX\n" + form_plaintext(full_form(document), document)[6:]
    header_bytes, cek, ciphertext = seal_raw(keys, plaintext)
    refused(
        "envelope_plaintext_malformed",
        E.open_stream,
        header_bytes=header_bytes,
        cek=cek,
        ciphertext=io.BytesIO(ciphertext),
    )


def test_a_form_naming_another_tender_than_its_header_is_refused(keys):
    document = b"abc"
    plaintext = form_plaintext(full_form(document, tender="OTHER"), document)
    header_bytes, cek, ciphertext = seal_raw(keys, plaintext)
    refused(
        "envelope_plaintext_malformed",
        E.open_stream,
        header_bytes=header_bytes,
        cek=cek,
        ciphertext=io.BytesIO(ciphertext),
    )


def test_a_form_whose_length_runs_past_the_plaintext_is_refused(keys):
    plaintext = MAGIC + struct.pack(">I", 10_000) + b"{}"
    header_bytes, cek, ciphertext = seal_raw(keys, plaintext)
    refused(
        "envelope_plaintext_malformed",
        E.open_stream,
        header_bytes=header_bytes,
        cek=cek,
        ciphertext=io.BytesIO(ciphertext),
    )


def test_a_form_that_is_not_canonical_is_refused(keys):
    document = b"abc"
    data = json.dumps(full_form(document), sort_keys=True).encode()  # spaces, \\u escapes
    plaintext = MAGIC + struct.pack(">I", len(data)) + data + document
    header_bytes, cek, ciphertext = seal_raw(keys, plaintext)
    refused(
        "envelope_plaintext_malformed",
        E.open_stream,
        header_bytes=header_bytes,
        cek=cek,
        ciphertext=io.BytesIO(ciphertext),
    )


def test_a_document_whose_digest_differs_from_the_form_is_refused(keys):
    # given a form that declares the digest of other bytes (a bidder hiding an identical document)
    document = b"the real document" * 500
    form = full_form(document)
    form["document"]["sha256"] = hashlib.sha256(b"something else").hexdigest()
    header_bytes, cek, ciphertext = seal_raw(keys, form_plaintext(form, document))
    # then opening refuses it
    refused(
        "envelope_plaintext_malformed",
        E.open_stream,
        header_bytes=header_bytes,
        cek=cek,
        ciphertext=io.BytesIO(ciphertext),
    )
    # unless the caller chose not to check the document (the digest is then not reported)
    opened = E.open_stream(
        header_bytes=header_bytes, cek=cek, ciphertext=io.BytesIO(ciphertext), verify_document=False
    )
    assert opened.document_sha256 is None


def test_a_declared_ciphertext_digest_is_checked_while_opening(keys):
    sealed, ciphertext = make(keys)
    refused(
        "envelope_digest_mismatch",
        E.open_stream,
        header_bytes=sealed.header_bytes,
        cek=sealed.cek,
        ciphertext=io.BytesIO(ciphertext),
        ciphertext_sha256="0" * 64,
    )


# --- submission checks ---------------------------------------------------------------------------------


def _verify(sealed, ciphertext, key, **overrides):
    arguments = {
        "header_bytes": sealed.header_bytes,
        "signature": sealed.signature,
        "ciphertext_sha256": hashlib.sha256(ciphertext).hexdigest(),
        "ciphertext_size": len(ciphertext),
        "public_key": key,
        "tender": TENDER,
        "lot": 1,
        "bidder": BIDDER,
    }
    arguments.update(overrides)
    return E.verify_envelope(**arguments)


def test_a_good_envelope_verifies_and_the_key_lookup_sees_the_header(keys):
    sealed, ciphertext = make(keys)
    seen = []

    def lookup(header):
        seen.append(header["cert"])
        return keys["bidder"].public_key()

    header = _verify(
        sealed,
        ciphertext,
        lookup,
        declared_sha256=sealed.ciphertext_sha256,
        declared_size=sealed.ciphertext_size,
    )
    assert header["tender"] == TENDER and seen == [CERT]


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"tender": "12450000MB0Y95706Y20260301000008G"}, "envelope_binding_mismatch"),
        ({"lot": 2}, "envelope_binding_mismatch"),
        ({"bidder": "91350200MA2Y7Q3L10"}, "envelope_binding_mismatch"),
        ({"declared_sha256": "0" * 64}, "envelope_digest_mismatch"),
        ({"declared_size": 1}, "envelope_digest_mismatch"),
        ({"signature": "AAAA"}, "envelope_signature_invalid"),
        ({"signature": E.b64u(bytes(64))}, "envelope_signature_invalid"),
        ({"signature": "!"}, "envelope_signature_invalid"),
        ({"header_bytes": b"{}"}, "envelope_header_malformed"),
    ],
)
def test_submission_checks_refuse_with_their_code(keys, overrides, code):
    sealed, ciphertext = make(keys)
    refused(code, _verify, sealed, ciphertext, keys["bidder"].public_key(), **overrides)


def test_a_ciphertext_of_the_wrong_length_is_refused_before_the_signature(keys):
    # given the bidder signed a ciphertext one byte longer than the header allows
    sealed, ciphertext = make(keys)
    longer = ciphertext + b"\0"
    # then the size rule refuses it
    refused("envelope_size_invalid", _verify, sealed, longer, keys["bidder"].public_key())


def test_a_signature_by_another_key_is_refused(keys):
    sealed, ciphertext = make(keys)
    refused("envelope_signature_invalid", _verify, sealed, ciphertext, keys["other"].public_key())


def test_the_certificate_lookup_runs_after_the_size_check(keys):
    sealed, ciphertext = make(keys)

    def lookup(header):
        raise E.EnvelopeError("envelope_certificate_invalid")

    refused("envelope_certificate_invalid", _verify, sealed, ciphertext, lookup)
    refused("envelope_size_invalid", _verify, sealed, ciphertext + b"\0", lookup)


def test_the_statement_is_canonical_json_of_both_digests(keys):
    sealed, _ciphertext = make(keys)
    statement = E.signature_statement(
        header_bytes=sealed.header_bytes, ciphertext_sha256="ab", ciphertext_size=7
    )
    assert json.loads(statement) == {
        "ciphertext_sha256": "ab",
        "ciphertext_size": 7,
        "header_sha256": hashlib.sha256(sealed.header_bytes).hexdigest(),
        "v": 1,
    }
    assert statement == E.canonical_json(json.loads(statement))


def test_an_envelope_error_is_a_validation_failure_with_a_message():
    error = E.EnvelopeError("envelope_truncated", detail="the stream ends in chunk 2")
    data = error.as_dict()
    assert data["code"] == "envelope_truncated" and data["message"] and data["params"]["detail"]
    assert error.status == 400
    with pytest.raises(ValueError):
        E.EnvelopeError("envelope_unheard_of")


# --- known-answer vectors ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vector_file():
    return json.loads((ROOT / "docs" / "sealed-bid-vectors.json").read_text(encoding="utf-8"))


def test_the_vector_file_is_what_the_generator_produces(vector_file):
    # the committed file is reproducible byte for byte (RFC 6979 signatures, fixed inputs)
    assert vector_file == json.loads(json.dumps(vectors.build(), ensure_ascii=False))


def test_the_vectors_cover_the_edge_cases(vector_file):
    names = {v["name"] for v in vector_file["vectors"]}
    assert {"empty-document", "exact-chunk-boundary", "multi-chunk-custodian", "chunk-64k", "small"} <= names
    boundary = next(v for v in vector_file["vectors"] if v["name"] == "exact-chunk-boundary")
    assert boundary["plaintext_size"] == 3 * 4096
    empty = next(v for v in vector_file["vectors"] if v["name"] == "empty-document")
    assert empty["sealed_form"]["document"]["sha256"] == hashlib.sha256(b"").hexdigest()


def test_each_vector_reproduces_from_its_inputs(vector_file):
    from cryptography.hazmat.primitives import serialization

    for vector in vector_file["vectors"]:
        inputs = vector["inputs"]
        out = io.BytesIO()
        recipients_ = [
            E.Recipient(w["to"], w["kid"], E.public_key_from_b64u(w["recipient_public_key"]))
            for w in inputs["wraps"]
        ]
        ephemeral = [
            (
                serialization.load_der_private_key(E.b64u_decode(w["ephemeral_pkcs8"]), None),
                E.b64u_decode(w["iv"]),
            )
            for w in inputs["wraps"]
        ]
        signing = serialization.load_der_private_key(
            E.b64u_decode(vector_file["keys"]["bidder"]["pkcs8"]), None
        )
        sealed = E.seal(
            form=inputs["form"],
            document=E.b64u_decode(inputs["document"]),
            document_name=inputs["document_name"],
            content_type=inputs["content_type"],
            tender=inputs["tender"],
            lot=inputs["lot"],
            bidder=inputs["bidder"],
            cert_serial=inputs["cert"],
            signing_key=signing,
            recipients=recipients_,
            out=out,
            chunk=inputs["chunk"],
            _cek=E.b64u_decode(inputs["cek"]),
            _nonce_prefix=E.b64u_decode(inputs["np"]),
            _ephemeral=ephemeral,
        )
        assert E.b64u(sealed.header_bytes) == vector["header"], vector["name"]
        assert E.b64u(out.getvalue()) == vector["ciphertext"], vector["name"]
        assert sealed.ciphertext_sha256 == vector["ciphertext_sha256"]
        # the vector's (RFC 6979) signature verifies; ours is randomized and verifies too
        for signature in (vector["signature"], sealed.signature):
            E.verify_signature(
                public_key=signing.public_key(),
                header_bytes=sealed.header_bytes,
                ciphertext_sha256=vector["ciphertext_sha256"],
                ciphertext_size=vector["ciphertext_size"],
                signature=signature,
            )
        assert vector["statement"].encode() == E.signature_statement(
            header_bytes=sealed.header_bytes,
            ciphertext_sha256=vector["ciphertext_sha256"],
            ciphertext_size=vector["ciphertext_size"],
        )


def _run_stage(vector_file, vector, stage, state):
    from cryptography.hazmat.primitives import serialization

    keys_ = vector_file["keys"]
    if stage == "open":
        return E.open_stream(
            header_bytes=state["header_bytes"], cek=state["cek"], ciphertext=io.BytesIO(state["ciphertext"])
        )
    if stage == "verify":
        public = serialization.load_der_private_key(
            E.b64u_decode(keys_["bidder"]["pkcs8"]), None
        ).public_key()
        return E.verify_envelope(
            header_bytes=state["header_bytes"],
            signature=state["signature"],
            ciphertext_sha256=hashlib.sha256(state["ciphertext"]).hexdigest(),
            ciphertext_size=len(state["ciphertext"]),
            public_key=public,
            tender=state["tender"],
            lot=state["lot"],
            bidder=state["bidder"],
        )
    key = state["key"] or serialization.load_der_private_key(E.b64u_decode(keys_["bidder"]["pkcs8"]), None)
    return E.unwrap(header=E.parse_header(state["header_bytes"]), to="bidder", private_key=key)


def test_each_vector_passes_every_stage_unchanged(vector_file):
    for vector in vector_file["vectors"]:
        state = vectors.apply_mutation(vector, {"op": "binding"})
        opened = _run_stage(vector_file, vector, "open", state)
        assert opened.form == vector["sealed_form"]
        _run_stage(vector_file, vector, "verify", state)
        assert _run_stage(vector_file, vector, "unwrap", state) == E.b64u_decode(vector["inputs"]["cek"])


def test_each_negative_vector_is_refused_with_its_code(vector_file):
    count = 0
    for vector in vector_file["vectors"]:
        for case in vector["negative"]:
            state = vectors.apply_mutation(vector, case["mutation"])
            with pytest.raises(E.EnvelopeError) as info:
                _run_stage(vector_file, vector, case["stage"], state)
            assert info.value.code == case["code"], (vector["name"], case["name"])
            count += 1
    assert count >= 60
