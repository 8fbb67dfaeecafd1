"""Activities: calls, meetings, tasks, notes and logged e-mails about accounts, contacts, deals and
leads, and the reminders of tasks and meetings. This app sits above the modules it links (see
docs/architecture.md, "Activities"): it may name them; they never import it."""

import pghistory
from django.conf import settings
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

        if visibility.read_scope(user, self.model) == visibility.Scope.ALL:
            return self.alive()
        own_circle = visibility.visible(self, user).values("pk")
        attending = Activity.attendees.through.objects.filter(user_id=user.pk).values("activity_id")
        return self.alive().filter(
            models.Q(pk__in=own_circle)
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


