"""RSS 2.0 and Atom feeds of published announcements; they take the same filters as the
portal's list, so a bidder can subscribe to "works tenders in Nanning" and nothing else.
"""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.translation import gettext as _

from trading.regions import region_name
from trading.selectors_public import announcement_list_public
from trading.views.portal import LIST_FILTERS, filters_parse, filters_querystring

FEED_SIZE = 50


class AnnouncementsRss(Feed):
    feed_type = Rss201rev2Feed

    def get_object(self, request):
        # Invalid filters raise ValidationFailed: the reader gets a 400 with the code, not an
        # empty feed that looks as if nothing was published.
        return filters_parse(request.GET, allowed=LIST_FILTERS)

    def title(self, obj):
        return _("Public Resource Trading Platform") + " · " + _("Announcements")

    def link(self, obj):
        query = filters_querystring(obj)
        return reverse("portal:announcements") + (f"?{query}" if query else "")

    def description(self, obj):
        return _("Tender, amendment, candidate and result announcements published on the platform.")

    def items(self, obj):
        return announcement_list_public(**obj)[:FEED_SIZE]

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        # body_html was sanitised with nh3 when it was written; feed readers sanitise again.
        return item.body_html

    def item_link(self, item):
        return reverse("portal:announcement", kwargs={"pk": item.pk})

    def item_pubdate(self, item):
        # Beijing time, as on the notice itself (the database hands back UTC).
        return timezone.localtime(item.published_at)

    def item_updateddate(self, item):
        return timezone.localtime(item.published_at)

    def item_author_name(self, item):
        tender = item.tender
        return (tender.agency or tender.tenderee).name

    def item_categories(self, item):
        tender = item.tender
        return [item.get_kind_display(), tender.get_category_display(), region_name(tender.region_code)]


class AnnouncementsAtom(AnnouncementsRss):
    feed_type = Atom1Feed

    def subtitle(self, obj):
        return self.description(obj)
