"""API tokens: created and revoked by their owners (admins may revoke any).

A key is `crm_` plus 43 random URL-safe characters. Only its SHA-256 digest is stored, with
its first characters (`prefix`) so a person can tell their keys apart; the key itself is
shown once, when it is created.
"""

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import security
from crm.models import ApiToken, SecurityEventKind, User

KEY_PREFIX = "crm_"
PREFIX_LENGTH = 12  # "crm_" and 8 random characters
MAX_ACTIVE_TOKENS = 20
# last_used_at is written at most once a minute per token: a busy client does not turn every read into a write.
LAST_USED_PRECISION = timedelta(minutes=1)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def find_active(key: str) -> ApiToken | None:
    """The unrevoked token with this key, with its user; None if there is none."""
    if not key.startswith(KEY_PREFIX) or len(key) > 100:
        return None
    return ApiToken.objects.select_related("user").filter(key_hash=hash_key(key), revoked_at__isnull=True).first()


def mark_used(token: ApiToken, request: HttpRequest | None = None) -> None:
    """Stamps the token's last use, at most once per LAST_USED_PRECISION; each stamp is also a line
    in the security log (which token, from which IP)."""
    now = timezone.now()
    if token.last_used_at is not None and token.last_used_at > now - LAST_USED_PRECISION:
        return
    stamped = ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
    ).update(last_used_at=now)
    token.last_used_at = now
    if stamped:
        security.log(SecurityEventKind.API_TOKEN_USED, request=request, user=token.user, token=token.prefix)


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token and its key: the only moment the key exists outside the client."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name, e.g. the tool that will use it.")})
    # Lock the user's row so two parallel requests cannot both pass the limit.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() >= MAX_ACTIVE_TOKENS:
        raise ValidationError(_("You have %(count)s active tokens. Revoke one you no longer use first.")
                              % {"count": MAX_ACTIVE_TOKENS})
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name[:100], prefix=key[:PREFIX_LENGTH], key_hash=hash_key(key))
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User) -> ApiToken:
    """Revoking is final: the next request with the key is refused (401)."""
    if token.revoked_at is None:
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        token.refresh_from_db(fields=["revoked_at"])
    return token
