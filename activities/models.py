"""Activities: calls, meetings, tasks, notes and logged e-mails about accounts, contacts, deals and
leads, and the reminders of tasks and meetings. This app sits above the modules it links (see
docs/architecture.md, "Activities"): it may name them; they never import it."""

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from contacts.models import Contact
from crm import visibility
from crm.models import OwnedModel, OwnedQuerySet
from crm.urlcache import pk_url
from crm.visibility import ACTIVITY_DATA, can_see
from sales.models import Lead, Opportunity


class ActivityKind(models.TextChoices):
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    TASK = "task", _("Task")
    NOTE = "note", _("Note")
    EMAIL = "email", _("E-mail")


class Direction(models.TextChoices):
    INBOUND = "in", _("Inbound")
    OUTBOUND = "out", _("Outbound")


class CallOutcome(models.TextChoices):
    CONNECTED = "connected", _("Connected")
    NO_ANSWER = "no_answer", _("No answer")
    VOICEMAIL = "voicemail", _("Left voicemail")
    BUSY = "busy", _("Busy")
    WRONG_NUMBER = "wrong_number", _("Wrong number")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class ActivityQuerySet(OwnedQuerySet):
    def visible_to(self, user):
        """An activity is visible to its owner's circle (the policy) and to everyone who may
        see the account or contact it is about: the customer's history belongs to the customer."""

        own_circle = visibility.read_q(user, self.model)
        if own_circle is None:
            return self.alive()
        attending = Activity.attendees.through.objects.filter(user_id=user.pk).values("activity_id")
        return self.alive().filter(
            own_circle
            | models.Q(pk__in=attending)
            | models.Q(account__in=Account.objects.visible_to(user).values("pk"))
            | models.Q(contact__in=Contact.objects.visible_to(user).values("pk"))
            | models.Q(opportunity__in=Opportunity.objects.visible_to(user).values("pk"))
            | models.Q(lead__in=Lead.objects.visible_to(user).values("pk"))
        )

    def open_tasks(self):
        return self.filter(kind=ActivityKind.TASK, status=TaskStatus.OPEN)

    def calendar_items(self):
        return self.filter(kind__in=[ActivityKind.MEETING, ActivityKind.TASK])


# An open task not deleted: the lists of My day and the overdue figures (the partial indexes below).
OPEN_TASK = models.Q(kind="task", status="open", deleted_at__isnull=True)


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["updated_at"],
    model_name="ActivityEvent",
    meta={"db_table": "crm_activityevent"},  # the tables kept their names when activities left crm
)
class Activity(OwnedModel):
    """A call, meeting, task, note or logged e-mail, about an account, a contact, an opportunity or a lead."""

    visibility_policy = ACTIVITY_DATA

    kind = models.CharField(_("kind"), max_length=10, choices=ActivityKind.choices)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("details"), blank=True)
    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="activities",
    )
    contact = models.ForeignKey(
        "contacts.Contact", verbose_name=_("contact"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="activities",
    )
    opportunity = models.ForeignKey(
        "sales.Opportunity", verbose_name=_("opportunity"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="activities",
    )
    lead = models.ForeignKey(
        "sales.Lead", verbose_name=_("lead"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="activities",
    )
    # When it happened (call, note, e-mail), starts (meeting) or is due (task).
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    location = models.CharField(_("location"), max_length=200, blank=True)
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=CallOutcome.choices, blank=True)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("attending colleagues"), blank=True, related_name="meetings"
    )
    contact_attendees = models.ManyToManyField(
        "contacts.Contact", verbose_name=_("attending contacts"), blank=True, related_name="meetings"
    )
    remind_minutes_before = models.PositiveIntegerField(_("remind me (minutes before)"), null=True, blank=True)

    objects = ActivityQuerySet.as_manager()

    is_archived = False  # ArchivedActivity says True

    class Meta:
        ordering = ["-occurred_at", "-id"]
        db_table = "crm_activity"
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        indexes = [
            models.Index(fields=["account", "-occurred_at", "-id"], name="activity_account_timeline"),
            models.Index(fields=["contact", "-occurred_at", "-id"], name="activity_contact_timeline"),
            models.Index(fields=["owner", "kind", "occurred_at"], name="activity_owner_kind_when"),
            models.Index(fields=["opportunity", "-occurred_at", "-id"], name="activity_opp_timeline",
                         condition=models.Q(opportunity__isnull=False)),
            models.Index(fields=["lead", "-occurred_at", "-id"], name="activity_lead_timeline",
                         condition=models.Q(lead__isnull=False)),
            # My day at 10,000,000 activities (docs/benchmarks.md): open tasks by owner and by team, the day's
            # meetings, the team's day. Without them a manager's page read the whole table (2.8 s).
            models.Index(fields=["owner", "occurred_at"], name="activity_owner_open_tasks", condition=OPEN_TASK),
            models.Index(fields=["team", "occurred_at"], name="activity_team_open_tasks", condition=OPEN_TASK),
            models.Index(fields=["occurred_at"], name="activity_meetings_when",
                         condition=models.Q(kind="meeting", deleted_at__isnull=True)),
            models.Index(fields=["team", "occurred_at"], name="activity_team_when"),
        ]

    def __str__(self):
        return self.subject

    def get_absolute_url(self):
        return pk_url("activity_detail", self.pk)

    def visible_through(self, user) -> bool:
        """Mirrors ActivityQuerySet.visible_to for one row: who may see the account or contact
        may see its activities; colleagues invited to a meeting see it."""
        if self.account_id and can_see(user, self.account):
            return True
        if self.contact_id and can_see(user, self.contact):
            return True
        if self.opportunity_id and can_see(user, self.opportunity):
            return True
        if self.lead_id and can_see(user, self.lead):
            return True
        return bool(self.pk) and self.attendees.filter(pk=user.pk).exists()

    @property
    def icon(self) -> str:
        return {
            ActivityKind.CALL: "telephone",
            ActivityKind.MEETING: "people",
            ActivityKind.TASK: "check2-square",
            ActivityKind.NOTE: "sticky",
            ActivityKind.EMAIL: "envelope",
        }[self.kind]

    @property
    def is_overdue(self) -> bool:
        return self.kind == ActivityKind.TASK and self.status == TaskStatus.OPEN and self.occurred_at < timezone.now()




class ReminderStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")


class Reminder(models.Model):
    """'Remind me N minutes before' for one user on one task or meeting."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="reminders")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    fire_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=ReminderStatus.choices, default=ReminderStatus.PENDING)
    claimed_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    late = models.BooleanField(default=False)

    class Meta:
        db_table = "crm_reminder"
        constraints = [models.UniqueConstraint(fields=["activity", "user"], name="reminder_once_per_user")]
        indexes = [
            models.Index(fields=["fire_at"], name="reminder_due_idx",
                         condition=models.Q(status__in=["pending", "sending"])),
        ]

    def __str__(self):
        return f"reminder {self.pk} for {self.activity_id}"




class ArchivedActivityQuerySet(OwnedQuerySet):
    def visible_to(self, user):
        """The same rule as ActivityQuerySet.visible_to: the owner's circle, the colleagues who attended, and
        everyone who may see the account, contact, deal or lead it is about."""
        own_circle = visibility.read_q(user, self.model)
        if own_circle is None:
            return self.alive()
        return self.alive().filter(
            own_circle
            | models.Q(attendee_ids__contains=[user.pk])
            | models.Q(account__in=Account.objects.visible_to(user).values("pk"))
            | models.Q(contact__in=Contact.objects.visible_to(user).values("pk"))
            | models.Q(opportunity__in=Opportunity.objects.visible_to(user).values("pk"))
            | models.Q(lead__in=Lead.objects.visible_to(user).values("pk"))
        )


class ArchivedActivity(OwnedModel):
    """A finished activity older than ACTIVITY_ARCHIVE_MONTHS, moved out of `crm_activity` by
    activities/archive.py into `crm_activity_archive`, a table partitioned by month of `occurred_at`
    (created by migration 0002, its months kept by crm/partitions.py). Read-only: nothing points at it; the
    colleagues and contacts who attended are kept as id arrays. The primary key in the database is
    (id, occurred_at), as a partitioned table requires; `id` stays the activity's id, unique."""

    visibility_policy = ACTIVITY_DATA

    id = models.BigIntegerField(primary_key=True)
    kind = models.CharField(_("kind"), max_length=10, choices=ActivityKind.choices)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("details"), blank=True)
    account = models.ForeignKey("accounts.Account", null=True, on_delete=models.CASCADE, db_constraint=False,
                                related_name="archived_activities")
    contact = models.ForeignKey("contacts.Contact", null=True, on_delete=models.CASCADE, db_constraint=False,
                                related_name="archived_activities")
    opportunity = models.ForeignKey("sales.Opportunity", null=True, on_delete=models.CASCADE, db_constraint=False,
                                    related_name="archived_activities")
    lead = models.ForeignKey("sales.Lead", null=True, on_delete=models.CASCADE, db_constraint=False,
                             related_name="archived_activities")
    occurred_at = models.DateTimeField(_("when"))
    ends_at = models.DateTimeField(_("ends"), null=True)
    location = models.CharField(_("location"), max_length=200, blank=True)
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=CallOutcome.choices, blank=True)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True)
    remind_minutes_before = models.PositiveIntegerField(null=True)
    attendee_ids = ArrayField(models.BigIntegerField(), default=list)
    contact_attendee_ids = ArrayField(models.BigIntegerField(), default=list)
    archived_at = models.DateTimeField(default=timezone.now)

    objects = ArchivedActivityQuerySet.as_manager()

    is_archived = True
    is_overdue = False

    class Meta:
        managed = False  # a partitioned table: migration 0002 creates it with SQL
        db_table = "crm_activity_archive"
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("archived activity")
        verbose_name_plural = _("archived activities")

    def __str__(self):
        return self.subject

    def get_absolute_url(self):
        return pk_url("activity_detail", self.pk)  # the detail page reads the archive when the row has moved

    icon = Activity.icon

    @property
    def attendees(self):
        """The colleagues who attended, as the live activity's relation would give them."""
        from django.contrib.auth import get_user_model

        return get_user_model().objects.filter(pk__in=self.attendee_ids)

    def visible_through(self, user) -> bool:
        if user.pk in self.attendee_ids:
            return True
        return any(getattr(self, f"{name}_id") and can_see(user, getattr(self, name))
                   for name in ("account", "contact", "opportunity", "lead"))
