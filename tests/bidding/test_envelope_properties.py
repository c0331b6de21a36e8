"""Property tests (hypothesis): every tampering of a sealed envelope is refused with its specific code.

The expected code comes from an oracle that follows docs/sealed-bid.md §4 "Reading" on the bytes alone
(length first, then content, chunk by chunk, then trailing bytes), so each test states what the reader
must say, not merely that it fails.
"""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bidding import envelope as E

TENDER, OTHER_TENDER = "12450000MB0Y95706Y20260301000007I", "12450000MB0Y95706Y20260301000008G"
BIDDER, CERT, CHUNK = "91450100MA5KX2Q7AQ", "5f0c2a9e", 4096
PIECE = CHUNK + 16
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

BIDDER_KEY = ec.generate_private_key(ec.SECP256R1())
CUSTODIAN_KEY = ec.generate_private_key(ec.SECP256R1())


def _seal(document: bytes, *, lot=1, bidder=BIDDER, price="1000.00"):
    out = io.BytesIO()
    sealed = E.seal(
        form={"price": price, "currency": "CNY"},
        document=document,
        document_name="bid.pdf",
        content_type="application/pdf",
        tender=TENDER,
        lot=lot,
        bidder=bidder,
        cert_serial=CERT,
        signing_key=BIDDER_KEY,
        recipients=[
            E.Recipient("bidder", CERT, BIDDER_KEY.public_key()),
            E.Recipient("custodian", "ck-1", CUSTODIAN_KEY.public_key()),
        ],
        out=out,
        chunk=CHUNK,
    )
    return sealed, out.getvalue()


# Sealed once: hypothesis varies the tampering, not the (slower) sealing. Four chunks, the last short.
DOCUMENT = hashlib.sha256(b"doc").digest() * 400
SEALED, CIPHERTEXT = _seal(DOCUMENT)
TWIN, TWIN_CIPHERTEXT = _seal(DOCUMENT)  # same inputs, fresh key and nonces: same length, other bytes
N_CHUNKS = E.chunk_count(E.parse_header(SEALED.header_bytes)["size"], CHUNK)
assert N_CHUNKS == 4 and len(CIPHERTEXT) == len(TWIN_CIPHERTEXT)


def chunks(data: bytes) -> list[bytes]:
    return [data[i : i + PIECE] for i in range(0, len(data), PIECE)]


def oracle(tampered: bytes, original: bytes = CIPHERTEXT) -> str | None:
    """The code §4 prescribes for `tampered`, judging by bytes: a chunk authenticates iff it is the
    original chunk at its own place (anything else fails GCM except with probability 2^-128)."""
    offset = 0
    for piece in chunks(original):
        if len(tampered) - offset < len(piece):
            return "envelope_truncated"
        if tampered[offset : offset + len(piece)] != piece:
            return "envelope_chunk_invalid"
        offset += len(piece)
    return "envelope_trailing_data" if len(tampered) > offset else None


def open_code(
    ciphertext: bytes, *, header_bytes: bytes = SEALED.header_bytes, cek: bytes = SEALED.cek
) -> str | None:
    try:
        E.open_stream(header_bytes=header_bytes, cek=cek, ciphertext=io.BytesIO(ciphertext))
    except E.EnvelopeError as error:
        return error.code
    return None


def verify_code(
    *,
    header_bytes=SEALED.header_bytes,
    ciphertext=CIPHERTEXT,
    signature=SEALED.signature,
    key=None,
    **binding,
):
    target = {"tender": TENDER, "lot": 1, "bidder": BIDDER, **binding}
    try:
        E.verify_envelope(
            header_bytes=header_bytes,
            signature=signature,
            ciphertext_sha256=hashlib.sha256(ciphertext).hexdigest(),
            ciphertext_size=len(ciphertext),
            public_key=key or BIDDER_KEY.public_key(),
            **target,
        )
    except E.EnvelopeError as error:
        return error.code
    return None


def test_the_untampered_envelope_opens_and_verifies():
    assert open_code(CIPHERTEXT) is None and oracle(CIPHERTEXT) is None
    assert verify_code() is None


# --- the ciphertext -------------------------------------------------------------------------------------


@FAST
@given(bit=st.integers(min_value=0, max_value=len(CIPHERTEXT) * 8 - 1))
def test_any_single_bit_flip_is_refused_as_an_invalid_chunk(bit):
    tampered = bytearray(CIPHERTEXT)
    tampered[bit // 8] ^= 1 << (bit % 8)
    assert open_code(bytes(tampered)) == "envelope_chunk_invalid"
    # and the signature, over the received digest, no longer verifies
    assert verify_code(ciphertext=bytes(tampered)) == "envelope_signature_invalid"


@FAST
@given(length=st.integers(min_value=0, max_value=len(CIPHERTEXT) - 1))
def test_truncation_at_any_point_is_refused_as_truncated(length):
    assert open_code(CIPHERTEXT[:length]) == "envelope_truncated"


@FAST
@given(extra=st.binary(min_size=1, max_size=PIECE + 1))
def test_trailing_bytes_are_refused(extra):
    assert open_code(CIPHERTEXT + extra) == "envelope_trailing_data"
    # and at submission the length no longer matches the header
    assert verify_code(ciphertext=CIPHERTEXT + extra) == "envelope_size_invalid"


@FAST
@given(order=st.permutations(range(N_CHUNKS - 1)))
def test_reordered_chunks_are_refused_as_invalid_chunks(order):
    # the full-size chunks permuted (the final, shorter chunk stays last)
    assume(list(order) != sorted(order))
    pieces = chunks(CIPHERTEXT)
    tampered = b"".join([pieces[i] for i in order] + [pieces[-1]])
    assert open_code(tampered) == "envelope_chunk_invalid" == oracle(tampered)


@FAST
@given(order=st.permutations(range(N_CHUNKS)))
def test_any_reordering_including_the_final_chunk_gets_the_oracles_code(order):
    assume(list(order) != sorted(order))
    pieces = chunks(CIPHERTEXT)
    tampered = b"".join(pieces[i] for i in order)
    assert open_code(tampered) == oracle(tampered)
    assert oracle(tampered) in {"envelope_chunk_invalid", "envelope_truncated"}


@FAST
@given(source=st.integers(0, N_CHUNKS - 1), at=st.integers(0, N_CHUNKS))
def test_a_duplicated_chunk_is_refused(source, at):
    pieces = chunks(CIPHERTEXT)
    tampered = b"".join([*pieces[:at], pieces[source], *pieces[at:]])
    expected = oracle(tampered)
    assert open_code(tampered) == expected
    # a copy that lands after the final chunk is extra bytes; anywhere else it breaks a chunk
    if at == N_CHUNKS or source == at == N_CHUNKS - 1:
        assert expected == "envelope_trailing_data"
    else:
        assert expected == "envelope_chunk_invalid"


@FAST
@given(drop=st.integers(0, N_CHUNKS - 1))
def test_a_dropped_chunk_is_refused(drop):
    pieces = chunks(CIPHERTEXT)
    tampered = b"".join(pieces[:drop] + pieces[drop + 1 :])
    assert open_code(tampered) == oracle(tampered) in {"envelope_chunk_invalid", "envelope_truncated"}


@FAST
@given(
    start=st.integers(0, len(CIPHERTEXT) - 1),
    replacement=st.binary(min_size=0, max_size=64),
    remove=st.integers(0, 64),
)
def test_any_splice_gets_the_code_the_reading_order_prescribes(start, replacement, remove):
    tampered = CIPHERTEXT[:start] + replacement + CIPHERTEXT[start + remove :]
    assume(tampered != CIPHERTEXT)
    assert open_code(tampered) == oracle(tampered)


# --- the header -----------------------------------------------------------------------------------------


def test_a_header_swapped_between_two_envelopes_is_refused():
    # with the twin's key (what unwrapping the swapped header gives): the chunks do not authenticate
    assert open_code(CIPHERTEXT, header_bytes=TWIN.header_bytes, cek=TWIN.cek) == "envelope_chunk_invalid"
    # with the original key: the twin header does not commit to it
    assert open_code(CIPHERTEXT, header_bytes=TWIN.header_bytes) == "envelope_key_invalid"
    # at submission, the signature covers the original header
    assert verify_code(header_bytes=TWIN.header_bytes) == "envelope_signature_invalid"
    assert verify_code(ciphertext=TWIN_CIPHERTEXT) == "envelope_signature_invalid"


codes = st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=18, max_size=33)


@FAST
@given(
    field=st.sampled_from(["tender", "lot", "bidder"]),
    tender=codes,
    bidder=codes,
    lot=st.integers(min_value=2, max_value=10_000),
)
def test_a_header_field_change_is_refused(field, tender, bidder, lot):
    header = json.loads(SEALED.header_bytes)
    header[field] = {"tender": tender, "lot": lot, "bidder": bidder}[field]
    assume(header[field] != json.loads(SEALED.header_bytes)[field])
    changed = E.canonical_json(header)
    # submitted to the original target: the binding check refuses it
    assert verify_code(header_bytes=changed) == "envelope_binding_mismatch"
    # submitted to the target it now names: the signature refuses it
    assert verify_code(header_bytes=changed, **{field: header[field]}) == "envelope_signature_invalid"
    # opened anyway: every chunk's associated data names the original header
    assert open_code(CIPHERTEXT, header_bytes=changed) == "envelope_chunk_invalid"
    # and the bidder's wrap derives from the original binding
    with pytest.raises(E.EnvelopeError) as info:
        E.unwrap(header=header, to="bidder", private_key=BIDDER_KEY)
    assert info.value.code == "envelope_key_invalid"


@FAST
@given(tender=st.sampled_from([OTHER_TENDER, TENDER[:-1] + "X", "E" + TENDER[1:]]), lot=st.integers(1, 3))
def test_replay_into_another_tender_is_refused(tender, lot):
    assume(tender != TENDER)
    assert verify_code(tender=tender, lot=lot) == "envelope_binding_mismatch"


@FAST
@given(position=st.integers(min_value=0, max_value=len(SEALED.header_bytes) - 1), value=st.integers(0, 255))
def test_any_byte_change_in_the_header_is_refused(position, value):
    tampered = bytearray(SEALED.header_bytes)
    assume(tampered[position] != value)
    tampered[position] = value
    code = open_code(CIPHERTEXT, header_bytes=bytes(tampered))
    # a still-valid header names other data (or another key commitment); anything else is malformed
    assert code in {"envelope_header_malformed", "envelope_chunk_invalid", "envelope_key_invalid"}
    assert verify_code(header_bytes=bytes(tampered)) in {
        "envelope_header_malformed",
        "envelope_binding_mismatch",
        "envelope_size_invalid",
        "envelope_signature_invalid",
    }


# --- keys and signatures ---------------------------------------------------------------------------------


@settings(max_examples=10, deadline=None)
@given(st.data())
def test_a_signature_by_any_other_key_is_refused(data):
    other = ec.generate_private_key(ec.SECP256R1())
    statement = E.signature_statement(
        header_bytes=SEALED.header_bytes,
        ciphertext_sha256=SEALED.ciphertext_sha256,
        ciphertext_size=len(CIPHERTEXT),
    )
    forged = E.sign_statement(other, statement)
    assert verify_code(signature=forged) == "envelope_signature_invalid"
    # and checking against the other key (a certificate of someone else) refuses the real signature
    assert verify_code(key=other.public_key()) == "envelope_signature_invalid"


@FAST
@given(bit=st.integers(0, 64 * 8 - 1))
def test_any_bit_flip_in_the_signature_is_refused(bit):
    raw = bytearray(E.b64u_decode(SEALED.signature))
    raw[bit // 8] ^= 1 << (bit % 8)
    assert verify_code(signature=E.b64u(bytes(raw))) == "envelope_signature_invalid"


@FAST
@given(cek=st.binary(min_size=32, max_size=32))
def test_any_other_content_key_is_refused(cek):
    assume(cek != SEALED.cek)
    assert open_code(CIPHERTEXT, cek=cek) == "envelope_key_invalid"


@FAST
@given(wrap=st.integers(0, 1), field=st.sampled_from(["iv", "ct", "epk"]), bit=st.integers(0, 95))
def test_a_tampered_wrap_does_not_unwrap(wrap, field, bit):
    header = json.loads(SEALED.header_bytes)
    raw = bytearray(E.b64u_decode(header["wraps"][wrap][field]))
    index = (bit // 8) % len(raw)
    if field == "epk":
        index = 1 + index % 64  # keep the 0x04 prefix: a point, maybe not on the curve
    raw[index] ^= 1 << (bit % 8)
    header["wraps"][wrap][field] = E.b64u(bytes(raw))
    key = BIDDER_KEY if wrap == 0 else CUSTODIAN_KEY
    try:
        E.public_key_from_b64u(header["wraps"][wrap]["epk"])
        expected = "envelope_key_invalid"
    except E.EnvelopeError:
        expected = "envelope_header_malformed"  # the flipped point left the curve
    with pytest.raises(E.EnvelopeError) as info:
        E.unwrap(
            header=E.parse_header(E.canonical_json(header)), to=header["wraps"][wrap]["to"], private_key=key
        )
    assert info.value.code == expected


def test_a_tampered_epk_off_the_curve_is_a_malformed_header():
    header = json.loads(SEALED.header_bytes)
    header["wraps"][0]["epk"] = E.b64u(b"\x04" + bytes(64))
    with pytest.raises(E.EnvelopeError) as info:
        E.parse_header(E.canonical_json(header))
    assert info.value.code == "envelope_header_malformed"


@settings(max_examples=15, deadline=None)
@given(
    document=st.binary(max_size=3 * CHUNK + 100), price=st.from_regex(r"\A(0|[1-9][0-9]{0,13})\.[0-9]{2}\Z")
)
def test_whatever_is_sealed_opens_to_the_same_bytes(document, price):
    sealed, ciphertext = _seal(document, price=price)
    out = io.BytesIO()
    opened = E.open_stream(
        header_bytes=sealed.header_bytes, cek=sealed.cek, ciphertext=io.BytesIO(ciphertext), document_out=out
    )
    assert out.getvalue() == document and opened.form["price"] == price
