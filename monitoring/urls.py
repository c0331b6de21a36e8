"""URLs of the monitoring app: each views module owns its patterns."""

from monitoring.views import alerts, market

app_name = "monitoring"

urlpatterns = [*alerts.urlpatterns, *market.urlpatterns]
