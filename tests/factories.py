"""factory_boy factories for the trading data model (valid codes, realistic values)."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from decimal import Decimal
from zoneinfo import ZoneInfo

import factory
from django.conf import settings

from trading import models as m
from trading.codes import transaction_code_make, uscc_make
from trading.services.announcements import html_to_text

SH = ZoneInfo("Asia/Shanghai")
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_seq = itertools.count(1)


def make_uscc(n: int, region: str = "450100") -> str:
    digits = ""
    k = n
    for _ in range(8):
        digits = USCC_ALPHABET[k % 31] + digits
        k //= 31
    return uscc_make(f"91{region}{digits}{n % 10}")


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Person

    name = factory.Sequence(lambda n: f"张{n}")
    id_number = factory.Sequence(lambda n: f"45010119800101{n:04d}")
    # The registry's own digest (trading.services.entities.person_id_digest), so lookups by ID match.
    id_digest = factory.LazyAttribute(
        lambda o: hashlib.sha256(f"person:resident_id:{o.id_number.strip().upper()}".encode()).hexdigest()
    )
    phone = factory.Sequence(lambda n: f"1380000{n:04d}")


class MarketEntityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.MarketEntity

    uscc = factory.Sequence(lambda n: make_uscc(n + 1000))
    name = factory.Sequence(lambda n: f"广西测试建设有限公司{n}")
    kind = m.EntityKind.COMPANY
    legal_rep = factory.SubFactory(PersonFactory)
    registered_capital = Decimal("10000000.00")
    region_code = "450100"
    address = "广西南宁市青秀区民族大道1号"
    contact_name = "李联系"
    contact_phone = factory.Sequence(lambda n: f"0771-55{n:05d}")
    status = m.EntityStatus.VERIFIED
    is_bidder = True


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = m.Role.CENTRE
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class BidderUserFactory(UserFactory):
    role = m.Role.BIDDER
    entity = factory.SubFactory(MarketEntityFactory)


class AgencyUserFactory(UserFactory):
    role = m.Role.AGENCY
    entity = factory.SubFactory(MarketEntityFactory, is_agency=True, is_bidder=False)


class TenderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Tender

    code = factory.LazyFunction(
        lambda: transaction_code_make(
            operator_uscc=settings.PLATFORM_OPERATOR_USCC, day=dt.date(2026, 3, 1), sequence=next(_seq)
        )
    )
    title = factory.Sequence(lambda n: f"南宁市某道路改造工程施工招标{n}")
    regime = m.Regime.TB
    category = m.Category.WORKS
    tenderee = factory.SubFactory(
        MarketEntityFactory, is_tenderee=True, is_bidder=False, kind=m.EntityKind.GOVERNMENT
    )
    agency = factory.SubFactory(MarketEntityFactory, is_agency=True, is_bidder=False)
    region_code = "450100"
    docs_from = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SH)
    docs_until = dt.datetime(2026, 3, 9, 17, 0, tzinfo=SH)
    deadline = dt.datetime(2026, 3, 25, 9, 30, tzinfo=SH)
    created_by = factory.SubFactory(UserFactory, role=m.Role.AGENCY)


class LotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Lot

    tender = factory.SubFactory(TenderFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = "第一标段"
    classification_code = "A010000"
    budget = Decimal("5000000.00")
    ceiling_price = Decimal("4800000.00")
    bid_security = Decimal("80000.00")
    evaluation_method = m.EvaluationMethod.SCORING
    evaluation = factory.LazyFunction(
        lambda: {
            "criteria": [
                {"code": "tech", "name": "技术方案", "group": "technical", "max": 40},
                {"code": "biz", "name": "商务", "group": "commercial", "max": 20},
                {"code": "price", "name": "价格", "group": "price", "max": 40},
            ],
            "price_formula": {"kind": "gp_base_over_price"},
        }
    )
    committee = factory.LazyFunction(lambda: {"size": 5, "experts": 4, "tenderee_reps": 1})


class AnnouncementFactory(factory.django.DjangoModelFactory):
    """A published announcement (the portal's unit); pass state=... and published_at=None for a draft."""

    class Meta:
        model = m.Announcement

    tender = factory.SubFactory(
        TenderFactory, state=m.TenderState.PUBLISHED, published_at=dt.datetime(2026, 3, 2, 9, 0, tzinfo=SH)
    )
    kind = m.AnnouncementKind.TENDER
    title = factory.LazyAttribute(lambda o: f"{o.tender.title}招标公告")
    body_html = "<p>本项目已具备招标条件，现对该项目进行公开招标。</p>"
    body_text = factory.LazyAttribute(lambda o: html_to_text(o.body_html))
    state = m.Announcement.State.PUBLISHED
    published_at = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SH)
    content_digest = factory.LazyAttribute(lambda o: hashlib.sha256(o.body_html.encode()).hexdigest())
    author = factory.LazyAttribute(lambda o: o.tender.created_by)


class AnnouncementAttachmentFactory(factory.django.DjangoModelFactory):
    """An attachment whose bytes really are in the content-addressed store (pass data=b"...")."""

    class Meta:
        model = m.AnnouncementAttachment
        exclude = ("data",)

    announcement = factory.SubFactory(AnnouncementFactory)
    filename = "招标文件.pdf"
    data = factory.Sequence(lambda n: f"%PDF-1.7 attachment {n}".encode())
    blob = factory.LazyAttribute(lambda o: _blob_put(o.data))


def _blob_put(data: bytes):
    from archive.blobs import blob_put

    return blob_put(data=data, content_type="application/pdf")
