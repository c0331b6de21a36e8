"""URLs of the experts app: each part's views module owns its patterns."""

from experts.views import award, draw, evaluation, pool

app_name = "experts"

urlpatterns = [*pool.urlpatterns, *draw.urlpatterns, *evaluation.urlpatterns, *award.urlpatterns]
