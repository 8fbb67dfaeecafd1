"""The audit history partitioned by month (crm/partitions.py, docs/scaling.md)."""

import datetime

import psycopg2
import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from contacts.tests.factories import ContactFactory
from crm import partitions

pytestmark = [pytest.mark.django_db]


def rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def months_from(first: datetime.date, count: int) -> list[datetime.date]:
    result, month = [], first
    for _ in range(count):
        result.append(month)
        month = partitions.next_month(month)
    return result


@pytest.fixture
def maintained():
    partitions.ensure()  # a reused test database may predate partitioning


def test_every_history_table_is_partitioned_with_the_coming_months_ready(maintained):
    tables = partitions.event_tables()
    assert "contacts_contactevent" in tables and "sales_opportunityevent" in tables and len(tables) >= 15
    now = partitions.month_start(timezone.localdate())
    for table in tables:
        assert partitions.partitioned(table), table
        children = {name for (name,) in rows("SELECT relname FROM pg_inherits JOIN pg_class ON oid = inhrelid "
                                             "WHERE inhparent = %s::regclass", [table])}
        expected = {partitions.partition_name(table, month) for month in months_from(now, 4)}
        assert expected | {f"{table}_default"} <= children, table


def test_a_change_is_recorded_in_its_months_partition_and_the_history_still_reads(client, owner, maintained):
    contact = ContactFactory(owner=owner, last_name="Partitioned")
    contact.title = "Head of History"
    contact.save()
    stored = rows("SELECT tableoid::regclass::text, pgh_id FROM contacts_contactevent WHERE pgh_obj_id = %s "
                  "ORDER BY pgh_id", [contact.pk])
    month = partitions.partition_name("contacts_contactevent", timezone.now().date().replace(day=1))
    assert [table for table, _pk in stored] == [month, month]
    assert stored[0][1] < stored[1][1]  # ids still come from one sequence
    client.force_login(owner)
    assert "Head of History" in client.get(reverse("contacts:detail", args=[contact.pk])).content.decode()


def test_rows_waiting_in_the_default_partition_move_into_their_new_month(monkeypatch, owner, maintained):
    contact = ContactFactory(owner=owner)
    far = timezone.localdate() + datetime.timedelta(days=200)
    with connection.cursor() as cursor:  # an event dated beyond the prepared months lands in the default one
        cursor.execute("CREATE TEMP TABLE copied AS SELECT * FROM contacts_contactevent WHERE pgh_obj_id = %s "
                       "LIMIT 1", [contact.pk])
        cursor.execute("UPDATE copied SET pgh_id = nextval('contacts_contactevent_pgh_seq'), pgh_created_at = %s",
                       [datetime.datetime.combine(far, datetime.time(12), tzinfo=datetime.UTC)])
        cursor.execute("INSERT INTO contacts_contactevent SELECT * FROM copied")
    assert rows("SELECT count(*) FROM contacts_contactevent_default")[0][0] == 1
    monkeypatch.setattr(partitions.timezone, "localdate", lambda: far)
    partitions.ensure()
    target = partitions.partition_name("contacts_contactevent", far.replace(day=1))
    assert rows(f"SELECT count(*) FROM {target}")[0][0] == 1  # noqa: S608 - a fixed test table name
    assert rows("SELECT count(*) FROM contacts_contactevent_default")[0][0] == 0


def test_months_past_the_retention_are_dropped_whole(settings, maintained):
    table = "contacts_contactevent"
    old = partitions.month_start(timezone.localdate() - datetime.timedelta(days=160))
    with connection.cursor() as cursor:
        partitions.add_months(cursor, table, old, old)
    name = partitions.partition_name(table, old)
    assert rows("SELECT to_regclass(%s) IS NOT NULL", [name])[0][0]
    settings.HISTORY_RETENTION_MONTHS = 0
    partitions.ensure()
    assert rows("SELECT to_regclass(%s) IS NOT NULL", [name])[0][0]  # 0 keeps everything
    settings.HISTORY_RETENTION_MONTHS = 3
    assert partitions.ensure()["dropped"] >= 1
    assert not rows("SELECT to_regclass(%s) IS NOT NULL", [name])[0][0]
    current = partitions.partition_name(table, partitions.month_start(timezone.localdate()))
    assert rows("SELECT to_regclass(%s) IS NOT NULL", [current])[0][0]


def test_one_maintainer_at_a_time():
    """Not after `maintained`: that ensure() holds the lock in this test's own transaction until it ends."""
    params = connection.get_connection_params()
    other = psycopg2.connect(**params)
    try:
        other.autocommit = False
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [partitions.LOCK_KEY])
            assert cursor.fetchone()[0]
            assert partitions.ensure() == {"skipped": 1}
        other.rollback()
    finally:
        other.close()
    assert "months" in partitions.ensure()


def test_a_plain_history_table_is_converted_keeping_rows_ids_constraints_and_indexes():
    table = "crm_partition_probe_event"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {table} (pgh_id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
                       "pgh_created_at timestamptz NOT NULL, pgh_obj_id bigint NOT NULL, "
                       "note text NOT NULL CHECK (length(note) < 20))")
        cursor.execute(f"CREATE INDEX {table}_obj ON {table} (pgh_obj_id)")
        for days, note in ((95, "old"), (40, "last month"), (0, "now")):
            cursor.execute(f"INSERT INTO {table} (pgh_created_at, pgh_obj_id, note) "  # noqa: S608  # nosec B608
                           "VALUES (now() - %s * interval '1 day', 7, %s)", [days, note])
    assert partitions.convert(table) and partitions.partitioned(table)
    assert not partitions.convert(table)  # already done: nothing happens
    assert [note for (note,) in rows(f"SELECT note FROM {table} ORDER BY pgh_id")] == [  # noqa: S608
        "old", "last month", "now"]
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (pgh_created_at, pgh_obj_id, note) "  # noqa: S608  # nosec B608
                       "VALUES (now(), 7, 'next') RETURNING pgh_id")
        assert cursor.fetchone()[0] == 4  # the sequence continues where the identity stopped
        with pytest.raises(Exception, match="check constraint"):
            with connection.cursor() as inner, transaction.atomic():
                inner.execute(f"INSERT INTO {table} (pgh_created_at, pgh_obj_id, note) "  # noqa: S608  # nosec B608
                              "VALUES (now(), 7, repeat('x', 30))")
    indexes = {name for (name,) in rows("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])}
    assert {f"{table}_pkey", f"{table}_obj"} <= indexes
    oldest = partitions.month_start((timezone.now() - datetime.timedelta(days=95)).date())
    assert rows("SELECT to_regclass(%s) IS NOT NULL", [partitions.partition_name(table, oldest)])[0][0]



def test_the_scheduler_source_maintains_once_a_day_or_at_once_when_next_month_is_missing(monkeypatch, maintained):
    """Not every tick: the maintenance reads the catalogue twice per history table."""
    from django.core.cache import cache

    now = timezone.now()
    for day in (now, now + datetime.timedelta(days=1)):
        cache.delete(f"crm:daily:history_partitions:{day.date().isoformat()}")
    runs = []
    monkeypatch.setattr(partitions, "ensure", lambda convert_plain=True: runs.append(now) or {"months": 0})
    partitions.keep_partitions(now)
    partitions.keep_partitions(now + datetime.timedelta(minutes=1))
    assert len(runs) == 1
    partitions.keep_partitions(now + datetime.timedelta(days=1))
    assert len(runs) == 2
    nxt = partitions.next_month(partitions.month_start(timezone.localdate()))
    with connection.cursor() as cursor:  # next month's partition gone (rolled back with the test)
        cursor.execute(f"ALTER TABLE crm_activityevent DETACH PARTITION crm_activityevent_p{nxt:%Y_%m}")
        cursor.execute(f"DROP TABLE crm_activityevent_p{nxt:%Y_%m}")
    partitions.keep_partitions(now + datetime.timedelta(days=1, minutes=1))
    assert len(runs) == 3
