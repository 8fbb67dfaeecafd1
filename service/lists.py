"""The service lists, declared (crm/lists.py renders them): tickets, articles, contracts, work orders."""

from functools import cached_property

from django.contrib import messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, ngettext_lazy

from crm import custom_fields
from crm.lists import BulkAction, BulkRefused, Column, ExportColumn, ListPage, both_ways, bulk_owner
from crm.visibility import with_visibility_flag
from service import services
from service.filters import ArticleFilter, ContractFilter, TicketFilter, WorkOrderFilter
from service.forms import TICKET_CUSTOM_FIELDS
from service.models import Article, Contract, Status, Ticket, WorkOrder

CUSTOM_COLUMN = "custom:"


def assign(request, tickets):
    owner = bulk_owner(request)
    if owner is None:
        raise BulkRefused(_("Choose whom to assign the tickets to."))
    count = 0
    for ticket in tickets:
        services.ticket_assign(ticket=ticket, actor=request.user, owner=owner)
        count += 1
    messages.success(request, ngettext("%(count)s ticket assigned to %(owner)s.",
                                       "%(count)s tickets assigned to %(owner)s.", count)
                     % {"count": count, "owner": owner})


def close(request, tickets):
    count = 0
    for ticket in tickets.filter(status=Status.RESOLVED):
        services.ticket_set_status(ticket=ticket, actor=request.user, status=Status.CLOSED)
        count += 1
    messages.success(request, ngettext("%(count)s resolved ticket closed.", "%(count)s resolved tickets closed.",
                                       count) % {"count": count})


class TicketList(ListPage):
    model = Ticket
    filterset = TicketFilter
    title = _("Tickets")
    url_name = "service:ticket_list"
    bulk_url_name = "service:ticket_bulk"
    table_id = "ticket-table"
    columns = (
        Column(_("Ticket"), template="service/list_cells.html#ticket", sort="number", card="title"),
        Column(_("Customer"), template="service/list_cells.html#customer", card="sub"),
        Column(_("Priority"), template="service/list_cells.html#priority", sort="priority", card="status"),
        Column(_("Status"), value="get_status_display", sort="status"),
        Column(_("SLA"), template="service/list_cells.html#sla", sort="due", nowrap=True, card="date"),
        Column(_("Assignee"), template="service/list_cells.html#assignee", card="owner"),
        Column(_("Queue"), value="queue"),
        Column(_("Opened"), value="created_at", format="date", sort="created", nowrap=True),
    )
    sorts = {
        "created": ("created_at", "id"), "-created": ("-created_at", "-id"),
        "number": ("number", "id"), "-number": ("-number", "-id"),
        "priority": ("priority", "resolution_due", "id"), "-priority": ("-priority", "-resolution_due", "-id"),
        "status": ("status", "-created_at", "id"), "-status": ("-status", "-created_at", "id"),
        "due": ("resolution_due", "id"), "-due": ("-resolution_due", "-id"),
    }
    default_sort = "-created"
    primary_filters = ("q", "view", "status")
    bulk_actions = (
        BulkAction("assign", _("Assign to…"), assign, needs="owner"),
        BulkAction("close", _("Close the resolved ones"), close),
    )
    base_export_columns = (
        ExportColumn(_("Number"), "number"), ExportColumn(_("Subject"), "subject"),
        ExportColumn(_("Account"), "account"), ExportColumn(_("Contact"), "contact"),
        ExportColumn(_("Channel"), "get_channel_display"), ExportColumn(_("Category"), "get_category_display"),
        ExportColumn(_("Priority"), "get_priority_display"), ExportColumn(_("Status"), "get_status_display"),
        ExportColumn(_("Assignee"), "owner"), ExportColumn(_("Queue"), "queue"),
        ExportColumn(_("SLA"), "get_sla_state_display"), ExportColumn(_("Opened"), "created_at"),
        ExportColumn(_("First response (business minutes)"), "first_response_minutes"),
        ExportColumn(_("Resolution (business minutes)"), "resolution_minutes"),
    )
    export_filename = "tickets"
    export_ordering = ("-created_at", "-id")
    export_target = "service.ticket"
    saved_views = "service.ticket"
    built_in_views = (
        (_("My open tickets"), "view=mine"),
        (_("Unassigned"), "view=unassigned&sort=priority"),
        (_("At risk or breached"), "sla_state=at_risk&sort=due"),
        (_("Complaints"), "category=complaint&view=all"),
    )
    noun_plural = _("tickets")
    nothing_ticked = _("Tick at least one ticket first.")
    skipped = ngettext_lazy("%(count)s ticked ticket is read-only for you and was left as it was.",
                            "%(count)s ticked tickets are read-only for you and were left as they were.", "count")
    empty_icon = "life-preserver"
    empty_text = _("Tickets are customers' questions and problems, from the phone, e-mail or the portal, each "
                   "with its SLA clock.")
    empty_filtered_text = _("No ticket matches these filters.")
    create_url_name = "service:ticket_create"
    create_label = _("New ticket")
    actions_template = "service/list_cells.html#actions"
    chip_labels = {**ListPage.chip_labels, "contact": _("Contact")}

    @cached_property
    def export_columns(self):  # type: ignore[override]
        """The fixed columns, then the admin's active ticket fields (by label)."""
        return (*self.base_export_columns,
                *(ExportColumn(definition.shown_label, CUSTOM_COLUMN + definition.key)
                  for definition in custom_fields.definitions(TICKET_CUSTOM_FIELDS)))

    def export_value(self, row, column):
        if column.value.startswith(CUSTOM_COLUMN):
            value = (row.custom or {}).get(column.value.removeprefix(CUSTOM_COLUMN))
            return ("yes" if value else "no") if isinstance(value, bool) else value
        return super().export_value(row, column)

    def queryset(self):
        tickets = Ticket.objects.visible_to(self.user).select_related("owner", "queue", "account", "contact")
        return with_visibility_flag(with_visibility_flag(tickets, self.user, "account"), self.user, "contact")

    def export_rows(self, ids):
        return super().export_rows(ids).select_related("owner", "queue", "account", "contact")


class ArticleList(ListPage):
    model = Article
    filterset = ArticleFilter
    title = _("Knowledge base")
    url_name = "service:article_list"
    table_id = "article-table"
    columns = (
        Column(_("Article"), template="service/list_cells.html#article", sort="title", card="title"),
        Column(_("Category"), value="category", card="sub"),
        Column(_("Status"), template="service/list_cells.html#article_status", card="status"),
        Column(_("Views"), value="views", sort="views", numeric=True),
        Column(_("Helpful"), template="service/list_cells.html#helpful", sort="helpful", numeric=True),
        Column(_("Updated"), value="updated_at", format="date", sort="updated", card="date", nowrap=True),
    )
    sorts = {**both_ways(title=("title", "id"), updated=("updated_at", "id"), views=("views", "id"),
                         helpful=("helpful_yes", "id"))}
    default_sort = "title"
    primary_filters = ("q", "status", "audience")
    export_columns = (
        ExportColumn(_("Title"), "title"), ExportColumn(_("Category"), "category"),
        ExportColumn(_("Status"), "get_status_display"), ExportColumn(_("Readers"), "get_audience_display"),
        ExportColumn(_("Tags"), "tags"), ExportColumn(_("Views"), "views"), ExportColumn(_("Helpful"), "helpful_yes"),
        ExportColumn(_("Not helpful"), "helpful_no"), ExportColumn(_("Text"), "body"),
    )
    export_filename = "articles"
    export_target = "service.article"
    saved_views = "service.article"
    built_in_views = (
        (_("Published for customers"), "status=published&audience=public"),
        (_("Drafts"), "status=draft"),
        (_("Most read"), "sort=-views"),
    )
    noun_plural = _("articles")
    empty_icon = "journal-text"
    empty_text = _("Articles hold known problems and their answers. Agents insert them into replies; public ones "
                   "show in the customer portal.")
    empty_filtered_text = _("No article matches. Try fewer words, or another form of them.")
    create_url_name = "service:article_create"
    create_label = _("New article")

    def queryset(self):
        return Article.objects.visible_to(self.user).select_related("category")


class ContractList(ListPage):
    model = Contract
    filterset = ContractFilter
    title = _("Contracts and warranties")
    url_name = "service:contract_list"
    table_id = "contract-table"
    columns = (
        Column(_("Contract"), template="service/list_cells.html#contract", sort="number", card="title"),
        Column(_("Account"), value="account", card="sub"),
        Column(_("Type"), value="get_kind_display"),
        Column(_("State"), template="service/list_cells.html#contract_state", card="status"),
        Column(_("Ends"), value="ends_on", format="date", sort="ends", card="date", nowrap=True),
        Column(_("Owner"), value="owner", card="owner"),
    )
    sorts = {**both_ways(number=("number", "id"), ends=("ends_on", "id"))}
    default_sort = "ends"
    primary_filters = ("q", "state", "kind")
    export_columns = (
        ExportColumn(_("Number"), "number"), ExportColumn(_("Name"), "name"), ExportColumn(_("Account"), "account"),
        ExportColumn(_("Type"), "get_kind_display"), ExportColumn(_("Product"), "product"),
        ExportColumn(_("Serial number"), "serial_number"), ExportColumn(_("Starts"), "starts_on"),
        ExportColumn(_("Ends"), "ends_on"), ExportColumn(_("State"), "get_state_display"),
        ExportColumn(_("Owner"), "owner"),
    )
    export_filename = "contracts"
    export_target = "service.contract"
    saved_views = "service.contract"
    built_in_views = ((_("Ending within 60 days"), "state=expiring"), (_("Warranties"), "kind=warranty&state=in_force"))
    noun_plural = _("contracts")
    empty_icon = "file-earmark-check"
    empty_text = _("Service contracts and warranties say which customers are covered, for what and until when. "
                   "The owner hears before one ends and can make the renewal deal in one click.")
    create_url_name = "service:contract_create"
    create_label = _("New contract")

    def queryset(self):
        return Contract.objects.visible_to(self.user).select_related("account", "owner", "product")


class WorkOrderList(ListPage):
    model = WorkOrder
    filterset = WorkOrderFilter
    title = _("Work orders")
    url_name = "service:work_order_list"
    table_id = "work-order-table"
    columns = (
        Column(_("Work order"), template="service/list_cells.html#work_order", sort="number", card="title"),
        Column(_("Customer"), template="service/list_cells.html#work_order_customer", card="sub"),
        Column(_("Status"), template="service/list_cells.html#work_order_status", sort="status", card="status"),
        Column(_("Visit"), template="service/list_cells.html#work_order_slot", sort="visit", nowrap=True,
               card="date"),
        Column(_("Specialist"), value="owner", card="owner"),
    )
    sorts = {**both_ways(number=("number", "id"), visit=("scheduled_start", "id"), created=("created_at", "id"),
                         status=("status", "id"))}
    default_sort = "-created"
    primary_filters = ("q", "view", "status")
    export_columns = (
        ExportColumn(_("Number"), "number"), ExportColumn(_("Ticket"), "ticket"),
        ExportColumn(_("Account"), "account"), ExportColumn(_("Address"), "address"),
        ExportColumn(_("Skill"), "skill"), ExportColumn(_("Status"), "get_status_display"),
        ExportColumn(_("Specialist"), "owner"), ExportColumn(_("Starts"), "scheduled_start"),
        ExportColumn(_("Ends"), "scheduled_end"), ExportColumn(_("Started"), "started_at"),
        ExportColumn(_("Finished"), "finished_at"), ExportColumn(_("Notes"), "notes"),
    )
    export_filename = "work-orders"
    export_target = "service.workorder"
    saved_views = "service.workorder"
    built_in_views = (
        (_("My visits"), "view=mine&sort=-visit"),
        (_("Open"), "view=open&sort=visit"),
        (_("With unbilled work"), "view=unbilled"),
    )
    noun_plural = _("work orders")
    empty_icon = "truck"
    empty_text = _("Work orders send a specialist to the customer for a ticket. Make one from the ticket page "
                   "with “Send a specialist”.")
    empty_filtered_text = _("No work order matches these filters.")
    actions_template = "service/list_cells.html#work_order_actions"

    def queryset(self):
        rows = WorkOrder.objects.visible_to(self.user).select_related("ticket", "account", "owner", "skill")
        return with_visibility_flag(rows, self.user, "account")

    def export_rows(self, ids):
        return super().export_rows(ids).select_related("ticket", "account", "owner", "skill")
