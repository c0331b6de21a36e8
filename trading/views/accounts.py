"""Views: accounts."""

urlpatterns: list = []
