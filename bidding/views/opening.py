"""Views: opening (see docs/sealed-bid.md and issue 3)."""

urlpatterns: list = []
