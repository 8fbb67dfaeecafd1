"""The customer portal's pages and the survey page. None needs a staff sign-in (portal/auth.py); the
ticket pages need a portal sign-in and read only through portal/scope.py. A ticket, attachment or
survey the portal user may not see answers the same 404 page as one that does not exist."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm import security
from crm.downloads import private_download
from crm.list_tools import to_int
from crm.redirects import safe_next
from portal import auth, mail, services
from portal.auth import portal_login_required, portal_page
from portal.forms import PasswordForm, PortalReplyForm, PortalTicketForm, ResetRequestForm, SignInForm, SurveyForm
from portal.models import PortalUser, Survey, TokenPurpose
from portal.scope import public_articles, public_attachments, public_messages, tickets_for
from service import kb_services
from service import services as desk
from service.models import ACTIVE_STATUSES, Channel, MessageKind, Status

PAGE_ROWS = 25
MAX_PAGE = 1_000  # a page number past any real history (a huge one overflowed the OFFSET: a 500)


def not_found(request):
    """One page for "missing" and "not yours": nothing tells them apart."""
    # The page names no path (the language switch returns home), so both answers are the same bytes.
    return render(request, "portal/not_found.html", {"language_next": reverse("portal:home")}, status=404)


def _next_url(request, default: str) -> str:
    return safe_next(request, default, within=auth.COOKIE_PATH)


# --- Signing in ---------------------------------------------------------------------------------


@portal_page
def sign_in(request):
    if auth.current_user(request) is not None:
        return redirect("portal:home")
    form = SignInForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            portal_user = services.portal_authenticate(email=form.cleaned_data["email"],
                                                       password=form.cleaned_data["password"])
        except services.SignInError as refused:
            error = refused.message
        else:
            auth.sign_in(request, portal_user)
            return redirect(_next_url(request, reverse("portal:home")))
    expired = request.GET.get("expired") == "1"
    return render(request, "portal/sign_in.html", {"form": form, "error": error, "expired": expired,
                                                   "next": request.POST.get("next") or request.GET.get("next", "")},
                  status=400 if error else 200)


@require_POST
@portal_page
def sign_out(request):
    auth.sign_out(request)
    messages.info(request, _("You are signed out of the portal."))
    return redirect("portal:login")


@portal_page
def reset_request(request):
    """Always the same answer, whether or not the address has portal access."""
    form = ResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        # The same limit as the staff form (crm/security.py): a few mails per address an hour.
        allowed = security.password_reset_allowed(email, request, portal=True)
        portal_user = PortalUser.objects.select_related("contact").filter(
            email__iexact=email, is_active=True, contact__deleted_at__isnull=True).first()
        if portal_user is not None and allowed:
            token = services.token_issue(portal_user=portal_user, purpose=TokenPurpose.RESET)
            url = request.build_absolute_uri(reverse("portal:set_password", args=[token]))
            mail.link_send(portal_user=portal_user, url=url, purpose=TokenPurpose.RESET)
        return render(request, "portal/reset_sent.html")
    return render(request, "portal/reset_request.html", {"form": form})


@portal_page
def set_password(request, token: str):
    """The invitation and reset links: a single-use, expiring token sets the password and signs in."""
    found = services.token_find(token)
    if found is None:
        return render(request, "portal/link_invalid.html", status=410)
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            portal_user = services.password_set_with_token(token=token, password=form.cleaned_data["password1"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            auth.sign_in(request, portal_user)
            messages.success(request, _("Your password is set. Welcome to the portal."))
            return redirect("portal:home")
    return render(request, "portal/set_password.html", {
        "form": form, "invitation": found.purpose == TokenPurpose.INVITE, "portal_user": found.portal_user})


@require_POST
@portal_page
def set_language(request):
    language = request.POST.get("language", "")
    response = HttpResponseRedirect(_next_url(request, reverse("portal:home")))
    if language in dict(settings.LANGUAGES):
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax",
                            secure=settings.SESSION_COOKIE_SECURE)
    return response


# --- Tickets ------------------------------------------------------------------------------------


@portal_login_required
def home(request):
    portal_user = request.portal_user
    show = "all" if request.GET.get("show") == "all" else "open"
    tickets = tickets_for(portal_user).select_related("contact")
    if show == "open":
        tickets = tickets.filter(status__in=[*ACTIVE_STATUSES, Status.RESOLVED])
    page = min(max(to_int(request.GET.get("page")) or 1, 1), MAX_PAGE)
    start = (page - 1) * PAGE_ROWS
    rows = list(tickets.order_by("-created_at", "-id")[start:start + PAGE_ROWS + 1])
    return render(request, "portal/home.html", {
        "tickets": rows[:PAGE_ROWS], "has_next": len(rows) > PAGE_ROWS, "page": page, "show": show,
        "portal_user": portal_user})


@portal_login_required
def ticket_new(request):
    portal_user = request.portal_user
    contact = portal_user.contact
    form = PortalTicketForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():  # a refused file leaves no ticket behind
                ticket = desk.ticket_create(actor=None, subject=data["subject"], description=data["description"],
                                            category=data["category"], channel=Channel.PORTAL, contact=contact,
                                            account=contact.account)
                if data["files"]:
                    desk.ticket_customer_message(ticket=ticket, body=_("Files sent with the request."),
                                                 uploads=data["files"])
        except ValidationError as error:
            form.add_error("files" if data["files"] else None, error)
        else:
            messages.success(request, _("Your request %(number)s is registered. We will answer by e-mail and here.")
                             % {"number": ticket.number})
            return redirect("portal:ticket", pk=ticket.pk)
    return render(request, "portal/ticket_new.html", {"form": form, "portal_user": portal_user})


def _ticket_or_none(request, pk: int):
    return tickets_for(request.portal_user).select_related("contact").filter(pk=pk).first()


@portal_login_required
def ticket_detail(request, pk: int):
    ticket = _ticket_or_none(request, pk)
    if ticket is None:
        return not_found(request)
    conversation = list(public_messages(ticket).prefetch_related("attachments").select_related("author"))
    survey = Survey.objects.filter(ticket=ticket).order_by("-resolved_at", "-id").first()
    return render(request, "portal/ticket_detail.html", {
        "ticket": ticket, "conversation": conversation, "reply_form": PortalReplyForm(),
        "survey": survey, "survey_form": SurveyForm() if survey is not None and not survey.is_answered else None,
        "portal_user": request.portal_user, "customer_kind": MessageKind.CUSTOMER,
    })


@require_POST
@portal_login_required
def ticket_reply(request, pk: int):
    ticket = _ticket_or_none(request, pk)
    if ticket is None:
        return not_found(request)
    form = PortalReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            desk.ticket_customer_message(ticket=ticket, body=form.cleaned_data["body"],
                                         uploads=form.cleaned_data["files"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Your message was added."))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("portal:ticket", pk=ticket.pk)


@require_POST
@portal_login_required
def ticket_rate(request, pk: int):
    ticket = _ticket_or_none(request, pk)
    survey_id = to_int(request.POST.get("survey")) or 0
    survey = Survey.objects.filter(ticket=ticket, pk=survey_id).first() if ticket is not None else None
    if survey is None:
        return not_found(request)
    form = SurveyForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    elif services.survey_answer(survey=survey, rating=form.cleaned_data["rating"],
                                comment=form.cleaned_data["comment"], in_portal=True):
        messages.success(request, _("Thank you for rating our answer."))
    else:
        messages.info(request, _("This request was already rated."))
    return redirect("portal:ticket", pk=ticket.pk)


@portal_login_required
def attachment(request, pk: int, attachment_pk: int):
    """Only files of the public conversation of the portal user's own tickets; always a download."""
    ticket = _ticket_or_none(request, pk)
    found = public_attachments(ticket).filter(pk=attachment_pk).first() if ticket is not None else None
    if found is None:
        return not_found(request)
    try:
        return private_download(found.file, filename=found.name, content_type=found.content_type)
    except Http404:
        return not_found(request)  # the portal's own 404 page


# --- Help articles (the public part of the knowledge base) ------------------------------------------

HELP_ROWS = 20


@portal_login_required
def help_list(request):
    """Search the public articles (full text, English and Russian); without words, the latest ones."""
    text = request.GET.get("q", "").strip()[:200]
    articles = (kb_services.search(public_articles(), text, limit=HELP_ROWS) if text else
                list(public_articles().select_related("category").order_by("-published_at", "-id")[:HELP_ROWS]))
    return render(request, "portal/help_list.html", {"articles": articles, "q": text,
                                                     "portal_user": request.portal_user})


@portal_login_required
def help_article(request, pk: int):
    article = public_articles().select_related("category").filter(pk=pk).first()
    if article is None:
        return not_found(request)
    kb_services.article_viewed(article)
    return render(request, "portal/help_article.html", {"article": article, "portal_user": request.portal_user})


# --- The survey link (no sign-in) -----------------------------------------------------------------


@portal_page
def survey(request, token: str):
    try:
        found = services.survey_from_token(token)
    except services.SurveyLinkError as error:
        if error.reason == "expired":
            return render(request, "portal/survey_closed.html", {"expired": True}, status=410)
        return not_found(request)
    if found.is_answered:
        return render(request, "portal/survey_closed.html", {"survey": found}, status=409)
    initial = {"rating": to_int(request.GET.get("rating"))} if request.GET.get("rating") else {}
    form = SurveyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        if not services.survey_answer(survey=found, rating=form.cleaned_data["rating"],
                                      comment=form.cleaned_data["comment"]):
            return render(request, "portal/survey_closed.html", {"survey": found}, status=409)
        return render(request, "portal/survey_thanks.html", {"ticket": found.ticket})
    return render(request, "portal/survey.html", {"form": form, "ticket": found.ticket},
                  status=400 if form.errors else 200)
