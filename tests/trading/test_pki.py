"""The platform CA: CSR → certificate → revocation and CRL, refusals with codes, key storage, key client."""

from __future__ import annotations

import base64
import datetime as dt
import json
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import Criticality, ExtensionPolicy, PolicyBuilder, Store
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.urls import reverse

from archive.models import JournalEntry
from core.errors import DomainError
from tests.factories import (
    AgencyUserFactory,
    BidderUserFactory,
    MarketEntityFactory,
    PersonFactory,
    UserFactory,
)
from trading import keyclient, pki, pki_state
from trading.models import Certificate, CertificateStatus, CreditRecord, EntityStatus, Role
from trading.services.pki import certificate_issue, certificate_revoke

pytestmark = pytest.mark.django_db

FAST = 100_000  # the lowest PBKDF2 count the key file accepts: keeps the tests quick


@pytest.fixture
def bidder():
    return BidderUserFactory(person=PersonFactory(name="王小明"), entity__name="广西某某建设有限公司")


@pytest.fixture
def key():
    return keyclient.key_generate()


def issue(user, key):
    return certificate_issue(user=user, csr_pem=keyclient.csr_build(key), actor=user)


def refused_code(fn, *args, **kwargs) -> str:
    with pytest.raises(DomainError) as info:
        fn(*args, **kwargs)
    return info.value.code


def attr(name: x509.Name, oid) -> str:
    return name.get_attributes_for_oid(oid)[0].value


# --- issuing ------------------------------------------------------------------------------------


def test_certificate_subject_comes_from_the_registry_not_the_request(clock, bidder, key):
    # given a CSR whose own subject claims to be someone else
    csr = keyclient.csr_build(key, common_name="Somebody Else")
    # when the platform issues
    cert = certificate_issue(user=bidder, csr_pem=csr, actor=bidder)
    # then the subject names the registered person, entity, USCC and account
    x = x509.load_pem_x509_certificate(cert.certificate_pem.encode())
    assert attr(x.subject, NameOID.COMMON_NAME) == "王小明"
    assert attr(x.subject, NameOID.ORGANIZATION_NAME) == "广西某某建设有限公司"
    assert attr(x.subject, NameOID.ORGANIZATION_IDENTIFIER) == bidder.entity.uscc
    assert attr(x.subject, NameOID.USER_ID) == bidder.username
    assert x.issuer == pki.ca_certificate().subject
    assert cert.entity == bidder.entity and cert.status == CertificateStatus.ACTIVE


def test_certificate_extensions_allow_signing_and_key_agreement_for_client_auth(clock, bidder, key):
    cert = issue(bidder, key)
    x = x509.load_pem_x509_certificate(cert.certificate_pem.encode())
    ext = x.extensions
    basic = ext.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and basic.value.ca is False
    usage = ext.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.key_agreement
    assert not usage.value.key_cert_sign and not usage.value.key_encipherment
    assert list(ext.get_extension_for_class(x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert ext.get_extension_for_class(
        x509.SubjectKeyIdentifier
    ).value == x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    ca_ski = pki.ca_certificate().extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ext.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier == ca_ski.digest
    crl_dp = ext.get_extension_for_class(x509.CRLDistributionPoints).value[0].full_name[0].value
    assert crl_dp.endswith(reverse("trading:pki-crl"))


def test_certificate_holds_the_requested_key_a_random_128_bit_serial_and_two_years(clock, bidder, key):
    cert = issue(bidder, key)
    x = x509.load_pem_x509_certificate(cert.certificate_pem.encode())
    assert x.public_key() == key.public_key()
    assert cert.public_key_sha256 == keyclient.public_key_sha256(key)
    assert cert.serial == format(x.serial_number, "032x") and x.serial_number.bit_length() <= 128
    assert x.not_valid_before_utc == clock().astimezone(dt.UTC)
    assert x.not_valid_after_utc - x.not_valid_before_utc == dt.timedelta(days=730)
    assert cert.not_after == x.not_valid_after_utc


def test_validity_follows_the_pki_cert_days_setting(clock, settings, bidder, key):
    settings.PKI_CERT_DAYS = 30
    cert = issue(bidder, key)
    assert cert.not_after - cert.not_before == dt.timedelta(days=30)


def test_issued_certificate_passes_rfc5280_path_validation(clock, bidder, key):
    # given an issued certificate
    cert = issue(bidder, key)
    leaf = x509.load_pem_x509_certificate(cert.certificate_pem.encode())
    # when cryptography's own path validation checks it against the CA alone
    verifier = (
        PolicyBuilder()
        .store(Store([pki.ca_certificate()]))
        .time(clock())
        .extension_policies(
            ca_policy=ExtensionPolicy.webpki_defaults_ca(),
            ee_policy=ExtensionPolicy.webpki_defaults_ee().may_be_present(
                x509.SubjectAlternativeName, Criticality.AGNOSTIC, None
            ),
        )
        .build_client_verifier()
    )
    chain = verifier.verify(leaf, [])
    # then the chain is leaf → root, and our helper agrees
    assert chain.chain == [leaf, pki.ca_certificate()]
    assert pki.certificate_verify_chain(cert.certificate_pem, at=clock()).serial_number == leaf.serial_number


def test_issuing_journals_on_the_entity_stream(clock, bidder, key):
    cert = issue(bidder, key)
    entry = JournalEntry.objects.get(action="certificate.issue")
    assert entry.stream == f"entity:{bidder.entity_id}"
    assert entry.object_id == str(cert.pk) and entry.payload["serial"] == cert.serial
    assert entry.actor_id == str(bidder.pk)


def test_agency_staff_may_hold_a_certificate(clock, key):
    agent = AgencyUserFactory()
    assert issue(agent, key).user == agent


# --- refusals -----------------------------------------------------------------------------------


def test_csr_with_a_broken_signature_is_refused(clock, bidder, key):
    # given a CSR whose signed part was altered after signing (a byte of the subject CN)
    der = x509.load_pem_x509_csr(keyclient.csr_build(key, common_name="abcdefgh")).public_bytes(
        serialization.Encoding.DER
    )
    tampered = der.replace(b"abcdefgh", b"abcdefgX")
    assert tampered != der
    # then it is refused as not proving possession of the key
    assert (
        refused_code(certificate_issue, user=bidder, csr_pem=tampered, actor=bidder)
        == "csr_signature_invalid"
    )
    assert not Certificate.objects.exists()


def test_csr_signed_by_another_key_is_refused(clock, bidder, key):
    # given a request carrying key A's public key but signed with key B
    other = keyclient.key_generate()
    good = x509.load_pem_x509_csr(keyclient.csr_build(key)).public_bytes(serialization.Encoding.DER)
    forged = x509.load_pem_x509_csr(keyclient.csr_build(other)).public_bytes(serialization.Encoding.DER)
    spki_a, spki_b = keyclient.public_key_spki_der(key), keyclient.public_key_spki_der(other)
    assert spki_b in forged
    swapped = forged.replace(spki_b, spki_a)
    assert swapped != good
    assert (
        refused_code(certificate_issue, user=bidder, csr_pem=swapped, actor=bidder) == "csr_signature_invalid"
    )


@pytest.mark.parametrize(
    "make_key",
    [
        lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
        lambda: ec.generate_private_key(ec.SECP384R1()),
    ],
)
def test_csr_with_a_key_other_than_p256_is_refused(clock, bidder, make_key):
    other = make_key()
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")]))
        .sign(other, hashes.SHA256())
    )
    pem = csr.public_bytes(serialization.Encoding.PEM)
    assert refused_code(certificate_issue, user=bidder, csr_pem=pem, actor=bidder) == "csr_key_unsupported"


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "hello",
        "-----BEGIN CERTIFICATE REQUEST-----\nbm90IGEgY3Ny\n-----END CERTIFICATE REQUEST-----\n",
        b"\x30\x03\x02\x01\x00",
        "A" * 20_000,
    ],
)
def test_malformed_csr_is_refused(clock, bidder, garbage):
    assert refused_code(certificate_issue, user=bidder, csr_pem=garbage, actor=bidder) == "csr_malformed"


def test_base64_der_csr_is_accepted(clock, bidder, key):
    der = x509.load_pem_x509_csr(keyclient.csr_build(key)).public_bytes(serialization.Encoding.DER)
    cert = certificate_issue(user=bidder, csr_pem=base64.b64encode(der).decode(), actor=bidder)
    assert cert.public_key_sha256 == keyclient.public_key_sha256(key)


def test_binary_der_csr_is_taken_byte_for_byte(clock, bidder, key):
    # given a DER request whose signature happens to end in a byte that looks like whitespace
    for _attempt in range(5000):
        der = x509.load_pem_x509_csr(keyclient.csr_build(key)).public_bytes(serialization.Encoding.DER)
        if der[-1:] in (b" ", b"\n", b"\t", b"\r", b"\x0b", b"\x0c"):
            break
    else:
        pytest.fail("no such signature in 5000 tries")
    # then it is certified, not refused as malformed
    assert certificate_issue(user=bidder, csr_pem=der, actor=bidder).status == CertificateStatus.ACTIVE


@pytest.mark.parametrize("status", [EntityStatus.PENDING, EntityStatus.REJECTED, EntityStatus.CANCELLED])
def test_entity_not_verified_is_refused(clock, key, status):
    user = BidderUserFactory(entity__status=status)
    assert refused_code(issue, user, key) == "entity_not_verified"


def test_agency_user_without_entity_is_refused(clock, key):
    user = UserFactory(role=Role.AGENCY, entity=None)
    assert refused_code(issue, user, key) == "entity_not_verified"


@pytest.mark.parametrize(
    ("ends_on", "code"),
    [
        (dt.date(2026, 3, 1), None),  # the blacklist ended yesterday
        (dt.date(2026, 3, 2), "entity_blacklisted"),  # it ends today
        (None, "entity_blacklisted"),  # permanent
    ],
)
def test_blacklisted_entity_is_refused_until_the_period_ends(clock, bidder, key, ends_on, code):
    staff = UserFactory(role=Role.CENTRE)
    CreditRecord.objects.create(
        entity=bidder.entity,
        kind=CreditRecord.Kind.DISQUALIFICATION,
        legal_basis="法",
        blocks_participation=True,
        starts_on=dt.date(2025, 3, 2),
        ends_on=ends_on,
        decided_by=staff,
        decided_at=clock(),
    )
    if code is None:
        assert issue(bidder, key).status == CertificateStatus.ACTIVE
    else:
        assert refused_code(issue, bidder, key) == code


@pytest.mark.parametrize("role", [Role.EXPERT, Role.ADMIN])
def test_only_bidder_agency_centre_and_regulator_staff_may_request(clock, key, role):
    user = UserFactory(role=role, entity=MarketEntityFactory())
    assert refused_code(issue, user, key) == "certificate_role_not_allowed"


def test_nobody_requests_for_someone_else(clock, bidder, key):
    colleague = BidderUserFactory(entity=bidder.entity)
    code = refused_code(certificate_issue, user=bidder, csr_pem=keyclient.csr_build(key), actor=colleague)
    assert code == "certificate_not_own"


def test_a_key_is_certified_only_once(clock, bidder, key):
    first = issue(bidder, key)
    certificate_revoke(certificate=first, reason="superseded", actor=bidder)
    assert refused_code(issue, bidder, key) == "csr_key_reused"
    assert Certificate.objects.count() == 1


def test_nothing_private_is_stored(clock, bidder, key):
    # given an issued certificate
    cert = issue(bidder, key)
    private_der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    secret_hex = format(key.private_numbers().private_value, "064x")
    # when we read back every stored field of the certificate and of the journal
    row = Certificate.objects.filter(pk=cert.pk).values().get()
    stored = json.dumps(row, default=str) + json.dumps(
        list(JournalEntry.objects.values("payload")), default=str
    )
    # then no private key, in any encoding, is there; the public key is
    assert "PRIVATE" not in stored
    assert secret_hex not in stored.lower()
    assert base64.b64encode(private_der).decode()[:40] not in stored
    assert "PUBLIC KEY" in row["public_key_pem"]


# --- revocation ---------------------------------------------------------------------------------


def test_revoked_certificate_is_in_the_crl_and_fails_the_chain_check(clock, client, bidder, key):
    # given an issued certificate, revoked an hour later by its holder
    cert = issue(bidder, key)
    clock.advance(hours=1)
    certificate_revoke(certificate=cert, reason="key_compromise", actor=bidder)
    cert.refresh_from_db()
    assert cert.status == CertificateStatus.REVOKED and cert.revocation_reason == "key_compromise"
    assert cert.revoked_at == clock()
    # when anyone fetches the CRL
    response = client.get(reverse("trading:pki-crl"))
    # then it is signed by the CA and lists the serial with its reason
    assert response.status_code == 200
    crl = x509.load_pem_x509_crl(response.content)
    assert crl.is_signature_valid(pki.ca_certificate().public_key())
    entry = crl.get_revoked_certificate_by_serial_number(int(cert.serial, 16))
    assert entry is not None
    assert (
        entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
        == x509.ReasonFlags.key_compromise
    )
    # and the chain check refuses it now, though it was good before the revocation
    assert (
        refused_code(pki.certificate_verify_chain, cert.certificate_pem, at=clock()) == "certificate_revoked"
    )
    assert pki.certificate_verify_chain(cert.certificate_pem, at=clock() - dt.timedelta(minutes=30))
    assert JournalEntry.objects.filter(
        action="certificate.revoke", stream=f"entity:{bidder.entity_id}"
    ).exists()


def test_crl_does_not_list_active_certificates(clock, client, bidder, key):
    cert = issue(bidder, key)
    crl = x509.load_pem_x509_crl(client.get(reverse("trading:pki-crl")).content)
    assert crl.get_revoked_certificate_by_serial_number(int(cert.serial, 16)) is None


def test_a_bidder_cannot_revoke_another_entitys_certificate(clock, client, bidder, key):
    # given a certificate of another entity's staff
    victim = issue(BidderUserFactory(), key)
    client.force_login(bidder)
    # when the bidder posts a revocation
    response = client.post(
        reverse("trading:pki-revoke", args=[victim.serial]),
        data={"reason": "superseded"},
        content_type="application/json",
    )
    # then it is refused with a code and nothing changed
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "certificate_revoke_forbidden"
    victim.refresh_from_db()
    assert victim.status == CertificateStatus.ACTIVE


def test_centre_staff_revoke_any_certificate(clock, client, bidder, key):
    cert = issue(bidder, key)
    client.force_login(UserFactory(role=Role.CENTRE))
    response = client.post(
        reverse("trading:pki-revoke", args=[cert.serial]),
        data={"reason": "affiliation_changed"},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["status"] == "revoked"


def test_revoking_twice_is_refused(clock, bidder, key):
    cert = issue(bidder, key)
    certificate_revoke(certificate=cert, reason="superseded", actor=bidder)
    assert (
        refused_code(certificate_revoke, certificate=cert, reason="superseded", actor=bidder)
        == "certificate_already_revoked"
    )


def test_unknown_revocation_reason_is_refused(clock, bidder, key):
    cert = issue(bidder, key)
    assert (
        refused_code(certificate_revoke, certificate=cert, reason="because", actor=bidder)
        == "revocation_reason_invalid"
    )


# --- verification helpers -----------------------------------------------------------------------


def test_chain_check_refuses_a_certificate_from_another_ca(clock):
    # given a certificate that names our CA as issuer but was signed by another key
    other_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "impostor")])
    foreign = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(pki.ca_certificate().subject)
        .public_key(other_key.public_key())
        .serial_number(7)
        .not_valid_before(clock())
        .not_valid_after(clock() + dt.timedelta(days=1))
        .sign(other_key, hashes.SHA256())
    )
    assert (
        refused_code(pki.certificate_verify_chain, pki.pem(foreign), at=clock())
        == "certificate_unknown_issuer"
    )


def test_chain_check_refuses_an_expired_certificate(clock, bidder, key):
    cert = issue(bidder, key)
    assert (
        refused_code(
            pki.certificate_verify_chain, cert.certificate_pem, at=cert.not_after + dt.timedelta(seconds=1)
        )
        == "certificate_expired"
    )


def test_chain_check_refuses_garbage():
    assert refused_code(pki.certificate_verify_chain, "not a certificate") == "certificate_malformed"


def test_platform_signature_verifies_and_detects_changes(clock):
    signature = pki.platform_sign(b"receipt bytes")
    assert pki.platform_verify(b"receipt bytes", signature)
    assert not pki.platform_verify(b"receipt bytez", signature)
    key, cert = pki.platform_signer()
    assert cert.public_key() == key.public_key()
    assert cert.issuer == pki.ca_certificate().subject
    assert pki.certificate_verify_chain(pki.pem(cert), at=clock())


# --- key storage --------------------------------------------------------------------------------


def test_ca_is_created_once_encrypted_private_and_reloaded(clock, settings):
    # given a first use of the CA
    first = pki.ca_certificate()
    key_file = settings.KEYS_DIR / pki.CA_KEY_FILE
    # then its key is on disk, encrypted, readable by the owner only
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert b"BEGIN ENCRYPTED PRIVATE KEY" in key_file.read_bytes()
    assert attr(first.subject, NameOID.COMMON_NAME) == f"{settings.PLATFORM_NAME} CA"
    assert attr(first.subject, NameOID.ORGANIZATION_NAME) == settings.PLATFORM_NAME
    # when the process cache is dropped, the same CA is loaded back, not a new one made
    pki_state.reset()
    assert pki.ca_certificate() == first


def test_ca_key_cannot_be_loaded_with_another_passphrase(clock, settings, monkeypatch):
    pki.ca_certificate()
    pki_state.reset()
    monkeypatch.setenv("CA_KEY_PASSPHRASE", "not the passphrase it was made with")
    with pytest.raises(ImproperlyConfigured):
        pki.ca_certificate()


def test_ca_certificate_is_public(client):
    response = client.get(reverse("trading:pki-ca"))
    assert response.status_code == 200
    assert x509.load_pem_x509_certificate(response.content) == pki.ca_certificate()


# --- the pages ----------------------------------------------------------------------------------


def test_request_page_loads_its_script_with_the_csp_nonce_and_no_inline_code(client, bidder):
    client.force_login(bidder)
    response = client.get(reverse("trading:pki-request"))
    html = response.content.decode()
    assert response.status_code == 200
    nonce = response.context["csp_nonce"]
    assert f'src="/static/trading/pki.js" nonce="{nonce}"' in html
    assert "<script>" not in html and "style=" not in html
    assert f'data-username="{bidder.username}"' in html


def test_csr_posted_as_json_returns_the_certificate(clock, client, bidder, key):
    client.force_login(bidder)
    response = client.post(
        reverse("trading:pki-request"),
        data={"csr": keyclient.csr_build(key).decode()},
        content_type="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    assert Certificate.objects.get(serial=body["serial"]).user == bidder
    assert x509.load_pem_x509_certificate(body["certificate_pem"].encode()).public_key() == key.public_key()


def test_refused_csr_post_answers_with_the_code(clock, client, bidder):
    client.force_login(bidder)
    response = client.post(
        reverse("trading:pki-request"), data={"csr": "garbage"}, content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "csr_malformed"


def test_csr_post_needs_a_login(client, key):
    response = client.post(
        reverse("trading:pki-request"),
        data={"csr": keyclient.csr_build(key).decode()},
        content_type="application/json",
    )
    assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"


def test_certificate_list_shows_only_own_certificates(clock, client, bidder, key):
    mine = issue(bidder, key)
    theirs = issue(BidderUserFactory(entity=bidder.entity), keyclient.key_generate())
    client.force_login(bidder)
    html = client.get(reverse("trading:pki-certificates")).content.decode()
    assert mine.serial in html and theirs.serial not in html


def test_certificate_download_is_refused_to_another_bidder(clock, client, bidder, key):
    cert = issue(bidder, key)
    client.force_login(BidderUserFactory())
    response = client.get(
        reverse("trading:pki-download", args=[cert.serial]), headers={"accept": "application/json"}
    )
    assert response.status_code == 403 and response.json()["error"]["code"] == "certificate_not_yours"


# --- the Python key client ----------------------------------------------------------------------


def test_key_client_generates_an_encrypted_key_whose_csr_is_certified(clock, tmp_path, bidder, monkeypatch):
    # given a key made with the command line client
    monkeypatch.setenv("KEY_PASSWORD", "bidder-secret")
    out = tmp_path / "me.key.pem"
    call_command("key_client", "generate", "--out", str(out))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    # when its CSR is submitted
    csr_path = tmp_path / "me.csr"
    call_command("key_client", "csr", "--key", str(out), "--out", str(csr_path))
    cert = certificate_issue(user=bidder, csr_pem=csr_path.read_bytes(), actor=bidder)
    # then the certificate holds that key
    key = keyclient.key_load(out.read_bytes(), "bidder-secret")
    assert cert.public_key_sha256 == keyclient.public_key_sha256(key)


def test_key_client_signature_verifies(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KEY_PASSWORD", "bidder-secret")
    out = tmp_path / "k.json"
    call_command("key_client", "generate", "--out", str(out), "--format", "keyfile")
    nonce = "ab" * 32
    call_command("key_client", "sign-challenge", "--key", str(out), "--username", "alice", "--nonce", nonce)
    signature = base64.b64decode(capsys.readouterr().out.strip().splitlines()[-1])
    key = keyclient.key_load(out.read_bytes(), "bidder-secret")
    assert keyclient.signature_verify(
        key.public_key(), keyclient.challenge_message(nonce=nonce, username="alice"), signature
    )


@pytest.mark.parametrize(
    ("argv", "password", "code"),
    [
        (["generate", "--out", "{dir}/short.pem"], "short", "password_too_short"),
        (["generate", "--out", "{dir}/exists.pem"], "long-enough-pass", "output_exists"),
        (
            ["sign-challenge", "--key", "{dir}/exists.pem", "--username", "a", "--nonce", "xyz"],
            "long-enough-pass",
            "challenge_malformed",
        ),
        (
            ["sign-challenge", "--key", "{dir}/exists.pem", "--username", "a", "--nonce", "ab" * 32],
            "wrong-password",
            "key_password_wrong",
        ),
        (["csr", "--key", "{dir}/missing.pem"], "long-enough-pass", "key_file_unreadable"),
        (["csr", "--key", "{dir}/garbage.pem"], "long-enough-pass", "key_file_malformed"),
    ],
)
def test_key_client_refuses_bad_input_with_a_code(tmp_path, monkeypatch, argv, password, code):
    # given an existing key and a garbage file
    (tmp_path / "exists.pem").write_bytes(keyclient.key_to_pem(keyclient.key_generate(), "long-enough-pass"))
    (tmp_path / "garbage.pem").write_bytes(b"hello")
    monkeypatch.setenv("KEY_PASSWORD", password)
    # then the command fails with the code first
    with pytest.raises(CommandError) as info:
        call_command("key_client", *[a.format(dir=tmp_path) for a in argv])
    assert str(info.value).startswith(f"{code}:")


def test_key_file_round_trips_and_refuses_a_wrong_password():
    key = keyclient.key_generate()
    data = keyclient.keyfile_dump(
        key, "correct password", username="alice", certificate_serial="ab", iterations=FAST
    )
    assert keyclient.keyfile_load(data, "correct password").private_numbers() == key.private_numbers()
    with pytest.raises(keyclient.KeyClientError) as info:
        keyclient.keyfile_load(data, "wrong password")
    assert info.value.code == "key_password_wrong"


def test_key_file_with_a_swapped_public_key_is_refused():
    key = keyclient.key_generate()
    document = json.loads(keyclient.keyfile_dump(key, "correct password", iterations=FAST))
    document["public_key_spki"] = base64.b64encode(
        keyclient.public_key_spki_der(keyclient.key_generate())
    ).decode()
    with pytest.raises(keyclient.KeyClientError) as info:
        keyclient.keyfile_load(json.dumps(document).encode(), "correct password")
    assert info.value.code == "key_file_mismatch"


def test_unencrypted_pem_key_is_refused():
    key = keyclient.key_generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(keyclient.KeyClientError) as info:
        keyclient.key_load(pem, None)
    assert info.value.code == "key_not_encrypted"


def test_pasted_csr_form_issues_and_returns_to_the_list(clock, client, bidder, key):
    client.force_login(bidder)
    response = client.post(reverse("trading:pki-request"), data={"csr": keyclient.csr_build(key).decode()})
    assert response.status_code == 302 and response.url == reverse("trading:pki-certificates")
    assert Certificate.objects.get(user=bidder).public_key_sha256 == keyclient.public_key_sha256(key)


def test_holder_revokes_own_certificate_from_the_list_page(clock, client, bidder, key):
    cert = issue(bidder, key)
    client.force_login(bidder)
    response = client.post(reverse("trading:pki-revoke", args=[cert.serial]), data={"reason": "superseded"})
    assert response.status_code == 302
    cert.refresh_from_db()
    assert cert.status == CertificateStatus.REVOKED and cert.revocation_reason == "superseded"


def test_certificate_pages_need_a_login(client):
    response = client.get(reverse("trading:pki-certificates"))
    assert response.status_code == 302 and response.url.startswith(reverse("trading:login"))
