"""The bidder's side of the platform PKI in Python: generate a P-256 key, keep it encrypted, build a CSR,
sign a login challenge. Pure `cryptography`, no Django, so a bidder's own scripts can import it.

Two key file formats are read and written (docs/pki.md):

* encrypted PKCS#8 PEM (``-----BEGIN ENCRYPTED PRIVATE KEY-----``), the usual tool format;
* the platform key file, a small JSON document the browser page also writes and reads (WebCrypto cannot
  decrypt PKCS#8 PBES2 by itself): PBKDF2-HMAC-SHA256 → AES-256-GCM over the PKCS#8 DER.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import os
import re

from cryptography.exceptions import InvalidSignature, InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.x509 import CertificateSigningRequestBuilder, Name, NameAttribute
from cryptography.x509.oid import NameOID

KEYFILE_FORMAT = "gongjiao-key"
KEYFILE_VERSION = 1
# OWASP's 2023 figure for PBKDF2-HMAC-SHA256; the lower bound refuses files a careless tool weakened,
# the upper bound stops a crafted file from pinning a CPU.
KEYFILE_ITERATIONS = 600_000
KEYFILE_MIN_ITERATIONS = 100_000
KEYFILE_MAX_ITERATIONS = 10_000_000
# Associated data of the AES-GCM encryption: names the format, so a blob lifted from another
# AES-GCM file format does not decrypt as a key file.
KEYFILE_AAD = b"gongjiao-key/1"
PASSWORD_MIN_LENGTH = 8

CHALLENGE_PREFIX = "gongjiao-login"
NONCE_RE = re.compile(r"^[0-9a-f]{64}$")
KEY_ALGORITHM = "EC P-256"


class KeyClientError(Exception):
    """A refused input: `code` is stable, `message` is for people."""

    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value, *, code: str, what: str) -> bytes:
    if not isinstance(value, str):
        raise KeyClientError(code, f"{what} is missing or not a string.")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise KeyClientError(code, f"{what} is not valid base64.") from None


def password_check(password: str) -> bytes:
    if not isinstance(password, str) or len(password) < PASSWORD_MIN_LENGTH:
        raise KeyClientError(
            "password_too_short", f"The key password must have at least {PASSWORD_MIN_LENGTH} characters."
        )
    return password.encode("utf-8")


# --- keys -------------------------------------------------------------------------------------------


def key_generate() -> ec.EllipticCurvePrivateKey:
    """A fresh P-256 key: it signs envelopes (ECDSA) and unwraps content keys (ECDH) in issue 3."""
    return ec.generate_private_key(ec.SECP256R1())


def key_check(key) -> ec.EllipticCurvePrivateKey:
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise KeyClientError("key_unsupported", "Only EC P-256 keys are used on this platform.")
    return key


def public_key_spki_der(key) -> bytes:
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def public_key_sha256(key) -> str:
    """SHA-256 of the DER SubjectPublicKeyInfo: the key's fingerprint on both sides."""
    return hashlib.sha256(public_key_spki_der(key)).hexdigest()


def key_to_pem(key, password: str) -> bytes:
    """Encrypted PKCS#8 PEM (PBES2: PBKDF2-HMAC-SHA256 and AES-256-CBC)."""
    key_check(key)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password_check(password)),
    )


def keyfile_dump(
    key,
    password: str,
    *,
    username: str = "",
    certificate_serial: str = "",
    iterations: int = KEYFILE_ITERATIONS,
    created_at: dt.datetime | None = None,
) -> bytes:
    """The platform key file (JSON), the same format the browser page writes."""
    key_check(key)
    if not KEYFILE_MIN_ITERATIONS <= iterations <= KEYFILE_MAX_ITERATIONS:
        raise KeyClientError("key_file_iterations", "The PBKDF2 iteration count is out of range.")
    salt, iv = os.urandom(16), os.urandom(12)
    aes_key = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=iterations).derive(
        password_check(password)
    )
    pkcs8 = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    document = {
        "format": KEYFILE_FORMAT,
        "version": KEYFILE_VERSION,
        "algorithm": KEY_ALGORITHM,
        "kdf": {"name": "PBKDF2", "hash": "SHA-256", "iterations": iterations, "salt": _b64(salt)},
        "cipher": {"name": "AES-GCM", "iv": _b64(iv)},
        "encrypted_pkcs8": _b64(AESGCM(aes_key).encrypt(iv, pkcs8, KEYFILE_AAD)),
        "public_key_spki": _b64(public_key_spki_der(key)),
        "username": username,
        "certificate_serial": certificate_serial,
        "created_at": (created_at or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
    }
    return json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"


def keyfile_read(data: bytes) -> dict:
    """Parse and check the key file's outer structure (no password needed)."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise KeyClientError("key_file_malformed", "The key file is not valid JSON.") from None
    if not isinstance(document, dict) or document.get("format") != KEYFILE_FORMAT:
        raise KeyClientError("key_file_malformed", "This is not a platform key file.")
    if document.get("version") != KEYFILE_VERSION:
        raise KeyClientError("key_file_version", "This key file version is not supported.")
    kdf, cipher = document.get("kdf"), document.get("cipher")
    if (
        not isinstance(kdf, dict)
        or kdf.get("name") != "PBKDF2"
        or kdf.get("hash") != "SHA-256"
        or not isinstance(cipher, dict)
        or cipher.get("name") != "AES-GCM"
    ):
        raise KeyClientError("key_file_malformed", "The key file names an unsupported KDF or cipher.")
    iterations = kdf.get("iterations")
    if not isinstance(iterations, int) or not KEYFILE_MIN_ITERATIONS <= iterations <= KEYFILE_MAX_ITERATIONS:
        raise KeyClientError("key_file_iterations", "The PBKDF2 iteration count is out of range.")
    return document


def keyfile_load(data: bytes, password: str) -> ec.EllipticCurvePrivateKey:
    document = keyfile_read(data)
    salt = _unb64(document["kdf"].get("salt"), code="key_file_malformed", what="kdf.salt")
    iv = _unb64(document["cipher"].get("iv"), code="key_file_malformed", what="cipher.iv")
    blob = _unb64(document.get("encrypted_pkcs8"), code="key_file_malformed", what="encrypted_pkcs8")
    if len(iv) != 12 or len(salt) < 16:
        raise KeyClientError("key_file_malformed", "The key file's salt or IV has the wrong length.")
    aes_key = PBKDF2HMAC(
        algorithm=hashes.SHA256(), length=32, salt=salt, iterations=document["kdf"]["iterations"]
    ).derive(password.encode("utf-8"))
    try:
        pkcs8 = AESGCM(aes_key).decrypt(iv, blob, KEYFILE_AAD)
    except InvalidTag:
        raise KeyClientError("key_password_wrong", "Wrong password, or the key file is damaged.") from None
    try:
        key = serialization.load_der_private_key(pkcs8, password=None)
    except (ValueError, UnsupportedAlgorithm):
        raise KeyClientError("key_file_malformed", "The key inside the file is not a PKCS#8 key.") from None
    key_check(key)
    recorded = document.get("public_key_spki")
    if recorded and _unb64(
        recorded, code="key_file_malformed", what="public_key_spki"
    ) != public_key_spki_der(key):
        # The metadata is outside the AEAD; a swapped public key would mislead whoever reads the file.
        raise KeyClientError("key_file_mismatch", "The key file's public key does not match its private key.")
    return key


def key_load(data: bytes, password: str | None) -> ec.EllipticCurvePrivateKey:
    """Load either format: encrypted PKCS#8 PEM or the platform JSON key file."""
    stripped = data.lstrip()
    if stripped.startswith(b"{"):
        return keyfile_load(data, password or "")
    if not stripped.startswith(b"-----BEGIN"):
        raise KeyClientError("key_file_malformed", "Neither a PEM key nor a platform key file.")
    if b"BEGIN ENCRYPTED PRIVATE KEY" not in stripped:
        # An unencrypted key on disk is exactly what this client exists to avoid.
        raise KeyClientError("key_not_encrypted", "The PEM key is not encrypted; protect it with a password.")
    try:
        key = serialization.load_pem_private_key(data, password=(password or "").encode("utf-8"))
    except (TypeError, ValueError):
        raise KeyClientError("key_password_wrong", "Wrong password, or the key file is damaged.") from None
    except UnsupportedAlgorithm:
        raise KeyClientError("key_unsupported", "The key file uses an unsupported algorithm.") from None
    return key_check(key)


# --- requests and signatures ---------------------------------------------------------------------


def csr_build(key, *, common_name: str = "") -> bytes:
    """A PKCS#10 request (PEM). The platform ignores its subject and writes the registered one."""
    key_check(key)
    subject = Name([NameAttribute(NameOID.COMMON_NAME, (common_name or "gongjiao-key")[:64])])
    return (
        CertificateSigningRequestBuilder()
        .subject_name(subject)
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
    )


def challenge_check(*, nonce: str, username: str) -> None:
    if not isinstance(nonce, str) or not NONCE_RE.match(nonce):
        raise KeyClientError("challenge_malformed", "The nonce must be 64 lowercase hexadecimal characters.")
    if not isinstance(username, str) or not username or "\n" in username or "\r" in username:
        raise KeyClientError("username_invalid", "The user name must be one non-empty line.")


def challenge_message(*, nonce: str, username: str) -> bytes:
    """The exact bytes signed to log in: ``gongjiao-login\\n<nonce>\\n<username>`` in UTF-8.

    The prefix keeps a login signature from ever being valid as an envelope or receipt signature;
    the user name binds the nonce to one account.
    """
    challenge_check(nonce=nonce, username=username)
    return f"{CHALLENGE_PREFIX}\n{nonce}\n{username}".encode()


def challenge_sign(key, *, nonce: str, username: str) -> str:
    """Base64 of the DER ECDSA-SHA256 signature of the challenge message."""
    key_check(key)
    return _b64(key.sign(challenge_message(nonce=nonce, username=username), ec.ECDSA(hashes.SHA256())))


def signature_candidates(signature: bytes) -> list[bytes]:
    """DER forms a P-256 signature may mean: DER as sent, or WebCrypto's raw r||s (64 bytes).

    A 64-byte string could in theory parse as DER too, so both readings are tried; each is a signature
    by the same key over the same message, so accepting either gives nothing away.
    """
    candidates = []
    try:
        decode_dss_signature(signature)
        candidates.append(signature)
    except ValueError:
        pass
    if len(signature) == 64:
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        if r and s:
            candidates.append(encode_dss_signature(r, s))
    return candidates


def signature_verify(public_key, data: bytes, signature: bytes) -> bool:
    """ECDSA-SHA256 verification accepting DER or raw r||s."""
    for candidate in signature_candidates(signature):
        try:
            public_key.verify(candidate, data, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            continue
        return True
    return False
