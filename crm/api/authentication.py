"""`Authorization: Token <key>` for scripts and integrations; the browser uses its session."""

import zoneinfo

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from crm.api import tokens


class ApiTokenAuthentication(BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        try:
            parts = get_authorization_header(request).split()
        except UnicodeError:  # only possible from a test client: WSGI headers are latin-1
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None  # not ours: the session may still authenticate the request
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header: use “Token <key>”."))
        try:
            key = parts[1].decode("ascii")
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        token = tokens.find_active(key)
        # A revoked token, a deactivated user and a key that never existed answer alike.
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        tokens.mark_used(token, request._request)  # the Django request: DRF's is still authenticating
        _use_preferences(token.user)
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


def _use_preferences(user) -> None:
    """What UserTimezoneMiddleware does for a session: the user's time zone and language
    (middleware runs before DRF has found the token's user)."""
    try:
        timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        timezone.deactivate()
    if user.language in dict(settings.LANGUAGES):
        translation.activate(user.language)


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Describes the token header in the OpenAPI schema."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`: create a key on /profile/tokens/.",
        }
