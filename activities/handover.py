"""Open tasks and upcoming meetings move in a hand-over (crm/handover.py), with their reminders."""

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from activities.models import Activity, ActivityKind, Reminder, ReminderStatus, TaskStatus
from activities.reminders import reminder_sync
from crm import handover


def open_work(queryset: QuerySet) -> QuerySet:
    """Open tasks and meetings still to come: what a new owner must pick up."""
    return queryset.filter(
        Q(kind=ActivityKind.TASK, status=TaskStatus.OPEN)
        | Q(kind=ActivityKind.MEETING, occurred_at__gte=timezone.now())
    )


def _move(rows: QuerySet, from_user, to_user) -> int:
    ids = list(rows.values_list("id", flat=True))
    moved = Activity.objects.filter(id__in=ids).update(owner=to_user, team=to_user.team, updated_at=timezone.now())
    Reminder.objects.filter(activity_id__in=ids, user=from_user, status=ReminderStatus.PENDING).delete()
    for activity in Activity.objects.filter(id__in=ids, remind_minutes_before__isnull=False):
        reminder_sync(activity=activity)
    return moved


handover.register(handover.Kind(
    key="activities", label=_("Open tasks and upcoming meetings"), order=50,
    rows=lambda actor, from_user: open_work(Activity.objects.editable_by(actor).filter(owner=from_user)),
    move=_move))
