"""Hand-over: move a user's customers and open work to another user in one action.

The cure for "the rep left and took the customers with them": records stay, history
stays, the new owner gets them (and their team) at once. Only rows the actor may edit
move; the whole move is one transaction, one HandOver row and one audit context.
"""

from dataclasses import dataclass

import pghistory
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account
from contacts.models import Contact
from crm.models import (
    Activity,
    ActivityKind,
    HandOver,
    Notification,
    NotificationKind,
    Reminder,
    ReminderStatus,
    TaskStatus,
    User,
)
from crm.reminders import reminder_sync

KINDS = ("accounts", "contacts", "activities")
PREVIEW_ROWS = 20


def open_work(queryset: QuerySet) -> QuerySet:
    """Open tasks and meetings still to come: what a new owner must pick up."""
    return queryset.filter(
        Q(kind=ActivityKind.TASK, status=TaskStatus.OPEN)
        | Q(kind=ActivityKind.MEETING, occurred_at__gte=timezone.now())
    )


def movable(*, actor: User, from_user: User) -> dict[str, QuerySet]:
    return {
        "accounts": Account.objects.editable_by(actor).filter(owner=from_user),
        "contacts": Contact.objects.editable_by(actor).filter(owner=from_user),
        "activities": open_work(Activity.objects.editable_by(actor).filter(owner=from_user)),
    }


@dataclass
class Preview:
    counts: dict[str, int]
    samples: dict[str, list]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def handover_preview(*, actor: User, from_user: User, kinds) -> Preview:
    sets = movable(actor=actor, from_user=from_user)
    counts = {kind: sets[kind].count() for kind in kinds}
    samples = {kind: list(sets[kind].order_by("-updated_at")[:PREVIEW_ROWS]) for kind in kinds}
    return Preview(counts=counts, samples=samples)


@transaction.atomic
def handover_run(*, actor: User, from_user: User, to_user: User, kinds, note: str = "") -> HandOver:
    if from_user.pk == to_user.pk:
        raise ValueError(_("Choose two different people."))
    if not to_user.is_active:
        raise ValueError(_("The new owner's account is deactivated."))
    sets = movable(actor=actor, from_user=from_user)
    counts = {}
    with pghistory.context(handover=True, from_user=from_user.pk, to_user=to_user.pk):
        for kind in kinds:
            rows = sets[kind]
            if kind == "activities":
                moved_ids = list(rows.values_list("id", flat=True))
                counts[kind] = Activity.objects.filter(id__in=moved_ids).update(
                    owner=to_user, team=to_user.team, updated_at=timezone.now())
                _move_reminders(moved_ids, from_user, to_user)
            else:
                counts[kind] = rows.update(owner=to_user, team=to_user.team, updated_at=timezone.now())
    record = HandOver.objects.create(from_user=from_user, to_user=to_user, actor=actor, counts=counts, note=note)
    Notification.objects.create(
        user=to_user, kind=NotificationKind.HANDOVER, url="/",
        text=_("%(actor)s handed %(from_user)s's customers over to you: %(accounts)s accounts, "
               "%(contacts)s contacts, %(activities)s open tasks and meetings.") % {
            "actor": actor, "from_user": from_user, "accounts": counts.get("accounts", 0),
            "contacts": counts.get("contacts", 0), "activities": counts.get("activities", 0)},
    )
    return record


def _move_reminders(activity_ids: list[int], from_user: User, to_user: User) -> None:
    Reminder.objects.filter(activity_id__in=activity_ids, user=from_user, status=ReminderStatus.PENDING).delete()
    for activity in Activity.objects.filter(id__in=activity_ids, remind_minutes_before__isnull=False):
        reminder_sync(activity=activity)
