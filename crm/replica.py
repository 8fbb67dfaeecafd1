"""Reads that may come from a read replica: reports, dashboards and exports (docs/scaling.md).

With DATABASE_REPLICA_URL set, settings add a "replica" database and this router. Nothing reads from it
unless asked: a view of an app named in REPLICA_READ_APPS answering GET or HEAD (the middleware below),
or code inside `with replica_reads():` (an export job). Everything else, and every write, stays on the
primary, so a record a user has just saved is always there when they open it.

A replica that lags more than REPLICA_MAX_LAG seconds, or does not answer, is skipped: the reads go to the
primary until it catches up. Its state is checked at most every REPLICA_CHECK_SECONDS per process.
"""

import contextvars
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connections

log = logging.getLogger(__name__)

REPLICA = "replica"
_reading = contextvars.ContextVar("crm_replica_reads", default=False)
_state: dict = {"checked": 0.0, "status": None}


@dataclass(frozen=True)
class ReplicaStatus:
    configured: bool
    reachable: bool = False
    lag: float | None = None  # seconds behind the primary; 0 when it has replayed all it received

    @property
    def usable(self) -> bool:
        return self.reachable and self.lag is not None and self.lag <= settings.REPLICA_MAX_LAG


def configured() -> bool:
    return REPLICA in settings.DATABASES


_LAG_SQL = """
SELECT CASE WHEN NOT pg_is_in_recovery() THEN NULL
            WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE GREATEST(0, EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())) END
"""


def measure() -> ReplicaStatus:
    """Asks the replica now: reachable, and how far behind (None when it is not a standby at all)."""
    if not configured():
        return ReplicaStatus(configured=False)
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(_LAG_SQL)
            (lag,) = cursor.fetchone()
    except DatabaseError as error:
        log.warning("read replica unreachable: %s", error)
        connections[REPLICA].close()
        return ReplicaStatus(configured=True)
    return ReplicaStatus(configured=True, reachable=True, lag=None if lag is None else float(lag))


def status() -> ReplicaStatus:
    """The replica's state, measured at most every REPLICA_CHECK_SECONDS in this process."""
    now = time.monotonic()
    if _state["status"] is None or now - _state["checked"] >= settings.REPLICA_CHECK_SECONDS:
        _state["status"], _state["checked"] = measure(), now
    return _state["status"]


def forget() -> None:
    _state["status"], _state["checked"] = None, 0.0


@contextmanager
def replica_reads():
    """Reads inside go to the replica when it is usable; writes never do."""
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if _reading.get() and configured() and status().usable:
            return REPLICA
        return "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same data on both

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"  # a standby is read-only: it gets the schema from the primary


class ReplicaReadMiddleware:
    """GET and HEAD requests to the views of REPLICA_READ_APPS read from the replica."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        finally:
            token = getattr(request, "_replica_token", None)
            if token is not None:
                _reading.reset(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method in ("GET", "HEAD") and configured():
            app = (getattr(view_func, "__module__", "") or "").split(".")[0]
            if app in settings.REPLICA_READ_APPS:
                request._replica_token = _reading.set(True)
        return None
