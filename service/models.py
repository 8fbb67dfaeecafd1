"""The service desk: tickets and their conversation, queues, SLA policies and business calendars.

A ticket's `owner` is its assignee (None while it waits in its queue); `team` follows the assignee.
SLA due times, the moments a ticket goes "at risk", and the figures reports read (first response
and resolution in business minutes, compliance) are stored on the ticket by service/sla_clock.py.
"""

from datetime import time
from typing import TYPE_CHECKING

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from crm.encryption import EncryptedTextField
from crm.models import TIME_ZONE_CHOICES, OwnedModel, OwnedQuerySet
from crm.roles import Role
from crm.urlcache import pk_url
from crm.visibility import Narrowing, Policy, Scope
from service.sla import Hours

if TYPE_CHECKING:
    from crm.models import User

def agents_scoped() -> bool:
    """Whether support agents work only their team's queues (settings.SERVICE_AGENTS_SEE)."""
    return settings.SERVICE_AGENTS_SEE == "team-queues"


def served_queue_ids(user: "User"):
    """The queues the user's team serves, as a subquery (nothing for a user without a team)."""
    if not user.team_id:
        return Queue.objects.none().values("pk")
    return Queue.objects.filter(teams=user.team_id).values("pk")


def _team_queue_tickets(user: "User") -> Q | None:
    if not agents_scoped():
        return None
    return Q(owner_id=user.pk) | Q(queue_id__in=served_queue_ids(user))


def _team_queue_ticket_holds(user: "User", ticket) -> bool:
    if not agents_scoped() or ticket.owner_id == user.pk:
        return True
    return bool(user.team_id and ticket.queue_id
                and Queue.teams.through.objects.filter(queue_id=ticket.queue_id, team_id=user.team_id).exists())


# A support agent works the tickets of the queues their team serves (and those assigned to them) when the
# desk is set so (SERVICE_AGENTS_SEE=team-queues); by default every ticket, as the scope says.
TEAM_QUEUES = Narrowing(rows=_team_queue_tickets, holds=_team_queue_ticket_holds)

# Tickets: the support desk works every ticket (an agent answers whichever customer calls) unless the desk
# narrows agents to their team's queues (TEAM_QUEUES); executives read them all; sales reads its own
# customers' tickets (TicketQuerySet.visible_to); marketers none.
TICKET_DATA = Policy(
    read={
        Role.ADMIN: Scope.ALL,
        Role.EXECUTIVE: Scope.ALL,
        Role.SUPPORT_LEAD: Scope.ALL,
        Role.SUPPORT_AGENT: Scope.ALL,
        Role.SALES_MANAGER: Scope.OWN,  # widened to their customers' tickets by TicketQuerySet
        Role.SALES_REP: Scope.OWN,
    },
    write={
        Role.ADMIN: Scope.ALL,
        Role.SUPPORT_LEAD: Scope.ALL,
        Role.SUPPORT_AGENT: Scope.ALL,
    },
    narrow={Role.SUPPORT_AGENT: TEAM_QUEUES},
)

# The desk's set-up (queues, SLA policies, calendars, canned responses): the desk reads it, the
# support lead and admins keep it. No owner: the scope is ALL or NONE.
SERVICE_SETUP = Policy(
    read={Role.ADMIN: Scope.ALL, Role.EXECUTIVE: Scope.ALL, Role.SUPPORT_LEAD: Scope.ALL,
          Role.SUPPORT_AGENT: Scope.ALL},
    write={Role.ADMIN: Scope.ALL, Role.SUPPORT_LEAD: Scope.ALL},
)


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    WEB = "web", _("Web form")
    PORTAL = "portal", _("Portal")
    WALK_IN = "walk_in", _("Walk-in")


class Category(models.TextChoices):
    QUESTION = "question", _("Question")
    INCIDENT = "incident", _("Incident")
    PROBLEM = "problem", _("Problem")
    REQUEST = "request", _("Service request")
    COMPLAINT = "complaint", _("Complaint")
    BILLING = "billing", _("Billing")


class Priority(models.IntegerChoices):
    URGENT = 1, _("Urgent")
    HIGH = 2, _("High")
    NORMAL = 3, _("Normal")
    LOW = 4, _("Low")


class Status(models.TextChoices):
    NEW = "new", pgettext_lazy("ticket status", "New")
    # In context: a ticket (заявка) is feminine in Russian and Ukrainian, and "Closed" elsewhere is a date
    # column (a deal's «Дата закрытия»), not this status.
    OPEN = "open", pgettext_lazy("ticket status", "Open")
    PENDING = "pending", pgettext_lazy("ticket status", "Pending customer")
    ON_HOLD = "on_hold", pgettext_lazy("ticket status", "On hold")
    RESOLVED = "resolved", pgettext_lazy("ticket status", "Resolved")
    CLOSED = "closed", pgettext_lazy("ticket status", "Closed")


ACTIVE_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)
# The resolution clock stops while the customer is expected to answer and once the ticket is solved.
CLOCK_STOPPED = (Status.PENDING, Status.RESOLVED, Status.CLOSED)


class SlaState(models.TextChoices):
    OK = "ok", _("On track")
    AT_RISK = "at_risk", _("At risk")
    BREACHED = "breached", _("Breached")


class AssignmentMode(models.TextChoices):
    MANUAL = "manual", _("Manual (agents take tickets)")
    ROUND_ROBIN = "round_robin", _("Round robin")
    LEAST_LOADED = "least_loaded", _("Least loaded")


class BusinessCalendar(models.Model):
    """Opening hours in a time zone, with holidays: what SLA clocks count."""

    visibility_policy = SERVICE_SETUP

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, choices=TIME_ZONE_CHOICES, default="UTC")
    work_days = ArrayField(models.PositiveSmallIntegerField(), verbose_name=_("working days"),
                           default=list, blank=True, help_text=_("0 is Monday, 6 is Sunday."))
    opens_at = models.TimeField(_("opens at"), default=time(9))
    closes_at = models.TimeField(_("closes at"), default=time(18))
    around_the_clock = models.BooleanField(_("24 × 7"), default=False,
                                           help_text=_("Every hour of every day counts; holidays too."))

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self):
        return self.name

    def hours(self, holidays=None) -> Hours:
        if self.around_the_clock:
            return Hours(self.time_zone, tuple(((0, 1440),) for _ in range(7)))
        if holidays is None:
            holidays = self.holidays.values_list("date", flat=True)
        minutes = (self.opens_at.hour * 60 + self.opens_at.minute,
                   self.closes_at.hour * 60 + self.closes_at.minute or 1440)
        week = tuple((minutes,) if day in self.work_days and minutes[0] < minutes[1] else () for day in range(7))
        return Hours(self.time_zone, week, frozenset(holidays))


class Holiday(models.Model):
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="holiday_unique_date")]

    def __str__(self):
        return f"{self.date} {self.name}"


class SlaPolicy(models.Model):
    """Targets for one priority, optionally for one account tier, counted on a calendar."""

    visibility_policy = SERVICE_SETUP

    name = models.CharField(_("name"), max_length=100)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)
    account_tier = models.CharField(_("account tier"), max_length=20, blank=True,
                                    help_text=_("Empty: every tier without a policy of its own."))
    first_response_minutes = models.PositiveIntegerField(_("first response within (business minutes)"))
    resolution_minutes = models.PositiveIntegerField(_("resolution within (business minutes)"))
    at_risk_percent = models.PositiveSmallIntegerField(_("at risk after (percent of the target)"), default=80)
    calendar = models.ForeignKey(BusinessCalendar, verbose_name=_("business hours"), on_delete=models.PROTECT,
                                 related_name="+")
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["priority", "account_tier", "name"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.UniqueConstraint(fields=["priority", "account_tier"], condition=Q(is_active=True),
                                    name="slapolicy_one_active_per_priority_tier"),
            models.CheckConstraint(condition=Q(at_risk_percent__gte=1, at_risk_percent__lte=99),
                                   name="slapolicy_at_risk_percent_range"),
        ]

    def __str__(self):
        return self.name


class EscalationEvent(models.TextChoices):
    AT_RISK = "at_risk", _("Goes at risk")
    BREACHED = "breached", _("Is breached")


class EscalationTarget(models.TextChoices):
    QUEUE_LEAD = "queue_lead", _("The queue's lead")
    USER = "user", _("A named person")


class EscalationRule(models.Model):
    """Who else hears when a ticket's SLA goes at risk or is breached (the assignee always does).
    A rule with no policy applies to every policy; it may also raise the ticket's priority."""

    visibility_policy = SERVICE_SETUP

    policy = models.ForeignKey(SlaPolicy, verbose_name=_("SLA policy"), null=True, blank=True,
                               on_delete=models.CASCADE, related_name="escalation_rules")
    event = models.CharField(_("when the SLA"), max_length=10, choices=EscalationEvent.choices)
    notify = models.CharField(_("tell"), max_length=12, choices=EscalationTarget.choices,
                              default=EscalationTarget.QUEUE_LEAD)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("person"), null=True, blank=True,
                             on_delete=models.CASCADE, related_name="+")
    raise_priority_to = models.PositiveSmallIntegerField(_("and raise the priority to"), choices=Priority.choices,
                                                         null=True, blank=True)

    class Meta:
        ordering = ["event", "id"]
        verbose_name = _("escalation rule")
        verbose_name_plural = _("escalation rules")

    def __str__(self):
        return f"{self.get_event_display()}: {self.get_notify_display()}"


class Queue(models.Model):
    visibility_policy = SERVICE_SETUP

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    lead = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("queue lead"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("agents"), blank=True,
                                     related_name="service_queues")
    teams = models.ManyToManyField("crm.Team", verbose_name=_("served by teams"), blank=True, related_name="+",
                                   help_text=_("When agents work only their team's queues, the agents of these "
                                               "teams see and work this queue's tickets."))
    assignment = models.CharField(_("assignment"), max_length=20, choices=AssignmentMode.choices,
                                  default=AssignmentMode.MANUAL)
    categories = ArrayField(models.CharField(max_length=20, choices=Category.choices),
                            verbose_name=_("categories routed here"), default=list, blank=True)
    is_default = models.BooleanField(_("default queue"), default=False,
                                     help_text=_("Tickets no other queue takes land here."))
    last_assigned = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, editable=False,
                                      on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["name"]
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        constraints = [models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True),
                                               name="queue_one_default")]

    def __str__(self):
        return self.name


SALES_ROLES = (Role.SALES_MANAGER, Role.SALES_REP)
ACTIVE_ROWS = Q(status__in=["new", "open", "pending", "on_hold"], deleted_at__isnull=True)


SMALL_BOOK = 300  # customers: up to this many, sales' ticket list names them by id (`small_book_hint`)


def customer_tickets(user: "User") -> Q:
    """What sales sees of the desk: the tickets (or visits) of the customers it owns. The customer is the
    account when there is one (its own accounts, shared ones and, for a manager, the team's), else the
    contact, for a private person who buys without a company (a rep's own contacts)."""
    from accounts.models import Account
    from contacts.models import Contact

    # EXISTS on the customer's own row, not `account IN (the visible accounts)`: under the OR the planner could
    # not turn the IN into a join and built a hash of every visible account first (a manager's 40,000, 114 ms at
    # 1,000,000 tickets, per query, however few tickets were asked about). As EXISTS it weighs a primary-key probe
    # per ticket against that hash, and takes the probe when a search or a page checks only a few tickets.
    return (Q(Exists(Account.objects.visible_to(user).filter(pk=OuterRef("account_id"))))
            | Q(account__isnull=True) & Q(Exists(Contact.objects.visible_to(user).filter(pk=OuterRef("contact_id")))))


def small_book_hint(user: "User") -> Q | None:
    """For the ticket list of a salesperson with a small book: the same tickets as `customer_tickets`, named
    by their customers' ids (read in one query), to be added beside it. With subqueries alone the planner
    cannot tell three accounts from three thousand, guesses half the desk and walks the whole ticket index
    in date order to fill a page (1.1 s for a rep with three accounts among a million tickets,
    docs/benchmarks.md); with the ids it reads those customers' tickets through the account and contact
    indexes. None for a bigger book, which the subqueries suit (a page is found after a few hundred rows)."""
    from accounts.models import Account
    from contacts.models import Contact

    if not (user.is_authenticated and user.role in SALES_ROLES and not user.is_superuser):
        return None
    first = (Account.objects.visible_to(user).annotate(kind=models.Value("a")).values_list("kind", "pk")
             .order_by()[:SMALL_BOOK + 1])
    second = (Contact.objects.visible_to(user).annotate(kind=models.Value("c")).values_list("kind", "pk")
              .order_by()[:SMALL_BOOK + 1])
    book = list(first.union(second, all=True).order_by())
    account_ids = [pk for kind, pk in book if kind == "a"]
    contact_ids = [pk for kind, pk in book if kind == "c"]
    if len(account_ids) > SMALL_BOOK or len(contact_ids) > SMALL_BOOK:
        return None
    return Q(account__in=account_ids) | Q(account__isnull=True, contact__in=contact_ids)


def _through_customer(user: "User", row) -> bool:
    """One loaded ticket or visit against `customer_tickets` (one query)."""
    if user.role not in SALES_ROLES:
        return False
    if row.account_id is not None:
        from accounts.models import Account

        return Account.objects.visible_to(user).filter(pk=row.account_id).exists()
    if row.contact_id is not None:
        from contacts.models import Contact

        return Contact.objects.visible_to(user).filter(pk=row.contact_id).exists()
    return False


class TicketQuerySet(OwnedQuerySet):
    def visible_to(self, user):
        """Support, executives and admins read every ticket; sales reads the tickets of the customers it
        owns (`customer_tickets`)."""
        if user.is_authenticated and user.role in SALES_ROLES and not user.is_superuser:
            return self.filter(customer_tickets(user), deleted_at__isnull=True)
        return super().visible_to(user)

    def active(self):
        return self.filter(status__in=ACTIVE_STATUSES)


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    # The clock's working columns change on every tick and pause; the history keeps what a reader follows
    # (status, owner, priority, the SLA state and due times, the stored figures).
    exclude=["updated_at", "sla_next_at", "search_text", "queue_rank", "lock_version", "first_response_risk_at",
             "resolution_risk_at", "resolution_left_seconds", "clock_stopped_at", "paused_seconds",
             "first_response_at_risk_at", "resolution_at_risk_at", "first_response_breached_at",
             "resolution_breached_at"],
    model_name="TicketEvent",
)
class Ticket(OwnedModel):
    visibility_policy = TICKET_DATA

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assignee"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    number = models.CharField(_("number"), max_length=30, unique=True, editable=False)
    subject = models.CharField(_("subject"), max_length=250)
    description = models.TextField(_("description"), blank=True)
    account = models.ForeignKey("accounts.Account", verbose_name=_("account"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey("contacts.Contact", verbose_name=_("contact"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.PHONE)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, default=Category.QUESTION)
    product = models.ForeignKey("sales.Product", verbose_name=_("product"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.NEW)
    queue = models.ForeignKey(Queue, verbose_name=_("queue"), null=True, blank=True, on_delete=models.PROTECT,
                              related_name="tickets")
    sla_policy = models.ForeignKey(SlaPolicy, verbose_name=_("SLA policy"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    contract = models.ForeignKey("service.Contract", verbose_name=_("contract or warranty"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="tickets")
    tags = ArrayField(models.CharField(max_length=50), verbose_name=_("tags"), default=list, blank=True)
    custom = models.JSONField(_("additional fields"), default=dict, blank=True)
    # Queue order: a smaller rank is served first (service/routing.py, rank_for).
    queue_rank = models.PositiveSmallIntegerField(default=6, editable=False)
    lock_version = models.PositiveIntegerField(default=1, editable=False)

    # SLA clock (service/sla_clock.py).
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True, editable=False)
    first_response_risk_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True, editable=False)
    resolution_risk_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_left_seconds = models.FloatField(null=True, blank=True, editable=False)  # while the clock is stopped
    clock_stopped_at = models.DateTimeField(null=True, blank=True, editable=False)
    paused_seconds = models.FloatField(default=0, editable=False)  # business seconds spent stopped
    sla_next_at = models.DateTimeField(null=True, blank=True, editable=False)  # the next check the tick makes
    sla_state = models.CharField(_("SLA"), max_length=10, choices=SlaState.choices, default=SlaState.OK)
    first_response_at_risk_at = models.DateTimeField(null=True, blank=True, editable=False)
    first_response_breached_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_at_risk_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_breached_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Figures stored for reports.
    first_responded_at = models.DateTimeField(_("first response"), null=True, blank=True, editable=False)
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True, editable=False)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True, editable=False)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, editable=False)
    sla_met = models.BooleanField(null=True, blank=True, editable=False)
    reopened_count = models.PositiveSmallIntegerField(default=0, editable=False)
    last_customer_reply_at = models.DateTimeField(null=True, blank=True, editable=False)
    search_text = models.CharField(max_length=600, editable=False, default="")  # number + subject, for search

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="ticket_live_created_idx",
                         condition=Q(deleted_at__isnull=True)),
            # "Take next": the waiting tickets of a queue in serving order.
            models.Index(fields=["queue", "queue_rank", "resolution_due", "id"], name="ticket_queue_waiting_idx",
                         condition=Q(owner__isnull=True, status__in=["new", "open", "on_hold"],
                                     deleted_at__isnull=True)),
            models.Index(fields=["owner", "status", "-created_at"], name="ticket_owner_status_idx"),
            # Open work: a small, hot part of a table that grows by the million (the desk's counts, "my open
            # tickets", the open list, the unassigned list and what is at risk read only these).
            models.Index(fields=["-created_at", "-id"], name="ticket_active_created_idx", condition=ACTIVE_ROWS),
            models.Index(fields=["queue", "sla_state", "status", "owner"], name="ticket_active_queue_idx",
                         include=["id"], condition=ACTIVE_ROWS),  # the desk's counts read the index only
            models.Index(fields=["owner", "resolution_due", "priority", "id"], name="ticket_active_owner_idx",
                         condition=ACTIVE_ROWS),
            models.Index(fields=["priority", "resolution_due", "id"], name="ticket_unassigned_idx",
                         condition=ACTIVE_ROWS & Q(owner__isnull=True)),
            models.Index(fields=["resolution_due", "id"], name="ticket_active_risk_idx",
                         condition=ACTIVE_ROWS & Q(sla_state__in=["at_risk", "breached"])),
            models.Index(fields=["account", "-created_at"], name="ticket_account_idx"),
            # The service dashboard (reports/service_figures.py): solved in a period, and the complaints.
            models.Index(fields=["resolved_at"], name="ticket_resolved_idx", condition=Q(resolved_at__isnull=False)),
            # Complaints by product and account read this index only (after VACUUM), not the table.
            models.Index(fields=["created_at"], name="ticket_complaint_idx", include=["account", "product"],
                         condition=Q(category="complaint", deleted_at__isnull=True)),
            models.Index(fields=["contact", "-created_at"], name="ticket_contact_idx"),
            models.Index(fields=["sla_next_at"], name="ticket_sla_due_idx", condition=Q(sla_next_at__isnull=False)),
            GinIndex(OpClass(Upper("search_text"), name="gin_trgm_ops"), name="ticket_search_up_trgm"),
            models.Index(OpClass("number", name="varchar_pattern_ops"), name="ticket_number_prefix_idx"),
            # Custom-field filters are containment queries (crm/custom_fields.py).
            GinIndex(fields=["custom"], name="ticket_custom_gin", opclasses=["jsonb_path_ops"]),
        ]

    def __str__(self):
        return f"{self.number} {self.subject}"

    def save(self, *args, **kwargs):
        self.search_text = f"{self.number} {self.subject}"[:600]
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_text"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return pk_url("service:ticket_detail", self.pk)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def clock_running(self) -> bool:
        return self.status not in CLOCK_STOPPED

    def visible_through(self, user) -> bool:
        """Sales reads a ticket through its customer (TicketQuerySet.visible_to says the same)."""
        return _through_customer(user, self)


class MessageKind(models.TextChoices):
    REPLY = "reply", _("Reply to the customer")
    NOTE = "note", _("Internal note")
    CUSTOMER = "customer", _("From the customer")
    CALL = "call", _("Call")


class TicketMessage(models.Model):
    """One entry of a ticket's conversation. Internal notes never leave the staff pages."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(_("kind"), max_length=10, choices=MessageKind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(default=timezone.now)
    # A reply is e-mailed once: the sender claims the row (emailed_at) before sending.
    emailed_to = models.CharField(max_length=254, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_message_id = models.CharField(max_length=250, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at", "id"], name="ticketmessage_ticket_idx"),
            models.Index(fields=["id"], name="ticketmessage_unsent_idx",
                         condition=Q(kind="reply", emailed_at__isnull=True) & ~Q(emailed_to="")),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.ticket_id}"

    @property
    def is_public(self) -> bool:
        return self.kind != MessageKind.NOTE


def attachment_path(instance, filename: str) -> str:
    return f"tickets/{instance.ticket_id}/{timezone.now():%Y%m%d%H%M%S}-{filename}"


class TicketAttachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(TicketMessage, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.name


class CannedResponse(models.Model):
    """A reply text with merge fields ({contact.first_name}, {ticket.number}…), shared by the desk."""

    visibility_policy = SERVICE_SETUP

    title = models.CharField(_("title"), max_length=150)
    body = models.TextField(_("text"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["title"]
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")

    def __str__(self):
        return self.title


# --- Knowledge base ------------------------------------------------------------------------------

# Articles: everyone on the staff reads the knowledge base (a rep answers a known problem too); the
# desk writes it. Public articles also show in the customer portal.
KNOWLEDGE_DATA = Policy(
    read={role: Scope.ALL for role in Role.values},
    write={Role.ADMIN: Scope.ALL, Role.SUPPORT_LEAD: Scope.ALL, Role.SUPPORT_AGENT: Scope.ALL},
)


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class ArticleAudience(models.TextChoices):
    INTERNAL = "internal", _("Internal (staff only)")
    PUBLIC = "public", _("Public (customers too)")


class ArticleCategory(models.Model):
    visibility_policy = KNOWLEDGE_DATA

    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("article category")
        verbose_name_plural = _("article categories")

    def __str__(self):
        return self.name


class ArticleQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Staff read every live article (drafts too: they are being written for them)."""
        from crm.visibility import can_read

        live = self.filter(deleted_at__isnull=True)
        return live if can_read(user, Article) else live.none()

    def editable_by(self, user):
        from crm.visibility import can_create

        return self.visible_to(user) if can_create(user, Article) else self.none()

    def published(self):
        return self.filter(status=ArticleStatus.PUBLISHED)

    def public(self):
        return self.published().filter(audience=ArticleAudience.PUBLIC)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(),
                 exclude=["updated_at", "search_vector", "views", "helpful_yes", "helpful_no"],
                 model_name="ArticleEvent")
class Article(models.Model):
    """A known problem and its answer. Found with PostgreSQL full-text search in English and Russian
    (service/kb_services.py keeps `search_vector` current)."""

    visibility_policy = KNOWLEDGE_DATA

    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    category = models.ForeignKey(ArticleCategory, verbose_name=_("category"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="articles")
    tags = ArrayField(models.CharField(max_length=50), verbose_name=_("tags"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT)
    audience = models.CharField(_("who may read it"), max_length=10, choices=ArticleAudience.choices,
                                default=ArticleAudience.INTERNAL)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    views = models.PositiveIntegerField(_("views"), default=0, editable=False)
    helpful_yes = models.PositiveIntegerField(default=0, editable=False)
    helpful_no = models.PositiveIntegerField(default=0, editable=False)
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True, editable=False)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["title", "id"]
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        indexes = [
            GinIndex(fields=["search_vector"], name="article_search_gin"),
            models.Index(fields=["-updated_at", "-id"], name="article_live_updated_idx",
                         condition=Q(deleted_at__isnull=True)),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return pk_url("service:article_detail", self.pk)

    @property
    def helpful_share(self) -> int | None:
        votes = self.helpful_yes + self.helpful_no
        return round(100 * self.helpful_yes / votes) if votes else None


class ArticleVote(models.Model):
    """One "helpful?" answer per reader and article; a changed mind replaces the old answer."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    helpful = models.BooleanField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "user"], name="articlevote_once")]

    def __str__(self):
        return f"{self.article_id} {self.helpful}"


class TicketArticle(models.Model):
    """An article used to answer a ticket (inserted into a reply)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="article_links")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="ticket_links")
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "article"], name="ticketarticle_once")]

    def __str__(self):
        return f"{self.ticket_id} → {self.article_id}"


# --- Contracts and warranties --------------------------------------------------------------------

# Contracts and warranties: sold and renewed by sales (each rep their own customers'), read by the
# whole desk (is this caller covered?), kept by the support lead too.
CONTRACT_DATA = Policy(
    read={Role.ADMIN: Scope.ALL, Role.EXECUTIVE: Scope.ALL, Role.SUPPORT_LEAD: Scope.ALL,
          Role.SUPPORT_AGENT: Scope.ALL, Role.SALES_MANAGER: Scope.TEAM, Role.SALES_REP: Scope.OWN},
    write={Role.ADMIN: Scope.ALL, Role.SUPPORT_LEAD: Scope.ALL, Role.SALES_MANAGER: Scope.TEAM,
           Role.SALES_REP: Scope.OWN},
)


class ContractKind(models.TextChoices):
    SUPPORT = "support", _("Support contract")
    MAINTENANCE = "maintenance", _("Maintenance contract")
    WARRANTY = "warranty", _("Warranty")


class Entitlement(models.TextChoices):
    UNLIMITED = "unlimited", _("Unlimited")
    TICKETS = "tickets", _("A number of tickets")
    HOURS = "hours", _("Support hours")


class ContractState(models.TextChoices):
    UPCOMING = "upcoming", _("Not started")
    ACTIVE = "active", _("Active")
    EXPIRING = "expiring", _("Expiring")
    EXPIRED = "expired", _("Expired")


class ContractQuerySet(OwnedQuerySet):
    def in_force(self, on):
        return self.filter(starts_on__lte=on, ends_on__gte=on, deleted_at__isnull=True)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(),
                 exclude=["updated_at"], model_name="ContractEvent")
class Contract(OwnedModel):
    """A service contract or a warranty of an account, optionally for one product and serial number."""

    visibility_policy = CONTRACT_DATA

    number = models.CharField(_("number"), max_length=30, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("type"), max_length=15, choices=ContractKind.choices, default=ContractKind.SUPPORT)
    account = models.ForeignKey("accounts.Account", verbose_name=_("account"), on_delete=models.PROTECT,
                                related_name="+")
    product = models.ForeignKey("sales.Product", verbose_name=_("product"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    serial_number = models.CharField(_("serial number"), max_length=100, blank=True)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    entitlement = models.CharField(_("entitlement"), max_length=10, choices=Entitlement.choices,
                                   default=Entitlement.UNLIMITED)
    entitled_amount = models.DecimalField(_("tickets or hours included"), max_digits=8, decimal_places=2,
                                          null=True, blank=True)
    sla_policy = models.ForeignKey(SlaPolicy, verbose_name=_("SLA policy"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+",
                                   help_text=_("Empty: the policy for the ticket's priority and the customer's tier."))
    notice_days = models.PositiveSmallIntegerField(_("tell the owner this many days before it ends"), default=30)
    expiry_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    renewal = models.ForeignKey("sales.Opportunity", verbose_name=_("renewal deal"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+", editable=False)
    description = models.TextField(_("terms"), blank=True)

    objects = ContractQuerySet.as_manager()

    class Meta:
        ordering = ["ends_on", "id"]
        verbose_name = _("contract or warranty")
        verbose_name_plural = _("contracts and warranties")
        indexes = [
            models.Index(fields=["account", "ends_on"], name="contract_account_idx"),
            models.Index(fields=["ends_on", "id"], name="contract_live_end_idx", condition=Q(deleted_at__isnull=True)),
            models.Index(fields=["serial_number"], name="contract_serial_idx", condition=~Q(serial_number="")),
        ]
        constraints = [models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")),
                                              name="contract_ends_after_start")]

    def __str__(self):
        return f"{self.number} {self.name}"

    def get_absolute_url(self):
        return pk_url("service:contract_detail", self.pk)

    def state(self, today=None) -> str:
        today = today or timezone.localdate()
        if today < self.starts_on:
            return ContractState.UPCOMING
        if today > self.ends_on:
            return ContractState.EXPIRED
        if (self.ends_on - today).days <= self.notice_days:
            return ContractState.EXPIRING
        return ContractState.ACTIVE

    @property
    def in_force(self) -> bool:
        return self.state() in (ContractState.ACTIVE, ContractState.EXPIRING)

    def get_state_display(self) -> str:
        return str(ContractState(self.state()).label)


# --- Work logs -----------------------------------------------------------------------------------


class WorkKind(models.TextChoices):
    TIME = "time", _("Time")
    MATERIAL = "material", _("Material")
    EXPENSE = "expense", _("Expense")


class WorkLog(models.Model):
    """Time, materials (products from the catalogue) and expenses spent on a ticket, or on a work order of
    the ticket (the log then names both). They roll up per ticket, contract and account; support hours on a
    contract are drawn down from the time logged. Billing claims a log once (`billed_order`, set by a
    compare-and-set UPDATE in service/field_services.py, work_order_bill)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="work_logs")
    work_order = models.ForeignKey("service.WorkOrder", verbose_name=_("work order"), null=True, blank=True,
                                   on_delete=models.CASCADE, related_name="work_logs")
    billed_order = models.ForeignKey("sales.Order", verbose_name=_("billed on order"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+", editable=False)
    billed_at = models.DateTimeField(_("billed"), null=True, blank=True, editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=WorkKind.choices, default=WorkKind.TIME)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT,
                             related_name="+")
    minutes = models.PositiveIntegerField(_("minutes"), null=True, blank=True)
    product = models.ForeignKey("sales.Product", verbose_name=_("product"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=2, null=True, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    worked_on = models.DateField(_("date"), default=timezone.localdate)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["worked_on", "id"]
        indexes = [models.Index(fields=["ticket", "kind"], name="worklog_ticket_idx"),
                   models.Index(fields=["work_order", "worked_on"], name="worklog_work_order_idx",
                                condition=Q(work_order__isnull=False))]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.ticket_id}"


# --- Field service -------------------------------------------------------------------------------


class Skill(models.Model):
    """What a field specialist can do ("Printer repair", "Network cabling"); part of the desk's set-up.
    Dispatch proposes the specialists who have the work order's skill and cover the customer's territory."""

    visibility_policy = SERVICE_SETUP

    name = models.CharField(_("name"), max_length=100, unique=True)
    specialists = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("specialists"), blank=True,
                                         related_name="skills")
    labour_product = models.ForeignKey("sales.Product", verbose_name=_("labour, priced per hour"), null=True,
                                       blank=True, on_delete=models.SET_NULL, related_name="+",
                                       help_text=_("The catalogue item time is billed as (its price is per hour)."))

    class Meta:
        ordering = ["name"]
        verbose_name = _("skill")
        verbose_name_plural = _("skills")

    def __str__(self):
        return self.name

    def specialist_names(self) -> str:
        """Read from prefetched rows (the set-up list prefetches them)."""
        return ", ".join(sorted(str(user) for user in self.specialists.all()))


class SpecialistHours(models.Model):
    """When a field specialist works: a business-hours calendar (time zone, working days, hours, holidays).
    Dispatch refuses a visit outside it; a specialist without one can be sent at any time."""

    visibility_policy = SERVICE_SETUP

    specialist = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("specialist"),
                                      on_delete=models.CASCADE, related_name="+")
    calendar = models.ForeignKey(BusinessCalendar, verbose_name=_("working hours"), on_delete=models.PROTECT,
                                 related_name="+")

    class Meta:
        ordering = ["specialist__first_name", "specialist__last_name"]
        verbose_name = _("specialist's working hours")
        verbose_name_plural = _("specialists' working hours")

    def __str__(self):
        return f"{self.specialist}: {self.calendar}"


class WorkOrderStatus(models.TextChoices):
    NEW = "new", pgettext_lazy("work order status", "New")
    SCHEDULED = "scheduled", _("Scheduled")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_WORK_ORDER_STATUSES = (WorkOrderStatus.NEW, WorkOrderStatus.SCHEDULED, WorkOrderStatus.IN_PROGRESS)

# Work orders follow their ticket: the desk works them all, executives read them, sales reads its own
# customers' (WorkOrderQuerySet.visible_to), and the specialist always sees the visits they are sent on.
def _team_queue_work_orders(user: "User") -> Q | None:
    if not agents_scoped():
        return None
    return Q(owner_id=user.pk) | Q(ticket__owner_id=user.pk) | Q(ticket__queue_id__in=served_queue_ids(user))


def _team_queue_work_order_holds(user: "User", work_order) -> bool:
    if not agents_scoped() or work_order.owner_id == user.pk:
        return True
    return Ticket.objects.visible_to(user).filter(pk=work_order.ticket_id).exists()


# A work order reads like its ticket: an agent narrowed to their team's queues sees the visits of those
# tickets (and the ones they are sent on).
WORK_ORDER_DATA = Policy(read=TICKET_DATA.read, write=TICKET_DATA.write,
                         narrow={Role.SUPPORT_AGENT: Narrowing(rows=_team_queue_work_orders,
                                                               holds=_team_queue_work_order_holds)})


class WorkOrderQuerySet(OwnedQuerySet):
    def visible_to(self, user: "User") -> "WorkOrderQuerySet":
        """The ticket's rule (sales: its customers' work orders), and every specialist their own visits."""
        if not user.is_authenticated:
            return self.none()
        if user.role in SALES_ROLES and not user.is_superuser:
            return self.filter(Q(owner_id=user.pk) | customer_tickets(user), deleted_at__isnull=True)
        from crm.visibility import read_scope

        if read_scope(user, WorkOrder) == Scope.NONE:
            return self.filter(owner_id=user.pk, deleted_at__isnull=True)
        return super().visible_to(user)

    def open(self):
        return self.filter(status__in=OPEN_WORK_ORDER_STATUSES)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(),
                 exclude=["updated_at"], model_name="WorkOrderEvent")
class WorkOrder(OwnedModel):
    """A visit to the customer for a ticket: dispatched to a specialist (the owner) for a time slot."""

    visibility_policy = WORK_ORDER_DATA

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("specialist"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="workorder_visits")
    number = models.CharField(_("number"), max_length=30, unique=True, editable=False)
    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="work_orders")
    account = models.ForeignKey("accounts.Account", verbose_name=_("account"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey("contacts.Contact", verbose_name=_("contact"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    skill = models.ForeignKey(Skill, verbose_name=_("skill needed"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="work_orders")
    status = models.CharField(_("status"), max_length=12, choices=WorkOrderStatus.choices,
                              default=WorkOrderStatus.NEW)
    scheduled_start = models.DateTimeField(_("starts"), null=True, blank=True)
    scheduled_end = models.DateTimeField(_("ends"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True, editable=False)
    address = models.TextField(_("address"), blank=True)
    notes = models.TextField(_("notes"), blank=True)

    objects = WorkOrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="workorder_live_created_idx",
                         condition=Q(deleted_at__isnull=True)),
            # The day list, the calendar and a specialist's load on a day.
            models.Index(fields=["owner", "scheduled_start", "id"], name="workorder_owner_start_idx",
                         condition=Q(deleted_at__isnull=True)),
            models.Index(fields=["account", "-created_at"], name="workorder_account_idx"),
            models.Index(fields=["ticket"], name="workorder_ticket_idx"),
        ]
        constraints = [models.CheckConstraint(
            condition=Q(scheduled_end__isnull=True) | Q(scheduled_start__isnull=True)
            | Q(scheduled_end__gt=models.F("scheduled_start")), name="workorder_ends_after_start")]

    def __str__(self):
        return f"{self.number} {self.ticket.subject if self.ticket_id else ''}".strip()

    def get_absolute_url(self) -> str:
        return pk_url("service:work_order_detail", self.pk)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_WORK_ORDER_STATUSES

    def visible_through(self, user) -> bool:
        """Sales reads a work order through its account; a specialist always reads their own."""
        if self.owner_id == user.pk:
            return True
        return _through_customer(user, self)


# --- E-mail to ticket ----------------------------------------------------------------------------


# The IMAP mailboxes hold a password: only the support lead and admins read or change them.
MAILBOX_SETUP = Policy(
    read={Role.ADMIN: Scope.ALL, Role.SUPPORT_LEAD: Scope.ALL},
    write={Role.ADMIN: Scope.ALL, Role.SUPPORT_LEAD: Scope.ALL},
)


class MailboxSecurity(models.TextChoices):
    SSL = "ssl", _("SSL/TLS from the start (usually port 993)")
    STARTTLS = "starttls", _("STARTTLS (usually port 143)")


class ImapMailbox(models.Model):
    """A support mailbox read over IMAP by the scheduler (service/imap.py). `last_uid` (with the folder's
    UIDVALIDITY) remembers how far the desk has read, moved forward in the transaction that records each
    message; `claimed_by`/`claimed_until` is the lease that lets one worker at a time read the mailbox."""

    visibility_policy = MAILBOX_SETUP

    name = models.CharField(_("name"), max_length=100, unique=True)
    host = models.CharField(_("server"), max_length=253)
    port = models.PositiveIntegerField(_("port"), default=993)
    security = models.CharField(_("encryption"), max_length=10, choices=MailboxSecurity.choices,
                                default=MailboxSecurity.SSL)
    username = models.CharField(_("user name"), max_length=254)
    password = EncryptedTextField(_("password"))  # encrypted at rest (crm/encryption.py)
    folder = models.CharField(_("folder to read"), max_length=200, default="INBOX")
    done_folder = models.CharField(_("move processed mail to"), max_length=200, blank=True,
                                   help_text=_("A folder on the server, created when missing. Leave empty to "
                                               "leave processed mail where it is, marked as read."))
    queue = models.ForeignKey(Queue, verbose_name=_("queue for new tickets"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+",
                              help_text=_("Empty: the queue the ticket's category routes to."))
    is_active = models.BooleanField(_("read it"), default=True)
    uid_validity = models.BigIntegerField(null=True, blank=True, editable=False)
    last_uid = models.BigIntegerField(default=0, editable=False)
    claimed_by = models.CharField(max_length=64, blank=True, editable=False)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    last_read_at = models.DateTimeField(_("last read"), null=True, blank=True, editable=False)
    last_error = models.CharField(_("last error"), max_length=300, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("IMAP mailbox")
        verbose_name_plural = _("IMAP mailboxes")

    def __str__(self):
        return self.name

    def last_error_display(self) -> str:
        """Our sentence translated, then the server's own words as they came (service.imap.MailboxError)."""
        sentence, dash, detail = self.last_error.partition(" — ")
        return gettext(sentence) + dash + detail if sentence else ""


class InboundOutcome(models.TextChoices):
    NEW_TICKET = "new_ticket", _("Opened a ticket")
    REPLY = "reply", _("Added to a ticket")
    AUTO_REPLY = "auto_reply", _("Ignored: an automatic reply")
    LOOP = "loop", _("Ignored: a mail loop")
    REFUSED = "refused", _("Refused")


class InboundEmail(models.Model):
    """One message read from the support mailbox. The unique Message-ID makes each message count once:
    the row is written in the same transaction as the ticket it opens or the reply it adds."""

    message_id = models.CharField(max_length=300, unique=True)
    sender = models.EmailField(_("from"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=InboundOutcome.choices)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    mailbox = models.ForeignKey(ImapMailbox, verbose_name=_("mailbox"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["sender", "-received_at"], name="inboundemail_sender_idx")]

    def __str__(self):
        return f"{self.sender}: {self.subject}"
