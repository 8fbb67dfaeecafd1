"""Ids in links that need no sign-in (unsubscribe, tracking, public forms): signed with a salt per use."""

from django.core import signing


def signed_id(token: str, salt: str) -> int | None:
    """The id a link names, or None when the link is forged, altered or signed for another use."""
    try:
        value = signing.loads(token, salt=salt)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None
