"""Read-only serializers of the public API. Public shapes carry only what the portal shows;
private data (bank accounts, staff, contacts) lives in EntityPrivateSerializer alone."""

from __future__ import annotations

from decimal import Decimal

from django.urls import NoReverseMatch, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from trading import ocds
from trading.models import (
    Announcement,
    AnnouncementAttachment,
    BankAccount,
    Lot,
    MarketEntity,
    Position,
    Qualification,
    Shareholder,
    Tender,
)
from trading.regions import region_name


class EntityRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = MarketEntity
        fields = ["id", "name", "uscc"]


class QualificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Qualification
        fields = ["kind", "name", "level", "number", "issuer", "valid_from", "valid_until"]


class EntityPublicSerializer(serializers.ModelSerializer):
    region_name = serializers.SerializerMethodField()
    qualifications = QualificationSerializer(many=True, read_only=True)

    class Meta:
        model = MarketEntity
        fields = [
            "id",
            "uscc",
            "name",
            "name_en",
            "kind",
            "is_bidder",
            "is_tenderee",
            "is_agency",
            "region_code",
            "region_name",
            "status",
            "verified_at",
            "qualifications",
        ]

    def get_region_name(self, obj: MarketEntity) -> str:
        return region_name(obj.region_code)


class BankAccountSerializer(serializers.ModelSerializer):
    class Meta:
        model = BankAccount
        fields = ["id", "bank_name", "account_name", "account_number", "is_basic"]


class PositionSerializer(serializers.ModelSerializer):
    person_name = serializers.CharField(source="person.name", read_only=True)

    class Meta:
        model = Position
        fields = [
            "id",
            "person_name",
            "role",
            "title",
            "professional_reg_no",
            "professional_kind",
            "start_date",
            "end_date",
        ]


class ShareholderSerializer(serializers.ModelSerializer):
    holder_name = serializers.SerializerMethodField()
    holder_type = serializers.SerializerMethodField()

    class Meta:
        model = Shareholder
        fields = ["id", "holder_type", "holder_name", "share_pct", "is_controlling"]

    def get_holder_name(self, obj: Shareholder) -> str:
        return obj.person.name if obj.person_id else obj.holder_entity.name

    def get_holder_type(self, obj: Shareholder) -> str:
        return "person" if obj.person_id else "entity"


class EntityPrivateSerializer(EntityPublicSerializer):
    """Own entity (or centre, regulator, admin): contacts, accounts, people. ID numbers never leave."""

    legal_representative = serializers.CharField(source="legal_rep.name", read_only=True)
    bank_accounts = BankAccountSerializer(many=True, read_only=True)
    positions = PositionSerializer(many=True, read_only=True)
    shareholders = ShareholderSerializer(many=True, read_only=True)

    class Meta(EntityPublicSerializer.Meta):
        fields = [
            *EntityPublicSerializer.Meta.fields,
            "legal_representative",
            "registered_capital",
            "founded_on",
            "address",
            "contact_name",
            "contact_phone",
            "contact_email",
            "business_scope",
            "version",
            "bank_accounts",
            "positions",
            "shareholders",
        ]


class LotSummarySerializer(serializers.ModelSerializer):
    awarded_to = EntityRefSerializer(read_only=True)

    class Meta:
        model = Lot
        fields = [
            "id",
            "number",
            "title",
            "classification_code",
            "budget",
            "ceiling_price",
            "bid_security",
            "duration_days",
            "evaluation_method",
            "status",
            "awarded_to",
            "award_amount",
            "awarded_at",
        ]


class TenderRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tender
        fields = ["id", "code", "title"]


class LotSerializer(LotSummarySerializer):
    tender = TenderRefSerializer(read_only=True)

    class Meta(LotSummarySerializer.Meta):
        fields = [*LotSummarySerializer.Meta.fields, "tender"]


class TenderSerializer(serializers.ModelSerializer):
    tenderee = EntityRefSerializer(read_only=True)
    agency = EntityRefSerializer(read_only=True)
    region_name = serializers.SerializerMethodField()
    budget = serializers.SerializerMethodField()
    lots = LotSummarySerializer(many=True, read_only=True)
    ocid = serializers.SerializerMethodField()
    ocds_package = serializers.SerializerMethodField()

    class Meta:
        model = Tender
        fields = [
            "id",
            "code",
            "ocid",
            "title",
            "regime",
            "category",
            "method",
            "state",
            "region_code",
            "region_name",
            "tenderee",
            "agency",
            "description",
            "currency",
            "budget",
            "published_at",
            "docs_from",
            "docs_until",
            "deadline",
            "lots",
            "ocds_package",
        ]

    def get_region_name(self, obj: Tender) -> str:
        return region_name(obj.region_code)

    @extend_schema_field(OpenApiTypes.DECIMAL)
    def get_budget(self, obj: Tender) -> str:
        # Lots are prefetched by the view: this sums in memory, no query per tender.
        return str(sum((lot.budget for lot in obj.lots.all()), Decimal("0.00")))

    def get_ocid(self, obj: Tender) -> str:
        return ocds.tender_ocid(obj)

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_ocds_package(self, obj: Tender) -> str | None:
        if obj.state == "draft":
            return None
        try:
            path = ocds.tender_package_path(obj.pk)
        except NoReverseMatch:  # open-data routes not mounted
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class AttachmentSerializer(serializers.ModelSerializer):
    sha256 = serializers.CharField(source="blob.sha256", read_only=True)
    size = serializers.IntegerField(source="blob.size", read_only=True)
    content_type = serializers.CharField(source="blob.content_type", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = AnnouncementAttachment
        fields = ["id", "filename", "sha256", "size", "content_type", "is_tender_document", "url"]

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_url(self, obj: AnnouncementAttachment) -> str | None:
        try:
            path = ocds.document_path(obj.blob.sha256, obj.filename)
        except NoReverseMatch:  # portal routes not mounted
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class AnnouncementSerializer(serializers.ModelSerializer):
    tender = TenderRefSerializer(read_only=True)
    lot = serializers.IntegerField(source="lot.number", read_only=True, allow_null=True, default=None)
    attachments = AttachmentSerializer(many=True, read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Announcement
        fields = [
            "id",
            "tender",
            "lot",
            "kind",
            "title",
            "body_html",
            "published_at",
            "open_until",
            "content_digest",
            "attachments",
            "url",
        ]

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_url(self, obj: Announcement) -> str | None:
        """The announcement's page on the portal."""
        try:
            path = reverse("portal:announcement", kwargs={"pk": obj.pk})
        except NoReverseMatch:
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class StatisticsRowSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    projects = serializers.IntegerField()
    lots = serializers.IntegerField()
    awarded_lots = serializers.IntegerField()
    budget = serializers.DecimalField(max_digits=20, decimal_places=2)
    awarded_budget = serializers.DecimalField(max_digits=20, decimal_places=2)
    award_amount = serializers.DecimalField(max_digits=20, decimal_places=2)
    savings = serializers.DecimalField(max_digits=20, decimal_places=2)
    savings_rate = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)


class StatisticsTotalsSerializer(StatisticsRowSerializer):
    key = None
    label = None


class StatisticsSerializer(serializers.Serializer):
    group_by = serializers.CharField()
    rows = StatisticsRowSerializer(many=True)
    totals = StatisticsTotalsSerializer()
