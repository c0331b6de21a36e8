"""Before the opening the platform holds no plaintext and no usable key (DESIGN §4, DOMAIN B1).

After several submissions — replaced, withdrawn, unfinished, under both decryption policies — every
text, JSON and binary column of every table and every file under MEDIA_ROOT is searched for the bids'
plaintext (document contents and bid-form values) and for their content keys in every encoding.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models

from bidding import envelope
from bidding.models import Bid
from bidding.services import submission
from tests.bidding import submission_world as w

pytestmark = pytest.mark.django_db


def _encodings(key: bytes) -> list[bytes]:
    return [
        key,
        key.hex().encode(),
        key.hex().upper().encode(),
        base64.b64encode(key),
        base64.b64encode(key).rstrip(b"="),
        base64.urlsafe_b64encode(key),
        base64.urlsafe_b64encode(key).rstrip(b"="),
    ]


def _as_bytes(value) -> bytes:
    if value is None:
        return b""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False).encode() + json.dumps(value).encode()
    return str(value).encode()


def database_hits(needles: dict[str, bytes]) -> list[tuple[str, str, str]]:
    """(needle name, model, field) for every needle found in any text, JSON or binary column."""
    hits = []
    for model in apps.get_models(include_auto_created=True):
        fields = [
            f
            for f in model._meta.concrete_fields
            if isinstance(f, (models.CharField, models.TextField, models.JSONField, models.BinaryField))
        ]
        if not fields:
            continue
        for row in model.objects.values_list(*[f.attname for f in fields]):
            for field, value in zip(fields, row, strict=True):
                data = _as_bytes(value)
                for name, needle in needles.items():
                    if needle in data:
                        hits.append((name, model._meta.label, field.name))
    return hits


def storage_hits(needles: dict[str, bytes]) -> list[tuple[str, str]]:
    hits = []
    for path in Path(settings.MEDIA_ROOT).rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits.extend((name, str(path)) for name, needle in needles.items() if needle in data)
    return hits


def stored_files() -> list[Path]:
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


@pytest.fixture
def submissions(clock):
    """Several bids, their secrets (plaintext markers and content keys) kept aside for the search."""
    lot = w.published_lot()
    custodian_lot = w.published_lot(policy="bidder_custodian")
    key, private = w.custodian_key(custodian_lot.tender)
    alice, bob, carol, dave = (w.bidder() for _ in range(4))
    envelopes = []

    def seal(target, who, n, **kw):
        env = w.seal(
            target,
            who,
            price=f"45{n:05d}.67",
            marker=f"SECRET-DOCUMENT-{n}-{who.entity.uscc}".encode(),
            items={"工期": f"工期秘密{n}日历天"},
            manager={"name": f"秘密经理{n}", "reg_no": f"REG-SECRET-{n}"},
            **kw,
        )
        envelopes.append(env)
        return env

    meta = {"author": "作者", "creator_tool": "WPS Office", "pricing_software": "广联达计价"}
    w.submit(lot, alice, seal(lot, alice, 1), file_meta=meta)
    w.submit(lot, bob, seal(lot, bob, 2))
    clock.advance(minutes=5)
    w.submit(lot, bob, seal(lot, bob, 3))  # replaces bob's first bid
    withdrawn = w.submit(lot, carol, seal(lot, carol, 4))
    submission.bid_withdraw(bid=withdrawn, user=carol.user)
    unfinished = seal(lot, dave, 5)
    w.upload(lot, dave, unfinished.ciphertext[:6000], size=len(unfinished.ciphertext))
    recipient = envelope.Recipient(to="custodian", kid=key.key_id, public_key=private.public_key())
    w.submit(custodian_lot, alice, seal(custodian_lot, alice, 6, extra_recipients=(recipient,)))

    secrets = {}
    for n, env in enumerate(envelopes, start=1):
        secrets[f"document {n}"] = env.marker
        secrets[f"price {n}"] = f"45{n:05d}.67".encode()
        secrets[f"item {n}"] = f"工期秘密{n}日历天".encode()
        secrets[f"manager {n}"] = f"秘密经理{n}".encode()
        secrets[f"registration {n}"] = f"REG-SECRET-{n}".encode()
        for i, encoded in enumerate(_encodings(env.sealed.cek)):
            secrets[f"content key {n} encoding {i}"] = encoded
    return {"envelopes": envelopes, "secrets": secrets, "lots": (lot, custodian_lot)}


def test_no_plaintext_and_no_content_key_anywhere_in_the_database(submissions):
    # given the submissions; when every text, JSON and binary column of every table is searched
    hits = database_hits(submissions["secrets"])
    # then none of the bids' plaintext or content keys is found
    assert hits == []
    # and no bid carries a content key or a read-out form before the opening
    assert Bid.objects.count() == 5
    assert not Bid.objects.exclude(content_key="").exists()
    assert not Bid.objects.exclude(form={}).exists()


def test_no_plaintext_and_no_content_key_in_any_stored_file(submissions):
    # given the submissions; when every file under MEDIA_ROOT is searched, byte for byte
    files = stored_files()
    hits = storage_hits(submissions["secrets"])
    # then the store holds the ciphertexts (and the unfinished upload's part), but no secret
    assert hits == []
    assert len(files) >= 6


def test_the_search_finds_what_is_there(submissions):
    # given values known to be stored: a bid's signature (database) and a slice of its ciphertext (file)
    env = submissions["envelopes"][0]
    present = {"signature": env.sealed.signature.encode(), "ciphertext": env.ciphertext[100:164]}
    # when the same searches look for them, then they are found: a miss above is not a blind spot
    assert ("signature", "bidding.Bid", "signature") in database_hits(present)
    assert any(name == "ciphertext" for name, _ in storage_hits(present))
