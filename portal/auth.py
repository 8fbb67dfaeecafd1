"""The portal's own sign-in: a session separate from the staff one.

Staff sign in through Django's auth (the `sessionid` cookie, `request.user`). A portal user's session
lives in its own cookie (`crm_portal`, path /portal/) and its own session row, and only ever holds the
portal user's id: Django's AuthenticationMiddleware never reads it, so a portal session opens no staff
page, and a staff session is not a portal session (the portal never looks at `request.user`).

Every portal page goes through `portal_page` (public pages: sign-in, reset, invitation, survey) or
`portal_login_required`. Both are `login_not_required` for the staff middleware and save the portal
session after the view. The session ends after PORTAL_IDLE_SECONDS without a request (touched at most
once a minute, like crm.middleware.IdleSessionMiddleware) and when the password changes (the session
keeps a digest of the password hash).
"""

import time
from collections.abc import Callable
from functools import wraps
from importlib import import_module
from typing import Any, cast
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from portal.models import PortalUser

COOKIE_NAME = "crm_portal"
COOKIE_PATH = "/portal/"
USER_KEY = "portal_user_id"
HASH_KEY = "portal_password_digest"
SEEN_KEY = "portal_seen"
TOUCH_EVERY = 60

# The portal keeps its state on the request (portal_session, portal_user, portal_expired), which
# HttpRequest does not declare: requests are typed Any here, at that boundary.
Request = Any
View = Callable[..., HttpResponse]


def idle_seconds() -> int:
    return int(getattr(settings, "PORTAL_IDLE_SECONDS", settings.SESSION_COOKIE_AGE))


def _store_class() -> type[SessionBase]:
    return cast(type[SessionBase], import_module(settings.SESSION_ENGINE).SessionStore)


def password_digest(portal_user: PortalUser) -> str:
    return salted_hmac("portal.session", portal_user.password, algorithm="sha256").hexdigest()


def _load(request: Request) -> SessionBase:
    if not hasattr(request, "portal_session"):
        request.portal_session = _store_class()(request.COOKIES.get(COOKIE_NAME))
    return cast(SessionBase, request.portal_session)


def current_user(request: Request) -> PortalUser | None:
    """The signed-in portal user, or None (no session, idle too long, password changed, access revoked)."""
    if hasattr(request, "portal_user"):
        return cast(PortalUser | None, request.portal_user)
    session = _load(request)
    request.portal_user = None
    request.portal_expired = False
    user_id = session.get(USER_KEY)
    if user_id is None:
        return None
    now = int(time.time())
    if now - session.get(SEEN_KEY, 0) > idle_seconds():
        session.flush()
        request.portal_expired = True
        return None
    portal_user = (PortalUser.objects.select_related("contact", "contact__account")
                   .filter(pk=user_id, is_active=True, contact__deleted_at__isnull=True).first())
    if portal_user is None or not constant_time_compare(session.get(HASH_KEY, ""), password_digest(portal_user)):
        session.flush()
        return None
    if now - session.get(SEEN_KEY, 0) >= TOUCH_EVERY:
        session[SEEN_KEY] = now
    request.portal_user = portal_user
    return portal_user


def sign_in(request: Request, portal_user: PortalUser) -> None:
    """A fresh session key on every sign-in (no fixation), holding only the portal user."""
    session = _load(request)
    session.flush()
    session[USER_KEY] = portal_user.pk
    session[HASH_KEY] = password_digest(portal_user)
    session[SEEN_KEY] = int(time.time())
    request.portal_user = portal_user


def sign_out(request: Request) -> None:
    _load(request).flush()
    request.portal_user = None


def _save(request: Request, response: HttpResponse) -> HttpResponse:
    session = getattr(request, "portal_session", None)
    if session is None:
        return response
    if session.is_empty():
        if COOKIE_NAME in request.COOKIES:
            response.delete_cookie(COOKIE_NAME, path=COOKIE_PATH, samesite="Lax")
        return response
    if session.modified:
        session.set_expiry(idle_seconds())
        session.save()
        response.set_cookie(COOKIE_NAME, session.session_key, path=COOKIE_PATH, httponly=True, samesite="Lax",
                            secure=settings.SESSION_COOKIE_SECURE)  # no max_age: ends with the browser
    return response


def portal_page(view: View) -> View:
    """A public portal page (sign-in, reset, invitation, survey): no staff sign-in needed."""

    @login_not_required
    @wraps(view)
    def wrapped(request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        return _save(request, view(request, *args, **kwargs))

    return wrapped


def portal_login_required(view: View) -> View:
    """A page for signed-in portal users; others go to the portal's sign-in page."""

    @login_not_required
    @wraps(view)
    def wrapped(request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        if current_user(request) is None:
            query = {"next": request.get_full_path()}
            if request.portal_expired:
                query["expired"] = "1"
            return _save(request, redirect(f"{reverse('portal:login')}?{urlencode(query)}"))
        return _save(request, view(request, *args, **kwargs))

    return wrapped
