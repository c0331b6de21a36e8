"""URLs of the supervision app: each views module owns its patterns."""

from supervision.views import complaints, dashboard, invitations, oversight, sanctions, tipoffs

app_name = "supervision"

urlpatterns = [
    *dashboard.urlpatterns,
    *complaints.urlpatterns,
    *tipoffs.urlpatterns,
    *sanctions.urlpatterns,
    *oversight.urlpatterns,
    *invitations.urlpatterns,
]
