"""Typed readers for settings that come from the environment.

Each helper fails loudly on a value it cannot understand, so a typo in a
deployment variable stops the process at start-up instead of at 3 a.m.
"""

import os
from typing import Any

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"Set the {name} environment variable.")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a yes/no value (use 1/0, true/false).")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def mailer_from_url(url: str) -> dict[str, Any]:
    """A MAILERS entry from an EMAIL_URL such as smtp://user:pass@host:587?tls=1,
    smtps://user:pass@host:465, console:// or outbox:// (keep mail in var/mail/)."""
    from urllib.parse import parse_qs, unquote, urlsplit

    parts = urlsplit(url)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    if parts.scheme in {"smtp", "smtps"}:
        options = {
            "host": parts.hostname or "localhost",
            "port": parts.port or (465 if parts.scheme == "smtps" else 25),
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "use_ssl": parts.scheme == "smtps",
            "use_tls": query.get("tls", "0").lower() in _TRUE,
            "timeout": int(query.get("timeout", "20")),
        }
        return {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": options}
    if parts.scheme == "console":
        return {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme == "outbox":
        return {"BACKEND": "crm.mail.OutboxBackend"}
    raise ImproperlyConfigured(f"EMAIL_URL={url!r}: use smtp://, smtps://, console:// or outbox://")


def redact(url: str) -> str:
    """The URL as it may be shown in a message: without its password."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        if parts.password:
            return url.replace(f":{parts.password}@", ":***@", 1)
    except ValueError:
        pass
    return url


def database_from_url(url: str, conn_max_age: int) -> dict[str, Any]:
    """DATABASES["default"] from a DATABASE_URL; anything but a readable PostgreSQL URL stops start-up
    with a sentence that says what to write instead."""
    import dj_database_url

    try:
        config = dj_database_url.parse(url, conn_max_age=conn_max_age, conn_health_checks=True)
    except ValueError as exc:  # UnknownSchemeError and ParseError are ValueErrors
        raise ImproperlyConfigured(
            f"DATABASE_URL={redact(url)!r} is not a PostgreSQL URL ({str(exc).split('.')[0]}): "
            "write it as postgres://user:password@host:5432/name."
        ) from None
    if config.get("ENGINE") != "django.db.backends.postgresql" or not config.get("NAME"):
        raise ImproperlyConfigured(
            f"DATABASE_URL={redact(url)!r} does not name a PostgreSQL database: the CRM runs on PostgreSQL "
            "only; write it as postgres://user:password@host:5432/name."
        )
    return dict(config)


def redis_url(url: str) -> str:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        parts = None
    unix = parts is not None and parts.scheme == "unix" and bool(parts.path)
    tcp = parts is not None and parts.scheme in {"redis", "rediss"} and bool(parts.hostname)
    if not (unix or tcp):
        raise ImproperlyConfigured(
            f"REDIS_URL={redact(url)!r} is not a Redis URL: write it as redis://host:6379/0."
        )
    return url
