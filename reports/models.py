"""Scheduled reports: a person subscribes to the pipeline dashboard with its filters; the scheduler
tick (reports/scheduling.py) sends it by e-mail once per day, week or month."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Frequency(models.TextChoices):
    DAILY = "daily", _("Every day")
    WEEKLY = "weekly", _("Every Monday")
    MONTHLY = "monthly", _("On the 1st of every month")


class ReportSubscription(models.Model):
    """The dashboard, with the filters in `query`, e-mailed to `user` at 07:00 in their time zone. The
    e-mail holds what the user may see when it is sent (their visibility, re-checked at every run)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE,
                             related_name="report_subscriptions")
    query = models.CharField(_("filters"), max_length=500, blank=True)
    frequency = models.CharField(_("how often"), max_length=10, choices=Frequency.choices, default=Frequency.WEEKLY)
    base_url = models.URLField(max_length=300)  # where the links in the e-mail point (the site it was set up on)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    next_run_at = models.DateTimeField(_("next e-mail"))
    # Compare-and-set claim by the scheduler tick; a claim older than crm.scheduler.STALE_CLAIM is taken over.
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    last_error = models.CharField(max_length=300, blank=True, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("report subscription")
        verbose_name_plural = _("report subscriptions")
        indexes = [models.Index(fields=["next_run_at"], name="report_sub_due_idx")]
        constraints = [models.UniqueConstraint(fields=["user", "query", "frequency"], name="report_sub_unique")]

    def __str__(self):
        return f"{self.user_id} {self.frequency} {self.query}"


class ReportDelivery(models.Model):
    """One e-mail of a subscription for one day, week or month: the unique row that makes the e-mail go
    out once, however many ticks overlap."""

    subscription = models.ForeignKey(ReportSubscription, on_delete=models.CASCADE, related_name="deliveries")
    period_key = models.CharField(max_length=20)  # D2026-12-08, W2026-50, M2026-12
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["subscription", "period_key"], name="report_delivery_once")]

    def __str__(self):
        return f"{self.subscription_id} {self.period_key}"
