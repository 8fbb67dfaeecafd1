"""The knowledge base's pages: an article, writing one, voting "helpful?", and inserting one into a
ticket's reply (which links the article to the ticket)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm import richtext
from crm.list_tools import to_int
from crm.visibility import can_create, get_editable_or_404, require_create, require_read
from service import kb_services
from service.forms import ArticleForm
from service.models import Article, Ticket


def _article(request, pk: int) -> Article:
    require_read(request.user, Article)
    return get_object_or_404(Article.objects.visible_to(request.user).select_related("category", "author"), pk=pk)


def article_detail(request, pk: int):
    article = _article(request, pk)
    kb_services.article_viewed(article)
    vote = article.votes.filter(user=request.user).values_list("helpful", flat=True).first()
    return render(request, "service/article_detail.html", {
        "article": article, "can_edit": can_create(request.user, Article), "vote": vote,
        "tickets": article.ticket_links.count()})


def article_create(request):
    require_create(request.user, Article)
    form = ArticleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        article = kb_services.article_create(actor=request.user, **form.cleaned_data)
        messages.success(request, _("Article “%(title)s” was saved.") % {"title": article.title})
        return redirect(article)
    return render(request, "service/article_form.html", {"form": form})


def article_edit(request, pk: int):
    require_create(request.user, Article)
    article = _article(request, pk)
    form = ArticleForm(request.POST or None, instance=article)
    if request.method == "POST":
        if request.POST.get("delete"):
            kb_services.article_delete(article=article, actor=request.user)
            messages.success(request, _("Article “%(title)s” was deleted.") % {"title": article.title})
            return redirect("service:article_list")
        if form.is_valid():
            kb_services.article_update(article=article, actor=request.user, **form.cleaned_data)
            messages.success(request, _("Article “%(title)s” was saved.") % {"title": article.title})
            return redirect(article)
    return render(request, "service/article_form.html", {"form": form, "article": article})


@require_POST
def article_vote(request, pk: int):
    article = _article(request, pk)
    kb_services.article_vote(article=article, user=request.user, helpful=request.POST.get("helpful") == "yes")
    messages.success(request, _("Thank you: your answer helps us keep the articles useful."))
    return redirect(article)


@require_POST
def article_insert(request, pk: int):
    """The reply box with the article's text added, the article linked to the ticket (htmx)."""
    ticket = get_editable_or_404(Ticket, request.user, pk=pk)
    article = get_object_or_404(Article.objects.visible_to(request.user), pk=to_int(request.POST.get("article")))
    existing = request.POST.get("body", "").strip()
    try:
        kb_services.ticket_article_link(ticket=ticket, article=article, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return render(request, "service/ticket_detail.html#reply_body", {"body": existing})
    text = f"{article.title}\n\n{richtext.plain(article.body)}"
    body = f"{existing}\n\n{text}" if existing else text
    return render(request, "service/ticket_detail.html#reply_body", {"body": body})
