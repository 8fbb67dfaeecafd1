"""Finished activities move to the partitioned archive (activities/archive.py, docs/scaling.md)."""

import datetime
import threading

import pytest
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AccountFactory
from activities import archive
from activities.models import Activity, ActivityKind, ArchivedActivity, Reminder, ReminderStatus, TaskStatus
from activities.timeline import PAGE_SIZE, timeline_page
from contacts.privacy import contact_erase, contact_personal_data
from contacts.tests.factories import ContactFactory

pytestmark = [pytest.mark.django_db]

@pytest.fixture(autouse=True)
def empty_archive(django_db_blocker):
    """The archive is an unmanaged table: a transactional test's flush leaves it alone."""
    def empty():
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM crm_activity_archive")

    empty()
    yield
    empty()


OLD = timezone.now() - datetime.timedelta(days=800)  # older than the default 24 months


def activity(owner, account, when=OLD, **fields) -> Activity:
    fields.setdefault("kind", ActivityKind.CALL)
    return Activity.objects.create(owner=owner, team=owner.team, account=account, subject=fields.pop("subject", "Call"),
                                   occurred_at=when, **fields)


def partitions_of(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                       "WHERE i.inhparent = to_regclass(%s)", [table])
        return {row[0] for row in cursor.fetchall()}


def test_finished_old_activities_move_into_their_months_partition_and_nothing_is_lost(owner, teammate):
    account = AccountFactory(owner=owner)
    contact = ContactFactory(owner=owner, account=account)
    call = activity(owner, account, contact=contact, subject="Old call")
    meeting = activity(owner, account, kind=ActivityKind.MEETING, subject="Old meeting")
    meeting.attendees.add(teammate)
    meeting.contact_attendees.add(contact)
    done = activity(owner, account, kind=ActivityKind.TASK, status=TaskStatus.DONE)
    Reminder.objects.create(activity=done, user=owner, fire_at=OLD, status=ReminderStatus.SENT)
    open_task = activity(owner, account, kind=ActivityKind.TASK, status=TaskStatus.OPEN)
    pending = activity(owner, account, kind=ActivityKind.MEETING)
    Reminder.objects.create(activity=pending, user=owner, fire_at=OLD)
    recent = activity(owner, account, when=timezone.now() - datetime.timedelta(days=30))
    before = Activity.objects.count()

    assert archive.archive_due() == 3

    assert set(ArchivedActivity.objects.values_list("pk", flat=True)) == {call.pk, meeting.pk, done.pk}
    assert set(Activity.objects.values_list("pk", flat=True)) == {open_task.pk, pending.pk, recent.pk}
    assert Activity.objects.count() + ArchivedActivity.objects.count() == before
    moved = ArchivedActivity.objects.get(pk=meeting.pk)
    assert (moved.attendee_ids, moved.contact_attendee_ids, moved.owner_id, moved.team_id) == (
        [teammate.pk], [contact.pk], owner.pk, owner.team_id)
    assert not Reminder.objects.filter(activity_id=done.pk).exists()  # sent: nothing left to do with it
    month = timezone.localtime(OLD).date().replace(day=1)
    partition = f"crm_activity_archive_p{month:%Y_%m}"
    assert partition in partitions_of("crm_activity_archive")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {partition}")  # noqa: S608  # nosec B608 - a name built above
        assert cursor.fetchone()[0] == 3
    # The history stays the activity's: archiving is not a deletion.
    assert not Activity.pgh_event_model.objects.filter(pgh_obj_id=call.pk, pgh_label="delete").exists()
    assert archive.archive_due() == 0  # idempotent


def test_zero_months_never_archives(settings, owner):
    settings.ACTIVITY_ARCHIVE_MONTHS = 0
    activity(owner, AccountFactory(owner=owner))
    assert archive.archive_due() == 0
    assert not ArchivedActivity.objects.exists()


def test_a_batch_that_dies_half_way_leaves_every_row_where_it_was(monkeypatch, owner, teammate):
    account = AccountFactory(owner=owner)
    meeting = activity(owner, account, kind=ActivityKind.MEETING)
    meeting.attendees.add(teammate)
    activity(owner, account)

    def killed(cursor, ids):
        raise SystemExit("worker killed")  # after the DELETE … RETURNING → INSERT, before the commit

    monkeypatch.setattr(archive, "_drop_links", killed)
    with pytest.raises(SystemExit):
        archive.archive_due()
    assert Activity.objects.count() == 2
    assert not ArchivedActivity.objects.exists()
    assert list(meeting.attendees.all()) == [teammate]


@pytest.mark.django_db(transaction=True)
def test_one_mover_at_a_time(owner):
    """While another worker holds the mover's lock, a second one moves nothing (and says so)."""
    account = AccountFactory(owner=owner)
    activity(owner, account)
    other = connections.create_connection("default")
    try:
        other.set_autocommit(False)
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [archive.LOCK_KEY])
        assert archive.archive_batch(archive.cutoff(timezone.now(), 24)) is None
        assert not ArchivedActivity.objects.exists()
    finally:
        other.rollback()
        other.close()
    assert archive.archive_batch(archive.cutoff(timezone.now(), 24)) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_move_each_row_exactly_once(owner):
    account = AccountFactory(owner=owner)
    ids = {activity(owner, account, subject=f"Call {n}").pk for n in range(60)}
    results, errors = [], []

    def worker():
        try:
            results.append(archive.archive_due(batches=100))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(results) == 60
    assert sorted(ArchivedActivity.objects.values_list("pk", flat=True)) == sorted(ids)
    assert not Activity.objects.exists()


def test_the_timeline_reads_the_archive_on_older_pages(owner):
    account = AccountFactory(owner=owner)
    now = timezone.now()
    for n in range(PAGE_SIZE):
        activity(owner, account, when=now - datetime.timedelta(hours=n + 1), subject=f"Recent {n}")
    for n in range(5):
        activity(owner, account, when=OLD - datetime.timedelta(days=n), subject=f"Old {n}")
    archive.archive_due()
    assert ArchivedActivity.objects.count() == 5

    first = timeline_page(user=owner, account=account, kind=ActivityKind.CALL)
    assert [item.subject for item in first.items] == [f"Recent {n}" for n in range(PAGE_SIZE)]
    second = timeline_page(user=owner, account=account, kind=ActivityKind.CALL, cursor=first.next_cursor)
    assert [item.subject for item in second.items] == [f"Old {n}" for n in range(5)]
    assert all(item.is_archived for item in second.items)
    assert second.next_cursor == ""


def test_archived_activities_are_shown_to_those_who_may_see_them_and_to_no_one_else(client, owner, outsider):
    account = AccountFactory(owner=owner)
    contact = ContactFactory(owner=owner, account=account)
    call = activity(owner, account, contact=contact, subject="Archived pricing call")
    archive.archive_due()
    detail = reverse("activity_detail", args=[call.pk])

    client.force_login(owner)
    page = client.get(account.get_absolute_url())
    assert "Archived pricing call" in page.content.decode()
    response = client.get(detail)
    assert response.status_code == 200
    assert "Archived" in response.content.decode()
    assert reverse("activity_edit", args=[call.pk]) not in response.content.decode()  # read-only
    assert [a.pk for a in ArchivedActivity.objects.visible_to(owner)] == [call.pk]

    client.force_login(outsider)
    assert client.get(detail).status_code == 404
    assert client.get(reverse("timeline") + f"?account={account.pk}").status_code == 404
    assert not ArchivedActivity.objects.visible_to(outsider).exists()


def test_the_data_subject_export_and_erasure_reach_the_archive(owner):
    account = AccountFactory(owner=owner)
    contact = ContactFactory(owner=owner, account=account)
    other = ContactFactory(owner=owner, account=account)
    call = activity(owner, account, contact=contact, subject="Talked about her divorce", body="Private")
    meeting = activity(owner, account, contact=other, kind=ActivityKind.MEETING, subject="Lunch with both")
    meeting.contact_attendees.add(contact)
    archive.archive_due()
    assert ArchivedActivity.objects.count() == 2

    exported = contact_personal_data(contact)["activities"]
    assert {(row["id"], row["archived"]) for row in exported} == {(call.pk, True), (meeting.pk, True)}

    contact_erase(contact=contact, actor=owner)
    erased = ArchivedActivity.objects.get(pk=call.pk)
    assert (erased.subject, erased.body) == ("(erased)", "")
    assert ArchivedActivity.objects.get(pk=meeting.pk).subject == "(erased)"
    assert not Activity.pgh_event_model.objects.filter(pgh_obj_id__in=[call.pk, meeting.pk]).exists()


def test_the_scheduler_source_runs_once_a_day(owner, settings):
    from django.core.cache import cache

    now = timezone.now()
    for day in (now, now + datetime.timedelta(days=1)):
        cache.delete(f"crm:daily:activity_archive:{day.date().isoformat()}")
    account = AccountFactory(owner=owner)
    activity(owner, account)
    assert archive.archive_source(now) == 1
    activity(owner, account)
    assert archive.archive_source(now) == 0  # already ran today
    assert archive.archive_source(now + datetime.timedelta(days=1)) == 1
