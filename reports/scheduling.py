"""Scheduled reports by e-mail (the dashboard, or a saved builder report): subscribing, and the scheduler
source that sends what is due.

Exactly once per day, week or month, even when two ticks overlap or a worker dies:
1. the tick claims a due subscription with a compare-and-set UPDATE (`WHERE claimed_at IS <what I
   read> AND next_run_at = <what I read>`): of two ticks only one UPDATE matches;
2. the run inserts (or, after a failed run, locks) the ReportDelivery row of the subscription's slot
   (unique on subscription and period): a second run for the same slot, however it got there (a stale
   claim taken over, a redelivered task, a retry from the run log), finds the row sent and queues nothing;
3. the e-mail is queued in the mail outbox (crm/outbox.py) in the same transaction as that row and the
   move to the next slot: a mail server that is down delays it (the outbox retries with back-off), it
   is never lost; a report that cannot be made rolls everything back and is retried with back-off.
"""

import calendar
import datetime
import logging
import zoneinfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.http import Http404, QueryDict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from crm import notifications, outbox, scheduler
from crm.models import NotificationKind, User
from reports import exporting, subscribable
from reports.models import AttachmentFormat, DeliveryStatus, Frequency, ReportDelivery, ReportSubscription

logger = logging.getLogger(__name__)

SEND_AT = datetime.time(7, 0)  # in the recipient's time zone
BATCH = 100
DASHBOARD_ATTACHMENTS = (AttachmentFormat.CSV, AttachmentFormat.XLSX)  # a dashboard's tables; no PDF


def owner_zone(user: User) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(user.time_zone or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def next_slot(frequency: str, after: datetime.datetime, zone: zoneinfo.ZoneInfo, *,
              at: datetime.time = SEND_AT, weekday: int = 0, day_of_month: int = 1) -> datetime.datetime:
    """The first sending time strictly after `after`: `at` local on the next day, `weekday` (Monday) or
    `day_of_month` (the 1st; a shorter month's last day when it has no such day)."""
    local = after.astimezone(zone)
    day = local.date()
    while True:
        candidate = datetime.datetime.combine(day, at, tzinfo=zone)
        last_day = calendar.monthrange(day.year, day.month)[1]
        fits = (frequency == Frequency.DAILY or (frequency == Frequency.WEEKLY and day.weekday() == weekday)
                or (frequency == Frequency.MONTHLY and day.day == min(day_of_month, last_day)))
        if fits and candidate > local:
            return candidate
        day += datetime.timedelta(days=1)


def slot_after(subscription: ReportSubscription, after: datetime.datetime) -> datetime.datetime:
    return next_slot(subscription.frequency, after, owner_zone(subscription.user), at=subscription.send_time,
                     weekday=subscription.weekday, day_of_month=subscription.day_of_month)


def period_key(frequency: str, slot: datetime.datetime, zone: zoneinfo.ZoneInfo) -> str:
    day = slot.astimezone(zone).date()
    if frequency == Frequency.DAILY:
        return f"D{day.isoformat()}"
    if frequency == Frequency.WEEKLY:
        year, week, _weekday = day.isocalendar()
        return f"W{year}-{week:02d}"
    return f"M{day:%Y-%m}"


def clean_query(query: str, user: User, dashboard: str = subscribable.DEFAULT) -> str:
    """The dashboard filters worth keeping, validated like the page validates them (a hidden team or
    person is dropped)."""
    found = subscribable.get(dashboard)
    if found is None:
        raise ValueError(dashboard)
    return found.clean_query(user, query)


@transaction.atomic
def report_subscribe(*, user: User, query: str, frequency: str, base_url: str,
                     dashboard: str = subscribable.DEFAULT, attachment: str = AttachmentFormat.CSV
                     ) -> ReportSubscription:
    """Subscribes the user to the dashboard with these filters (the same subscription twice is one; asking
    again with another attachment changes it)."""
    found = subscribable.get(dashboard)
    if found is None or not found.can_read(user):
        raise Http404  # a dashboard the user may not read answers like a missing one
    if frequency not in Frequency.values:
        raise ValueError(frequency)
    if attachment not in DASHBOARD_ATTACHMENTS:
        raise ValueError(attachment)
    query = found.clean_query(user, query)
    subscription, created = ReportSubscription.objects.get_or_create(
        user=user, dashboard=dashboard, query=query, frequency=frequency, report__isnull=True,
        defaults={"base_url": base_url, "attachment": attachment,
                  "next_run_at": next_slot(frequency, timezone.now(), owner_zone(user))})
    if not created and subscription.attachment != attachment:
        subscription.attachment = attachment
        subscription.save(update_fields=["attachment"])
    return subscription


@transaction.atomic
def report_unsubscribe(*, user: User, subscription_id: int) -> bool:
    return ReportSubscription.objects.filter(pk=subscription_id, user=user).delete()[0] > 0


# --- Sending ------------------------------------------------------------------------------------------


def claim(subscription: ReportSubscription, now: datetime.datetime) -> bool:
    """Compare-and-set: only the caller whose UPDATE matched the row as it read it owns the run."""
    matched = ReportSubscription.objects.filter(pk=subscription.pk, next_run_at=subscription.next_run_at,
                                                claimed_at=subscription.claimed_at)  # None: IS NULL
    return matched.update(claimed_at=now, attempts=F("attempts") + 1) == 1


@scheduler.source("report_subscriptions")
def send_due_reports(now: datetime.datetime) -> int:
    due = ReportSubscription.objects.filter(
        Q(next_run_at__lte=now) & (Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - scheduler.STALE_CLAIM)))
    sent = 0
    for subscription in list(due.select_related("user", "report").order_by("next_run_at", "id")[:BATCH]):
        if not claim(subscription, now):
            continue  # another tick got it first
        if report_send(subscription=subscription, now=now):
            sent += 1
    return sent


def report_send(*, subscription: ReportSubscription, now: datetime.datetime) -> bool:
    """Sends the subscription's e-mail for its current slot, at most once; moves it to the next slot."""
    user = subscription.user
    zone = owner_zone(user)
    key = period_key(subscription.frequency, subscription.next_run_at, zone)
    following = slot_after(subscription, max(now, subscription.next_run_at))
    while period_key(subscription.frequency, following, zone) == key:  # a late run: the next period's slot
        following = slot_after(subscription, following)
    if not deliverable(subscription):
        _advance(subscription, following)
        return False
    try:
        # The slot's row, the queued e-mail (crm/outbox.py) and the next slot commit together: a mail
        # server that is down delays the e-mail (the outbox retries), it never loses or doubles it.
        with transaction.atomic():
            sent = deliver(subscription, key, now)
            _advance(subscription, following, error="")
    except Exception as exc:
        logger.exception("Report subscription %s: the report could not be made", subscription.pk)
        attempts = subscription.attempts + 1  # the claim counted this run
        error = f"{type(exc).__name__}: {exc}"[:300]
        _log_failure(subscription, key, error)
        if attempts >= scheduler.MAX_ATTEMPTS:  # give this slot up (a retry from the run log can still send it)
            _advance(subscription, following, error=error)
        else:
            ReportSubscription.objects.filter(pk=subscription.pk).update(
                claimed_at=None, last_error=error, next_run_at=now + datetime.timedelta(minutes=2 ** attempts))
        return False
    return sent


def deliverable(subscription: ReportSubscription) -> bool:
    """The owner still may read what is sent, and there is someone to send it to."""
    user = subscription.user
    if not user.is_active:
        return False
    report = subscription.report
    if report is None:
        dashboard = subscribable.get(subscription.dashboard)
        return bool(user.email) and dashboard is not None and dashboard.can_read(user)
    from reports import builder

    try:
        builder.entity_for(user, report.entity)
    except builder.ReportError:
        return False
    return bool(subscription.recipient_list or user.email)


def deliver(subscription: ReportSubscription, key: str, now: datetime.datetime) -> bool:
    """In the caller's transaction: takes the slot's row (inserted, or a failed run's, locked), queues
    the e-mail and marks the row sent. False, and nothing queued, when the slot was sent already."""
    delivery, _created = ReportDelivery.objects.get_or_create(
        subscription=subscription, period_key=key, defaults={"status": DeliveryStatus.FAILED, "attempts": 0})
    delivery = ReportDelivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.status == DeliveryStatus.SENT:
        return False  # this slot's e-mail went out already (a stale claim taken over, a retry racing a tick)
    message, rows = render_email(subscription, now)
    outbox.queue(message, key=f"report:{subscription.pk}:{key}")
    ReportDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SENT, sent_at=timezone.now(),
                                                         error="", rows=rows, attempts=F("attempts") + 1)
    return True


REPORT_FAILED = notifications.message("report.failed", gettext_lazy(
    "The scheduled report “%(name)s” could not be made: %(error)s. It is retried; the run log has the details."))


def _log_failure(subscription: ReportSubscription, key: str, error: str) -> None:
    """The failed run in the log (one row per slot, its tries counted) and, the first time, a notification to
    the owner."""
    with transaction.atomic():
        delivery, created = ReportDelivery.objects.get_or_create(
            subscription=subscription, period_key=key, defaults={"status": DeliveryStatus.FAILED, "error": error})
        if not created:
            ReportDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.FAILED).update(
                error=error, attempts=F("attempts") + 1)
        report = subscription.report
        if report is not None and created:
            notifications.notify(
                user=subscription.user, kind=NotificationKind.ALERT, message=REPORT_FAILED,
                params={"name": report.name, "error": error[:150]},
                url=reverse("saved_report_schedules", args=[report.pk]),
                key=f"report-failed:{subscription.pk}:{key}")


def report_retry(*, user: User, delivery_id: int, now: datetime.datetime) -> bool | None:
    """Runs a failed run of the user's schedule again, now. None: no such failed run of theirs; False: it
    failed again (the log has the error) or was sent meanwhile; True: queued."""
    delivery = (ReportDelivery.objects.select_related("subscription__user", "subscription__report")
                .filter(pk=delivery_id, subscription__user=user, subscription__report__isnull=False,
                        status=DeliveryStatus.FAILED).first())
    if delivery is None:
        return None
    subscription = delivery.subscription
    if not deliverable(subscription):
        return False
    try:
        with transaction.atomic():
            return deliver(subscription, delivery.period_key, now)
    except Exception as exc:
        logger.exception("Report subscription %s: the retry failed", subscription.pk)
        _log_failure(subscription, delivery.period_key, f"{type(exc).__name__}: {exc}"[:300])
        return False


def _advance(subscription: ReportSubscription, following: datetime.datetime, error: str | None = None) -> None:
    changes: dict[str, object] = {"next_run_at": following, "claimed_at": None, "attempts": 0}
    if error is not None:
        changes["last_error"] = error
    ReportSubscription.objects.filter(pk=subscription.pk).update(**changes)


def render_email(subscription: ReportSubscription, now: datetime.datetime) -> tuple[EmailMultiAlternatives, int]:
    """The dashboard as the recipient sees it now, in their language and time zone: its tables in the body,
    the same tables attached as a CSV (or XLSX); or the saved report. With the number of rows it holds."""
    user = subscription.user
    if subscription.report_id is not None:
        from reports import report_mail

        return report_mail.render(subscription, now)
    dashboard = subscribable.get(subscription.dashboard)
    if dashboard is None:
        raise ValueError(f"no dashboard {subscription.dashboard!r}")
    with translation.override(user.language or settings.LANGUAGE_CODE), timezone.override(owner_zone(user)):
        day = timezone.localdate(now)
        snapshot = dashboard.figures(user, QueryDict(subscription.query), day)
        site = subscription.base_url.rstrip("/")
        tables = [{"headers": table.headers, "rows": list(zip(subscribable.display_rows(table),
                                                              [site + url if url else "" for url in table.urls]
                                                              + [""] * len(table.rows), strict=False))}
                  for table in snapshot.tables]
        context = {"snapshot": snapshot, "tables": tables, "user": user, "subscription": subscription,
                   "site": site, "page_url": site + dashboard.page_url(subscription.query),
                   "manage_url": site + reverse("report_subscriptions")}
        message = EmailMultiAlternatives(snapshot.title, render_to_string("reports/email/dashboard.txt", context),
                                         to=[user.email])
        message.attach_alternative(render_to_string("reports/email/dashboard.html", context), "text/html")
        name = f"{dashboard.key}-{day:%Y-%m-%d}"
        if subscription.attachment == AttachmentFormat.XLSX:
            message.attach(f"{name}.xlsx", subscribable.to_xlsx(snapshot), exporting.CONTENT_TYPES["xlsx"])
        else:
            message.attach(f"{name}.csv", subscribable.to_csv(snapshot).decode(), "text/csv")
    return message, sum(len(table.rows) for table in snapshot.tables)
