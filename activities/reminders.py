"""Reminders: "remind me N minutes before" a task or meeting, fired exactly once.

The scheduler tick claims each due reminder with a compare-and-set UPDATE (two ticks
never both fire it). Firing writes the in-app notification in a row that is unique per
reminder and queues the e-mail in the same transaction (`emailed_at` marks it queued, so a
redelivered or overlapping run queues nothing; crm/outbox.py sends it with retries). A reminder
whose time passed while the service was down fires once when it returns, marked late.
"""

import zoneinfo
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from activities.models import Activity, ActivityKind, Reminder, ReminderStatus, TaskStatus
from crm import notifications, outbox, scheduler
from crm.models import Notification, NotificationKind

LATE_AFTER = timedelta(minutes=5)
STALE_CLAIM = timedelta(minutes=10)
BATCH = 500


def reminder_sync(*, activity: Activity) -> None:
    """Keeps one reminder per person (owner and attending colleagues) in step with the activity."""
    wanted = (
        activity.remind_minutes_before is not None
        and activity.kind in (ActivityKind.MEETING, ActivityKind.TASK)
        and activity.deleted_at is None
        and activity.status not in (TaskStatus.CANCELLED, TaskStatus.DONE)
    )
    if not wanted:
        activity.reminders.filter(status=ReminderStatus.PENDING).delete()
        return
    fire_at = activity.occurred_at - timedelta(minutes=activity.remind_minutes_before)
    people = {activity.owner_id, *activity.attendees.values_list("id", flat=True)}
    activity.reminders.exclude(user_id__in=people).filter(status=ReminderStatus.PENDING).delete()
    for user_id in people:
        reminder, created = Reminder.objects.get_or_create(
            activity=activity, user_id=user_id, defaults={"fire_at": fire_at}
        )
        if not created and reminder.fire_at != fire_at:
            # Rescheduled: it is due again at the new time, even if the old one fired.
            reminder.fire_at, reminder.status, reminder.claimed_at = fire_at, ReminderStatus.PENDING, None
            reminder.notified_at = reminder.emailed_at = None
            reminder.late = False
            reminder.save()  # its notification key names the new time: it notifies again


@scheduler.source("reminders")
def fire_due_reminders(now: datetime) -> int:
    due = Reminder.objects.filter(
        Q(status=ReminderStatus.PENDING, fire_at__lte=now)
        | Q(status=ReminderStatus.SENDING, claimed_at__lt=now - STALE_CLAIM)
    ).order_by("fire_at")[:BATCH]
    fired = 0
    for reminder in due:
        if reminder_claim(reminder, now):
            reminder_fire(reminder_id=reminder.pk, claimed_at=now)
            fired += 1
    return fired


def reminder_claim(reminder: Reminder, now: datetime) -> bool:
    """Compare-and-set: the claim succeeds only if the row is still as this tick read it, so of
    two ticks that read the same due reminder exactly one fires it."""
    return bool(Reminder.objects.filter(
        pk=reminder.pk, status=reminder.status, claimed_at=reminder.claimed_at
    ).update(status=ReminderStatus.SENDING, claimed_at=now))


def reminder_fire(*, reminder_id: int, claimed_at: datetime) -> None:
    """The notification, the queued e-mail (crm/outbox.py) and "sent" commit together: the e-mail says
    what the notification says, and a mail server that is down only delays it (the outbox retries);
    it never leaves a claim behind that a later tick would take over and mark late."""
    now = claimed_at
    with transaction.atomic():
        reminder = Reminder.objects.select_related("activity", "user").get(pk=reminder_id)
        reminder.late = now - reminder.fire_at > LATE_AFTER
        activity, user = reminder.activity, reminder.user
        text = _notification_text(activity, user, late=reminder.late)
        # Once per reminder and time: a repeated run meets the unique key and adds nothing.
        Notification.objects.bulk_create([notifications.build(
            user=user, kind=NotificationKind.REMINDER, url=activity.get_absolute_url(),
            message=REMINDER_LATE if reminder.late else REMINDER,
            params={"subject": activity.subject, "when": notifications.moment(activity.occurred_at)},
            key=notification_key(reminder))], ignore_conflicts=True)
        reminder.notified_at = reminder.notified_at or now
        reminder.save(update_fields=["late", "notified_at"])
        # Once per firing, even if this run is repeated.
        if user.email and Reminder.objects.filter(pk=reminder_id, emailed_at__isnull=True).update(emailed_at=now):
            _send_reminder_email(reminder, text)
        # Only if the claim is still ours: a meeting moved meanwhile re-armed the reminder.
        Reminder.objects.filter(pk=reminder_id, status=ReminderStatus.SENDING, claimed_at=claimed_at).update(
            status=ReminderStatus.SENT)


def notification_key(reminder: Reminder) -> str:
    """Unique per reminder and due time: one notification per firing, a rescheduled one fires anew."""
    return f"reminder:{reminder.pk}:{reminder.fire_at.astimezone(UTC):%Y-%m-%dT%H:%M:%S}"


def _zone(user) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(user.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _local(when: datetime, user) -> datetime:
    return timezone.localtime(when, _zone(user))


REMINDER = notifications.message("reminder", gettext_lazy("%(subject)s at %(when)s"))
REMINDER_LATE = notifications.message("reminder.late", gettext_lazy("(late) %(subject)s at %(when)s"))


def _notification_text(activity: Activity, user, *, late: bool) -> str:
    """The reminder in the user's language and time zone (the e-mail's subject)."""
    with translation.override(user.language or settings.LANGUAGE_CODE), timezone.override(_zone(user)):
        shown = notifications.render_message((REMINDER_LATE if late else REMINDER).key, {
            "subject": activity.subject, "when": notifications.moment(activity.occurred_at)})
        return (shown or activity.subject)[:300]


def _send_reminder_email(reminder: Reminder, text: str) -> None:
    activity, user = reminder.activity, reminder.user
    with translation.override(user.language or settings.LANGUAGE_CODE), timezone.override(_zone(user)):
        body = render_to_string("activities/email/reminder.txt", {
            "activity": activity, "user": user, "late": reminder.late,
            "local_start": _local(activity.occurred_at, user), "time_zone": user.time_zone,
        })
        subject = _("Reminder: %(text)s") % {"text": text}
    outbox.queue(EmailMessage(subject, body, to=[user.email]), key=notification_key(reminder))
