import sys
import time
import zoneinfo

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found


class IdleSessionMiddleware:
    """Sessions end after SESSION_COOKIE_AGE without a request. Instead of rewriting the session
    row on every request, it is touched at most once a minute: the idle clock is exact to a
    minute and a page saves three queries."""

    TOUCH_EVERY = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty():
            now = int(time.time())
            if now - session.get("_seen", 0) >= self.TOUCH_EVERY:
                session["_seen"] = now  # marks the session modified: saved with a fresh expiry
        return response


class UserTimezoneMiddleware:
    """Shows dates in the signed-in user's own time zone, and pages in their own language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
            if user.language in dict(settings.LANGUAGES):
                translation.activate(user.language)
                request.LANGUAGE_CODE = user.language
        else:
            timezone.deactivate()
        return self.get_response(request)


class RefuseNulMiddleware:
    """A NUL character cannot be stored in PostgreSQL text, so a query parameter or form field
    holding one would end in a database error (a 500). Such a request is refused up front with a
    clear 400, before any view runs: nothing is read or changed. (JSON bodies are checked by the
    API's parser.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_nul(request.GET) or (request.method == "POST" and _form_has_nul(request)):
            message = _("The request contains a NUL character (code 0), which cannot be stored. "
                        "Remove it and try again.")
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": str(message)}, status=400)
            return HttpResponseBadRequest(format_html("<!doctype html><title>400</title><p>{}</p>", message))
        return self.get_response(request)


def _has_nul(query) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in query.lists())


def _form_has_nul(request) -> bool:
    # Only small url-encoded forms: parsing a multipart body here would read a whole upload
    # before the view could refuse it by its declared size.
    return request.content_type == "application/x-www-form-urlencoded" and _has_nul(request.POST)


class TwoFactorRequiredMiddleware:
    """A user whose role requires two-factor sign-in (crm/two_factor.py) but who has no authenticator
    yet can open only the enrolment page (and sign out) until they set one up. The answer is kept
    in the session, so this costs queries once per session, not per request."""

    ALLOWED = {"two_factor_enrol", "logout", "set_language", "healthz", "javascript-catalog"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from crm.security_views import MARK

        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        mark = request.session.get(MARK)
        if mark is None:
            from crm import two_factor

            required = two_factor.is_required(user) and not two_factor.is_enrolled(user)
            mark = request.session[MARK] = "enrol" if required else "ok"
        if mark != "enrol" or (request.resolver_match and request.resolver_match.url_name in self.ALLOWED):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": str(_("Set up two-factor sign-in in the browser first."))}, status=403)
        from django.shortcuts import redirect

        return redirect("two_factor_enrol")


# --- A database that does not answer ----------------------------------------------------------------

DATABASE_ERRORS = (OperationalError, InterfaceError)


@receiver(got_request_exception)
def _note_database_error(sender, request=None, **kwargs):
    """Django turns an exception into a 500 page (the debug page with DEBUG on) before our middleware
    sees it: mark the request, so DatabaseUnavailableMiddleware can answer the friendly 503 instead."""
    if request is not None and isinstance(sys.exc_info()[1], DATABASE_ERRORS):
        request.database_unavailable = True


class DatabaseUnavailableMiddleware:
    """When PostgreSQL is down, every page answers 503 in the app's look ("the database is not answering,
    try again in a minute") with Retry-After, the API and /healthz a short JSON, instead of a 500 or
    the debug page. The page is rendered without a request context: nothing in it needs the database."""

    RETRY_AFTER = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            response = self.get_response(request)
        except DATABASE_ERRORS:
            return self.unavailable(request)
        if getattr(request, "database_unavailable", False) and response.status_code >= 500:
            return self.unavailable(request)
        return response

    def unavailable(self, request) -> HttpResponse:
        language = translation.get_language_from_request(request)
        with translation.override(language):
            message = _("The database is not answering, try again in a minute.")
            if request.path.startswith(("/api/", "/healthz")) or "application/json" in request.headers.get(
                    "Accept", ""):
                response: HttpResponse = JsonResponse({"detail": message, "down": ["database"]}, status=503)
            else:
                retry = request.get_full_path() if request.method == "GET" else "/"
                response = HttpResponse(render_to_string("503_database.html", {"retry_url": retry}), status=503)
        response["Retry-After"] = str(self.RETRY_AFTER)
        response["Cache-Control"] = "no-store"
        return response


class FriendlyNotFoundMiddleware:
    """With DEBUG on, Django answers a 404 with its technical page, which lists every URL pattern
    (and names the view that refused). A signed-in user gets the app's own 404 page instead, so a
    hidden record never shows more than "not found", also in a development run. (With DEBUG off,
    Django's handler already renders templates/404.html.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # No resolver match: no URL pattern matched, and the technical page would list them all.
        if (settings.DEBUG and response.status_code == 404 and _signed_in(request)
                and getattr(request, "resolver_match", None) is None):
            return page_not_found(request, Http404())
        return response

    def process_exception(self, request, exception):
        if settings.DEBUG and isinstance(exception, Http404) and _signed_in(request):
            return page_not_found(request, exception)
        return None


def _signed_in(request) -> bool:
    user = getattr(request, "user", None)
    return user is not None and user.is_authenticated
