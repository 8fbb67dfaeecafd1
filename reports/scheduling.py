"""Scheduled reports by e-mail: subscribing, and the scheduler source that sends what is due.

Exactly once per day, week or month, even when two ticks overlap or a worker dies:
1. the tick claims a due subscription with a compare-and-set UPDATE (`WHERE claimed_at IS <what I
   read> AND next_run_at = <what I read>`): of two ticks only one UPDATE matches;
2. the run inserts the ReportDelivery row of the subscription's slot (unique on subscription and
   period): a second run for the same slot, however it got there (a stale claim taken over, a
   redelivered task), finds the row and queues nothing;
3. the e-mail is queued in the mail outbox (crm/outbox.py) in the same transaction as that row and the
   move to the next slot: a mail server that is down delays it (the outbox retries with back-off), it
   is never lost; a report that cannot be made rolls everything back and is retried with back-off.
"""

import csv
import datetime
import io
import logging
import zoneinfo
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.http import QueryDict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm import outbox, scheduler, visibility
from crm.models import User
from reports import pipeline
from reports.forms import PipelineDashboardForm
from reports.models import Frequency, ReportDelivery, ReportSubscription
from sales.models import Opportunity

logger = logging.getLogger(__name__)

SEND_AT = datetime.time(7, 0)  # in the recipient's time zone
BATCH = 100
KEPT_FILTERS = ("period", "pipeline", "team", "owner", "territory")  # not `start`: each e-mail shows its period


def _zone(user: User) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(user.time_zone or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def next_slot(frequency: str, after: datetime.datetime, zone: zoneinfo.ZoneInfo) -> datetime.datetime:
    """The first sending time strictly after `after`: 07:00 local on the next day, Monday or 1st."""
    local = after.astimezone(zone)
    day = local.date()
    while True:
        candidate = datetime.datetime.combine(day, SEND_AT, tzinfo=zone)
        fits = (frequency == Frequency.DAILY or (frequency == Frequency.WEEKLY and day.weekday() == 0)
                or (frequency == Frequency.MONTHLY and day.day == 1))
        if fits and candidate > local:
            return candidate
        day += datetime.timedelta(days=1)


def period_key(frequency: str, slot: datetime.datetime, zone: zoneinfo.ZoneInfo) -> str:
    day = slot.astimezone(zone).date()
    if frequency == Frequency.DAILY:
        return f"D{day.isoformat()}"
    if frequency == Frequency.WEEKLY:
        year, week, _weekday = day.isocalendar()
        return f"W{year}-{week:02d}"
    return f"M{day:%Y-%m}"


def clean_query(query: str, user: User) -> str:
    """The dashboard filters worth keeping, validated like the page validates them (a hidden team or
    person is dropped)."""
    form = PipelineDashboardForm(QueryDict(query), user=user)
    form.is_valid()
    kept = {}
    for name in KEPT_FILTERS:
        value = form.cleaned_data.get(name)
        if value:
            kept[name] = getattr(value, "pk", value)
    return urlencode(kept)


@transaction.atomic
def report_subscribe(*, user: User, query: str, frequency: str, base_url: str) -> ReportSubscription:
    """Subscribes the user to the dashboard with these filters (the same subscription twice is one)."""
    visibility.require_read(user, Opportunity)
    if frequency not in Frequency.values:
        raise ValueError(frequency)
    query = clean_query(query, user)
    subscription, _created = ReportSubscription.objects.get_or_create(
        user=user, query=query, frequency=frequency,
        defaults={"base_url": base_url, "next_run_at": next_slot(frequency, timezone.now(), _zone(user))})
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
    for subscription in list(due.select_related("user").order_by("next_run_at", "id")[:BATCH]):
        if not claim(subscription, now):
            continue  # another tick got it first
        if report_send(subscription=subscription, now=now):
            sent += 1
    return sent


def report_send(*, subscription: ReportSubscription, now: datetime.datetime) -> bool:
    """Sends the subscription's e-mail for its current slot, at most once; moves it to the next slot."""
    user = subscription.user
    zone = _zone(user)
    key = period_key(subscription.frequency, subscription.next_run_at, zone)
    following = next_slot(subscription.frequency, max(now, subscription.next_run_at), zone)
    while period_key(subscription.frequency, following, zone) == key:  # a late run: the next period's slot
        following = next_slot(subscription.frequency, following, zone)
    if not (user.is_active and user.email and visibility.can_read(user, Opportunity)):
        _advance(subscription, following)
        return False
    try:
        # The slot's row, the queued e-mail (crm/outbox.py) and the next slot commit together: a mail
        # server that is down delays the e-mail (the outbox retries), it never loses or doubles it.
        with transaction.atomic():
            delivery = ReportDelivery.objects.create(subscription=subscription, period_key=key)
            outbox.queue(render_email(subscription, now), key=f"report:{subscription.pk}:{key}")
            ReportDelivery.objects.filter(pk=delivery.pk).update(sent_at=timezone.now())
            _advance(subscription, following, error="")
    except IntegrityError:  # this slot's e-mail went out already (or is going out)
        _advance(subscription, following)
        return False
    except Exception as exc:
        logger.exception("Report subscription %s: the report could not be made", subscription.pk)
        attempts = subscription.attempts + 1  # the claim counted this run
        error = f"{type(exc).__name__}: {exc}"[:300]
        if attempts >= scheduler.MAX_ATTEMPTS:  # give this slot up; the next one tries afresh
            _advance(subscription, following, error=error)
        else:
            ReportSubscription.objects.filter(pk=subscription.pk).update(
                claimed_at=None, last_error=error, next_run_at=now + datetime.timedelta(minutes=2 ** attempts))
        return False
    return True


def _advance(subscription: ReportSubscription, following: datetime.datetime, error: str | None = None) -> None:
    changes: dict[str, object] = {"next_run_at": following, "claimed_at": None, "attempts": 0}
    if error is not None:
        changes["last_error"] = error
    ReportSubscription.objects.filter(pk=subscription.pk).update(**changes)


def render_email(subscription: ReportSubscription, now: datetime.datetime) -> EmailMultiAlternatives:
    """The dashboard as the recipient sees it now, in their language and time zone: figures in the body,
    the same figures as a CSV attachment."""
    user = subscription.user
    with translation.override(user.language or settings.LANGUAGE_CODE), timezone.override(_zone(user)):
        form = PipelineDashboardForm(QueryDict(subscription.query), user=user)
        filters = form.filters()
        filters.period = pipeline.Period.containing(filters.period.kind, timezone.localdate(now))
        with pipeline.without_jit():
            dashboard = pipeline.build(user, filters)
        site = subscription.base_url.rstrip("/")
        context = {"dashboard": dashboard, "user": user, "subscription": subscription, "site": site,
                   "page_url": site + reverse("reports") + "?" + subscription.query,
                   "manage_url": site + reverse("report_subscriptions")}
        subject = _("Pipeline dashboard, %(period)s") % {"period": filters.period.label}
        message = EmailMultiAlternatives(subject, render_to_string("reports/email/dashboard.txt", context),
                                         to=[user.email])
        message.attach_alternative(render_to_string("reports/email/dashboard.html", context), "text/html")
        message.attach(f"pipeline-{filters.period.start:%Y-%m-%d}.csv", dashboard_csv(dashboard), "text/csv")
    return message


def dashboard_csv(dashboard: pipeline.Dashboard) -> str:
    """The dashboard's figures as rows (figure, this period, previous period), numbers unformatted."""
    current, previous = dashboard.current, dashboard.previous
    out = io.StringIO()
    out.write("\ufeff")  # Excel reads UTF-8 (Cyrillic names) only with a BOM
    writer = csv.writer(out)
    writer.writerow([_("Figure"), current.period.label, previous.period.label])
    rows = [
        (_("Won, %(currency)s") % {"currency": dashboard.currency}, current.won.amount, previous.won.amount),
        (_("Deals won"), current.won.count, previous.won.count),
        (_("Target, %(currency)s") % {"currency": dashboard.currency}, current.target, previous.target),
        (_("Deals lost"), current.lost.count, previous.lost.count),
        (_("Win rate, %"), current.win_rate, previous.win_rate),
        (_("Average deal size, %(currency)s") % {"currency": dashboard.currency}, current.average_deal,
         previous.average_deal),
        (_("Sales cycle, days"), current.cycle_days, previous.cycle_days),
        (_("Open pipeline, %(currency)s") % {"currency": dashboard.currency}, dashboard.open_total.amount, ""),
        (_("Weighted pipeline, %(currency)s") % {"currency": dashboard.currency}, dashboard.open_total.weighted, ""),
    ]
    for label, now_value, before in rows:
        writer.writerow([label, "" if now_value is None else now_value, "" if before is None else before])
    writer.writerow([])
    amount = _("Amount, %(currency)s") % {"currency": dashboard.currency}
    writer.writerow([_("Open pipeline by stage"), _("Deals"), amount])
    for bucket in dashboard.by_stage:
        writer.writerow([_neutral(bucket.label), bucket.count, bucket.amount])
    return out.getvalue()


def _neutral(text: str) -> str:
    """Spreadsheet formula neutralising (a stage named "=1+1" stays text)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text

