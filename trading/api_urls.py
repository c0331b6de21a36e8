"""REST API routes, included at /api/ (namespace `api`); /api/docs/ is a server-rendered page
built from the OpenAPI schema (Swagger UI would need a CDN script our CSP blocks).
"""

from django.urls import path
from rest_framework.routers import DefaultRouter

from trading.api.docs import ApiDocsView
from trading.api.views import AnnouncementViewSet, EntityViewSet, LotViewSet, StatisticsView, TenderViewSet

app_name = "api"

router = DefaultRouter()
router.register("entities", EntityViewSet, basename="entity")
router.register("tenders", TenderViewSet, basename="tender")
router.register("lots", LotViewSet, basename="lot")
router.register("announcements", AnnouncementViewSet, basename="announcement")

urlpatterns = [
    path("statistics/", StatisticsView.as_view(), name="statistics"),
    path("docs/", ApiDocsView.as_view(), name="docs"),
    *router.urls,
]
