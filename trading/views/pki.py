"""Views: pki."""

urlpatterns: list = []
