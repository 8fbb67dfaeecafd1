import time
import zoneinfo

from django.conf import settings
from django.http import Http404, HttpResponseBadRequest, JsonResponse
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
