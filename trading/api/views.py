"""Read-only API viewsets (entities, tenders, lots, announcements) and the statistics endpoint.

Visibility is decided in the querysets: the public sees verified entities, tenders past
draft and published announcements; agency/tenderee staff also see their own drafts; centre,
regulator and administrator see everything. Private entity data goes through
trading.access.entity_access_private.
"""

from __future__ import annotations

from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from trading import stats
from trading.access import READ_ALL_ROLES, entity_access_private
from trading.api import filters as api_filters
from trading.api import serializers as s
from trading.models import (
    AnnouncementAttachment,
    Category,
    EntityStatus,
    Lot,
    MarketEntity,
    Position,
    Regime,
    Role,
    Shareholder,
    Tender,
    TenderState,
)
from trading.selectors_public import announcement_list_public

FILTER_BACKENDS = [
    api_filters.StrictQueryParameters,
    DjangoFilterBackend,
    api_filters.StrictOrderingFilter,
]


def reads_everything(user) -> bool:
    return bool(
        getattr(user, "is_authenticated", False) and (user.role in READ_ALL_ROLES or user.is_superuser)
    )


def tenders_visible(user):
    """Tenders past draft; plus own drafts for agency/tenderee staff; everything for the
    centre, regulators and administrators (as trading.access.tender_access_read decides)."""
    tenders = Tender.objects.all()
    if reads_everything(user):
        return tenders
    visible = ~Q(state=TenderState.DRAFT)
    if getattr(user, "is_authenticated", False) and user.role == Role.AGENCY and user.entity_id:
        visible |= Q(tenderee_id=user.entity_id) | Q(agency_id=user.entity_id)
    return tenders.filter(visible)


class ReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    filter_backends = FILTER_BACKENDS


class EntityViewSet(ReadOnlyViewSet):
    """Market entities (市场主体): the public registry shows verified entities only."""

    serializer_class = s.EntityPublicSerializer
    filterset_class = api_filters.EntityFilter
    ordering_fields = ["name", "uscc", "id", "verified_at"]
    ordering = ["name", "id"]

    def get_queryset(self):
        entities = MarketEntity.objects.prefetch_related("qualifications")
        if not reads_everything(self.request.user):
            entities = entities.filter(status=EntityStatus.VERIFIED)
        return entities

    @extend_schema(
        responses=s.EntityPrivateSerializer,
        summary="Private data of an entity",
        description="Bank accounts, staff and shareholders: for the entity's own users, centre staff, "
        "regulators and administrators. Others get 403 (`entity_private` or `not_authenticated`).",
        filters=False,
    )
    @action(detail=True, methods=["get"], url_path="private")
    def private(self, request, pk=None):
        # Takes no filters; the entity is looked up among all, whatever its status, so that
        # a pending registration's own staff can read it.
        api_filters.check_query_params(request.query_params, {"format"})
        if not request.user.is_authenticated:
            raise NotAuthenticated()
        entity = get_object_or_404(
            MarketEntity.objects.select_related("legal_rep").prefetch_related(
                "qualifications",
                "bank_accounts",
                Prefetch("positions", queryset=Position.objects.select_related("person")),
                Prefetch(
                    "shareholders", queryset=Shareholder.objects.select_related("person", "holder_entity")
                ),
            ),
            pk=pk,
        )
        entity_access_private(user=request.user, entity=entity)
        return Response(s.EntityPrivateSerializer(entity, context=self.get_serializer_context()).data)


class TenderViewSet(ReadOnlyViewSet):
    """Tenders (招标项目 / 采购项目) with their lots; drafts only for those who manage them."""

    serializer_class = s.TenderSerializer
    filterset_class = api_filters.TenderFilter
    ordering_fields = ["published_at", "deadline", "code", "id"]
    ordering = ["-published_at", "-id"]

    def get_queryset(self):
        return (
            tenders_visible(self.request.user)
            .select_related("tenderee", "agency")
            .prefetch_related(
                Prefetch("lots", queryset=Lot.objects.select_related("awarded_to").order_by("number"))
            )
        )


class LotViewSet(ReadOnlyViewSet):
    """Lots (标段 / 包) of visible tenders."""

    serializer_class = s.LotSerializer
    filterset_class = api_filters.LotFilter
    ordering_fields = ["id", "budget", "awarded_at", "number"]
    ordering = ["tender_id", "number"]

    def get_queryset(self):
        return Lot.objects.filter(tender__in=tenders_visible(self.request.user)).select_related(
            "tender", "awarded_to"
        )


class AnnouncementViewSet(ReadOnlyViewSet):
    """Published announcements of every kind, newest first."""

    serializer_class = s.AnnouncementSerializer
    filterset_class = api_filters.AnnouncementFilter
    ordering_fields = ["published_at", "id"]
    ordering = ["-published_at", "-id"]

    def get_queryset(self):
        attachments = AnnouncementAttachment.objects.select_related("blob").order_by("id")
        return announcement_list_public().prefetch_related(Prefetch("attachments", queryset=attachments))


class StatisticsQuerySerializer(serializers.Serializer):
    group_by = serializers.CharField(required=False, default="category")
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    regime = serializers.ChoiceField(choices=Regime.choices, required=False)
    category = serializers.ChoiceField(choices=Category.choices, required=False)
    region = serializers.RegexField(r"^\d{6}$", required=False)

    def validate(self, attrs):
        if attrs.get("date_from") and attrs.get("date_to") and attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"date_to": [_("date_to must not be before date_from.")]})
        return attrs


class StatisticsView(APIView):
    """Trading statistics: projects, budgets, transaction amounts and savings by group."""

    extra_query_params = ("group_by", "date_from", "date_to", "regime", "category", "region")

    @extend_schema(
        parameters=[
            OpenApiParameter("group_by", OpenApiTypes.STR, enum=list(stats.GROUP_BY), default="category"),
            OpenApiParameter(
                "date_from", OpenApiTypes.DATE, description="Published on or after (Beijing date)"
            ),
            OpenApiParameter(
                "date_to", OpenApiTypes.DATE, description="Published on or before (Beijing date)"
            ),
            OpenApiParameter("regime", OpenApiTypes.STR, enum=Regime.values),
            OpenApiParameter("category", OpenApiTypes.STR, enum=Category.values),
            OpenApiParameter(
                "region", OpenApiTypes.STR, description="6-digit region code; includes sub-regions"
            ),
        ],
        responses=s.StatisticsSerializer,
        description="savings = Σ(budget − award amount) over awarded lots; savings_rate = savings / Σ budget of "
        "awarded lots. Unknown group_by → 400 `invalid_group_by`.",
    )
    def get(self, request):
        api_filters.check_query_params(request.query_params, {"format", *self.extra_query_params})
        query = StatisticsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        result = stats.trading_statistics(**query.validated_data)
        return Response(s.StatisticsSerializer(result).data)
