"""Start-up checks: a configuration error or a data service that does not answer stops the
process with one clear sentence instead of a traceback (or a page that hangs) later.

Used by manage.py (settings), `manage.py check_services` (run by `make run` and by the systemd
units' ExecStartPre), gunicorn's on_starting hook (crm/gunicorn_conf.py) and Celery's worker and
beat start (crm/celery.py).
"""

import sys

from django.core.exceptions import ImproperlyConfigured


def settings_problem() -> str | None:
    """None when the settings load; otherwise the sentence that explains why they do not."""
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018 - imports the settings module
    except ImproperlyConfigured as exc:
        return str(exc)
    return None


def _where(host: str | None, port: object) -> str:
    if host and host.startswith("/"):
        return f"the socket in {host}"
    return f"{host or 'localhost'}:{port or 5432}"


def service_problems(timeout: float = 3.0) -> list[str]:
    """One sentence per data service that does not answer within `timeout` seconds."""
    import psycopg2  # type: ignore[import-untyped]
    import redis
    from django.conf import settings

    from crm.env import redact

    problems = []
    db = settings.DATABASES["default"]
    params = {"dbname": db.get("NAME"), "user": db.get("USER"), "password": db.get("PASSWORD"),
              "host": db.get("HOST"), "port": db.get("PORT")}
    try:
        psycopg2.connect(**{k: v for k, v in params.items() if v}, connect_timeout=max(1, int(timeout))).close()
    except psycopg2.OperationalError as exc:
        reason = (str(exc).strip().splitlines() or ["no answer"])[-1].strip()
        problems.append(
            f"PostgreSQL at {_where(db.get('HOST'), db.get('PORT'))} (database {db.get('NAME')!r}) cannot be "
            f"reached ({reason}): check DATABASE_URL and that the server is running."
        )
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=timeout, socket_timeout=timeout).ping()
    except (redis.RedisError, OSError) as exc:
        problems.append(
            f"Redis at {redact(settings.REDIS_URL)} cannot be reached ({exc}): check REDIS_URL "
            "and that the server is running."
        )
    return problems


def problems() -> list[str]:
    if problem := settings_problem():
        return [problem]
    return service_problems()


def exit_on_bad_settings() -> None:
    if problem := settings_problem():
        sys.stderr.write(f"Configuration error: {problem}\n")
        raise SystemExit(2)


def exit_on_problems() -> None:
    found = problems()
    for problem in found:
        sys.stderr.write(f"Configuration error: {problem}\n")
    if found:
        raise SystemExit(2)
