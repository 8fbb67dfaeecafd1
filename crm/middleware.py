import time
import zoneinfo

from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.translation import gettext as _


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
