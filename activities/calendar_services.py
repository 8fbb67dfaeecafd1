"""Writes behind the calendar: moving a meeting or task, and the private feed's secret. Keyword-only, typed, atomic."""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from activities.models import Activity, ActivityKind
from activities.reminders import reminder_sync
from crm.models import User, new_calendar_token
from crm.visibility import can_edit

CALENDAR_KINDS = (ActivityKind.MEETING, ActivityKind.TASK)


@transaction.atomic
def activity_reschedule(*, activity: Activity, actor: User, starts_at: datetime) -> Activity:
    """Moves a meeting (start and end, so it keeps its length) or a task's due time.

    Reminders follow, so "15 minutes before" still means that."""
    if timezone.is_naive(starts_at):
        raise ValueError("starts_at must be timezone-aware")
    # Re-read under a row lock: the duration is computed from what is stored now, not from
    # what the caller loaded, so two moves at once cannot stretch or shrink a meeting.
    current = Activity.objects.select_for_update().get(pk=activity.pk)
    if not can_edit(actor, current):
        raise PermissionDenied
    if current.kind not in CALENDAR_KINDS:
        raise ValidationError(_("Only meetings and tasks can be moved in the calendar."))

    shift = starts_at - current.occurred_at
    current.occurred_at = starts_at
    update_fields = ["occurred_at", "updated_at"]
    if current.ends_at is not None:
        current.ends_at = current.ends_at + shift
        update_fields.append("ends_at")
    current.save(update_fields=update_fields)
    reminder_sync(activity=current)

    activity.occurred_at = current.occurred_at
    activity.ends_at = current.ends_at
    activity.updated_at = current.updated_at
    return activity


@transaction.atomic
def user_regenerate_calendar_token(*, user: User) -> User:
    """A new secret for the iCalendar feed; every subscription to the old address stops working."""
    user.calendar_token = new_calendar_token()
    user.save(update_fields=["calendar_token"])
    return user
