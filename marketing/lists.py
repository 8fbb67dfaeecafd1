"""The campaigns list, declared (crm/lists.py renders it)."""

from django.contrib import messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, ngettext_lazy

from crm.list_tools import selected_ids, to_int
from crm.lists import (
    BulkAction,
    BulkRefused,
    Column,
    ExportColumn,
    ListPage,
    both_ways,
    bulk_owner,
    register_bulk_action,
)
from crm.visibility import can_create, can_read
from marketing import services
from marketing.figures import with_list_figures
from marketing.filters import CampaignFilter, SegmentFilter, StaticListFilter
from marketing.models import Campaign, CampaignStatus, Segment, StaticList

CELLS = "marketing/list_cells.html"


def assign(request, campaigns):
    owner = bulk_owner(request)
    if owner is None:
        raise BulkRefused(_("Choose whom to assign the campaigns to."))
    count = services.campaigns_assign(actor=request.user, campaigns=campaigns, owner=owner)
    messages.success(request, ngettext("%(count)s campaign assigned to %(owner)s.",
                                       "%(count)s campaigns assigned to %(owner)s.", count)
                     % {"count": count, "owner": owner})


class CampaignList(ListPage):
    model = Campaign
    filterset = CampaignFilter
    title = _("Campaigns")
    url_name = "marketing:campaign_list"
    bulk_url_name = "marketing:campaign_bulk"
    table_id = "campaign-table"
    columns = (
        Column(_("Name"), template=f"{CELLS}#name", sort="name", card="title"),
        Column(_("Type"), value="get_type_display", sort="type", card="sub"),
        Column(_("Status"), template=f"{CELLS}#status", sort="status", card="status"),
        Column(_("Starts"), value="start_date", format="date", sort="start", card="date", nowrap=True),
        Column(_("Ends"), value="end_date", format="date", nowrap=True),
        Column(_("Budget"), template=f"{CELLS}#budget", sort="budget", card="amount", total="budget", numeric=True,
               nowrap=True),
        Column(_("Cost"), template=f"{CELLS}#cost", numeric=True, nowrap=True),
        Column(_("Leads"), value="lead_total", numeric=True),
        Column(_("Owner"), value="owner", card="owner"),
    )
    sorts = {**both_ways(name=("name",), budget=("budget",)),
             "start": ("-start_date", "-id"), "-start": ("start_date", "id"),
             "type": ("type", "name", "id"), "-type": ("-type", "name", "id"),
             "status": ("status", "name", "id"), "-status": ("-status", "name", "id")}
    default_sort = "start"
    primary_filters = ("q", "status", "type")
    bulk_actions = (BulkAction("assign", _("Assign to…"), assign, needs="owner"),)
    export_columns = (
        ExportColumn(_("Name"), "name"), ExportColumn(_("Type"), "get_type_display"),
        ExportColumn(_("Status"), "get_status_display"), ExportColumn(_("Start date"), "start_date"),
        ExportColumn(_("End date"), "end_date"), ExportColumn(_("Budget"), "budget"),
        ExportColumn(_("Expected revenue"), "expected_revenue"), ExportColumn(_("Currency"), "currency"),
        ExportColumn(_("Parent campaign"), "parent"), ExportColumn(_("Owner"), "owner"),
    )
    export_filename = "campaigns"
    export_ordering = ("-start_date", "-id")
    export_target = "marketing.campaign"
    noun_plural = _("campaigns")
    nothing_ticked = _("Tick at least one campaign first.")
    skipped = ngettext_lazy("%(count)s ticked campaign is read-only for you and was left as it was.",
                            "%(count)s ticked campaigns are read-only for you and were left as they were.", "count")
    empty_icon = "megaphone"
    empty_text = _("Campaigns are the mailings, events, webinars and adverts that bring in leads. Plan one with a "
                   "budget, then see what it returned.")
    empty_filtered_text = _("No campaign matches these filters.")
    create_url_name = "marketing:campaign_create"
    create_label = _("New campaign")

    def queryset(self):
        return with_list_figures(Campaign.objects.visible_to(self.user).select_related("owner"))

    def export_rows(self, ids):
        return super().export_rows(ids).select_related("owner", "parent")



class SegmentList(ListPage):
    model = Segment
    filterset = SegmentFilter
    title = _("Segments")
    url_name = "marketing:segment_list"
    table_id = "segment-table"
    columns = (
        Column(_("Name"), template=f"{CELLS}#name", sort="name", card="title"),
        Column(_("Description"), value="description", card="sub"),
        Column(_("Owner"), value="owner", card="owner"),
        Column(_("Updated"), value="updated_at", format="date", sort="updated", card="date", nowrap=True),
    )
    sorts = both_ways(name=("name",), updated=("updated_at",))
    default_sort = "name"
    primary_filters = ("q", "scope")
    noun_plural = _("segments")
    empty_icon = "funnel"
    empty_text = _("A segment is an audience chosen by criteria (region, industry, consent, purchases…). It is "
                   "counted afresh each time, so it always holds today's customers.")
    empty_filtered_text = _("No segment matches these filters.")
    create_url_name = "marketing:segment_create"
    create_label = _("New segment")

    def queryset(self):
        return Segment.objects.visible_to(self.user).select_related("owner")


class StaticListList(ListPage):
    model = StaticList
    filterset = StaticListFilter
    title = _("Static lists")
    url_name = "marketing:static_list_list"
    table_id = "static-list-table"
    columns = (
        Column(_("Name"), template=f"{CELLS}#name", sort="name", card="title"),
        Column(_("Description"), value="description", card="sub"),
        Column(_("Owner"), value="owner", card="owner"),
        Column(_("Updated"), value="updated_at", format="date", sort="updated", card="date", nowrap=True),
    )
    sorts = both_ways(name=("name",), updated=("updated_at",))
    default_sort = "name"
    primary_filters = ("q", "scope")
    noun_plural = _("static lists")
    empty_icon = "card-checklist"
    empty_text = _("A static list holds the people you pick: tick contacts or leads on their list and choose “Add "
                   "to a static list…”. It changes only when you change it.")
    empty_filtered_text = _("No static list matches these filters.")
    create_url_name = "marketing:static_list_create"
    create_label = _("New static list")

    def queryset(self):
        return StaticList.objects.visible_to(self.user).select_related("owner")


def add_to_static_list(request, contacts):
    """The contacts list's bulk action (registered below): the ticked contacts the user may see
    join a static list the user may edit."""
    static_list = StaticList.objects.editable_by(request.user).filter(
        pk=to_int(request.POST.get("choice-add_to_static_list"))).first()
    if static_list is None:
        raise BulkRefused(_("Choose the static list to add the contacts to."))
    added = services.static_list_add(static_list=static_list, actor=request.user, contacts=contacts)
    messages.success(request, ngettext("%(count)s contact added to %(list)s.", "%(count)s contacts added to %(list)s.",
                                       added) % {"count": added, "list": static_list.name})


def _static_list_choices(user) -> list[tuple[int, str]]:
    return list(StaticList.objects.editable_by(user).order_by("name", "id").values_list("id", "name")[:200])


register_bulk_action("contacts.contact", BulkAction(
    "add_to_static_list", _("Add to a static list…"), add_to_static_list, needs="choice",
    choices=_static_list_choices, rows="visible", allowed=lambda user: can_create(user, StaticList)))


def add_leads_to_static_list(request, leads):
    """The leads list's bulk action: the ticked leads the user may see join a static list the user may
    edit. A ticked id the user may not see (a forged one) is left out and said so."""
    static_list = StaticList.objects.editable_by(request.user).filter(
        pk=to_int(request.POST.get("choice-add_to_static_list"))).first()
    if static_list is None:
        raise BulkRefused(_("Choose the static list to add the leads to."))
    hidden = len(set(selected_ids(request))) - leads.count()
    added = services.static_list_add_leads(static_list=static_list, actor=request.user, leads=leads)
    messages.success(request, ngettext("%(count)s lead added to %(list)s.", "%(count)s leads added to %(list)s.",
                                       added) % {"count": added, "list": static_list.name})
    if hidden:
        messages.warning(request, ngettext("%(count)s ticked lead is not one you may open: it was not added.",
                                           "%(count)s ticked leads are not ones you may open: they were not added.",
                                           hidden) % {"count": hidden})


register_bulk_action("sales.lead", BulkAction(
    "add_to_static_list", _("Add to a static list…"), add_leads_to_static_list, needs="choice",
    choices=_static_list_choices, rows="visible", allowed=lambda user: can_create(user, StaticList)))


def _open_campaigns(user, *, editable: bool):
    campaigns = Campaign.objects.editable_by(user) if editable else Campaign.objects.visible_to(user)
    return list(campaigns.exclude(status__in=[CampaignStatus.COMPLETED, CampaignStatus.CANCELLED])
                .order_by("name", "id").values_list("id", "name")[:200])


def add_to_campaign(request, contacts):
    """The contacts list's bulk action: the ticked contacts the user may see join a campaign the user
    may edit, as targeted (people already in it keep their status)."""
    campaign = Campaign.objects.editable_by(request.user).filter(
        pk=to_int(request.POST.get("choice-add_to_campaign"))).first()
    if campaign is None:
        raise BulkRefused(_("Choose the campaign to add the contacts to."))
    added = services.campaign_members_add_rows(campaign=campaign, actor=request.user, contacts=contacts)
    messages.success(request, ngettext("%(count)s contact added to %(campaign)s.",
                                       "%(count)s contacts added to %(campaign)s.", added)
                     % {"count": added, "campaign": campaign.name})


register_bulk_action("contacts.contact", BulkAction(
    "add_to_campaign", _("Add to a campaign…"), add_to_campaign, needs="choice",
    choices=lambda user: _open_campaigns(user, editable=True), rows="visible",
    allowed=lambda user: can_create(user, Campaign)))


def set_lead_campaign(request, leads):
    """The leads list's bulk action: the ticked leads the user may edit get a source campaign the user
    may see (as on a lead's page)."""
    campaign = Campaign.objects.visible_to(request.user).filter(
        pk=to_int(request.POST.get("choice-set_lead_campaign"))).first()
    if campaign is None:
        raise BulkRefused(_("Choose the source campaign for the leads."))
    changed = services.leads_attribute(leads=leads, campaign=campaign, actor=request.user)
    messages.success(request, ngettext("%(count)s lead now comes from %(campaign)s.",
                                       "%(count)s leads now come from %(campaign)s.", changed)
                     % {"count": changed, "campaign": campaign.name})


register_bulk_action("sales.lead", BulkAction(
    "set_lead_campaign", _("Set the source campaign…"), set_lead_campaign, needs="choice",
    choices=lambda user: _open_campaigns(user, editable=False), allowed=lambda user: can_read(user, Campaign)))
