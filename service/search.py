"""Tickets in the global search (crm/search.py): by number (T-2026-000123, or its beginning) or by
words of the subject (a trigram index on number + subject)."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm import search
from crm.search import Hit, Kind, Query
from service import kb_services
from service.models import Article, Ticket


def _hit(ticket: Ticket) -> Hit:
    return Hit(title=f"{ticket.number} {ticket.subject}",
               subtitle=search.joined(ticket.get_status_display(), ticket.account if ticket.account_visible else ""),
               url=ticket.get_absolute_url(), record=ticket)


def _visible(user):
    from crm.visibility import with_visibility_flag

    return with_visibility_flag(Ticket.objects.visible_to(user).select_related("account"), user, "account")


@search.register
class TicketSearch(search.SearchProvider):
    key = "tickets"
    label = _("Tickets")
    icon = "life-preserver"
    order = 45

    def search(self, user, query: Query, limit: int) -> list[Hit]:
        tickets = _visible(user)
        if query.kind == Kind.NUMBER:
            return [_hit(t) for t in tickets.filter(number__startswith=query.number).order_by("number")[:limit]]
        if query.kind != Kind.WORDS:
            return []
        text = query.text
        return [_hit(t) for t in search.ranked(tickets, "search_text", text, Q(search_text__icontains=text), limit,
                                                ("-created_at", "-id"))]


@search.register
class ArticleSearch(search.SearchProvider):
    """Published and draft articles by full text (English and Russian word forms)."""

    key = "articles"
    label = _("Knowledge base")
    icon = "journal-text"
    order = 50

    def search(self, user, query: Query, limit: int) -> list[Hit]:
        if query.kind != Kind.WORDS:
            return []
        found = kb_services.search(Article.objects.visible_to(user).select_related("category"), query.text, limit)
        return [Hit(title=article.title, subtitle=search.joined(article.category, article.get_status_display()),
                    url=article.get_absolute_url(), record=article) for article in found]
