"""Views: registry."""

urlpatterns: list = []
