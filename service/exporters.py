"""The tickets list's export (found by the exports app's autodiscovery): the rows and filters of the
tickets page, through the visibility policy."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm import richtext
from exports.registry import Exporter, join_list, register
from service.filters import ArticleFilter, ContractFilter, TicketFilter, WorkOrderFilter
from service.models import Article, Contract, Ticket, WorkOrder


def _tickets(user):
    return (Ticket.objects.visible_to(user).select_related("owner", "queue", "account", "contact", "product")
            .order_by("-created_at", "-id"))


def _ticket_filter():
    return TicketFilter


register(Exporter(
    target="service.ticket", label=_("Tickets"), list_url="service:ticket_list",
    queryset=_tickets, filterset=_ticket_filter,
    columns=[
        (_("ID"), lambda t: t.pk), (_("Number"), lambda t: t.number), (_("Subject"), lambda t: t.subject),
        (_("Account"), lambda t: t.account), (_("Contact"), lambda t: t.contact),
        (_("Channel"), lambda t: t.get_channel_display()), (_("Category"), lambda t: t.get_category_display()),
        (_("Product"), lambda t: t.product), (_("Priority"), lambda t: t.get_priority_display()),
        (_("Status"), lambda t: t.get_status_display()), (_("Queue"), lambda t: t.queue),
        (_("Assignee"), lambda t: t.owner), (_("SLA"), lambda t: t.get_sla_state_display()),
        (_("First response due"), lambda t: t.first_response_due), (_("Resolution due"), lambda t: t.resolution_due),
        (_("First response (business minutes)"), lambda t: t.first_response_minutes),
        (_("Resolution (business minutes)"), lambda t: t.resolution_minutes), (_("SLA met"), lambda t: t.sla_met),
        (_("Tags"), lambda t: join_list(t.tags)), (pgettext_lazy("date column", "Opened"), lambda t: t.created_at),
        (pgettext_lazy("date column", "Resolved"), lambda t: t.resolved_at),
    ],
))


def _articles(user):
    return Article.objects.visible_to(user).select_related("category").order_by("title", "id")


def _article_filter():
    return ArticleFilter


register(Exporter(
    target="service.article", label=_("Knowledge-base articles"), list_url="service:article_list",
    queryset=_articles, filterset=_article_filter,
    columns=[
        (_("ID"), lambda a: a.pk), (_("Title"), lambda a: a.title), (_("Category"), lambda a: a.category),
        (_("Status"), lambda a: a.get_status_display()), (_("Readers"), lambda a: a.get_audience_display()),
        (_("Tags"), lambda a: join_list(a.tags)), (pgettext_lazy("view count", "Views"), lambda a: a.views),
        (_("Helpful"), lambda a: a.helpful_yes), (_("Not helpful"), lambda a: a.helpful_no),
        (_("Text"), lambda a: richtext.plain(a.body)), (_("Updated"), lambda a: a.updated_at),
    ],
))


def _contracts(user):
    return (Contract.objects.visible_to(user).select_related("account", "owner", "product")
            .order_by("ends_on", "id"))


def _contract_filter():
    return ContractFilter


register(Exporter(
    target="service.contract", label=_("Contracts and warranties"), list_url="service:contract_list",
    queryset=_contracts, filterset=_contract_filter,
    columns=[
        (_("ID"), lambda c: c.pk), (_("Number"), lambda c: c.number), (_("Name"), lambda c: c.name),
        (_("Type"), lambda c: c.get_kind_display()), (_("Account"), lambda c: c.account),
        (_("Product"), lambda c: c.product), (_("Serial number"), lambda c: c.serial_number),
        (_("Starts"), lambda c: c.starts_on), (_("Ends"), lambda c: c.ends_on),
        (_("State"), lambda c: c.get_state_display()), (_("Entitlement"), lambda c: c.get_entitlement_display()),
        (_("Included"), lambda c: c.entitled_amount), (_("Owner"), lambda c: c.owner),
    ],
))


def _work_orders(user):
    return (WorkOrder.objects.visible_to(user).select_related("ticket", "account", "owner", "skill")
            .order_by("-created_at", "-id"))


def _work_order_filter():
    return WorkOrderFilter


register(Exporter(
    target="service.workorder", label=_("Work orders"), list_url="service:work_order_list",
    queryset=_work_orders, filterset=_work_order_filter,
    columns=[
        (_("ID"), lambda w: w.pk), (_("Number"), lambda w: w.number), (_("Ticket"), lambda w: w.ticket.number),
        (_("Subject"), lambda w: w.ticket.subject), (_("Account"), lambda w: w.account),
        (_("Address"), lambda w: w.address), (_("Skill"), lambda w: w.skill),
        (_("Status"), lambda w: w.get_status_display()), (_("Specialist"), lambda w: w.owner),
        (_("Starts"), lambda w: w.scheduled_start), (_("Ends"), lambda w: w.scheduled_end),
        (pgettext_lazy("work order", "Started"), lambda w: w.started_at),
        (pgettext_lazy("work order", "Finished"), lambda w: w.finished_at),
        (_("Notes"), lambda w: w.notes),
    ],
))
