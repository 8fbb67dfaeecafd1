"""Campaigns in the global search (crm/search.py): by name through the trigram index on UPPER(name),
read through `visible_to` (support finds none)."""

from django.db.models import Q
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from crm import search
from crm.search import Hit, Kind, Query
from crm.visibility import can_read
from marketing.models import Campaign


@search.register
class CampaignSearch(search.SearchProvider):
    """By name (campaign_name_up_trgm)."""

    key = "campaigns"
    label = _("Campaigns")
    icon = "megaphone"
    order = 90

    def search(self, user, query: Query, limit: int) -> list[Hit]:
        if query.kind != Kind.WORDS or not can_read(user, Campaign):
            return []
        found = search.ranked(Campaign.objects.visible_to(user), "name", query.text,
                              Q(name__icontains=query.text), limit, ("name", "id"))
        return [Hit(title=campaign.name,
                    subtitle=search.joined(campaign.get_type_display(), campaign.get_status_display(),
                                           date_format(campaign.start_date, "SHORT_DATE_FORMAT")
                                           if campaign.start_date else ""),
                    url=campaign.get_absolute_url(), record=campaign) for campaign in found]
