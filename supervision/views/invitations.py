"""invitations pages of the supervision app."""

urlpatterns: list = []
