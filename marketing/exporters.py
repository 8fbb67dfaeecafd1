"""The campaigns list's export (found by the exports app's autodiscovery): the rows and filters of the
campaigns page, through the visibility policy, with the cost and leads computed as on the page."""

from django.utils.translation import gettext_lazy as _

from exports.registry import Exporter, register
from marketing.figures import with_list_figures
from marketing.filters import CampaignFilter
from marketing.models import Campaign


def _campaigns(user):
    return with_list_figures(Campaign.objects.visible_to(user).select_related("owner", "parent")).order_by(
        "-start_date", "-id")


def _campaign_filter():
    return CampaignFilter


register(Exporter(
    target="marketing.campaign", label=_("Campaigns"), list_url="marketing:campaign_list",
    queryset=_campaigns, filterset=_campaign_filter,
    columns=[
        (_("ID"), lambda c: c.pk), (_("Name"), lambda c: c.name), (_("Type"), lambda c: c.get_type_display()),
        (_("Status"), lambda c: c.get_status_display()), (_("Start date"), lambda c: c.start_date),
        (_("End date"), lambda c: c.end_date), (_("Currency"), lambda c: c.currency),
        (_("Budget"), lambda c: c.budget), (_("Cost"), lambda c: c.cost_total),
        (_("Expected revenue"), lambda c: c.expected_revenue), (_("Leads"), lambda c: c.lead_total),
        (_("Parent campaign"), lambda c: c.parent.name if c.parent_id and c.parent.deleted_at is None else ""),
        (_("Owner"), lambda c: c.owner), (_("Description"), lambda c: c.description),
        (_("Created"), lambda c: c.created_at), (_("Changed"), lambda c: c.updated_at),
    ],
))
