"""Public portal: no login needed (announcements, tenders, downloads, feeds, statistics)."""

from django.urls import path, re_path

from trading.feeds import AnnouncementsAtom, AnnouncementsRss
from trading.views import opendata, portal

app_name = "portal"
urlpatterns = [
    path("", portal.home, name="home"),
    path("announcements/", portal.announcement_list, name="announcements"),
    path("announcements/<int:pk>/", portal.announcement_detail, name="announcement"),
    path("tenders/<int:pk>/", portal.tender_detail, name="tender"),
    # The address of a file is its SHA-256 (content addressing); the name is for the reader.
    re_path(
        r"^files/(?P<sha256>[0-9a-f]{64})/(?P<filename>[^/]+)$", portal.attachment_download, name="attachment"
    ),
    path("statistics/", portal.statistics, name="statistics"),
    path("open-data/", portal.open_data, name="open_data"),
    path("feeds/announcements.rss", AnnouncementsRss(), name="feed_rss"),
    path("feeds/announcements.atom", AnnouncementsAtom(), name="feed_atom"),
    # OCDS packages (trading.views.opendata): the OCDS builder reverses them as portal:*.
    *opendata.urlpatterns,
]
