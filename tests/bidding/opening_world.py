"""A small world for the opening-hall tests: a published tender with one lot, bidders holding
certified keys and really sealed bids (bidding.envelope), a host, a regulator and the agency.

Bids are created as rows (what the submission service stores), so the hall's tests do not depend on
the upload API; the ciphertext is real, so decryption is exercised end to end.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from archive.blobs import blob_put
from bidding import envelope
from bidding.models import Bid, BidSecurity
from bidding.opening import services
from core.errors import DomainError
from tests.factories import AgencyUserFactory, BidderUserFactory, LotFactory, TenderFactory, UserFactory
from trading import keyclient
from trading.models import Role, TenderState
from trading.services.pki import certificate_issue

DEADLINE = dt.datetime(2026, 3, 25, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@dataclass
class Bidder:
    user: object
    key: object
    cert: object
    bid: Bid | None = None
    cek: bytes = b""

    @property
    def entity(self):
        return self.user.entity


@dataclass
class World:
    tender: object
    lot: object
    host: object
    regulator: object
    agency: object
    bidders: list[Bidder] = field(default_factory=list)


def bidder_with_key(**user_kwargs) -> Bidder:
    user = BidderUserFactory(**user_kwargs)
    key = keyclient.key_generate()
    cert = certificate_issue(user=user, csr_pem=keyclient.csr_build(key), actor=user)
    return Bidder(user=user, key=key, cert=cert)


def seal_bid(
    *, lot, bidder: Bidder, price: str, document: bytes = b"%PDF-1.7 tender", submitted_at=None
) -> Bid:
    """Seal a bid form + document for `bidder` and store it as the submission service would."""
    out = io.BytesIO()
    sealed = envelope.seal(
        form={
            "price": price,
            "currency": "CNY",
            "duration_days": 180,
            "quality": "合格",
            "project_manager": {
                "name": f"项目经理{bidder.user.pk}",
                "reg_no": f"桂1452000{bidder.user.pk:04d}",
            },
            "items": {},
        },
        document=document,
        document_name="投标文件.pdf",
        content_type="application/pdf",
        tender=lot.tender.code,
        lot=lot.number,
        bidder=bidder.entity.uscc,
        cert_serial=bidder.cert.serial,
        signing_key=bidder.key,
        recipients=[
            envelope.Recipient(to="bidder", kid=bidder.cert.serial, public_key=bidder.key.public_key())
        ],
        out=out,
        chunk=4096,
    )
    blob = blob_put(data=out.getvalue())
    from django.utils import timezone

    bid = Bid.objects.create(
        lot=lot,
        entity=bidder.entity,
        user=bidder.user,
        certificate=bidder.cert,
        header=envelope.b64u(sealed.header_bytes),
        header_sha256=sealed.header_sha256,
        ciphertext=blob,
        ciphertext_size=sealed.ciphertext_size,
        signature=sealed.signature,
        submitted_at=submitted_at or timezone.now(),
    )
    bidder.bid, bidder.cek = bid, sealed.cek
    return bid


def hall_world(*, clock, bids: int = 3, deadline=DEADLINE, security: bool = True, **tender_kwargs) -> World:
    """A tender open for bids with `bids` sealed bids, one a minute apart; the clock stays before
    the deadline (at 09:00 on 2 March 2026)."""
    tender = TenderFactory(
        state=TenderState.PUBLISHED, published_at=clock(), deadline=deadline, **tender_kwargs
    )
    lot = LotFactory(
        tender=tender, number=1, read_out_items=["price", "duration", "quality", "project_manager"]
    )
    world = World(
        tender=tender,
        lot=lot,
        host=UserFactory(role=Role.CENTRE, first_name="主持人"),
        regulator=UserFactory(role=Role.REGULATOR),
        agency=AgencyUserFactory(entity=tender.agency),
    )
    for i in range(bids):
        bidder = bidder_with_key()
        seal_bid(
            lot=lot,
            bidder=bidder,
            price=f"{4_000_000 + 10_000 * i}.00",
            submitted_at=clock.advance(minutes=1),
        )
        if security:
            BidSecurity.objects.create(
                lot=lot,
                entity=bidder.entity,
                amount=Decimal("80000.00"),
                method=BidSecurity.Method.GUARANTEE,
                received_at=clock(),
            )
        world.bidders.append(bidder)
    return world


# --- moving a hall along, through the services ---------------------------------------------------


def refused(fn, **kwargs) -> str:
    """The code of the DomainError `fn(**kwargs)` raises."""
    with pytest.raises(DomainError) as info:
        fn(**kwargs)
    return info.value.code


def to_deadline(world, clock):
    """Sign every bidder in the evening before, then pass the deadline."""
    clock.set(DEADLINE - dt.timedelta(hours=1))
    services.opening_tick(lot=world.lot)
    for b in world.bidders:
        services.opening_signin(lot=world.lot, user=b.user)
    clock.set(DEADLINE)
    services.opening_tick(lot=world.lot)


def to_decryption(world, clock):
    to_deadline(world, clock)
    services.opening_publish_bidders(lot=world.lot, actor=world.host)
    services.opening_start_decryption(lot=world.lot, actor=world.host)


def decrypt_all(world, bidders=None):
    for b in bidders if bidders is not None else world.bidders:
        services.bid_decrypt(bid=b.bid, cek=envelope.b64u(b.cek), actor=b.user)


def to_readout(world, clock):
    to_decryption(world, clock)
    decrypt_all(world)
    services.opening_start_readout(lot=world.lot, actor=world.host)
