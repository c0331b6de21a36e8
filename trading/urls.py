"""Signed-in pages: login, workbench, registry, PKI, tender management (one list per area)."""

from trading.views import accounts, pki, registry, tenders

app_name = "trading"
urlpatterns = [*accounts.urlpatterns, *registry.urlpatterns, *pki.urlpatterns, *tenders.urlpatterns]
