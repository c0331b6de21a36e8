"""API filtering: django-filter sets per resource, a backend that refuses undeclared query
parameters, and an ordering filter that refuses fields outside its whitelist.

A typo in a filter name must never silently return everything, so an unknown parameter is
a 400 with code `unknown_filter`; a bad value of a known one is a 400 `invalid` with fields.
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend, OrderingFilter

from core.errors import ValidationFailed
from trading.models import (
    Announcement,
    AnnouncementKind,
    Category,
    EntityKind,
    Lot,
    MarketEntity,
    Regime,
    Tender,
    TenderState,
)
from trading.regions import region_prefix

# Accepted by every list endpoint: pagination and DRF's format override.
ALWAYS_ALLOWED = frozenset({"page", "page_size", "format"})
Q_MAX_LENGTH = 100

region_code_validator = RegexValidator(r"^\d{6}$", _("A region is a 6-digit administrative division code."))


def allowed_query_params(view) -> set[str]:
    allowed = set(ALWAYS_ALLOWED)
    filterset_class = getattr(view, "filterset_class", None)
    if filterset_class is not None:
        allowed |= set(filterset_class.base_filters)
    if getattr(view, "ordering_fields", None):
        allowed.add(OrderingFilter.ordering_param)
    allowed |= set(getattr(view, "extra_query_params", ()))
    return allowed


def check_query_params(params, allowed) -> None:
    """Raise `unknown_filter` naming the first parameter not in `allowed`."""
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValidationFailed(
            _("Unknown query parameter “%(name)s”. Allowed: %(allowed)s.")
            % {"name": unknown[0], "allowed": ", ".join(sorted(allowed))},
            code="unknown_filter",
            filter=unknown[0],
            allowed=sorted(allowed),
        )


class StrictQueryParameters(BaseFilterBackend):
    """Refuses any query parameter the endpoint does not declare (put it first in filter_backends)."""

    def filter_queryset(self, request, queryset, view):
        check_query_params(request.query_params, allowed_query_params(view))
        return queryset

    def get_schema_operation_parameters(self, view):
        return []


class StrictOrderingFilter(OrderingFilter):
    """DRF's ordering, but a field outside `ordering_fields` is refused instead of ignored."""

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param)
        if raw:
            valid = {name for name, _label in self.get_valid_fields(queryset, view, {"request": request})}
            bad = [term for term in (t.strip() for t in raw.split(",")) if term.lstrip("-") not in valid]
            if bad:
                raise ValidationError(
                    {
                        self.ordering_param: [
                            _("Cannot order by “%(field)s”. Allowed: %(allowed)s.")
                            % {"field": bad[0], "allowed": ", ".join(sorted(valid))}
                        ]
                    }
                )
        return super().get_ordering(request, queryset, view)


def _terms(value: str) -> list[str]:
    return value.split()[:10]


class RegionFilterMixin:
    def filter_region(self, queryset, name, value):
        # A province or city code selects everything inside it (450000 → every 45xxxx).
        return queryset.filter(**{f"{self.region_field}__startswith": region_prefix(value)})


def _region_filter(help_text):
    return filters.CharFilter(method="filter_region", validators=[region_code_validator], label=help_text)


class EntityFilter(RegionFilterMixin, filters.FilterSet):
    region_field = "region_code"
    kind = filters.ChoiceFilter(choices=EntityKind.choices)
    region = _region_filter(_("Region code (GB/T 2260); a province or city includes everything inside it"))
    role = filters.ChoiceFilter(
        choices=[
            ("bidder", _("Bidder / supplier")),
            ("tenderee", _("Tenderee / purchaser")),
            ("agency", _("Agency")),
        ],
        method="filter_role",
    )
    q = filters.CharFilter(method="filter_q", max_length=Q_MAX_LENGTH, label=_("Name or USCC contains"))

    class Meta:
        model = MarketEntity
        fields: list[str] = []

    def filter_role(self, queryset, name, value):
        return queryset.filter(**{f"is_{value}": True})

    def filter_q(self, queryset, name, value):
        for term in _terms(value):
            queryset = queryset.filter(Q(name__icontains=term) | Q(uscc__iexact=term))
        return queryset


class TenderFilter(RegionFilterMixin, filters.FilterSet):
    region_field = "region_code"
    category = filters.ChoiceFilter(choices=Category.choices)
    regime = filters.ChoiceFilter(choices=Regime.choices)
    region = _region_filter(_("Region code (GB/T 2260); a province or city includes everything inside it"))
    state = filters.ChoiceFilter(choices=TenderState.choices)
    published_after = filters.DateFilter(
        field_name="published_at", lookup_expr="date__gte", label=_("Published on or after (Beijing date)")
    )
    published_before = filters.DateFilter(
        field_name="published_at", lookup_expr="date__lte", label=_("Published on or before (Beijing date)")
    )
    q = filters.CharFilter(
        method="filter_q", max_length=Q_MAX_LENGTH, label=_("Title contains, or the transaction code")
    )

    class Meta:
        model = Tender
        fields: list[str] = []

    def filter_q(self, queryset, name, value):
        for term in _terms(value):
            queryset = queryset.filter(Q(title__icontains=term) | Q(code=term.upper()))
        return queryset


class LotFilter(filters.FilterSet):
    tender = filters.NumberFilter(field_name="tender_id")
    status = filters.ChoiceFilter(choices=Lot.Status.choices)
    category = filters.ChoiceFilter(field_name="tender__category", choices=Category.choices)

    class Meta:
        model = Lot
        fields: list[str] = []


class AnnouncementFilter(RegionFilterMixin, filters.FilterSet):
    region_field = "tender__region_code"
    kind = filters.ChoiceFilter(choices=AnnouncementKind.choices)
    category = filters.ChoiceFilter(field_name="tender__category", choices=Category.choices)
    regime = filters.ChoiceFilter(field_name="tender__regime", choices=Regime.choices)
    region = _region_filter(_("Region code (GB/T 2260); a province or city includes everything inside it"))
    tender = filters.NumberFilter(field_name="tender_id")
    published_after = filters.DateFilter(
        field_name="published_at", lookup_expr="date__gte", label=_("Published on or after (Beijing date)")
    )
    published_before = filters.DateFilter(
        field_name="published_at", lookup_expr="date__lte", label=_("Published on or before (Beijing date)")
    )
    q = filters.CharFilter(method="filter_q", max_length=Q_MAX_LENGTH, label=_("Title contains"))

    class Meta:
        model = Announcement
        fields: list[str] = []

    def filter_q(self, queryset, name, value):
        for term in _terms(value):
            queryset = queryset.filter(Q(title__icontains=term) | Q(tender__title__icontains=term))
        return queryset
