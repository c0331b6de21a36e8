"""Bidding URLs: submission API, the bidder's sealing page, the opening hall."""

from bidding.views import api, custodian, opening, pages

app_name = "bidding"
urlpatterns = [*api.urlpatterns, *pages.urlpatterns, *opening.urlpatterns, *custodian.urlpatterns]
