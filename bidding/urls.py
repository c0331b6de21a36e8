"""Bidding URLs: submission API, the bidder's sealing page, the opening hall."""

from bidding.views import api, opening, pages

app_name = "bidding"
urlpatterns = [*api.urlpatterns, *pages.urlpatterns, *opening.urlpatterns]
