"""Views: tenders."""

urlpatterns: list = []
