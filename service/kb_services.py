"""The knowledge base: writes, full-text search in English and Russian, suggestions for a ticket,
views and "helpful?" votes.

Each article's `search_vector` holds its title (weight A), tags (B) and text (C) under both the
English and the Russian configuration, so "printers" finds "printer" and "принтеры" finds "принтер".
A query is matched under both configurations too.
"""

import re

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import User
from service.models import Article, ArticleStatus, ArticleVote, Ticket, TicketArticle
from webhooks.services import emit

CONFIGS = ("english", "russian")
WORD = re.compile(r"\w{3,}", re.UNICODE)
SUGGESTION_WORDS = 12


def _reindex(article: Article) -> None:
    tags = " ".join(article.tags)
    vector = None
    for config in CONFIGS:
        part = (SearchVector("title", weight="A", config=config)
                + SearchVector(Value(tags), weight="B", config=config)
                + SearchVector("body", weight="C", config=config))
        vector = part if vector is None else vector + part
    Article.objects.filter(pk=article.pk).update(search_vector=vector)


@transaction.atomic
def article_create(*, actor: User, **fields) -> Article:
    article = Article(author=actor, **fields)
    if article.status == ArticleStatus.PUBLISHED:
        article.published_at = timezone.now()
    article.full_clean()
    article.save()
    _reindex(article)
    emit("article.published" if article.published_at else "article.created", article, actor=actor)
    return article


@transaction.atomic
def article_update(*, article: Article, actor: User, **fields) -> Article:
    was_published = article.status == ArticleStatus.PUBLISHED
    for name, value in fields.items():
        setattr(article, name, value)
    if article.status == ArticleStatus.PUBLISHED and not was_published:
        article.published_at = timezone.now()
    article.full_clean()
    article.save()
    _reindex(article)
    emit("article.published" if article.status == ArticleStatus.PUBLISHED and not was_published
         else "article.updated", article, actor=actor)
    return article


@transaction.atomic
def article_delete(*, article: Article, actor: User) -> None:
    article.deleted_at = timezone.now()
    article.save(update_fields=["deleted_at", "updated_at"])
    emit("article.deleted", article, actor=actor)


def _query(words: list[str]) -> SearchQuery | None:
    """Any of the words, under either configuration."""
    query = None
    for word in words:
        for config in CONFIGS:
            part = SearchQuery(word, config=config, search_type="plain")
            query = part if query is None else query | part
    return query


def text_query(text: str) -> SearchQuery | None:
    """Every word of `text` (web-search syntax), in either language's word forms; None for no text."""
    text = " ".join(text.split())[:200]
    if not text:
        return None
    query = None
    for config in CONFIGS:
        part = SearchQuery(text, config=config, search_type="websearch")
        query = part if query is None else query | part
    return query


def search(articles, text: str, limit: int = 20) -> list[Article]:
    """Articles matching every word of `text` (in either language), best first; one query."""
    query = text_query(text)
    if query is None:
        return []
    return list(articles.filter(search_vector=query)
                .annotate(rank=SearchRank(F("search_vector"), query)).order_by("-rank", "id")[:limit])


def suggestions_for(ticket: Ticket, articles, limit: int = 3) -> list[Article]:
    """Published articles that share words with the ticket's subject and description, best first."""
    words = WORD.findall(f"{ticket.subject} {ticket.description}".lower())
    words = sorted(set(words), key=lambda word: (-len(word), word))[:SUGGESTION_WORDS]
    query = _query(words)
    if query is None:
        return []
    return list(articles.published().filter(search_vector=query)
                .annotate(rank=SearchRank(F("search_vector"), query)).order_by("-rank", "id")[:limit])


def for_ticket(ticket: Ticket, articles, limit: int = 3) -> tuple[list[Article], list[Article]]:
    """The articles already sent on the ticket, and up to `limit` published suggestions: one query."""
    words = WORD.findall(f"{ticket.subject} {ticket.description}".lower())
    query = _query(sorted(set(words), key=lambda word: (-len(word), word))[:SUGGESTION_WORDS])
    linked = Exists(TicketArticle.objects.filter(ticket=ticket, article=OuterRef("pk")))
    condition = Q(ticket_links__ticket=ticket)
    rank = Value(0.0)
    if query is not None:
        condition |= Q(status=ArticleStatus.PUBLISHED, search_vector=query)
        rank = SearchRank(F("search_vector"), query)
    rows = list(articles.filter(condition).distinct().annotate(linked=linked, rank=rank)
                .order_by("-linked", "-rank", "id")[:limit + 20])
    sent = [article for article in rows if article.linked]
    return sent, [article for article in rows if not article.linked][:limit]


def article_viewed(article: Article) -> None:
    Article.objects.filter(pk=article.pk).update(views=F("views") + 1)


@transaction.atomic
def article_vote(*, article: Article, user: User, helpful: bool) -> Article:
    """One vote per reader; the counters are recounted from the votes, so they never drift."""
    ArticleVote.objects.update_or_create(article=article, user=user, defaults={"helpful": helpful})
    counts = ArticleVote.objects.filter(article=article).aggregate(
        yes=Count("id", filter=Q(helpful=True)), no=Count("id", filter=Q(helpful=False)))
    Article.objects.filter(pk=article.pk).update(helpful_yes=counts["yes"], helpful_no=counts["no"])
    article.helpful_yes, article.helpful_no = counts["yes"], counts["no"]
    return article


def ticket_article_link(*, ticket: Ticket, article: Article, actor: User) -> TicketArticle:
    if article.status != ArticleStatus.PUBLISHED:
        raise ValidationError(_("Only published articles can be sent to customers."))
    link, _created = TicketArticle.objects.get_or_create(ticket=ticket, article=article,
                                                         defaults={"linked_by": actor})
    return link
