"""The k-of-n custodian opening key: Shamir over the P-256 order, commitments, generation at publication,
nothing private stored, shares handed in only after the deadline, reconstruction, the custodian wrap
of a bid (DOMAIN B5), the custodian's page and Python client, and certificates for centre/regulator staff.

The clock starts on Wednesday 4 March 2026, 09:00; the deadline is Tuesday 24 March, 09:30.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import secrets
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from django.apps import apps
from django.conf import settings
from django.urls import reverse
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from archive.blobs import blob_put
from archive.models import JournalEntry
from bidding import custodian, envelope
from bidding import custodian_client as cc
from bidding.models import Bid, CustodianKey, CustodianShare
from core.errors import DomainError
from tests.conftest import SHANGHAI
from tests.factories import AgencyUserFactory, BidderUserFactory, MarketEntityFactory, UserFactory
from trading import keyclient
from trading import models as m
from trading.services.pki import certificate_issue, certificate_revoke
from trading.services.tenders import tender_create, tender_publish, tender_resume, tender_suspend

N = cc.N
DEADLINE = dt.datetime(2026, 3, 24, 9, 30, tzinfo=SHANGHAI)


def refused(fn, *args, **kwargs) -> str:
    with pytest.raises(DomainError) as info:
        fn(*args, **kwargs)
    return info.value.code


# --- helpers for polynomials (test side only) ----------------------------------------------------------


def poly_mul_linear(poly: list[int], root: int) -> list[int]:
    """poly · (x − root), coefficients low to high, mod N."""
    out = [0] * (len(poly) + 1)
    for i, c in enumerate(poly):
        out[i] = (out[i] - root * c) % N
        out[i + 1] = (out[i + 1] + c) % N
    return out


def interpolating_coefficients(points: list[tuple[int, int]]) -> list[int]:
    """The coefficients of the unique polynomial of degree < len(points) through `points` (mod N)."""
    total = [0] * len(points)
    for i, (xi, yi) in enumerate(points):
        basis, den = [1], 1
        for j, (xj, _) in enumerate(points):
            if j != i:
                basis = poly_mul_linear(basis, xj)
                den = den * (xi - xj) % N
        scale = yi * pow(den, -1, N) % N
        for d, c in enumerate(basis):
            total[d] = (total[d] + c * scale) % N
    return total


# --- Shamir and commitments: pure mathematics -----------------------------------------------------------

scalars = st.integers(min_value=1, max_value=N - 1)


@st.composite
def split_and_subset(draw, size_of=lambda k: k):
    k = draw(st.integers(min_value=2, max_value=6))
    n = draw(st.integers(min_value=k, max_value=8))
    secret = draw(scalars)
    subset = draw(st.permutations(range(n)))[: size_of(k)]
    return k, n, secret, subset


@hsettings(max_examples=60, deadline=None)
@given(case=split_and_subset())
def test_any_k_shares_reconstruct_the_secret(case):
    # given a k-of-n split of a secret
    k, n, secret, subset = case
    shares = cc.shamir_split(secret, k=k, n=n)
    # when any k of the shares, in any order, are combined
    chosen = [shares[i] for i in subset]
    # then the secret comes back, and the indices are 1..n
    assert cc.shamir_combine(chosen) == secret
    assert [i for i, _ in shares] == list(range(1, n + 1))


@hsettings(max_examples=60, deadline=None)
@given(case=split_and_subset(size_of=lambda k: k - 1), other=scalars)
def test_k_minus_1_shares_fit_every_secret_equally(case, other):
    # given k−1 shares of `secret` and any other candidate secret
    k, n, secret, subset = case
    coefficients = [secrets.randbelow(N) for _ in range(k - 1)]
    feed = iter(coefficients)
    shares = cc.shamir_split(secret, k=k, n=n, randbelow=lambda _n: next(feed))
    seen = [shares[i] for i in subset]
    # when we solve for the dealer's randomness that would give the same k−1 shares for `other`
    alternative = interpolating_coefficients([(0, other), *seen])
    assert alternative[0] == other
    feed2 = iter(alternative[1:])
    shares2 = cc.shamir_split(other, k=k, n=n, randbelow=lambda _n: next(feed2))
    # then exactly one such draw exists (a bijection): the k−1 shares say nothing about the secret
    assert [shares2[i] for i in subset] == seen
    assert len(alternative) == k


def test_fewer_than_k_shares_do_not_give_the_secret():
    secret = 1 + secrets.randbelow(N - 1)
    shares = cc.shamir_split(secret, k=3, n=5)
    assert cc.shamir_combine(shares[:2]) != secret
    assert cc.shamir_combine(shares[1:4]) == secret


def test_split_refuses_bad_parameters():
    assert refused(cc.shamir_split, 5, k=1, n=3) == "custodian_k_of_n_invalid"
    assert refused(cc.shamir_split, 5, k=4, n=3) == "custodian_k_of_n_invalid"
    assert refused(cc.shamir_split, 0, k=2, n=3) == "custodian_secret_invalid"
    assert refused(cc.shamir_split, N, k=2, n=3) == "custodian_secret_invalid"
    assert refused(cc.shamir_combine, [(1, 5), (1, 6)]) == "custodian_share_index"


@hsettings(max_examples=25, deadline=None)
@given(scalar=scalars)
def test_pure_python_point_arithmetic_agrees_with_openssl(scalar):
    assert cc.point_encode(cc.point_multiply(scalar, cc.G)) == cc.scalar_base_point(scalar)


def test_commitments_fit_the_key_and_a_swapped_one_is_detected():
    # given honest commitments of a 2-of-3 split
    secret = 1 + secrets.randbelow(N - 1)
    shares = cc.shamir_split(secret, k=2, n=3)
    public = cc.scalar_base_point(secret)
    commitments = {i: cc.share_commitment(y) for i, y in shares}
    assert cc.commitments_consistent(public_key=public, commitments=commitments, k=2)
    # when one commitment is replaced by that of another scalar, or the key by another key
    forged = dict(commitments)
    forged[3] = cc.share_commitment(1 + secrets.randbelow(N - 1))
    # then the set no longer fits
    assert not cc.commitments_consistent(public_key=public, commitments=forged, k=2)
    assert not cc.commitments_consistent(
        public_key=cc.scalar_base_point(secret + 1), commitments=commitments, k=2
    )
    assert not cc.commitments_consistent(public_key=public, commitments={1: commitments[1]}, k=2)


def test_a_share_wrap_opens_only_for_its_key_and_binding():
    # given a share wrapped to a custodian
    holder = keyclient.key_generate()
    wrap = cc.share_wrap(y=12345, index=2, key_id="k1", tender="T", kid="ab", recipient=holder.public_key())
    binding = {"tender": "T", "lot": 2, "bidder": "k1"}
    # then the holder's key opens it, another key or another index does not
    assert cc.key_unwrap(wrap=wrap, private_key=holder, **binding) == (12345).to_bytes(32, "big")
    other = keyclient.key_generate()
    assert refused(cc.key_unwrap, wrap=wrap, private_key=other, **binding) == "custodian_share_wrap_invalid"
    moved = {**binding, "lot": 3}
    assert refused(cc.key_unwrap, wrap=wrap, private_key=holder, **moved) == "custodian_share_wrap_invalid"
    assert refused(cc.key_unwrap, wrap={**wrap, "ct": "AA"}, private_key=holder, **binding) == (
        "custodian_share_wrap_invalid"
    )


# --- the platform side ----------------------------------------------------------------------------------


@pytest.fixture
def clock(clock):
    clock.set(dt.datetime(2026, 3, 4, 9, 0, tzinfo=SHANGHAI))
    return clock


@pytest.fixture
def world(clock):
    return make_world()


def make_world() -> dict:
    """Tenderee, agency with its agent, and certified custodians: centre, regulator, agency staff."""
    tenderee = MarketEntityFactory(is_tenderee=True, is_bidder=False, kind=m.EntityKind.GOVERNMENT)
    agency = MarketEntityFactory(is_agency=True, is_bidder=False)
    agent = AgencyUserFactory(entity=agency)
    keys = {}

    def certify(user):
        key = keyclient.key_generate()
        certificate_issue(user=user, csr_pem=keyclient.csr_build(key), actor=user)
        keys[user.pk] = key
        return user

    centre = certify(UserFactory(role=m.Role.CENTRE, region_code="450100"))
    regulator = certify(UserFactory(role=m.Role.REGULATOR, department="南宁市住房和城乡建设局"))
    agency_staff = certify(AgencyUserFactory(entity=agency))
    return {
        "tenderee": tenderee,
        "agency": agency,
        "agent": agent,
        "centre": centre,
        "regulator": regulator,
        "agency_staff": agency_staff,
        "keys": keys,
        "certify": certify,
    }


def tender_data(world, **overrides) -> dict:
    data = {
        "title": "南宁市民族大道改造工程施工招标",
        "regime": "TB",
        "category": "works",
        "method": "open",
        "tenderee_id": world["tenderee"].pk,
        "agency_id": world["agency"].pk,
        "region_code": "450103",
        "docs_from": "2026-03-04T09:00:00+08:00",
        "docs_until": "2026-03-09T17:00:00+08:00",
        "deadline": DEADLINE.isoformat(),
        "decryption_policy": "bidder_custodian",
        "custodian_k": 2,
        "custodian_n": 3,
        "lots": [
            {
                "title": "第一标段",
                "classification_code": "A010000",
                "budget": "5000000.00",
                "ceiling_price": "4800000.00",
                "bid_security": "100000.00",
                "duration_days": "180",
                "evaluation_method": "scoring",
                "evaluation": {
                    "criteria": [
                        {"code": "tech", "name": "技术", "group": "technical", "max": 50},
                        {"code": "biz", "name": "商务", "group": "commercial", "max": 20},
                        {"code": "price", "name": "价格", "group": "price", "max": 30},
                    ],
                    "price_formula": {"kind": "deviation"},
                },
                "committee": {"size": 5, "experts": 4, "tenderee_reps": 1},
            }
        ],
    }
    data.update(overrides)
    return data


def publish(world, **overrides) -> m.Tender:
    tender = tender_create(actor=world["agent"], data=tender_data(world, **overrides))
    tender_publish(
        tender=tender, actor=world["agent"], documents=[("招标文件.pdf", b"%PDF-1.7", "application/pdf")]
    )
    tender.refresh_from_db()
    return tender


def open_share(world, share: CustodianShare) -> str:
    """What the custodian does on its own side: fetch its document, unwrap with its own key."""
    document = json.loads(json.dumps(custodian.custodian_share_document(share=share)))
    return cc.share_open(document, world["keys"][share.holder_id])


@pytest.fixture
def published(world):
    return publish(world)


@pytest.mark.django_db
def test_publication_creates_the_key_and_one_wrapped_share_per_custodian(world, published):
    # when a tender with the custodian policy is published (the fixture)
    key = CustodianKey.objects.get(tender=published)
    shares = list(key.shares.order_by("index"))
    # then the key is public only, k-of-n as asked, and each institution holds one share
    assert (key.k, key.n) == (2, 3)
    assert [s.index for s in shares] == [1, 2, 3]
    assert {s.holder for s in shares} == {world["centre"], world["regulator"], world["agency_staff"]}
    for share in shares:
        assert share.wrapped["wrap"]["to"] == "custodian-share"
        assert share.wrapped["wrap"]["kid"] == share.certificate.serial
        assert share.certificate.user_id == share.holder_id
        assert share.revealed == ""
    # and any two custodians together, opening on their own side, reassemble the public key
    opened = [(s.index, cc.scalar_from_b64u(open_share(world, s))) for s in shares]
    for pair in ([0, 1], [0, 2], [1, 2]):
        secret = cc.shamir_combine([opened[i] for i in pair])
        assert cc.b64u(cc.scalar_base_point(secret)) == key.public_key
    entry = JournalEntry.objects.get(stream=published.stream, action="custodian.key_create")
    assert entry.payload["public_key"] == key.public_key and len(entry.payload["shares"]) == 3


def _needles(value: int) -> list[str]:
    raw = value.to_bytes(32, "big")
    return [
        raw.hex(),
        raw.hex().upper(),
        cc.b64u(raw),
        base64.b64encode(raw).decode(),
        str(value),
    ]


@pytest.mark.django_db
def test_nothing_private_is_stored_after_publication(world, published, caplog):
    # given the private scalar and the share values, which only the custodians together can compute
    key = CustodianKey.objects.get(tender=published)
    opened = [(s.index, cc.scalar_from_b64u(open_share(world, s))) for s in key.shares.all()]
    secret = cc.shamir_combine(opened[:2])
    assert cc.b64u(cc.scalar_base_point(secret)) == key.public_key
    needles = _needles(secret) + [n for _, y in opened for n in _needles(y)]
    raw_needles = [secret.to_bytes(32, "big")] + [y.to_bytes(32, "big") for _, y in opened]
    # when we read every row of every table, every stored file and the log
    dump = []
    for model in apps.get_models():
        dump.append(json.dumps(list(model.objects.values()), default=str, ensure_ascii=False))
    text = "\n".join(dump) + caplog.text
    files = [
        p
        for root in (settings.MEDIA_ROOT, settings.KEYS_DIR)
        if Path(root).exists()
        for p in Path(root).rglob("*")
    ]
    # then none of them is there, in hex, base64 or decimal
    assert all(needle not in text for needle in needles)
    for path in files:
        if path.is_file():
            data = path.read_bytes()
            assert all(raw not in data for raw in raw_needles)
            assert all(needle.encode() not in data for needle in needles)


@pytest.mark.django_db
def test_too_few_certified_custodians_refuse_publication_and_leave_a_draft(world):
    # given a 2-of-4 tender with only three certified custodians
    tender = tender_create(actor=world["agent"], data=tender_data(world, custodian_n=4))
    # when it is published
    code = refused(tender_publish, tender=tender, actor=world["agent"])
    # then publication is refused and nothing of it remains
    assert code == "custodians_unavailable"
    tender.refresh_from_db()
    assert tender.state == m.TenderState.DRAFT and tender.published_at is None
    assert not CustodianKey.objects.exists() and not CustodianShare.objects.exists()
    assert not m.Announcement.objects.filter(tender=tender, state=m.Announcement.State.PUBLISHED).exists()
    assert not JournalEntry.objects.filter(action__startswith="custodian.").exists()


@pytest.mark.django_db
def test_shares_are_spread_across_institutions_before_any_gets_two(world):
    # given more certified centre staff than anything else, one of them in the tender's own region
    local = world["certify"](UserFactory(role=m.Role.CENTRE, region_code="450103"))
    for _ in range(2):
        world["certify"](UserFactory(role=m.Role.CENTRE, region_code="450200"))
    # when a 2-of-4 tender is published
    tender = publish(world, custodian_n=4)
    holders = [s.holder for s in shares_of(tender)]
    # then each institution holds a share, and the centre's second goes to the next in line
    assert [h.role for h in holders] == ["centre", "regulator", "agency", "centre"]
    assert holders[0] == local and holders[3] == world["centre"]


@pytest.mark.django_db
def test_revoked_certificates_and_uncertified_staff_are_not_custodians(world):
    # given the regulator's certificate revoked and a second centre user without any certificate
    cert = m.Certificate.objects.get(user=world["regulator"])
    certificate_revoke(certificate=cert, reason="key_compromise", actor=world["regulator"])
    UserFactory(role=m.Role.CENTRE)
    # when a 2-of-3 tender is published
    tender = tender_create(actor=world["agent"], data=tender_data(world))
    # then only two are available: refused
    assert refused(tender_publish, tender=tender, actor=world["agent"]) == "custodians_unavailable"


@pytest.mark.django_db
def test_agency_staff_of_another_agency_are_not_custodians(world):
    # given a certified agent of another agency instead of the tender's own agency staff
    world["certify"](AgencyUserFactory(entity=MarketEntityFactory(is_agency=True, is_bidder=False)))
    m.Certificate.objects.filter(user=world["agency_staff"]).update(status=m.CertificateStatus.REVOKED)
    tender = tender_create(actor=world["agent"], data=tender_data(world))
    # then the tender cannot find three custodians
    assert refused(tender_publish, tender=tender, actor=world["agent"]) == "custodians_unavailable"


@pytest.mark.django_db
def test_the_bidder_policy_makes_no_custodian_key(world):
    tender = publish(world, decryption_policy="bidder", custodian_k=None, custodian_n=None)
    assert tender.state == m.TenderState.PUBLISHED
    assert not CustodianKey.objects.exists()
    assert custodian.custodian_recipient(tender=tender) is None


@pytest.mark.django_db
def test_bidders_seal_to_the_key_the_recipient_names(world, published):
    key = CustodianKey.objects.get(tender=published)
    recipient = custodian.custodian_recipient(tender=published)
    assert recipient == {"to": "custodian", "kid": key.key_id, "public_key": key.public_key}


# --- handing shares in --------------------------------------------------------------------------------


def shares_of(tender) -> list[CustodianShare]:
    return list(CustodianShare.objects.filter(key__tender=tender).order_by("index"))


@pytest.mark.django_db
def test_no_share_is_accepted_before_the_deadline(world, published, clock):
    # given a custodian who opened its genuine share a second before the deadline
    share = shares_of(published)[0]
    value = open_share(world, share)
    clock.set(DEADLINE - dt.timedelta(seconds=1))
    # when it hands it in, then it is refused and nothing is stored
    code = refused(custodian.custodian_share_reveal, user=share.holder, share_id=share.pk, value=value)
    assert code == "custodian_too_early"
    share.refresh_from_db()
    assert share.revealed == "" and share.revealed_at is None
    assert custodian.custodian_share_document(share=share)["may_reveal"] is False


@pytest.mark.django_db
def test_k_shares_after_the_deadline_reassemble_the_key(world, published, clock):
    # given the deadline has passed
    clock.set(DEADLINE)
    first, second, _third = shares_of(published)
    # when one custodian hands in its share
    custodian.custodian_share_reveal(user=first.holder, share_id=first.pk, value=open_share(world, first))
    key = CustodianKey.objects.get(tender=published)
    # then one share is not enough (k = 2): no single custodian can reconstruct
    assert key.reconstructed_at is None
    assert refused(custodian._reconstruct, key) == "custodian_shares_insufficient"
    # when a second one does
    clock.advance(minutes=3)
    custodian.custodian_share_reveal(user=second.holder, share_id=second.pk, value=open_share(world, second))
    key.refresh_from_db()
    # then the key is reassembled, matches its public half, and that is recorded
    assert key.reconstructed_at == clock()
    private = custodian._reconstruct(key)
    assert cc.b64u(cc.public_key_point(private.public_key())) == key.public_key
    actions = list(
        JournalEntry.objects.filter(stream=published.stream, action__startswith="custodian.")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "custodian.key_create",
        "custodian.share_reveal",
        "custodian.share_reveal",
        "custodian.key_reconstruct",
    ]
    assert custodian.custodian_status(tender=published)["revealed"] == 2


@pytest.mark.django_db
def test_handing_in_the_same_share_twice_changes_nothing(world, published, clock):
    clock.set(DEADLINE)
    share = shares_of(published)[0]
    value = open_share(world, share)
    custodian.custodian_share_reveal(user=share.holder, share_id=share.pk, value=value)
    custodian.custodian_share_reveal(user=share.holder, share_id=share.pk, value=value)
    assert JournalEntry.objects.filter(action="custodian.share_reveal").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("forgery", ["random", "other_share", "zero", "garbage", "too_long"])
def test_a_forged_share_is_refused(world, published, clock, forgery):
    # given the deadline has passed and a custodian hands in something else than its share
    clock.set(DEADLINE)
    mine, other, _ = shares_of(published)
    value = {
        "random": cc.scalar_to_b64u(1 + secrets.randbelow(N - 1)),
        "other_share": open_share(world, other),
        "zero": cc.b64u(bytes(32)),
        "garbage": "not base64!",
        "too_long": cc.b64u(bytes(33)),
    }[forgery]
    # then it is refused and not stored
    assert refused(custodian.custodian_share_reveal, user=mine.holder, share_id=mine.pk, value=value) == (
        "custodian_share_invalid"
    )
    mine.refresh_from_db()
    assert mine.revealed == ""


@pytest.mark.django_db
def test_only_the_holder_hands_in_its_share(world, published, clock):
    clock.set(DEADLINE)
    share = shares_of(published)[0]
    someone = shares_of(published)[1].holder
    code = refused(
        custodian.custodian_share_reveal, user=someone, share_id=share.pk, value=open_share(world, share)
    )
    assert code == "custodian_share_not_found"


@pytest.mark.django_db
def test_a_suspended_tender_takes_no_shares_even_after_its_deadline(world, published, clock):
    # given the tender was suspended before its deadline, which then passed
    tender_suspend(tender=published, actor=world["agent"], reason="投诉处理")
    clock.set(DEADLINE + dt.timedelta(hours=1))
    share = shares_of(published)[0]
    # then shares are refused (resuming may move the deadline)
    code = refused(
        custodian.custodian_share_reveal, user=share.holder, share_id=share.pk, value=open_share(world, share)
    )
    assert code == "custodian_tender_state"
    tender_resume(tender=published, actor=world["agent"], reason="处理完毕")
    assert custodian.custodian_share_reveal(
        user=share.holder, share_id=share.pk, value=open_share(world, share)
    )


@pytest.mark.django_db
def test_a_commitment_edited_in_the_database_is_detected(world, published, clock):
    # given someone with database access replaces custodian 1's commitment with that of a scalar they chose
    clock.set(DEADLINE)
    share = shares_of(published)[0]
    chosen = 1 + secrets.randbelow(N - 1)
    wrapped = dict(share.wrapped, commitment=cc.b64u(cc.share_commitment(chosen)))
    CustodianShare.objects.filter(pk=share.pk).update(wrapped=wrapped)
    # when that scalar is handed in as the share, then the commitments no longer fit the key
    code = refused(
        custodian.custodian_share_reveal,
        user=share.holder,
        share_id=share.pk,
        value=cc.scalar_to_b64u(chosen),
    )
    assert code == "custodian_commitments_inconsistent"


@pytest.mark.django_db
def test_the_custodian_client_checks_the_documents_commitments(world, published):
    share = shares_of(published)[0]
    document = json.loads(json.dumps(custodian.custodian_share_document(share=share)))
    document["commitments"][2]["commitment"] = cc.b64u(cc.share_commitment(7))
    assert (
        refused(cc.share_open, document, world["keys"][share.holder_id])
        == "custodian_commitments_inconsistent"
    )
    stranger = keyclient.key_generate()
    assert refused(cc.share_open, document, stranger) == "custodian_share_wrap_invalid"


@pytest.mark.django_db
def test_the_python_client_prints_the_share_to_hand_in(world, published, tmp_path, monkeypatch, capsys):
    # given the custodian's key file and the share document saved from the platform
    share = shares_of(published)[0]
    key = world["keys"][share.holder_id]
    (tmp_path / "key.json").write_bytes(keyclient.keyfile_dump(key, "secret password", iterations=100_000))
    document = custodian.custodian_share_document(share=share)
    (tmp_path / "share.json").write_text(json.dumps(document), encoding="utf-8")
    monkeypatch.setenv("CUSTODIAN_PASSWORD", "secret password")
    # when the client is run
    status = cc.main(
        [
            "open",
            "--key",
            str(tmp_path / "key.json"),
            "--share",
            str(tmp_path / "share.json"),
            "--password-env",
            "CUSTODIAN_PASSWORD",
        ]
    )
    # then it prints the share, which matches the commitment
    assert status == 0
    printed = capsys.readouterr().out.strip()
    assert cc.share_matches(cc.scalar_from_b64u(printed), cc.b64u_decode(document["commitment"]))


# --- the custodian wrap of a bid (DOMAIN B5) ---------------------------------------------------------------


@pytest.fixture
def sealed_bid(world, published):
    """A bid of the published tender sealed to its bidder and to the custodian key, stored as submitted."""
    bidder = BidderUserFactory()
    key = keyclient.key_generate()
    cert = certificate_issue(user=bidder, csr_pem=keyclient.csr_build(key), actor=bidder)
    lot = published.lots.get()
    recipient = custodian.custodian_recipient(tender=published)
    out = io.BytesIO()
    sealed = envelope.seal(
        form={"price": "4500000.00", "currency": "CNY"},
        document=b"%PDF-1.7 the bid document",
        document_name="投标文件.pdf",
        content_type="application/pdf",
        tender=published.code,
        lot=lot.number,
        bidder=bidder.entity.uscc,
        cert_serial=cert.serial,
        signing_key=key,
        recipients=[
            envelope.Recipient(to="bidder", kid=cert.serial, public_key=key.public_key()),
            envelope.Recipient(
                to="custodian",
                kid=recipient["kid"],
                public_key=envelope.public_key_from_b64u(recipient["public_key"]),
            ),
        ],
        out=out,
        chunk=4096,
    )
    bid = Bid.objects.create(
        lot=lot,
        entity=bidder.entity,
        user=bidder,
        certificate=cert,
        header=envelope.b64u(sealed.header_bytes),
        header_sha256=envelope.header_sha256(sealed.header_bytes),
        ciphertext=blob_put(data=out.getvalue()),
        ciphertext_size=sealed.ciphertext_size,
        signature=sealed.signature,
        submitted_at=DEADLINE - dt.timedelta(days=1),
    )
    return bid, sealed, out.getvalue()


def reveal(world, share):
    return custodian.custodian_share_reveal(
        user=share.holder, share_id=share.pk, value=open_share(world, share)
    )


@pytest.mark.django_db
def test_k_custodians_open_a_bid_its_bidder_cannot(world, published, sealed_bid, clock):
    # given a sealed bid and, after the deadline, two of three custodians handed in their shares
    bid, sealed, ciphertext = sealed_bid
    clock.set(DEADLINE + dt.timedelta(minutes=31))
    first, _second, third = shares_of(published)
    reveal(world, first)
    reveal(world, third)
    # when the hall asks for the content key through the custodian wrap
    cek = custodian.custodian_unwrap_cek(bid=bid)
    # then it is the bid's content key: the envelope opens and reads out
    assert cek == sealed.cek
    opened = envelope.open_stream(
        header_bytes=sealed.header_bytes, cek=cek, ciphertext=io.BytesIO(ciphertext)
    )
    assert opened.form["price"] == "4500000.00"
    assert JournalEntry.objects.filter(stream=published.stream, action="custodian.unwrap").count() == 1


@pytest.mark.django_db
def test_the_custodian_wrap_stays_shut_before_the_deadline_and_with_one_share(
    world, published, sealed_bid, clock
):
    bid, _sealed, _ = sealed_bid
    # before the deadline
    assert refused(custodian.custodian_unwrap_cek, bid=bid) == "custodian_too_early"
    # after it, with one share in (k = 2)
    clock.set(DEADLINE)
    reveal(world, shares_of(published)[1])
    assert refused(custodian.custodian_unwrap_cek, bid=bid) == "custodian_shares_insufficient"
    assert not JournalEntry.objects.filter(action="custodian.unwrap").exists()


@pytest.mark.django_db
def test_a_withdrawn_bid_is_never_opened_with_the_custodian_key(world, published, sealed_bid, clock):
    bid, _sealed, _ = sealed_bid
    Bid.objects.filter(pk=bid.pk).update(status=Bid.Status.WITHDRAWN)
    clock.set(DEADLINE)
    for share in shares_of(published)[:2]:
        reveal(world, share)
    assert refused(custodian.custodian_unwrap_cek, bid=bid) == "custodian_bid_not_active"


@pytest.mark.django_db
def test_a_bid_without_a_custodian_wrap_is_refused(world, published, sealed_bid, clock):
    # given the header names another custodian key
    bid, sealed, _ = sealed_bid
    header = json.loads(sealed.header_bytes)
    header["wraps"][1]["kid"] = "another-key"
    Bid.objects.filter(pk=bid.pk).update(header=envelope.b64u(envelope.canonical_json(header)))
    clock.set(DEADLINE)
    for share in shares_of(published)[:2]:
        reveal(world, share)
    assert refused(custodian.custodian_unwrap_cek, bid=bid) == "custodian_wrap_missing"


# --- the custodian's page and JSON endpoints --------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_lists_my_shares_and_the_json_hands_one_in(world, published, clock, client):
    share = shares_of(published)[0]
    client.force_login(share.holder)
    # the page
    page = client.get(reverse("bidding:custodian-shares"))
    assert page.status_code == 200 and published.code in page.content.decode()
    # the wrapped share, never anything unwrapped
    doc = client.get(
        reverse("bidding:custodian-share", args=[share.pk]), HTTP_ACCEPT="application/json"
    ).json()
    assert doc["wrap"] == share.wrapped["wrap"] and doc["may_reveal"] is False
    value = cc.share_open(doc, world["keys"][share.holder_id])
    url = reverse("bidding:custodian-share-reveal", args=[share.pk])
    early = client.post(url, {"share": value}, content_type="application/json")
    assert early.status_code == 409 and early.json()["error"]["code"] == "custodian_too_early"
    clock.set(DEADLINE)
    client.force_login(share.holder)  # twenty days later: a new session
    done = client.post(url, {"share": value}, content_type="application/json")
    assert done.status_code == 200 and done.json()["status"]["revealed"] == 1


@pytest.mark.django_db
def test_the_json_endpoints_answer_only_the_holder(world, published, client):
    share = shares_of(published)[0]
    url = reverse("bidding:custodian-share", args=[share.pk])
    anonymous = client.get(url, HTTP_ACCEPT="application/json")
    assert anonymous.status_code == 401
    client.force_login(shares_of(published)[1].holder)
    other = client.get(url, HTTP_ACCEPT="application/json")
    assert other.status_code == 404 and other.json()["error"]["code"] == "custodian_share_not_found"


# --- certificates for the platform side ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "department", "organization", "unit"),
    [
        (m.Role.CENTRE, "交易服务科", settings.PLATFORM_NAME, "交易服务科"),
        (m.Role.REGULATOR, "南宁市住房和城乡建设局", "南宁市住房和城乡建设局", None),
        (m.Role.REGULATOR, "", settings.PLATFORM_NAME, None),
    ],
)
def test_centre_and_regulator_staff_get_certificates_without_an_entity(
    clock, role, department, organization, unit
):
    # given a centre or regulator user (even one with an entity on the account)
    user = UserFactory(role=role, department=department, entity=MarketEntityFactory())
    key = keyclient.key_generate()
    # when they ask for a certificate
    cert = certificate_issue(user=user, csr_pem=keyclient.csr_build(key), actor=user)
    # then it names the platform or their department, no entity and no USCC
    subject = x509.load_pem_x509_certificate(cert.certificate_pem.encode()).subject
    assert cert.entity is None
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == organization
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER) == []
    units = subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    assert [a.value for a in units] == ([unit] if unit else [])
    assert JournalEntry.objects.get(action="certificate.issue").stream == "platform"


def test_custodian_roles_never_include_bidders(settings):
    settings.CUSTODIAN_ROLES = ("centre", "bidder")
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        custodian.custodian_roles()
