"""Scheduled saved reports: when they go out (weekday, day of month, time in the owner's zone), to whom and
with what (the owner's view, CSV or XLSX attached), the run log, the retry of a failed run, and one e-mail
per slot (compare-and-set claim, the slot's row)."""

import datetime
import io
import zoneinfo

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from crm import scheduler
from crm.models import Notification
from reports import scheduling
from reports.models import DeliveryStatus, ReportDelivery, ReportSubscription, SavedReport
from reports.tests.data import deal
from sales.tests.factories import PipelineFactory

MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")


@pytest.fixture
def report(owner, team):
    return SavedReport.objects.create(owner=owner, name="Мои сделки", entity="deals", team=team,
                                      query="entity=deals&c=name&c=amount&sort=name")


@pytest.fixture
def deals(owner, teammate):
    pipeline = PipelineFactory()
    return [deal(pipeline, owner, "Proposal", "1234.50", name="Своя сделка"),
            deal(pipeline, teammate, "Proposal", "9999.00", name="Чужая сделка")]


def schedule(client, user, report, **fields):
    client.force_login(user)
    data = {"frequency": "weekly", "weekday": "2", "day_of_month": "1", "send_time": "08:30",
            "recipients": "boss@example.com, Финансы <fin@example.com>", "attachment": "xlsx", **fields}
    data["recipients"] = data["recipients"].replace("Финансы <fin@example.com>", "fin@example.com")
    return client.post(reverse("saved_report_schedules", args=[report.pk]), data)


def due(subscription):
    now = timezone.now()
    ReportSubscription.objects.filter(pk=subscription.pk).update(next_run_at=now - datetime.timedelta(minutes=1))
    return now


def test_slots_on_a_weekday_a_day_of_the_month_and_a_time():
    after = datetime.datetime(2026, 12, 9, 8, 0, tzinfo=MOSCOW)  # a Wednesday
    at = datetime.time(8, 30)
    assert scheduling.next_slot("weekly", after, MOSCOW, at=at, weekday=2) == \
        datetime.datetime(2026, 12, 9, 8, 30, tzinfo=MOSCOW)  # today, later
    assert scheduling.next_slot("weekly", after, MOSCOW, at=datetime.time(7), weekday=2) == \
        datetime.datetime(2026, 12, 16, 7, 0, tzinfo=MOSCOW)
    assert scheduling.next_slot("monthly", after, MOSCOW, at=at, day_of_month=31) == \
        datetime.datetime(2026, 12, 31, 8, 30, tzinfo=MOSCOW)
    january = datetime.datetime(2027, 1, 31, 9, 0, tzinfo=MOSCOW)
    assert scheduling.next_slot("monthly", january, MOSCOW, at=at, day_of_month=31) == \
        datetime.datetime(2027, 2, 28, 8, 30, tzinfo=MOSCOW)  # a shorter month: its last day


def test_scheduling_a_report_in_the_owners_time_zone(client, owner, report):
    owner.time_zone = "Europe/Moscow"
    owner.save(update_fields=["time_zone"])
    response = schedule(client, owner, report)
    assert response.status_code == 302
    subscription = ReportSubscription.objects.get()
    assert (subscription.user, subscription.report, subscription.attachment) == (owner, report, "xlsx")
    assert subscription.recipient_list == ["boss@example.com", "fin@example.com"]
    local = subscription.next_run_at.astimezone(MOSCOW)
    assert (local.weekday(), local.hour, local.minute) == (2, 8, 30)
    page = client.get(reverse("saved_report_schedules", args=[report.pk])).content.decode()
    assert "Every recipient gets what you may see in the CRM when the e-mail is sent" in page
    assert "Every Wednesday at 08:30" in page
    # The e-mails page lists the dashboards and, apart, the saved reports' schedules.
    emails = client.get(reverse("report_subscriptions"))
    assert emails.context["subscriptions"] == [] and emails.context["schedules"] == [subscription]
    assert "Мои сделки" in emails.content.decode()


@pytest.mark.parametrize(("field", "value", "message"), [
    ("recipients", "not-an-address", "Not an e-mail address: not-an-address"),
    ("day_of_month", "32", "Choose a day from 1 to 31."),
    ("frequency", "hourly", "Choose how often to send it."),
    ("attachment", "exe", "Select a valid choice"),
])
def test_a_bad_schedule_is_refused_and_saves_nothing(client, owner, report, field, value, message):
    response = schedule(client, owner, report, **{field: value})
    assert response.status_code == 400 and message in response.content.decode()
    assert not ReportSubscription.objects.exists()


def test_people_who_may_not_see_the_report_cannot_schedule_it(client, outsider, report):
    assert schedule(client, outsider, report).status_code == 404
    assert not ReportSubscription.objects.exists()


def test_the_email_holds_what_the_schedule_owner_may_see_with_the_file_attached(client, owner, report, deals):
    owner.language = "ru"
    owner.save(update_fields=["language"])
    schedule(client, owner, report)
    subscription = ReportSubscription.objects.get()
    now = due(subscription)
    assert scheduler.tick(now=now)["report_subscriptions"] == 1
    assert scheduler.tick(now=now)["report_subscriptions"] == 0
    [message] = mail.outbox
    assert message.to == ["boss@example.com", "fin@example.com"]
    assert message.subject == "Отчёт: Мои сделки"
    assert "Своя сделка" in message.body and "Чужая сделка" not in message.body
    [(name, content, mimetype)] = message.attachments
    assert name.endswith(".xlsx") and mimetype.startswith("application/vnd.openxmlformats")
    rows = [[cell.value for cell in row] for row in load_workbook(io.BytesIO(content)).active.iter_rows()]
    assert rows[1:] == [["Своя сделка", 1234.5]]
    [run] = ReportDelivery.objects.all()
    assert (run.status, run.rows, run.attempts) == (DeliveryStatus.SENT, 1, 1)
    subscription.refresh_from_db()
    assert subscription.next_run_at > now and subscription.claimed_at is None


def test_the_claim_lets_one_of_two_ticks_run_the_schedule(client, owner, report):
    """Compare-and-set: two ticks read the schedule as due; only the first claim matches."""
    schedule(client, owner, report)
    subscription = ReportSubscription.objects.get()
    due(subscription)
    first, second = (ReportSubscription.objects.get(pk=subscription.pk) for _ in range(2))
    now = timezone.now()
    assert scheduling.claim(first, now) is True
    assert scheduling.claim(second, now) is False
    assert scheduler.tick(now=now)["report_subscriptions"] == 0  # claimed, not stale: left alone
    assert mail.outbox == []


def test_a_failed_run_is_logged_reported_retried_and_sent_once(client, monkeypatch, owner, report, deals):
    schedule(client, owner, report, attachment="csv")
    subscription = ReportSubscription.objects.get()
    now = due(subscription)
    real_run = scheduling.render_email

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(scheduling, "render_email", broken)
    assert scheduler.tick(now=now)["report_subscriptions"] == 0
    [run] = ReportDelivery.objects.all()
    assert (run.status, run.attempts) == (DeliveryStatus.FAILED, 1)
    assert "database went away" in run.error
    subscription.refresh_from_db()
    assert subscription.next_run_at == now + datetime.timedelta(minutes=2)  # retried with back-off
    [notice] = Notification.objects.filter(user=owner)
    assert "Мои сделки" in notice.text and "could not be made" in notice.text

    assert scheduler.tick(now=subscription.next_run_at)["report_subscriptions"] == 0  # still broken
    run.refresh_from_db()
    assert run.attempts == 2 and Notification.objects.filter(user=owner).count() == 1  # told once per run

    monkeypatch.setattr(scheduling, "render_email", real_run)
    client.force_login(owner)
    page = client.get(reverse("saved_report_schedules", args=[report.pk])).content.decode()
    assert f'id="run-{run.pk}" data-status="failed"' in page and "Retry now" in page
    response = client.post(reverse("run_retry", args=[run.pk]), follow=True)
    assert "Sent again." in response.content.decode()
    scheduler.tick(now=timezone.now())  # the outbox sends what the retry queued
    run.refresh_from_db()
    assert run.status == DeliveryStatus.SENT and len(mail.outbox) == 1
    assert "Своя сделка" in mail.outbox[0].attachments[0][1]

    assert client.post(reverse("run_retry", args=[run.pk])).status_code == 404  # sent: nothing to retry
    subscription.refresh_from_db()
    assert scheduler.tick(now=subscription.next_run_at)["report_subscriptions"] == 0  # the tick's retry finds it sent
    assert len(mail.outbox) == 1


def test_only_the_schedule_owner_retries_or_stops_it(client, owner, teammate, report):
    schedule(client, owner, report)
    subscription = ReportSubscription.objects.get()
    run = ReportDelivery.objects.create(subscription=subscription, period_key="W2026-50",
                                        status=DeliveryStatus.FAILED, error="boom")
    client.force_login(teammate)  # sees the shared report, not the owner's schedules
    assert client.post(reverse("run_retry", args=[run.pk])).status_code == 404
    assert client.post(reverse("schedule_delete", args=[subscription.pk])).status_code == 404
    assert client.get(reverse("saved_report_schedules", args=[report.pk])).context["schedules"] == []
    client.force_login(owner)
    client.post(reverse("schedule_delete", args=[subscription.pk]))
    assert not ReportSubscription.objects.exists()


def test_a_report_the_owner_may_no_longer_read_is_not_sent(client, owner, report):
    from crm.models import Role

    schedule(client, owner, report)
    subscription = ReportSubscription.objects.get()
    owner.role = Role.SUPPORT_AGENT
    owner.save(update_fields=["role"])
    assert scheduler.tick(now=due(subscription))["report_subscriptions"] == 0
    assert mail.outbox == []


def test_a_schedule_can_attach_a_pdf(client, owner, report, deals):
    schedule(client, owner, report, attachment="pdf")
    scheduler.tick(now=due(ReportSubscription.objects.get()))
    [(name, content, mimetype)] = mail.outbox[0].attachments
    assert name.endswith(".pdf") and mimetype == "application/pdf" and content.startswith(b"%PDF")


def test_an_admin_sees_a_failed_run_on_the_background_page_and_retries_it(client, monkeypatch, owner, admin_user,
                                                                          report, deals):
    schedule(client, owner, report, attachment="csv")
    subscription = ReportSubscription.objects.get()
    now = due(subscription)
    real_run = scheduling.render_email
    monkeypatch.setattr(scheduling, "render_email", lambda *args, **kwargs: (_ for _ in ()).throw(
        RuntimeError("database went away")))
    scheduler.tick(now=now)
    [run] = ReportDelivery.objects.all()
    client.force_login(admin_user)
    page = client.get(reverse("background_work")).content.decode()
    assert 'id="background-reports"' in page and "database went away" in page and report.name in page
    monkeypatch.setattr(scheduling, "render_email", real_run)
    response = client.post(reverse("background_retry", args=["reports", run.pk]), follow=True)
    assert "Sent to a worker again." in response.content.decode()
    scheduler.tick(now=timezone.now())
    run.refresh_from_db()
    assert run.status == DeliveryStatus.SENT and len(mail.outbox) == 1  # as the owner, to the owner's list
    assert client.post(reverse("background_retry", args=["reports", run.pk]), follow=True).status_code == 200
    assert len(mail.outbox) == 1
