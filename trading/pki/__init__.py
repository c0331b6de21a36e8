"""The platform certificate authority and the platform signing key, built on `cryptography.x509`.

Key material lives under settings.KEYS_DIR (created on first use, private keys encrypted, mode 0600) and is
cached per process in `trading.pki_state`. This package signs and verifies; the services decide who may ask.

`ca` stores the keys and runs the CA and the platform signer, `issue` turns requests into certificates,
`verify` builds the CRL and checks chains and signatures. Callers import from `trading.pki` only.
"""

# The server speaks the client's format: these come from the key client unchanged.
from trading.keyclient import (
    KEY_ALGORITHM,
    challenge_message,
    public_key_sha256,
    public_key_spki_der,
    signature_verify,
)

from .ca import (
    CA_CERT_FILE,
    CA_CURVE,
    CA_HASH,
    CA_KEY_FILE,
    CA_YEARS,
    PLATFORM_CERT_FILE,
    PLATFORM_CERT_YEARS,
    PLATFORM_KEY_FILE,
    ROOT_BACKDATE,
    CertificateRefused,
    ca,
    ca_certificate,
    ca_certificate_pem,
    pem,
    platform_sign,
    platform_signer,
    platform_verify,
    public_key_pem,
    serial_hex,
)
from .issue import (
    CSR_MAX_BYTES,
    DEFAULT_CERT_DAYS,
    certificate_sign,
    crl_path,
    crl_url,
    csr_load,
    staff_subject_name,
    subject_name,
)
from .verify import (
    CRL_LIFETIME,
    REVOCATION_REASON_LABELS,
    REVOCATION_REASONS,
    certificate_load,
    certificate_verify_chain,
    crl_build,
    signature_decode_b64,
)

__all__ = [
    "CA_CERT_FILE",
    "CA_CURVE",
    "CA_HASH",
    "CA_KEY_FILE",
    "CA_YEARS",
    "CRL_LIFETIME",
    "CSR_MAX_BYTES",
    "DEFAULT_CERT_DAYS",
    "KEY_ALGORITHM",
    "PLATFORM_CERT_FILE",
    "PLATFORM_CERT_YEARS",
    "PLATFORM_KEY_FILE",
    "REVOCATION_REASONS",
    "REVOCATION_REASON_LABELS",
    "ROOT_BACKDATE",
    "CertificateRefused",
    "ca",
    "ca_certificate",
    "ca_certificate_pem",
    "certificate_load",
    "certificate_sign",
    "certificate_verify_chain",
    "challenge_message",
    "crl_build",
    "crl_path",
    "crl_url",
    "csr_load",
    "pem",
    "platform_sign",
    "platform_signer",
    "platform_verify",
    "public_key_pem",
    "public_key_sha256",
    "public_key_spki_der",
    "serial_hex",
    "signature_decode_b64",
    "signature_verify",
    "staff_subject_name",
    "subject_name",
]
