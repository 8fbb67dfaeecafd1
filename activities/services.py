"""Writes on activities (calls, meetings, tasks, notes, logged e-mails)."""

import re

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from activities.models import Activity, ActivityKind, TaskStatus
from activities.reminders import reminder_sync
from crm import notifications
from crm.models import NotificationKind, User
from crm.visibility import can_see
from webhooks.services import emit


def _check_links(activity: Activity) -> None:
    """A contact of another account cannot be logged against this account."""
    contact = activity.contact if activity.contact_id else None
    if contact is not None and activity.account_id is None:
        activity.account_id = contact.account_id
    if contact is not None and contact.account_id and activity.account_id != contact.account_id:
        from django.core.exceptions import ValidationError

        raise ValidationError({"contact": _("This contact belongs to another account.")})


ACTIVITY_ASSIGNED = notifications.message("activity.assigned", gettext_lazy("%(actor)s assigned you: %(subject)s"))
MENTIONED = notifications.message("activity.mention", gettext_lazy("%(actor)s mentioned you in “%(subject)s”"))


def _notify_assignee(activity: Activity, actor: User) -> None:
    if activity.owner_id != actor.pk:
        notifications.notify(user=activity.owner, kind=NotificationKind.ASSIGNMENT, url=activity.get_absolute_url(),
                             message=ACTIVITY_ASSIGNED, params={"actor": str(actor), "subject": activity.subject})


MENTION = re.compile(r"(?<![\w@])@([\w.+-]+)")


def mentioned_users(text: str):
    """@handle mentions, where the handle is the part of a colleague's e-mail before the "@"."""
    handles = {handle.lower().rstrip(".") for handle in MENTION.findall(text or "")}
    if not handles:
        return User.objects.none()
    condition = Q()
    for handle in handles:
        condition |= Q(email__istartswith=handle + "@")
    return User.objects.filter(condition, is_active=True)


def _notify_mentions(activity: Activity, actor: User, previous_text: str = "") -> None:
    """Tells each newly mentioned colleague, if they may see the activity (no leak otherwise)."""
    already = set(mentioned_users(previous_text).values_list("pk", flat=True))
    for user in mentioned_users(activity.body).exclude(pk__in=already).exclude(pk=actor.pk):
        if can_see(user, activity):
            notifications.notify(user=user, kind=NotificationKind.MENTION, url=activity.get_absolute_url(),
                                 message=MENTIONED, params={"actor": str(actor), "subject": activity.subject})


@transaction.atomic
def activity_create(*, actor: User, kind: str, owner: User | None = None, attendees=(), contact_attendees=(),
                    **fields) -> Activity:
    owner = owner or actor
    activity = Activity(kind=kind, owner=owner, team_id=owner.team_id, **fields)
    if kind == ActivityKind.TASK and not activity.status:
        activity.status = TaskStatus.OPEN
    _check_links(activity)
    activity.full_clean()
    activity.save()
    activity.attendees.set(attendees)
    activity.contact_attendees.set(contact_attendees)
    reminder_sync(activity=activity)
    _notify_assignee(activity, actor)
    _notify_mentions(activity, actor)
    emit("activity.created", activity, actor=actor)
    return activity


@transaction.atomic
def activity_update(*, activity: Activity, actor: User, attendees=None, contact_attendees=None,
                    **fields) -> Activity:
    # The stored owner, not the instance's: a ModelForm has already written the new one onto it.
    previous_owner, previous_body = Activity.objects.filter(pk=activity.pk).values_list("owner_id", "body").get()
    for name, value in fields.items():
        setattr(activity, name, value)
    if "owner" in fields:
        activity.team_id = activity.owner.team_id
    if activity.kind == ActivityKind.TASK:
        if activity.status == TaskStatus.DONE and activity.completed_at is None:
            activity.completed_at = timezone.now()
        elif activity.status != TaskStatus.DONE:
            activity.completed_at = None
    _check_links(activity)
    activity.full_clean()
    activity.save()
    if attendees is not None:
        activity.attendees.set(attendees)
    if contact_attendees is not None:
        activity.contact_attendees.set(contact_attendees)
    reminder_sync(activity=activity)
    if activity.owner_id != previous_owner:
        _notify_assignee(activity, actor)
    _notify_mentions(activity, actor, previous_text=previous_body)
    return activity


@transaction.atomic
def activity_complete(*, activity: Activity, actor: User) -> Activity:
    activity.status = TaskStatus.DONE
    activity.completed_at = timezone.now()
    activity.save(update_fields=["status", "completed_at", "updated_at"])
    reminder_sync(activity=activity)
    return activity


@transaction.atomic
def activity_delete(*, activity: Activity, actor: User) -> None:
    activity.deleted_at = timezone.now()
    activity.save(update_fields=["deleted_at", "updated_at"])
    reminder_sync(activity=activity)
