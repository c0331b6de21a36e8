"""Test helpers for submission: a published lot, bidders with certified keys, real sealed envelopes."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric import ec
from django.utils import timezone

from bidding import envelope
from bidding.models import Bid, CustodianKey
from bidding.services import submission
from tests.factories import BidderUserFactory, LotFactory, TenderFactory
from trading import keyclient
from trading.models import BankAccount, DecryptionPolicy, Lot, TenderState, User
from trading.services.pki import certificate_issue

SH = ZoneInfo("Asia/Shanghai")
DEADLINE = dt.datetime(2026, 3, 25, 9, 30, tzinfo=SH)
CHUNK = 4096  # the smallest chunk: a few KiB of document already makes several chunks
PART = 5000  # deliberately not a multiple of the chunk


@dataclass
class Bidder:
    user: User
    key: ec.EllipticCurvePrivateKey
    certificate: object

    @property
    def entity(self):
        return self.user.entity


@dataclass
class Envelope:
    sealed: envelope.Sealed
    ciphertext: bytes
    marker: bytes

    @property
    def header(self) -> str:
        return envelope.b64u(self.sealed.header_bytes)


def published_lot(*, policy: str = DecryptionPolicy.BIDDER, **tender_fields) -> Lot:
    fields = {"state": TenderState.PUBLISHED, "published_at": dt.datetime(2026, 3, 2, 9, 0, tzinfo=SH)}
    if policy == DecryptionPolicy.BIDDER_CUSTODIAN:
        fields.update(decryption_policy=policy, custodian_k=2, custodian_n=3)
    fields.update(tender_fields)
    tender = TenderFactory(**fields)
    return LotFactory(tender=tender, number=1, read_out_items=["工期", "质量"])


def custodian_key(tender) -> tuple[CustodianKey, ec.EllipticCurvePrivateKey]:
    private = ec.generate_private_key(ec.SECP256R1())
    key = CustodianKey.objects.create(
        tender=tender,
        key_id=f"ck{tender.pk}",
        public_key=envelope.public_key_b64u(private.public_key()),
        k=2,
        n=3,
        created_at=timezone.now(),
    )
    return key, private


def bidder(**entity_fields) -> Bidder:
    """A bidder user of a verified entity with a certificate issued now (call with the clock running)."""
    user = BidderUserFactory(**{f"entity__{k}": v for k, v in entity_fields.items()})
    key = keyclient.key_generate()
    cert = certificate_issue(user=user, csr_pem=keyclient.csr_build(key), actor=user)
    return Bidder(user=user, key=key, certificate=cert)


def basic_account(entity, number: str = "6222020200112233445", *, basic: bool = True) -> BankAccount:
    return BankAccount.objects.create(
        entity=entity,
        bank_name="中国工商银行南宁分行",
        account_name=entity.name,
        account_number=number,
        is_basic=basic,
    )


def seal(
    lot: Lot,
    who: Bidder,
    *,
    price: str = "4500000.00",
    marker: bytes | None = None,
    size: int = 10_000,
    tender_code: str | None = None,
    lot_number: int | None = None,
    bidder_uscc: str | None = None,
    cert_serial: str | None = None,
    signing_key=None,
    extra_recipients: tuple = (),
    items: dict | None = None,
    manager: dict | None = None,
) -> Envelope:
    """Seal a bid form and a document that contains `marker` (to look for it later in storage)."""
    marker = marker or f"PLAINTEXT-{who.entity.uscc}-{price}".encode()
    document = (marker + b" " + b"x" * size)[:size] if size > len(marker) else marker
    out = io.BytesIO()
    serial = cert_serial or who.certificate.serial
    sealed = envelope.seal(
        form={
            "price": price,
            "currency": "CNY",
            "duration_days": 180,
            "quality": "合格",
            "project_manager": manager or {"name": "王项目", "reg_no": "桂145000000001"},
            "items": items or {"工期": "180日历天", "质量": "合格"},
        },
        document=document,
        document_name="投标文件.pdf",
        content_type="application/pdf",
        tender=tender_code or lot.tender.code,
        lot=lot_number or lot.number,
        bidder=bidder_uscc or who.entity.uscc,
        cert_serial=serial,
        signing_key=signing_key or who.key,
        recipients=[
            envelope.Recipient(to="bidder", kid=serial, public_key=who.key.public_key()),
            *extra_recipients,
        ],
        out=out,
        chunk=CHUNK,
    )
    return Envelope(sealed=sealed, ciphertext=out.getvalue(), marker=marker)


def upload(lot: Lot, who: Bidder, data: bytes, *, part: int = PART, size: int | None = None):
    """Start an upload and send `data` in parts; returns the (open) upload session."""
    session = submission.upload_start(lot=lot, user=who.user, size=len(data) if size is None else size)
    for offset in range(0, len(data), part):
        session = submission.upload_append(
            upload=session, user=who.user, offset=offset, data=data[offset : offset + part]
        )
    return session


def submit(lot: Lot, who: Bidder, env: Envelope | None = None, **complete) -> Bid:
    env = env or seal(lot, who)
    session = upload(lot, who, env.ciphertext)
    return complete_upload(session, who, env, **complete)


def complete_upload(session, who: Bidder, env: Envelope, **complete) -> Bid:
    session.refresh_from_db()
    kwargs = {"header": env.header, "signature": env.sealed.signature}
    kwargs.update(complete)
    return submission.upload_complete(upload=session, user=who.user, **kwargs)


def money(value: str) -> Decimal:
    return Decimal(value)
