"""URLs of the archive (/archive/): each views module owns its patterns."""

from archive.views import browse, public

app_name = "archive"

urlpatterns = [*browse.urlpatterns, *public.urlpatterns]
