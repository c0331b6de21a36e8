"""The custodian's side of the k-of-n opening key, and the pure mathematics both sides share: Shamir
secret sharing over the P-256 group order, public share commitments, and the share wrap.

No Django here (only `cryptography`, `core.errors` and the envelope's wrap), so a custodian's own
script can import it:

    python -m bidding.custodian_client open --key my-key.json --share share.json

fetches nothing by itself: `share.json` is the document `GET /bidding/custodian/shares/<id>/`
returns; the output is the b64u share to hand in after the deadline (docs/custodian-key.md).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import getpass
import json
import os
import secrets
import sys
from collections.abc import Callable, Iterable, Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bidding import envelope
from core.errors import ValidationFailed

# P-256 (SEC 2 secp256r1). N, the order of the group, is prime: the Shamir field is GF(N), so a
# reconstructed secret is directly a private scalar and its commitment y·G is well defined.
P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
A = P - 3
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
G = (
    0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
    0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
)
CURVE = ec.SECP256R1()
SHARE_TO = "custodian-share"
WRAP_AAD = b"GJ-SEAL-1 wrap"
WRAP_INFO_PREFIX = "GJ-SEAL-1 wrap|"
DOCUMENT_VERSION = 1
MAX_SHARES = 255

Point = tuple[int, int] | None  # affine coordinates; None is the point at infinity


class CustodianClientError(ValidationFailed):
    """A refused input on the custodian's side; `code` is stable, the message plain English (no Django)."""


# --- encodings -------------------------------------------------------------------------------------


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str) -> bytes:
    if not isinstance(text, str) or not text.isascii() or "=" in text:
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None


def scalar_to_b64u(value: int) -> str:
    return b64u(value.to_bytes(32, "big"))


def scalar_from_b64u(text: str, *, code: str = "custodian_share_malformed") -> int:
    """A share value: 32 bytes big-endian, 1 ≤ y < N (zero is never dealt: it has no commitment)."""
    try:
        raw = b64u_decode(text)
    except ValueError:
        raise CustodianClientError("The share is not base64url.", code=code) from None
    value = int.from_bytes(raw, "big")
    if len(raw) != 32 or not 0 < value < N:
        raise CustodianClientError("The share is not a 32-byte scalar below the group order.", code=code)
    return value


def point_encode(point: Point) -> bytes:
    if point is None:
        raise ValueError("the point at infinity has no encoding")
    return b"\x04" + point[0].to_bytes(32, "big") + point[1].to_bytes(32, "big")


def point_decode(data: bytes) -> tuple[int, int]:
    """A 65-byte uncompressed point, checked to lie on the curve (by OpenSSL, not by us)."""
    numbers = ec.EllipticCurvePublicKey.from_encoded_point(CURVE, data).public_numbers()
    return numbers.x, numbers.y


def public_key_point(public_key: ec.EllipticCurvePublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def public_key_from_point(data: bytes) -> ec.EllipticCurvePublicKey:
    return ec.EllipticCurvePublicKey.from_encoded_point(CURVE, data)


# --- P-256 arithmetic on PUBLIC values only ----------------------------------------------------------
# Secret scalars (the key, the polynomial's coefficients, a share) are only ever multiplied by G
# inside OpenSSL (`scalar_base_point`), which is constant time. The pure-Python code below is not,
# and it only combines public commitments with public Lagrange coefficients.


def _add(p1: Point, p2: Point) -> Point:
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    x1, y1 = p1
    x2, y2 = p2
    if x1 == x2:
        if (y1 + y2) % P == 0:
            return None
        lam = (3 * x1 * x1 + A) * pow(2 * y1, -1, P) % P
    else:
        lam = (y2 - y1) * pow(x2 - x1, -1, P) % P
    x3 = (lam * lam - x1 - x2) % P
    return x3, (lam * (x1 - x3) - y1) % P


def point_multiply(scalar: int, point: Point) -> Point:
    """scalar·point for a PUBLIC scalar (variable time)."""
    scalar %= N
    result: Point = None
    addend = point
    while scalar:
        if scalar & 1:
            result = _add(result, addend)
        addend = _add(addend, addend)
        scalar >>= 1
    return result


def scalar_base_point(secret: int) -> bytes:
    """secret·G, encoded, computed by OpenSSL: safe for secret scalars."""
    return public_key_point(ec.derive_private_key(secret, CURVE).public_key())


# --- Shamir over GF(N) -------------------------------------------------------------------------------


def _check_indices(indices: Iterable[int]) -> list[int]:
    seen = list(indices)
    if len(set(seen)) != len(seen) or any(not isinstance(i, int) or not 0 < i < N for i in seen):
        raise CustodianClientError(
            "Share indices must be distinct and non-zero.", code="custodian_share_index"
        )
    return seen


def lagrange_coefficients(indices: Iterable[int], at: int = 0) -> dict[int, int]:
    """λ_i(at) for the polynomial through the points with these x-coordinates."""
    xs = _check_indices(indices)
    out = {}
    for i in xs:
        num, den = 1, 1
        for m in xs:
            if m != i:
                num = num * (at - m) % N
                den = den * (i - m) % N
        out[i] = num * pow(den, -1, N) % N
    return out


def polynomial_evaluate(coefficients: list[int], x: int) -> int:
    result = 0
    for c in reversed(coefficients):  # Horner
        result = (result * x + c) % N
    return result


def shamir_split(
    secret: int, *, k: int, n: int, randbelow: Callable[[int], int] = secrets.randbelow
) -> list[tuple[int, int]]:
    """n shares (index 1..n, y) of `secret`; any k determine it, any k−1 are uniformly distributed.

    A share of value 0 has no commitment (0·G is the point at infinity); the chance is n/N, and the
    polynomial is then simply drawn again.
    """
    if not 2 <= k <= n <= MAX_SHARES:
        raise CustodianClientError("k-of-n needs 2 ≤ k ≤ n ≤ 255.", code="custodian_k_of_n_invalid")
    if not 0 < secret < N:
        raise CustodianClientError("The secret must be a scalar in [1, N).", code="custodian_secret_invalid")
    while True:
        coefficients = [secret] + [randbelow(N) for _ in range(k - 1)]
        shares = [(i, polynomial_evaluate(coefficients, i)) for i in range(1, n + 1)]
        if all(y for _, y in shares):
            return shares


def shamir_combine(shares: Iterable[tuple[int, int]]) -> int:
    """The polynomial's value at 0 from the given points (the caller gives at least k of them)."""
    pairs = list(shares)
    _check_indices(i for i, _ in pairs)  # before dict(): a repeated index must not vanish silently
    points = dict(pairs)
    if len(points) < 1:
        raise CustodianClientError("No shares to combine.", code="custodian_shares_insufficient")
    lam = lagrange_coefficients(points)
    return sum(lam[i] * y for i, y in points.items()) % N


# --- commitments ---------------------------------------------------------------------------------------
# Each share i is published as Y_i = y_i·G (Feldman's commitments in evaluation form: any k of them
# determine the coefficient commitments a_j·G, and the constant one is the public key itself). A
# revealed share is checked against its Y_i; the set of Y_i is checked to be one polynomial of degree
# k−1 through the public key, so a dealer (or a database edit) cannot hand out inconsistent shares.


def share_commitment(y: int) -> bytes:
    return scalar_base_point(y)


def share_matches(y: int, commitment: bytes) -> bool:
    return 0 < y < N and secrets.compare_digest(share_commitment(y), commitment)


def commitments_consistent(*, public_key: bytes, commitments: Mapping[int, bytes], k: int) -> bool:
    """True if the Y_i lie on one degree-(k−1) polynomial (in the exponent) whose value at 0 is the key."""
    if len(commitments) < k or k < 1:
        return False
    try:
        points = {i: point_decode(c) for i, c in commitments.items()}
        target = point_decode(public_key)
    except (ValueError, TypeError):
        return False
    basis = sorted(points)[:k]

    def interpolate(at: int) -> Point:
        total: Point = None
        for i, lam in lagrange_coefficients(basis, at).items():
            total = _add(total, point_multiply(lam, points[i]))
        return total

    if interpolate(0) != target:
        return False
    return all(interpolate(j) == points[j] for j in points if j not in basis)


# --- the wrap (docs/sealed-bid.md §3: the same construction as an envelope's key wraps) ------------


def wrap_info(*, to: str, kid: str, tender: str, lot: int | str, bidder: str) -> bytes:
    return f"{WRAP_INFO_PREFIX}{to}|{kid}|{tender}|{lot}|{bidder}".encode()


def _kek(*, shared: bytes, epk: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=epk, info=info).derive(shared)


def key_unwrap(*, wrap: Mapping, tender: str, lot: int | str, bidder: str, private_key) -> bytes:
    """The 32 bytes inside `wrap`; custodian_share_wrap_invalid for a wrong key or any tampering."""
    try:
        epk = b64u_decode(wrap["epk"])
        iv = b64u_decode(wrap["iv"])
        ct = b64u_decode(wrap["ct"])
        to, kid = str(wrap["to"]), str(wrap["kid"])
        peer = public_key_from_point(epk)
        if len(iv) != 12 or len(ct) != 48:
            raise ValueError("wrong lengths")
    except (KeyError, TypeError, ValueError):
        raise CustodianClientError(
            "The share wrap is malformed.", code="custodian_share_wrap_invalid"
        ) from None
    try:
        kek = _kek(
            shared=private_key.exchange(ec.ECDH(), peer),
            epk=epk,
            info=wrap_info(to=to, kid=kid, tender=tender, lot=lot, bidder=bidder),
        )
        return AESGCM(kek).decrypt(iv, ct, WRAP_AAD)
    except (InvalidTag, ValueError):
        raise CustodianClientError(
            "This key does not open the share (wrong key, or the wrap was altered).",
            code="custodian_share_wrap_invalid",
        ) from None


def share_wrap(
    *, y: int, index: int, key_id: str, tender: str, kid: str, recipient: ec.EllipticCurvePublicKey
) -> dict:
    """A share wrapped to its custodian with the envelope's own wrap (bidding.envelope.wrap_key): `lot`
    carries the share's index and `bidder` the key id, so a wrap moved to another index, key or tender
    no longer opens. (The envelope's `unwrap` also checks a bid header's key commitment, which a share
    has not: shares are opened with `key_unwrap` above, the same construction.)"""
    return envelope.wrap_key(
        cek=y.to_bytes(32, "big"),
        recipient=envelope.Recipient(to=SHARE_TO, kid=kid, public_key=recipient),
        tender=tender,
        lot=index,
        bidder=key_id,
    )


# --- the custodian's document ----------------------------------------------------------------------


def share_open(document: Mapping, private_key, *, check_commitments: bool = True) -> str:
    """Unwrap the share in a share document with the custodian's key; returns it as b64u.

    Checks, before anything is handed in, that the share matches its public commitment and (unless
    asked not to) that all commitments are one polynomial through the opening key's public half.
    """
    try:
        if document.get("v") != DOCUMENT_VERSION or document["wrap"].get("to") != SHARE_TO:
            raise ValueError("version")
        index = int(document["index"])
        k = int(document["k"])
        commitment = b64u_decode(document["commitment"])
        public_key = b64u_decode(document["public_key"])
        commitments = {int(c["index"]): b64u_decode(c["commitment"]) for c in document["commitments"]}
        tender, key_id = str(document["tender"]), str(document["key_id"])
    except (AttributeError, KeyError, TypeError, ValueError):
        raise CustodianClientError(
            "This is not a custodian share document.", code="custodian_document_malformed"
        ) from None
    raw = key_unwrap(wrap=document["wrap"], tender=tender, lot=index, bidder=key_id, private_key=private_key)
    y = int.from_bytes(raw, "big")
    if not share_matches(y, commitment) or commitments.get(index) != commitment:
        raise CustodianClientError(
            "The share does not match its public commitment.", code="custodian_share_invalid"
        )
    if check_commitments and not commitments_consistent(public_key=public_key, commitments=commitments, k=k):
        raise CustodianClientError(
            "The published commitments do not fit the opening key.", code="custodian_commitments_inconsistent"
        )
    return scalar_to_b64u(y)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="custodian_client", description="Open a custodian share.")
    sub = parser.add_subparsers(dest="command", required=True)
    opener = sub.add_parser("open", help="print the share to hand in (b64u)")
    opener.add_argument("--key", required=True, help="platform key file (JSON) or encrypted PKCS#8 PEM")
    opener.add_argument("--share", required=True, help="the share document (JSON) from the platform")
    opener.add_argument("--password-env", help="read the key password from this environment variable")
    args = parser.parse_args(argv)

    from trading.keyclient import KeyClientError, key_load  # Django-free as well

    password = (
        os.environ.get(args.password_env, "") if args.password_env else getpass.getpass("Key password: ")
    )
    try:
        with open(args.key, "rb") as fh:
            key = key_load(fh.read(), password)
        with open(args.share, encoding="utf-8") as fh:
            document = json.load(fh)
        print(share_open(document, key))
    except (KeyClientError, CustodianClientError) as exc:
        print(f"{exc.code}: {exc.message}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
