"""Scheduled sending and the hourly limits (per mailing and per site): the tick starts a scheduled
mailing once, at its time; a sending run stops at the limit, pauses until the hour has room, and goes
on by itself; two mailings never share the site's room twice."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crm import jobs
from marketing import mailings
from marketing.models import Delivery, DeliveryStatus, Mailing, MailingStatus
from marketing.tests.test_mailings import BASE, audience, make_mailing, outbox, recipients_count  # noqa: F401

pytestmark = pytest.mark.django_db


def an_hour_passes(mailing):
    """Moves the mailing's claims an hour and a minute into the past, and lets its pause end."""
    past = timedelta(minutes=61)
    for delivery in Delivery.objects.filter(mailing=mailing, claimed_at__isnull=False):
        Delivery.objects.filter(pk=delivery.pk).update(claimed_at=delivery.claimed_at - past)
    Mailing.objects.filter(pk=mailing.pk).update(next_run_at=timezone.now() - timedelta(seconds=1),
                                                 heartbeat_at=timezone.now() - timedelta(minutes=2))


# --- Scheduled sending ------------------------------------------------------------------------------------


def test_the_tick_starts_a_scheduled_mailing_once_at_its_time(outbox, marketer, audience,  # noqa: F811
                                                              django_capture_on_commit_callbacks):
    mailing = make_mailing(marketer, audience)
    send_at = timezone.now() + timedelta(hours=2)
    assert mailings.mailing_schedule(mailing=mailing, actor=marketer, send_at=send_at, base_url=BASE)
    assert not mailings.mailing_schedule(mailing=mailing, actor=marketer, send_at=send_at, base_url=BASE)
    assert mailings.start_due_mailings(timezone.now()) == 0  # not yet
    assert not Delivery.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):  # the task runs (eager)
        assert mailings.start_due_mailings(send_at + timedelta(seconds=1)) == 1
    assert mailings.start_due_mailings(send_at + timedelta(seconds=2)) == 0  # a second tick starts nothing
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SENT and mailing.base_url == BASE
    assert sum(recipients_count().values()) == 7 and set(recipients_count().values()) == {1}


def test_a_cancelled_schedule_sends_nothing(outbox, marketer, audience):  # noqa: F811
    mailing = make_mailing(marketer, audience)
    send_at = timezone.now() + timedelta(minutes=5)
    mailings.mailing_schedule(mailing=mailing, actor=marketer, send_at=send_at, base_url=BASE)
    assert mailings.mailing_unschedule(mailing=mailing)
    assert mailings.start_due_mailings(send_at + timedelta(minutes=1)) == 0
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.DRAFT and mailing.scheduled_at is None
    assert not Delivery.objects.exists() and not recipients_count()


def test_schedule_and_cancel_from_the_page(client, outbox, marketer, audience):  # noqa: F811
    mailing = make_mailing(marketer, audience)
    client.force_login(marketer)
    url = reverse("marketing:mailing_send", args=[mailing.pk])
    response = client.post(url, {"send_at": "2001-01-01T10:00"}, follow=True)
    assert "Choose a time in the future." in response.content.decode()
    response = client.post(url, {"send_at": "not a time"}, follow=True)
    assert "Enter a valid date/time." in response.content.decode()
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.DRAFT
    when = timezone.localtime() + timedelta(days=1)
    response = client.post(url, {"send_at": when.strftime("%Y-%m-%dT%H:%M")}, follow=True)
    assert "The mailing is scheduled." in response.content.decode()
    assert 'id="mailing-scheduled"' in response.content.decode()
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SCHEDULED and mailing.scheduled_by == marketer
    assert abs(mailing.scheduled_at - when) < timedelta(minutes=1)
    response = client.post(reverse("marketing:mailing_unschedule", args=[mailing.pk]), follow=True)
    assert "The schedule is cancelled" in response.content.decode()
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.DRAFT and not Delivery.objects.exists()


# --- The hourly limits ---------------------------------------------------------------------------------------


def start_now(mailing, marketer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        assert mailings.mailing_start(mailing=mailing, actor=marketer, base_url=BASE)


def test_a_mailing_sends_at_most_its_hourly_limit_then_goes_on_an_hour_later(
        outbox, marketer, audience, django_capture_on_commit_callbacks):  # noqa: F811
    mailing = make_mailing(marketer, audience, hourly_limit=3)
    start_now(mailing, marketer, django_capture_on_commit_callbacks)
    assert mailings.mailing_send(mailing.pk, batch=2) == 3  # batches of 2: the second is cut to 1
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SENDING and mailing.run_token is None  # paused, not dead
    first_claim = Delivery.objects.filter(mailing=mailing).exclude(claimed_at=None).order_by("claimed_at").first()
    assert abs(mailing.next_run_at - (first_claim.claimed_at + timedelta(hours=1))) < timedelta(seconds=1)
    # A task delivered meanwhile (or a tick) does not take it before then.
    assert mailings.mailing_send(mailing.pk) == 0
    assert jobs.take_over_stalled(timezone.now() + timedelta(minutes=5)) == 0
    assert sum(recipients_count().values()) == 3

    an_hour_passes(mailing)
    with django_capture_on_commit_callbacks(execute=False) as resent:
        assert jobs.take_over_stalled(timezone.now()) == 1  # the tick sends it to a worker again
    assert len(resent) == 1
    assert mailings.mailing_send(mailing.pk) == 3
    an_hour_passes(mailing)
    assert mailings.mailing_send(mailing.pk) == 1
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SENT and mailing.next_run_at is None
    assert max(recipients_count().values()) == 1 and sum(recipients_count().values()) == 7


def test_the_site_limit_holds_across_mailings(outbox, marketer, audience, settings,  # noqa: F811
                                              django_capture_on_commit_callbacks):
    settings.MARKETING_HOURLY_LIMIT = 5
    first, second = make_mailing(marketer, audience), make_mailing(marketer, audience)
    start_now(first, marketer, django_capture_on_commit_callbacks)
    start_now(second, marketer, django_capture_on_commit_callbacks)
    assert mailings.mailing_send(first.pk) == 5
    assert mailings.mailing_send(second.pk) == 0
    second.refresh_from_db()
    assert second.next_run_at > timezone.now() + timedelta(minutes=59)
    assert mailings.counts(second).pending == 7
    assert sum(recipients_count().values()) == 5


def test_a_paused_mailing_says_so_on_its_page(client, outbox, marketer, audience,  # noqa: F811
                                              django_capture_on_commit_callbacks):
    mailing = make_mailing(marketer, audience, hourly_limit=2)
    start_now(mailing, marketer, django_capture_on_commit_callbacks)
    mailings.mailing_send(mailing.pk)
    client.force_login(marketer)
    body = client.get(mailing.get_absolute_url()).content.decode()
    assert 'id="mailing-paused"' in body and 'data-count="sent">2<' in body
    assert "At most 2 messages per hour." in body
    assert Delivery.objects.filter(mailing=mailing, status=DeliveryStatus.PENDING).count() == 5


def test_the_limit_is_set_on_the_form(client, marketer, audience):  # noqa: F811
    from marketing.tests.factories import CampaignFactory

    campaign = CampaignFactory(owner=marketer)
    client.force_login(marketer)
    url = reverse("marketing:mailing_create", args=[campaign.pk])
    data = {"static_list": audience["list"].pk, "subject": "Привет", "body": "Текст"}
    response = client.post(url, {**data, "hourly_limit": "0"})
    assert response.status_code == 200 and not Mailing.objects.exists()
    client.post(url, {**data, "hourly_limit": "250"})
    assert Mailing.objects.get().hourly_limit == 250
