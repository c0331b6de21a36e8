"""Receipts: signed by the platform, verifiable offline with only the CA certificate; forgeries refused."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bidding.receipts import (
    ReceiptInvalid,
    b64u,
    canonical_json,
    receipt_build,
    receipt_sign,
    receipt_verify,
)
from tests.factories import BidderUserFactory
from trading import keyclient, pki
from trading.services.pki import certificate_issue

ROOT = Path(__file__).resolve().parents[2]
SH = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture(autouse=True)
def _platform_keys_made_on_the_test_clock(clock):
    """The platform CA and signing key are created on first use, at the clock's time (2026-03-02),
    so that the receipts' dates (2026-03-25) fall inside the signing certificate's validity."""
    return clock


def _receipt(**changes) -> dict:
    fields = {
        "tender": "E4501000000000000MA000000000001001",
        "lot": 1,
        "bidder": "91450100MA5L000001",
        "bid_id": "4f8a3c52-3a47-4a50-9a57-4f1f0c0d1e2f",
        "header_sha256": "a" * 64,
        "ciphertext_sha256": "b" * 64,
        "ciphertext_size": 123456,
        "received_at": dt.datetime(2026, 3, 25, 9, 29, 59, 123456, tzinfo=SH),
        "journal_stream": "tender:7",
        "journal_seq": 42,
        "journal_hash": "c" * 64,
    }
    fields.update(changes)
    return receipt_build(**fields)


def _ca_pem() -> str:
    return pki.ca_certificate_pem().decode()


def _raw_sign(key, data: bytes) -> str:
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return b64u(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def test_receipt_has_the_documented_fields_and_utc_microsecond_time():
    # given a receipt received at 09:29:59.123456 Beijing time
    receipt = _receipt()
    # then it carries exactly the documented fields, the time in UTC with microseconds
    assert list(receipt) == [
        "v",
        "tender",
        "lot",
        "bidder",
        "bid_id",
        "header_sha256",
        "ciphertext_sha256",
        "ciphertext_size",
        "received_at",
        "journal",
    ]
    assert receipt["received_at"] == "2026-03-25T01:29:59.123456Z"
    assert receipt["journal"] == {"stream": "tender:7", "seq": 42, "hash": "c" * 64}


@pytest.mark.django_db
def test_signed_receipt_verifies_against_the_platform_ca():
    # given a receipt signed by the platform
    signed = receipt_sign(_receipt())
    # when it is verified with the CA certificate
    receipt = receipt_verify(signed, ca_pem=_ca_pem())
    # then the receipt comes back unchanged, signed with the platform's signing certificate
    assert receipt == _receipt()
    assert signed["certificate"] == pki.pem(pki.platform_signer()[1])


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field,value",
    [
        ("received_at", "2026-03-25T01:30:00.000000Z"),
        ("ciphertext_sha256", "d" * 64),
        ("bidder", "91450100MA5L000002"),
        ("lot", 2),
        ("journal", {"stream": "tender:7", "seq": 43, "hash": "c" * 64}),
    ],
)
def test_a_changed_receipt_field_breaks_the_signature(field, value):
    # given a signed receipt whose field is changed afterwards
    signed = receipt_sign(_receipt())
    signed["receipt"][field] = value
    # when it is verified, then the signature no longer matches
    with pytest.raises(ReceiptInvalid) as exc:
        receipt_verify(signed, ca_pem=_ca_pem())
    assert exc.value.code == "receipt_signature_invalid"


@pytest.mark.django_db
def test_a_receipt_from_another_ca_is_refused():
    # given a receipt signed by this platform, and a verifier trusting a different CA
    signed = receipt_sign(_receipt())
    other_key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Other CA")])
    now = dt.datetime.now(dt.UTC)
    other_ca = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(other_key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(other_key, hashes.SHA384())
    )
    # when verified against the other CA, then the signing certificate is untrusted
    with pytest.raises(ReceiptInvalid) as exc:
        receipt_verify(signed, ca_pem=other_ca.public_bytes(serialization.Encoding.PEM))
    assert exc.value.code == "receipt_certificate_untrusted"


@pytest.mark.django_db
def test_a_bidder_cannot_forge_a_receipt_with_its_own_certified_key(clock):
    # given a bidder whose key the platform CA certified, signing a receipt itself
    user = BidderUserFactory()
    key = keyclient.key_generate()
    cert = certificate_issue(user=user, csr_pem=keyclient.csr_build(key), actor=user)
    clock.advance(days=1)
    receipt = _receipt(received_at=clock())
    forged = {
        "receipt": receipt,
        "alg": "ES256",
        "signature": _raw_sign(key, canonical_json(receipt)),
        "certificate": cert.certificate_pem,
    }
    # when it is verified, then the certificate is not the platform's signing certificate
    with pytest.raises(ReceiptInvalid) as exc:
        receipt_verify(forged, ca_pem=_ca_pem())
    assert exc.value.code == "receipt_certificate_untrusted"


@pytest.mark.django_db
def test_a_receipt_dated_outside_the_signing_certificate_is_refused():
    # given a receipt dated long after the platform certificate expires
    signed = receipt_sign(_receipt(received_at=dt.datetime(2100, 1, 1, tzinfo=dt.UTC)))
    # when it is verified, then it is refused
    with pytest.raises(ReceiptInvalid) as exc:
        receipt_verify(signed, ca_pem=_ca_pem())
    assert exc.value.code == "receipt_certificate_expired"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "mutate,code",
    [
        (lambda s: s.pop("signature"), "receipt_malformed"),
        (lambda s: s.update(alg="RS256"), "receipt_malformed"),
        (lambda s: s["receipt"].pop("journal"), "receipt_malformed"),
        (lambda s: s["receipt"].update(extra=1), "receipt_malformed"),
        (lambda s: s["receipt"].update(v=2), "receipt_malformed"),
        (lambda s: s.update(signature=b64u(b"\x01" * 63)), "receipt_signature_invalid"),
        (lambda s: s.update(signature="not base64!"), "receipt_signature_invalid"),
        (
            lambda s: s.update(certificate="-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
            "receipt_certificate_untrusted",
        ),
    ],
)
def test_malformed_receipts_are_refused_with_a_code(mutate, code):
    # given a signed receipt damaged in one way
    signed = copy.deepcopy(receipt_sign(_receipt()))
    mutate(signed)
    # when it is verified, then it is refused with the expected code
    with pytest.raises(ReceiptInvalid) as exc:
        receipt_verify(signed, ca_pem=_ca_pem())
    assert exc.value.code == code


@pytest.mark.django_db
def test_verification_runs_offline_without_django(tmp_path):
    # given a signed receipt and the CA certificate written to files, as a bidder keeps them
    signed = receipt_sign(_receipt())
    (tmp_path / "receipt.json").write_text(json.dumps(signed, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "ca.pem").write_text(_ca_pem())
    tampered = copy.deepcopy(signed)
    tampered["receipt"]["ciphertext_size"] += 1
    (tmp_path / "tampered.json").write_text(json.dumps(tampered), encoding="utf-8")
    script = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('receipts', {str(ROOT / 'bidding' / 'receipts.py')!r})\n"
        "mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)\n"
        "codes = [mod.main(['x', sys.argv[1], sys.argv[3]]), mod.main(['x', sys.argv[2], sys.argv[3]])]\n"
        "print('DJANGO' if any(m.startswith('django') for m in sys.modules) else 'NO-DJANGO', codes)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO")}
    # when a separate Python with no Django settings runs the module file on its own
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            str(tmp_path / "receipt.json"),
            str(tmp_path / "tampered.json"),
            str(tmp_path / "ca.pem"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=True,
    )
    # then the genuine receipt is VALID, the tampered one INVALID, and Django was never imported
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("VALID ")
    assert lines[1].startswith("INVALID receipt_signature_invalid")
    assert lines[2] == "NO-DJANGO [0, 1]"
