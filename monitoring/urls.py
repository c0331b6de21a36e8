"""URLs of the monitoring app: each views module owns its patterns."""

from monitoring.views import alerts, closing, market

app_name = "monitoring"

urlpatterns = [*alerts.urlpatterns, *market.urlpatterns, *closing.urlpatterns]
