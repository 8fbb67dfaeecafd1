"""The tickets list's export (found by the exports app's autodiscovery): the rows and filters of the
tickets page, through the visibility policy."""

from django.utils.translation import gettext_lazy as _

from exports.registry import Exporter, join_list, register
from service.filters import ArticleFilter, TicketFilter
from service.models import Article, Ticket


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
        (_("Tags"), lambda t: join_list(t.tags)), (_("Opened"), lambda t: t.created_at),
        (_("Resolved"), lambda t: t.resolved_at),
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
        (_("Tags"), lambda a: join_list(a.tags)), (_("Views"), lambda a: a.views),
        (_("Helpful"), lambda a: a.helpful_yes), (_("Not helpful"), lambda a: a.helpful_no),
        (_("Text"), lambda a: a.body), (_("Updated"), lambda a: a.updated_at),
    ],
))
