"""Monthly partitions for the audit history (docs/scaling.md, "Tables that grow fastest").

Every pghistory event table (`contacts_contactevent`, `sales_opportunityevent` … one per tracked model) grows
with every write to the CRM and is only ever appended to and read by record, so it is the first table to
partition: `PARTITION BY RANGE (pgh_created_at)`, one partition per month, plus a default partition that
catches anything outside them.

- `convert(table)` turns a plain event table into a partitioned one (after `migrate`: post_migrate, below).
  An empty table converts at once; a large one is copied in the same transaction, so run the upgrade's
  `migrate` at a quiet hour (docs/operations.md).
- `ensure()` keeps MONTHS_AHEAD months of partitions ready (scheduler source, and after `migrate`); rows that
  landed in the default partition move into their month's partition when it is made.
- `HISTORY_RETENTION_MONTHS` (0: keep everything) drops whole months past it, which is the point of
  partitioning: no DELETE of millions of rows, no bloat.

The primary key becomes (pgh_id, pgh_created_at), as a partitioned table's keys must hold the partition key; the
ORM keeps using pgh_id, which stays unique through its sequence. PostgreSQL 15 and 16 allow no identity column on a
partitioned table, so pgh_id takes its values from a sequence of its own, continuing the old one.
"""

import datetime
import logging

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import post_migrate
from django.utils import timezone

from crm import scheduler

log = logging.getLogger(__name__)

MONTHS_AHEAD = 3
LOCK_KEY = 0x63726D70  # "crmp": one partition maintainer at a time (advisory lock)


def event_tables() -> list[str]:
    """The database tables of every pghistory event model (they all have pgh_created_at)."""
    import pghistory.models

    return sorted({model._meta.db_table for model in apps.get_models()
                   if issubclass(model, pghistory.models.Event) and not model._meta.proxy
                   and model._meta.managed})


def partitioned(table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [table])
        return cursor.fetchone() is not None


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def partition_name(table: str, month: datetime.date) -> str:
    return f"{table}_p{month:%Y_%m}"


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def convert(table: str) -> bool:
    """Make `table` partitioned by month (no-op when it already is). One transaction: readers see the old
    table or the new one, never half of it."""
    if partitioned(table):
        return False
    old = f"{table}__unpartitioned"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s "
                       "AND indexname <> %s", [table, f"{table}_pkey"])
        indexes = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT COALESCE(max(pgh_id), 0), min(pgh_created_at) FROM " + _q(table))  # noqa: S608  # nosec B608
        last_id, oldest = cursor.fetchone()
        cursor.execute(f"ALTER TABLE {_q(table)} RENAME TO {_q(old)}")
        cursor.execute(f"CREATE TABLE {_q(table)} (LIKE {_q(old)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
                       "PARTITION BY RANGE (pgh_created_at)")
        sequence = f"{table}_pgh_seq"
        cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {_q(sequence)} OWNED BY {_q(table)}.pgh_id")
        cursor.execute("SELECT setval(%s, %s, true)", [sequence, max(last_id, 1)])
        cursor.execute(f"ALTER TABLE {_q(table)} ALTER COLUMN pgh_id SET DEFAULT nextval(%s::regclass)", [sequence])
        cursor.execute(f"CREATE TABLE {_q(table + '_default')} PARTITION OF {_q(table)} DEFAULT")
        first = month_start((oldest or timezone.now()).date())
        add_months(cursor, table, first, _horizon())
        cursor.execute(f"INSERT INTO {_q(table)} SELECT * FROM {_q(old)}")  # noqa: S608 - quoted names  # nosec B608
        cursor.execute(f"DROP TABLE {_q(old)}")
        cursor.execute(f"ALTER TABLE {_q(table)} ADD PRIMARY KEY (pgh_id, pgh_created_at)")
        for definition in indexes:  # read before the rename, so they name `table`; one per partition follows
            cursor.execute(definition)
    log.info("history table %s is now partitioned by month", table)
    return True


def _horizon() -> datetime.date:
    month = month_start(timezone.localdate())
    for _ in range(MONTHS_AHEAD):
        month = next_month(month)
    return month


def _existing(cursor, table: str) -> set[str]:
    cursor.execute("SELECT child.relname FROM pg_inherits JOIN pg_class child ON child.oid = pg_inherits.inhrelid "
                   "WHERE pg_inherits.inhparent = to_regclass(%s)", [table])
    return {row[0] for row in cursor.fetchall()}


def add_months(cursor, table: str, first: datetime.date, last: datetime.date, column: str = "pgh_created_at") -> int:
    """Partitions of `table` (partitioned by range of `column`) for every month from `first` to `last` (inclusive)
    that does not have one yet. A month's rows that wait in the default partition move into it before it is
    attached, as PostgreSQL requires. The caller holds LOCK_KEY (two makers of one month would collide)."""
    existing, made, month = _existing(cursor, table), 0, first
    while month <= last:
        name, following = partition_name(table, month), next_month(month)
        if name not in existing:
            bounds = [month.isoformat(), following.isoformat()]
            cursor.execute(f"CREATE TABLE {_q(name)} (LIKE {_q(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
            cursor.execute(f"WITH moved AS (DELETE FROM {_q(table + '_default')} WHERE {_q(column)} >= %s "  # noqa: S608  # nosec B608
                           f"AND {_q(column)} < %s RETURNING *) INSERT INTO {_q(name)} SELECT * FROM moved", bounds)
            cursor.execute(f"ALTER TABLE {_q(table)} ATTACH PARTITION {_q(name)} "
                           f"FOR VALUES FROM (%s) TO (%s)", bounds)
            made += 1
        month = following
    return made


def _drop_expired(cursor, table: str) -> int:
    keep = settings.HISTORY_RETENTION_MONTHS
    if not keep:
        return 0
    oldest_kept = month_start(timezone.localdate())
    for _ in range(keep):
        oldest_kept = (oldest_kept - datetime.timedelta(days=1)).replace(day=1)
    dropped = 0
    for name in sorted(_existing(cursor, table)):
        suffix = name.removeprefix(f"{table}_p")
        if suffix == name:
            continue  # the default partition
        month = datetime.date(int(suffix[:4]), int(suffix[5:7]), 1)
        if month < oldest_kept:
            cursor.execute(f"ALTER TABLE {_q(table)} DETACH PARTITION {_q(name)}")
            cursor.execute(f"DROP TABLE {_q(name)}")
            dropped += 1
    return dropped


def ensure(convert_plain: bool = True) -> dict[str, int]:
    """Every event table partitioned, months ready up to the horizon, expired months dropped. Only one
    maintainer at a time (a transaction-level advisory lock); another gets {"skipped": 1} and does nothing."""
    done = {"converted": 0, "months": 0, "dropped": 0}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
        if not cursor.fetchone()[0]:
            return {"skipped": 1}
        for table in event_tables():
            cursor.execute("SELECT to_regclass(%s) IS NULL", [table])
            if cursor.fetchone()[0]:
                continue  # a model whose table this database does not have (yet): a migration test's old state
            if not partitioned(table):
                if not convert_plain:
                    continue
                done["converted"] += convert(table)
            done["months"] += add_months(cursor, table, month_start(timezone.localdate()), _horizon())
            done["dropped"] += _drop_expired(cursor, table)
    return done


def _next_month_ready() -> bool:
    """One catalogue query: next month's partition of the activity history exists (they are all made together)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL",
                       [partition_name("crm_activityevent", next_month(month_start(timezone.localdate())))])
        return cursor.fetchone()[0]


def _day_key(name: str, now: datetime.datetime) -> str:
    return f"crm:daily:{name}:{now.date().isoformat()}"


def once_a_day(name: str, now: datetime.datetime) -> bool:
    """True for the first caller of the day (any process: an atomic cache.add), and whenever the cache cannot
    answer (better a needless run than a missed one)."""
    try:
        return cache.add(_day_key(name, now), 1, timeout=2 * 86400)
    except Exception:  # noqa: BLE001 - Redis away: run, the work itself is idempotent
        return True


def forget_day(name: str, now: datetime.datetime) -> None:
    """The next `once_a_day(name)` of the day answers True again (a run that left work for the next tick)."""
    try:
        cache.delete(_day_key(name, now))
    except Exception:  # noqa: BLE001 - Redis away: once_a_day answers True anyway
        log.warning("could not reset the daily run of %s", name)


@scheduler.source("history_partitions")
def keep_partitions(now: datetime.datetime) -> int:
    """Once a day, or at once when next month's partition is missing (one catalogue query per tick instead of
    two per table); tables are converted only by migrate."""
    if _next_month_ready() and not once_a_day("history_partitions", now):
        return 0
    result = ensure(convert_plain=False)
    return result.get("months", 0) + result.get("dropped", 0)


def _after_migrate(sender, using="default", **kwargs) -> None:
    """After every `migrate` (and test-database flush): new event tables get partitioned while still empty.
    A failure leaves the table as it was (one transaction) and is logged; it never stops a deploy."""
    if sender.label != "crm" or using != "default":
        return
    try:
        ensure()
    except Exception:  # noqa: BLE001 - logged with its traceback; the history still works unpartitioned
        log.exception("partitioning the history tables failed; they stay as they were")


post_migrate.connect(_after_migrate, dispatch_uid="crm.partitions.after_migrate")
