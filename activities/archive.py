"""Finished activities older than ACTIVITY_ARCHIVE_MONTHS move from `crm_activity` into `crm_activity_archive`,
a table partitioned by month of `occurred_at` (docs/scaling.md, "Tables that grow fastest").

`crm_activity` keeps the open work and the recent past, so its indexes stay the size of what people work on;
the archive grows by whole months. What moves: an activity whose date is older than the cutoff and that is
finished (not an open task) with no reminder still to send. Its attendees travel with it as id arrays; its sent or
cancelled reminders are dropped (nothing is left to do with them). Nothing else points at an activity.

Each batch is one transaction: `DELETE … RETURNING` feeds the `INSERT` into the archive in one statement, so a
worker killed mid-batch leaves every row where it was. One mover at a time (a transaction-level advisory lock);
a second one does nothing. The audit history of a moved activity stays (the delete trigger is not fired:
the activity was not deleted), and the activity's page reads the archive when the row has moved.
"""

import datetime
import logging

import pgtrigger
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from activities.models import Activity, ActivityKind, ArchivedActivity, ReminderStatus, TaskStatus
from crm import partitions, scheduler

log = logging.getLogger(__name__)

ARCHIVE_TABLE = ArchivedActivity._meta.db_table
LOCK_KEY = 0x63726D61  # "crma": one archive mover at a time
BATCH = 1000
BATCHES_PER_RUN = 20
# Archived rows are all older than this (the setting is at least one month when anything moves): a timeline page
# whose rows are all newer needs no look into the archive.
NEWEST_ARCHIVED = datetime.timedelta(days=28)

COLUMNS = [field.column for field in Activity._meta.concrete_fields]


def cutoff(now: datetime.datetime, months: int) -> datetime.datetime:
    """The first moment of the month `months` months before `now`'s month (local time): whole months move."""
    month = partitions.month_start(timezone.localtime(now).date())
    for _ in range(months):
        month = (month - datetime.timedelta(days=1)).replace(day=1)
    return timezone.make_aware(datetime.datetime.combine(month, datetime.time()))


def _delete_trigger() -> str:
    return f"{Activity._meta.label}:delete_delete"


def archive_batch(before: datetime.datetime, batch: int = BATCH) -> int | None:
    """Move up to `batch` finished activities dated before `before`. One transaction. Returns how many moved, or
    None when another mover holds the lock."""
    with transaction.atomic(), connection.cursor() as cursor, pgtrigger.ignore(_delete_trigger()):
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
        if not cursor.fetchone()[0]:
            return None
        cursor.execute(
            "SELECT a.id, a.occurred_at FROM crm_activity a WHERE a.occurred_at < %s "
            "AND NOT (a.kind = %s AND a.status = %s) "
            "AND NOT EXISTS (SELECT 1 FROM crm_reminder r WHERE r.activity_id = a.id AND r.status IN (%s, %s)) "
            "LIMIT %s FOR UPDATE OF a SKIP LOCKED",
            [before, ActivityKind.TASK, TaskStatus.OPEN, ReminderStatus.PENDING, ReminderStatus.SENDING, batch])
        found = cursor.fetchall()
        if not found:
            return 0
        ids = [row[0] for row in found]
        months = sorted(partitions.month_start(timezone.localtime(row[1]).date()) for row in found)
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [partitions.LOCK_KEY])  # the maker of partitions
        partitions.add_months(cursor, ARCHIVE_TABLE, months[0], months[-1], column="occurred_at")
        _move(cursor, ids)
        moved = cursor.rowcount
        _drop_links(cursor, ids)
    log.info("archived %s activities dated before %s", moved, before.date())
    return moved


def _move(cursor, ids: list[int]) -> None:
    columns = ", ".join(COLUMNS)
    moved_columns = ", ".join(f"moved.{column}" for column in COLUMNS)
    cursor.execute(  # column names from the model
        f"WITH moved AS (DELETE FROM crm_activity WHERE id = ANY(%s) RETURNING *) "  # noqa: S608  # nosec B608
        f"INSERT INTO {ARCHIVE_TABLE} ({columns}, attendee_ids, contact_attendee_ids, archived_at) "
        f"SELECT {moved_columns}, "
        "COALESCE((SELECT array_agg(t.user_id ORDER BY t.user_id) FROM crm_activity_attendees t "
        "          WHERE t.activity_id = moved.id), '{}'), "
        "COALESCE((SELECT array_agg(t.contact_id ORDER BY t.contact_id) FROM crm_activity_contact_attendees t "
        "          WHERE t.activity_id = moved.id), '{}'), now() FROM moved", [ids])


def _drop_links(cursor, ids: list[int]) -> None:
    """The rows that pointed at the moved activities (their foreign keys are checked at commit)."""
    cursor.execute("DELETE FROM crm_activity_attendees WHERE activity_id = ANY(%s)", [ids])
    cursor.execute("DELETE FROM crm_activity_contact_attendees WHERE activity_id = ANY(%s)", [ids])
    cursor.execute("DELETE FROM crm_reminder WHERE activity_id = ANY(%s)", [ids])


def archive_due(now: datetime.datetime | None = None, batches: int = BATCHES_PER_RUN) -> int:
    """Up to `batches` batches; returns how many activities moved."""
    months = settings.ACTIVITY_ARCHIVE_MONTHS
    if not months:
        return 0
    before, total = cutoff(now or timezone.now(), months), 0
    for _ in range(batches):
        moved = archive_batch(before)
        if not moved:
            break
        total += moved
    return total


@scheduler.source("activity_archive")
def archive_source(now: datetime.datetime) -> int:
    """Once a day (a scan of the live table for old rows), and again on the next tick while a run was full."""
    if not settings.ACTIVITY_ARCHIVE_MONTHS or not partitions.once_a_day("activity_archive", now):
        return 0
    moved = archive_due(now)
    if moved >= BATCH * BATCHES_PER_RUN:
        partitions.forget_day("activity_archive", now)  # more is waiting: the next tick goes on
    return moved
