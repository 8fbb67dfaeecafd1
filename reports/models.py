"""Saved reports of the report builder, and scheduled reports: a person subscribes to the pipeline
dashboard with its filters, or schedules a saved report; the scheduler tick (reports/scheduling.py) sends
it by e-mail once per day, week or month."""

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Frequency(models.TextChoices):
    DAILY = "daily", _("Every day")
    WEEKLY = "weekly", _("Every Monday")
    MONTHLY = "monthly", _("On the 1st of every month")


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class AttachmentFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX (Excel)"
    PDF = "pdf", "PDF"


class SavedReportQuerySet(models.QuerySet):
    def visible_to(self, user) -> "SavedReportQuerySet":
        """A report is its owner's; shared with a team, the team's members and managers see it too (each
        still sees only the rows they may see when they run it)."""
        from crm.visibility import managed_team_ids

        condition = models.Q(owner_id=user.pk)
        if user.team_id:
            condition |= models.Q(team_id=user.team_id)
        teams = managed_team_ids(user)
        if teams:
            condition |= models.Q(team_id__in=teams)
        return self.filter(condition)


class SavedReport(models.Model):
    """A report builder definition (the builder's query string, re-checked against the whitelist at every
    run), private to its owner or shared with a team."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE,
                              related_name="saved_reports")
    name = models.CharField(_("name"), max_length=120)
    description = models.CharField(_("description"), max_length=300, blank=True)
    entity = models.CharField(_("records"), max_length=30)
    query = models.CharField(max_length=2000)
    team = models.ForeignKey("crm.Team", verbose_name=_("shared with team"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SavedReportQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("saved report")
        verbose_name_plural = _("saved reports")
        indexes = [models.Index(fields=["owner", "name"], name="saved_report_owner_idx"),
                   models.Index(fields=["team", "name"], name="saved_report_team_idx")]

    def __str__(self):
        return self.name


class ReportSubscription(models.Model):
    """The dashboard, with the filters in `query`, e-mailed to `user` at 07:00 in their time zone; or a
    saved report (`report`), e-mailed to `recipients` at `send_time` on `weekday` / `day_of_month` in the
    owner's (`user`'s) time zone. The e-mail holds what `user` may see when it is sent (re-checked at every
    run), whoever receives it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE,
                             related_name="report_subscriptions")
    # Which dashboard (a key of reports.subscribable.REGISTRY; a saved report's schedule keeps the default).
    dashboard = models.CharField(_("dashboard"), max_length=30, default="pipeline")
    query = models.CharField(_("filters"), max_length=500, blank=True)
    frequency = models.CharField(_("how often"), max_length=10, choices=Frequency.choices, default=Frequency.WEEKLY)
    base_url = models.URLField(max_length=300)  # where the links in the e-mail point (the site it was set up on)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    next_run_at = models.DateTimeField(_("next e-mail"))
    # Compare-and-set claim by the scheduler tick; a claim older than crm.scheduler.STALE_CLAIM is taken over.
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    last_error = models.CharField(max_length=300, blank=True, editable=False)
    # A saved report's schedule (empty for a dashboard subscription).
    report = models.ForeignKey(SavedReport, verbose_name=_("report"), null=True, blank=True,
                               on_delete=models.CASCADE, related_name="schedules")
    weekday = models.PositiveSmallIntegerField(_("on"), choices=Weekday.choices, default=Weekday.MONDAY)
    day_of_month = models.PositiveSmallIntegerField(
        _("on day"), default=1, validators=[MinValueValidator(1), MaxValueValidator(31)],
        help_text=_("In a shorter month, the last day."))
    send_time = models.TimeField(_("at"), default=datetime.time(7, 0))
    recipients = models.TextField(_("send to"), blank=True)  # e-mail addresses, one a line
    attachment = models.CharField(_("attach"), max_length=4, choices=AttachmentFormat.choices,
                                  default=AttachmentFormat.CSV)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("report subscription")
        verbose_name_plural = _("report subscriptions")
        indexes = [models.Index(fields=["next_run_at"], name="report_sub_due_idx")]
        constraints = [models.UniqueConstraint(fields=["user", "dashboard", "query", "frequency"],
                                               name="report_sub_dashboard_unique",
                                               condition=models.Q(report__isnull=True))]

    def __str__(self):
        return f"{self.user_id} {self.frequency} {self.query}"

    @property
    def recipient_list(self) -> list[str]:
        return [line.strip() for line in self.recipients.replace(",", "\n").splitlines() if line.strip()]


class DeliveryStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class ReportDelivery(models.Model):
    """One e-mail of a subscription for one day, week or month: the unique row that makes the e-mail go
    out once, however many ticks overlap; also the run log (a run that failed is kept with its error
    until a retry sends it)."""

    subscription = models.ForeignKey(ReportSubscription, on_delete=models.CASCADE, related_name="deliveries")
    period_key = models.CharField(max_length=20)  # D2026-12-08, W2026-50, M2026-12
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.SENT)
    attempts = models.PositiveSmallIntegerField(_("tries"), default=1)
    error = models.CharField(_("error"), max_length=300, blank=True)
    rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["subscription", "period_key"], name="report_delivery_once")]

    def __str__(self):
        return f"{self.subscription_id} {self.period_key}"


class CustomerRanking(models.Model):
    """The state of the customer ranking (reports/ranking.py): one row, claimed by the scheduler tick with a
    compare-and-set UPDATE before each nightly refresh. `month`: the month the accounts' current classes
    belong to; the first refresh of a new month keeps them as the previous month's classes."""

    month = models.DateField(null=True, blank=True)
    next_run_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    accounts_ranked = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="customer_ranking_single_row")]

    def __str__(self):
        return f"Customer ranking, refreshed {self.refreshed_at}"


# --- Figures the scheduler keeps (reports/aggregates.py) --------------------------------------------


class ActivityDay(models.Model):
    """Activities per owner, team, sharing, kind and day (a day in settings.TIME_ZONE): how many are dated that
    day (`dated`), how many of those are open tasks (`open_tasks`), and how many tasks were completed that day
    (`done`). Owner, team and sharing are the columns the activity policy filters on, so a reader's figures are
    sums over the rows their circle holds. Only reports/aggregates.py writes it."""

    # A key, not a reference kept in step (no constraint, no index of its own: the unique key starts with it); a
    # foreign key so that the report builder can group by the owner's name on a join.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False,
                              db_index=False, related_name="+")
    team_id = models.BigIntegerField(null=True)
    shared_with_team = models.BooleanField()
    kind = models.CharField(max_length=10)
    day = models.DateField()
    dated = models.IntegerField(default=0)
    open_tasks = models.IntegerField(default=0)
    done = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "day", "kind", "team_id", "shared_with_team"],
                                               name="activity_day_key", nulls_distinct=False)]

    def __str__(self):
        return f"{self.owner_id} {self.kind} {self.day}"


class DoneTask(models.Model):
    """One row per done task (its owner, team, sharing, completion time and its day in settings.TIME_ZONE): what
    ActivityDay.done counts, kept by activity id so that a refresh finds a key's done tasks on an index (the
    activity table has none on completed_at); the dashboards count the tasks done in the part of a summary day
    at a period's end (a reader in another time zone) on the (owner, day) index and the completion time. Only
    reports/aggregates.py writes it."""

    activity_id = models.BigIntegerField(primary_key=True)
    owner_id = models.BigIntegerField()
    team_id = models.BigIntegerField(null=True)
    shared_with_team = models.BooleanField()
    day = models.DateField()
    completed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["owner_id", "day"], name="done_task_owner_day")]

    def __str__(self):
        return f"task {self.activity_id} done {self.day}"


class TicketDay(models.Model):
    """Tickets per day (settings.TIME_ZONE), channel, category and queue: opened that day (with the first-response
    sums, the covered ones and those still active now), and solved that day (SLA, reopened, resolution sums).
    Only reports/aggregates.py writes it."""

    day = models.DateField()
    channel = models.CharField(max_length=10)
    category = models.CharField(max_length=20)
    queue_id = models.BigIntegerField(null=True)
    opened = models.IntegerField(default=0)
    covered = models.IntegerField(default=0)
    active = models.IntegerField(default=0)
    first_response_sum = models.BigIntegerField(default=0)
    first_response_count = models.IntegerField(default=0)
    solved = models.IntegerField(default=0)
    with_sla = models.IntegerField(default=0)
    sla_kept = models.IntegerField(default=0)
    reopened = models.IntegerField(default=0)
    resolution_sum = models.BigIntegerField(default=0)
    resolution_count = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "channel", "category", "queue_id"],
                                               name="ticket_day_key", nulls_distinct=False)]

    def __str__(self):
        return f"{self.day} {self.channel} {self.category} {self.queue_id}"


class AggregateState(models.Model):
    """Where each kept table stands: the history event id read up to (and the one before, read again: a
    transaction that took an earlier id may commit after a refresh), when it was last refreshed and rebuilt."""

    name = models.CharField(max_length=30, primary_key=True)
    watermark = models.BigIntegerField(default=0)
    previous_watermark = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField()
    rebuilt_at = models.DateTimeField()
    zone = models.CharField(max_length=64)  # the days' time zone: a change of TIME_ZONE needs a rebuild

    def __str__(self):
        return f"{self.name} as of {self.refreshed_at}"
