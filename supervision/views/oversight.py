"""oversight pages of the supervision app."""

urlpatterns: list = []
