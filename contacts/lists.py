"""The contacts and leads lists, declared (crm/lists.py renders them)."""

from django.contrib import messages
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, ngettext_lazy

from contacts import lead_services
from contacts.filters import ContactFilter
from contacts.lead_filters import LeadFilter
from contacts.models import Contact, Lead, LeadStatus
from crm.lists import BulkAction, BulkRefused, Column, ExportColumn, ListPage, bulk_owner
from crm.visibility import managed_team_ids, require_read, with_visibility_flag


class ContactList(ListPage):
    model = Contact
    filterset = ContactFilter
    title = _("Contacts")
    url_name = "contacts:list"
    table_id = "contact-table"
    columns = (
        Column(_("Name"), template="contacts/list_cells.html#contact_name", sort="name", card="title"),
        Column(_("Account"), template="contacts/list_cells.html#contact_account", card="sub"),
        Column(_("E-mail"), value="primary_email"),
        Column(_("Phone"), template="contacts/list_cells.html#contact_phone", card="status", nowrap=True),
        Column(_("Owner"), value="owner", card="owner"),
        Column(_("Updated"), value="updated_at", format="date", sort="updated", card="date", nowrap=True),
    )
    sorts = {
        "name": ("last_name", "first_name", "id"),
        "-name": ("-last_name", "-first_name", "-id"),
        "updated": ("updated_at", "id"),
        "-updated": ("-updated_at", "-id"),
    }
    default_sort = "name"
    primary_filters = ("q", "mine", "email_opt_in")
    export_target = "contacts.contact"
    saved_views = "contacts.contact"
    built_in_views = (
        (_("My contacts"), "mine=true"),
        (_("Agreed to marketing e-mail"), "email_opt_in=true"),
    )
    noun_plural = _("contacts")
    empty_icon = "person-lines-fill"
    empty_text = _("Contacts are the people you talk to: at your customers, partners and prospects.")
    empty_filtered_text = _("No contact matches these filters.")
    create_url_name = "contacts:create"
    create_label = _("New contact")
    actions_template = "contacts/list_cells.html#contact_actions"

    def queryset(self):
        return with_visibility_flag(Contact.objects.visible_to(self.user).select_related("owner", "account"),
                                    self.user, "account")


def sees_queues(user) -> bool:
    """Queues of unassigned leads are worked by a team's managers and by admins."""
    return user.is_admin or bool(managed_team_ids(user))


def assign_leads(request, leads):
    owner = bulk_owner(request)
    if owner is None:
        raise BulkRefused(_("Choose whom to assign the leads to."))
    count = lead_services.leads_assign(actor=request.user, leads=leads, owner=owner)
    messages.success(request, ngettext("%(count)s lead assigned to %(owner)s.",
                                       "%(count)s leads assigned to %(owner)s.", count)
                     % {"count": count, "owner": owner})


def distribute_leads(request, leads):
    result = lead_services.leads_distribute(leads=leads.filter(owner__isnull=True), actor=request.user)
    messages.success(request, ngettext("%(count)s lead distributed by the rules.",
                                       "%(count)s leads distributed by the rules.", result.count)
                     % {"count": result.count})
    if result.unmatched:
        messages.warning(request, ngettext("%(count)s lead matched no rule and stays in the queue.",
                                           "%(count)s leads matched no rule and stay in the queue.",
                                           len(result.unmatched)) % {"count": len(result.unmatched)})


class LeadList(ListPage):
    model = Lead
    filterset = LeadFilter
    title = _("Leads")
    url_name = "contacts:lead_list"
    bulk_url_name = "contacts:lead_bulk"
    table_id = "lead-table"
    columns = (
        Column(_("Name"), template="contacts/list_cells.html#lead_name", sort="name", card="title"),
        Column(_("Company"), value="company", sort="company", card="sub"),
        Column(_("Status"), template="contacts/list_cells.html#lead_status", sort="status", card="status"),
        Column(_("Source"), template="contacts/list_cells.html#lead_source"),
        Column(_("Rating"), value="get_rating_display"),
        Column(_("Owner"), template="contacts/list_cells.html#lead_owner", card="owner"),
        Column(_("Created"), value="created_at", format="date", sort="created", card="date", nowrap=True),
    )
    sorts = {
        "created": ("created_at", "id"),
        "-created": ("-created_at", "-id"),
        "name": ("last_name", "first_name", "id"),
        "-name": ("-last_name", "-first_name", "-id"),
        "company": ("company", "id"),
        "-company": ("-company", "-id"),
        "status": ("status", "-created_at", "-id"),
        "-status": ("-status", "-created_at", "-id"),
        "updated": ("updated_at", "id"),
        "-updated": ("-updated_at", "-id"),
    }
    default_sort = "-created"
    primary_filters = ("q", "status", "owner")
    bulk_actions = (
        BulkAction("assign", _("Assign to…"), assign_leads, needs="owner"),
        BulkAction("distribute", _("Distribute by the rules"), distribute_leads, allowed=sees_queues),
    )
    export_columns = (
        ExportColumn(_("First name"), "first_name"), ExportColumn(_("Last name"), "last_name"),
        ExportColumn(_("Job title"), "title"), ExportColumn(_("Company"), "company"),
        ExportColumn(_("E-mail"), "email"), ExportColumn(_("Phone"), "phone"),
        ExportColumn(_("Source"), "get_source_display"), ExportColumn(_("Campaign"), "campaign"),
        ExportColumn(_("Status"), "get_status_display"), ExportColumn(_("Rating"), "get_rating_display"),
        ExportColumn(_("Owner"), "owner"), ExportColumn(_("Created"), "created_at"),
    )
    export_filename = "leads"
    export_ordering = ("-created_at", "-id")
    export_target = "contacts.lead"
    noun_plural = _("leads")
    nothing_ticked = _("Tick at least one lead first.")
    skipped = ngettext_lazy("%(count)s ticked lead is read-only for you and was left as it was.",
                            "%(count)s ticked leads are read-only for you and were left as they were.", "count")
    empty_icon = "person-plus"
    empty_text = _("Leads are people who may buy but are not qualified yet. Work them, qualify them and convert "
                   "them into customers and deals.")
    empty_filtered_text = _("No lead matches these filters.")
    create_url_name = "contacts:lead_create"
    create_label = _("New lead")
    actions_template = "contacts/list_cells.html#lead_actions"

    def check(self):
        require_read(self.user, Lead)

    def queryset(self):
        return Lead.objects.visible_to(self.user).select_related("owner")

    def context(self):
        return {"sees_queues": sees_queues(self.user), "queue": False}

    def export_rows(self, ids):
        return super().export_rows(ids).select_related("owner")

    def back_url(self):
        return reverse("contacts:lead_queue" if self.request.POST.get("from") == "queue" else self.url_name)


class LeadQueue(LeadList):
    """Unassigned leads waiting in a queue: a team's managers see their team's, admins all."""

    title = _("Lead queue")
    url_name = "contacts:lead_queue"
    bulk_from = "queue"
    export_target = ""
    intro_template = "contacts/list_cells.html#queue_intro"

    def queryset(self):
        return super().queryset().filter(owner__isnull=True).exclude(status=LeadStatus.CONVERTED)

    def context(self):
        return {"sees_queues": sees_queues(self.user), "queue": True}

    @property
    def empty_text(self):
        if not sees_queues(self.user):
            return _("Queues of unassigned leads are worked by sales managers and admins; the leads given to you "
                     "are in your list.")
        return _("The queue is empty: every lead has an owner. New leads without one (web forms, imports) land here "
                 "until the rules or a manager assign them.")
