import time
import zoneinfo

from django.conf import settings
from django.utils import timezone, translation


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
