"""URL map: public portal, accounts and workbench, registry, PKI, tender management, API."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("trading.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("bidding/", include("bidding.urls")),
    path("experts/", include("experts.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("supervision/", include("supervision.urls")),
    path("archive/", include("archive.urls")),
    path("", include("trading.urls")),
    path("", include("trading.portal_urls")),
]
