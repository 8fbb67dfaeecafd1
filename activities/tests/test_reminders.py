import socket
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from activities import reminders
from activities import services as activity_services
from activities.models import Activity, Reminder, ReminderStatus
from crm import outbox, scheduler
from crm.celery import app as celery_app
from crm.models import Notification, OutboxMail, OutboxStatus
from crm.tasks import scheduler_tick
from crm.tests.celery_helpers import spawn_worker, stop_worker, wait_for


def meeting(owner, *, starts, remind=15, **extra):
    return activity_services.activity_create(actor=owner, kind="meeting", subject="Board review", occurred_at=starts,
                                             remind_minutes_before=remind, **extra)


def test_due_reminder_fires_once_with_notification_and_email(owner):
    activity = meeting(owner, starts=timezone.now() + timedelta(minutes=14))  # due a minute ago
    assert scheduler.tick()["reminders"] == 1
    assert scheduler.tick()["reminders"] == 0
    reminder = Reminder.objects.get(activity=activity)
    assert reminder.status == ReminderStatus.SENT and not reminder.late
    notification = Notification.objects.get(user=owner)
    assert "Board review" in notification.text and notification.url == activity.get_absolute_url()
    assert len(mail.outbox) == 1 and "Board review" in mail.outbox[0].subject


def test_future_reminder_waits(owner):
    meeting(owner, starts=timezone.now() + timedelta(hours=2))
    assert scheduler.tick()["reminders"] == 0


def test_missed_reminder_fires_once_marked_late(owner):
    activity = meeting(owner, starts=timezone.now() + timedelta(minutes=1), remind=60)  # due 59 minutes ago
    scheduler.tick()
    reminder = Reminder.objects.get(activity=activity)
    assert reminder.late
    assert Notification.objects.get(user=owner).text.startswith("(late)")
    assert "late" in mail.outbox[0].body


def test_local_time_across_a_daylight_saving_change(owner):
    owner.time_zone = "Europe/London"
    owner.save()
    # Clocks go forward on 29 March 2026: 10:00 in London is 09:00 UTC that day (BST).
    starts = datetime(2026, 3, 29, 9, 0, tzinfo=UTC)
    activity = meeting(owner, starts=starts, remind=24 * 60)
    reminder = Reminder.objects.get(activity=activity)
    assert reminder.fire_at == datetime(2026, 3, 28, 9, 0, tzinfo=UTC)  # 24 hours earlier, 09:00 GMT
    scheduler.tick(now=reminder.fire_at)
    with timezone.override("Europe/London"):  # as the middleware reads it for this user
        assert "29 Mar 2026, 10:00" in Notification.objects.get(user=owner).display
    assert "29 Mar 2026, 10:00" in mail.outbox[0].subject  # the e-mail is in their time zone
    assert "10:00 (Europe/London)" in mail.outbox[0].body


def test_rescheduling_moves_the_reminder(owner):
    activity = meeting(owner, starts=timezone.now() + timedelta(minutes=5))
    scheduler.tick()
    activity_services.activity_update(activity=activity, actor=owner,
                                      occurred_at=timezone.now() + timedelta(minutes=10))
    reminder = Reminder.objects.get(activity=activity)
    assert reminder.status == ReminderStatus.PENDING
    scheduler.tick()
    assert Notification.objects.filter(user=owner).count() == 2


def test_attendees_are_reminded_too(owner, teammate):
    meeting(owner, starts=timezone.now() + timedelta(minutes=5), attendees=[teammate])
    scheduler.tick()
    assert set(Notification.objects.values_list("user", flat=True)) == {owner.pk, teammate.pk}


def test_cancelled_or_deleted_activity_does_not_remind(owner):
    activity = meeting(owner, starts=timezone.now() + timedelta(minutes=5))
    activity_services.activity_delete(activity=activity, actor=owner)
    assert scheduler.tick()["reminders"] == 0


@pytest.mark.django_db(transaction=True)
def test_two_ticks_at_once_fire_a_reminder_once(owner, monkeypatch):
    meeting(owner, starts=timezone.now() + timedelta(minutes=5))
    barrier = threading.Barrier(2, timeout=10)
    real_filter = Reminder.objects.filter

    def run():
        try:
            barrier.wait()
            reminders.fire_due_reminders(timezone.now())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert real_filter(status=ReminderStatus.SENT).count() == 1
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1


class HangingSmtpServer:
    """Accepts connections and never answers: a mail server stuck mid-conversation."""

    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(5)
        self.port = self.socket.getsockname()[1]
        self.connected = threading.Event()
        self.clients = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.socket.accept()
            except OSError:
                return
            self.clients.append(client)
            self.connected.set()

    def close(self):
        for client in self.clients:
            client.close()
        self.socket.close()


@pytest.mark.worker
@pytest.mark.xdist_group("celery-worker")
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_send_fires_once_and_the_email_is_not_lost(owner, tmp_path, monkeypatch):
    activity = meeting(owner, starts=timezone.now() + timedelta(minutes=5))
    smtp = HangingSmtpServer()
    worker = spawn_worker(connection.settings_dict, tmp_path, EMAIL_URL=f"smtp://127.0.0.1:{smtp.port}?timeout=120")
    try:
        monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
        scheduler_tick.apply_async(queue=worker["queue"])
        assert smtp.connected.wait(30), (tmp_path / "worker.log").read_text()
        time.sleep(0.5)
        stop_worker(worker, kill=True)  # SIGKILL while the worker waits for the mail server
    finally:
        smtp.close()
        if worker["process"].poll() is None:
            stop_worker(worker, kill=True)

    # The reminder fired (notification and queued e-mail committed together) before the outbox pass hung.
    reminder = Reminder.objects.get(activity=activity)
    assert reminder.status == ReminderStatus.SENT and reminder.emailed_at is not None
    assert Notification.objects.count() == 1
    queued = OutboxMail.objects.get()
    assert queued.status == OutboxStatus.SENDING  # the killed worker was talking to the mail server

    # Service returns: a later tick takes the dead sender's claim over and sends the e-mail, once,
    # as it was written when the reminder fired.
    later = timezone.now() + outbox.STALE_SENDING + timedelta(minutes=1)
    scheduler.tick(now=later)
    scheduler.tick(now=later)
    assert Notification.objects.count() == 1 and Reminder.objects.get(pk=reminder.pk).status == ReminderStatus.SENT
    assert len(mail.outbox) == 1 and mail.outbox[0].subject == queued.subject
    assert mail.outbox[0].extra_headers["Message-ID"] == queued.message_id


@pytest.mark.worker
@pytest.mark.xdist_group("celery-worker")
@pytest.mark.django_db(transaction=True)
def test_real_worker_fires_the_reminder(owner, real_worker):
    activity = meeting(owner, starts=timezone.now() + timedelta(minutes=5))
    scheduler_tick.apply_async(queue=real_worker["queue"])
    assert wait_for(lambda: Reminder.objects.filter(activity=activity, status=ReminderStatus.SENT).exists())
    assert Notification.objects.filter(user=owner).count() == 1
    # The e-mail leaves the outbox right after the reminder's commit, in the same tick.
    assert wait_for(lambda: any("Board review" in path.read_text()
                                for path in (real_worker["var_dir"] / "mail").glob("*.eml")))


def test_activity_model_helpers(owner):
    task = Activity.objects.create(kind="task", subject="Old", owner=owner, status="open",
                                   occurred_at=timezone.now() - timedelta(days=1))
    assert task.is_overdue and task.icon == "check2-square"


def test_done_task_does_not_remind(owner):
    task = activity_services.activity_create(actor=owner, kind="task", subject="Done already", remind_minutes_before=5,
                                             occurred_at=timezone.now() + timedelta(minutes=2))
    activity_services.activity_complete(activity=task, actor=owner)
    assert scheduler.tick()["reminders"] == 0


def test_meeting_moved_while_its_reminder_fires_is_reminded_again(owner, monkeypatch):
    activity = meeting(owner, starts=timezone.now() + timedelta(minutes=10))
    real_send = reminders._send_reminder_email

    def move_meeting_while_sending(reminder, text):
        real_send(reminder, text)
        activity_services.activity_update(activity=Activity.objects.get(pk=activity.pk), actor=owner,
                                          occurred_at=timezone.now() + timedelta(days=1))

    monkeypatch.setattr(reminders, "_send_reminder_email", move_meeting_while_sending)
    scheduler.tick()
    reminder = Reminder.objects.get(activity=activity)
    assert reminder.status == ReminderStatus.PENDING  # re-armed for the new time, not lost


@pytest.mark.django_db
def test_of_two_ticks_that_read_the_same_due_reminder_only_one_claims_it(owner, monkeypatch):
    """The claim itself, not its outcome: the notification key and the e-mail claim would hide a
    double claim, so this watches the compare-and-set directly."""
    meeting(owner, starts=timezone.now() + timedelta(minutes=5))
    now = timezone.now()
    first_read = Reminder.objects.get()
    second_read = Reminder.objects.get()  # the other tick read the row at the same moment
    assert reminders.reminder_claim(first_read, now) is True
    assert reminders.reminder_claim(second_read, now) is False
    # And the tick fires only what it claimed.
    fired = []
    monkeypatch.setattr(reminders, "reminder_fire", lambda **kwargs: fired.append(kwargs["reminder_id"]))
    Reminder.objects.update(status=ReminderStatus.PENDING, claimed_at=None)
    monkeypatch.setattr(reminders, "reminder_claim", lambda reminder, at: False)  # someone else was faster
    assert reminders.fire_due_reminders(now) == 0 and fired == []
