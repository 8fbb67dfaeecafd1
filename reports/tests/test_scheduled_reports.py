"""Scheduled reports by e-mail: subscribing, the sending times, one e-mail per period however the ticks
overlap (compare-and-set claim, unique delivery row), retries, language and visibility."""

import datetime
import threading
import zoneinfo

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from crm import scheduler
from crm.models import OutboxMail, OutboxStatus
from reports import scheduling
from reports.models import Frequency, ReportDelivery, ReportSubscription
from reports.tests.data import at, deal
from sales.tests.factories import PipelineFactory

MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")


class RefusingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


def subscribe(user, query="period=quarter", frequency=Frequency.DAILY):
    return scheduling.report_subscribe(user=user, query=query, frequency=frequency, base_url="https://crm.example/")


def due(subscription, when=None):
    """Makes the subscription due (its slot has come) and returns the moment of the tick."""
    when = when or timezone.now()
    ReportSubscription.objects.filter(pk=subscription.pk).update(next_run_at=when - datetime.timedelta(minutes=1))
    return when


# --- Sending times ---------------------------------------------------------------------------------------


def test_sending_times_are_seven_in_the_morning_in_the_recipients_zone():
    after = datetime.datetime(2026, 12, 9, 8, 0, tzinfo=MOSCOW)  # a Wednesday, after 07:00
    assert scheduling.next_slot("daily", after, MOSCOW) == datetime.datetime(2026, 12, 10, 7, 0, tzinfo=MOSCOW)
    assert scheduling.next_slot("weekly", after, MOSCOW) == datetime.datetime(2026, 12, 14, 7, 0, tzinfo=MOSCOW)
    assert scheduling.next_slot("monthly", after, MOSCOW) == datetime.datetime(2027, 1, 1, 7, 0, tzinfo=MOSCOW)
    early = datetime.datetime(2026, 12, 9, 6, 59, tzinfo=MOSCOW)
    assert scheduling.next_slot("daily", early, MOSCOW) == datetime.datetime(2026, 12, 9, 7, 0, tzinfo=MOSCOW)
    slot = datetime.datetime(2026, 12, 14, 7, 0, tzinfo=MOSCOW)
    assert [scheduling.period_key(kind, slot, MOSCOW) for kind in ("daily", "weekly", "monthly")] == \
        ["D2026-12-14", "W2026-51", "M2026-12"]


# --- Subscribing -------------------------------------------------------------------------------------------


def test_subscribing_from_the_dashboard_keeps_its_filters(client, manager, team, other_team):
    client.force_login(manager)
    query = f"period=month&start=2026-01-15&team={team.pk}&owner=&pipeline="
    response = client.post(reverse("report_subscriptions"), {"frequency": "weekly", "query": query})
    assert response.status_code == 302
    subscription = ReportSubscription.objects.get()
    assert (subscription.user, subscription.frequency) == (manager, "weekly")
    assert subscription.query == f"period=month&team={team.pk}"  # no start: each e-mail shows its own month
    assert subscription.base_url == "http://testserver/"
    assert subscription.next_run_at.astimezone(zoneinfo.ZoneInfo(manager.time_zone)).weekday() == 0
    page = client.get(reverse("report_subscriptions")).content.decode()
    assert "Team: North Team" in page and "Every Monday" in page

    client.post(reverse("report_subscriptions"), {"frequency": "weekly", "query": query})
    assert ReportSubscription.objects.count() == 1  # the same subscription twice is one
    client.post(reverse("report_subscriptions"), {"frequency": "weekly", "query": f"team={other_team.pk}"})
    assert ReportSubscription.objects.filter(query="").count() == 1  # a team the manager may not see is dropped


def test_a_bad_frequency_is_refused_and_changes_nothing(client, manager):
    client.force_login(manager)
    response = client.post(reverse("report_subscriptions"), {"frequency": "hourly", "query": "period=year"},
                           follow=True)
    assert "Choose how often to send it." in response.content.decode()
    assert not ReportSubscription.objects.exists()


@pytest.mark.parametrize("role", ["support_agent", "marketer"])
def test_roles_without_deals_cannot_subscribe(client, cast, role):
    client.force_login(cast[role])
    assert client.post(reverse("report_subscriptions"), {"frequency": "daily"}).status_code == 404
    assert not ReportSubscription.objects.exists()


def test_only_the_subscriber_can_stop_it(client, manager, owner):
    subscription = subscribe(manager)
    client.force_login(owner)
    client.post(reverse("report_unsubscribe", args=[subscription.pk]))
    assert ReportSubscription.objects.filter(pk=subscription.pk).exists()
    client.force_login(manager)
    client.post(reverse("report_unsubscribe", args=[subscription.pk]))
    assert not ReportSubscription.objects.exists()


# --- Sending -------------------------------------------------------------------------------------------------


def test_a_due_subscription_is_sent_once_with_its_figures_attached(owner, teammate):
    owner.language = "ru"
    owner.save(update_fields=["language"])
    pipeline = PipelineFactory(name="Новые продажи")
    deal(pipeline, owner, "Won", "1234.50", closed_at=at(timezone.localdate()), name="Своя сделка")
    deal(pipeline, teammate, "Won", "9999.00", closed_at=at(timezone.localdate()), name="Чужая сделка")
    subscription = subscribe(owner)
    now = due(subscription)

    assert scheduler.tick(now=now)["report_subscriptions"] == 1
    assert scheduler.tick(now=now)["report_subscriptions"] == 0
    assert scheduler.tick(now=now + datetime.timedelta(hours=1))["report_subscriptions"] == 0
    [message] = mail.outbox
    assert message.to == [owner.email]
    assert message.subject.startswith("Сводка по воронке продаж")
    assert "1\xa0234,50" in message.body and "9\xa0999" not in message.body  # the rep's own figures only
    assert "https://crm.example/reports/?period=quarter" in message.body
    [(name, content, mimetype)] = message.attachments
    assert name.endswith(".csv") and mimetype == "text/csv"
    assert "1234.50" in content and "9999" not in content
    subscription.refresh_from_db()
    assert subscription.next_run_at > now and subscription.claimed_at is None
    assert ReportDelivery.objects.get().sent_at is not None


def test_the_next_period_gets_its_own_email(owner):
    subscription = subscribe(owner)
    scheduler.tick(now=due(subscription))
    subscription.refresh_from_db()
    scheduler.tick(now=subscription.next_run_at + datetime.timedelta(minutes=1))
    assert len(mail.outbox) == 2 and ReportDelivery.objects.count() == 2


def test_a_tick_that_reads_a_row_already_claimed_does_nothing(owner):
    """Compare-and-set: two ticks read the row in the same state; only the first claim matches."""
    subscription = subscribe(owner)
    due(subscription)
    first, second = (ReportSubscription.objects.get(pk=subscription.pk) for _ in range(2))
    now = timezone.now()
    assert scheduling.claim(first, now) is True
    assert scheduling.claim(second, now) is False


def test_a_slot_already_delivered_is_not_sent_again(owner):
    """A worker inserted the delivery row, sent the e-mail and died before moving the subscription on;
    the tick that takes the stale claim over finds the row and sends nothing."""
    subscription = subscribe(owner)
    now = due(subscription)
    subscription.refresh_from_db()
    key = scheduling.period_key(subscription.frequency, subscription.next_run_at, scheduling.owner_zone(owner))
    ReportDelivery.objects.create(subscription=subscription, period_key=key, sent_at=now)
    ReportSubscription.objects.filter(pk=subscription.pk).update(
        claimed_at=now - scheduler.STALE_CLAIM - datetime.timedelta(minutes=1), attempts=1)

    assert scheduler.tick(now=now)["report_subscriptions"] == 0
    assert mail.outbox == []
    subscription.refresh_from_db()
    assert subscription.next_run_at > now and subscription.claimed_at is None


def test_a_fresh_claim_is_left_alone(owner):
    subscription = subscribe(owner)
    now = due(subscription)
    ReportSubscription.objects.filter(pk=subscription.pk).update(claimed_at=now - datetime.timedelta(minutes=2))
    assert scheduler.tick(now=now)["report_subscriptions"] == 0 and mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_two_ticks_at_once_send_one_email(monkeypatch, owner):
    subscription = subscribe(owner)
    now = due(subscription)
    barrier = threading.Barrier(2, timeout=10)
    real_claim = scheduling.claim

    def claim_together(row, moment):  # both ticks have read the row as due; now both claim it
        barrier.wait()
        return real_claim(row, moment)

    monkeypatch.setattr(scheduling, "claim", claim_together)
    results = []

    def run_tick():
        try:
            results.append(scheduling.send_due_reports(now))
        finally:
            connection.close()

    threads = [threading.Thread(target=run_tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [0, 1]
    assert len(mail.outbox) == 1
    assert ReportDelivery.objects.filter(subscription=subscription).count() == 1


def test_a_refused_email_is_queued_retried_later_and_then_sent_once(settings, owner):
    """The mail server is down: the slot is done (its e-mail is in the outbox), and the outbox sends it
    once the server answers, with back-off in between."""
    subscription = subscribe(owner)
    now = due(subscription)
    settings.MAILERS = {"default": {"BACKEND": "reports.tests.test_scheduled_reports.RefusingBackend"}}
    assert scheduler.tick(now=now)["report_subscriptions"] == 1
    subscription.refresh_from_db()
    assert subscription.next_run_at > now and subscription.last_error == ""
    queued = OutboxMail.objects.get(key__startswith=f"report:{subscription.pk}:")
    assert queued.status == OutboxStatus.QUEUED and "mail server down" in queued.last_error
    assert mail.outbox == []

    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    assert scheduler.tick(now=timezone.now())["outbox"] == 0  # backing off
    assert scheduler.tick(now=queued.next_attempt_at)["outbox"] == 1
    assert scheduler.tick(now=queued.next_attempt_at)["report_subscriptions"] == 0
    assert len(mail.outbox) == 1 and mail.outbox[0].extra_headers["Message-ID"] == queued.message_id
    assert ReportDelivery.objects.filter(subscription=subscription).count() == 1


def test_a_recipient_who_may_no_longer_see_deals_gets_nothing(owner):
    from crm.models import Role

    subscription = subscribe(owner)
    owner.role = Role.SUPPORT_AGENT
    owner.save(update_fields=["role"])
    assert scheduler.tick(now=due(subscription))["report_subscriptions"] == 0
    assert mail.outbox == []


def test_the_csv_neutralises_formulas(executive):
    pipeline = PipelineFactory(stages=[("=HYPERLINK(1)", 10, "open"), ("Won", 100, "won"), ("Lost", 0, "lost")])
    deal(pipeline, executive, "=HYPERLINK(1)", "10.00", closes=timezone.localdate())
    subscription = subscribe(executive)
    scheduler.tick(now=due(subscription))
    content = mail.outbox[0].attachments[0][1]
    assert "'=HYPERLINK(1),1,10.00" in content  # a stage name is text, never a formula
