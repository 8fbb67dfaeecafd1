"""Chaos: a mailing to 5,000 people, a real Celery worker (Redis broker) SIGKILLed three times while
it sends to a real SMTP server (marketing.smtp_sink, aiosmtpd on 127.0.0.1, in its own process), and
started again each time. The scheduler tick of the new worker takes the mailing over within seconds
(the stale limit is lowered for the test). Afterwards: every address got at most one message, nothing
is pending or sending, unknown ≤ the rows that were in flight at the kills, and
sent + unknown + suppressed + failed + pending = recipients."""

import time

import pytest
from django.db import connection

from contacts.models import Contact
from crm.celery import app as celery_app
from crm.tasks import scheduler_tick
from crm.tests.celery_helpers import (  # noqa: F401 - smtp_sink and workers are fixtures
    received,
    smtp_sink,
    stop_worker,
    wait_for,
    workers,
)
from crm.tests.mailing_checks import assert_mailing_sent_once_each
from marketing import mailings, services
from marketing.models import Delivery, DeliveryStatus, Mailing, MailingStatus
from marketing.tests.factories import CampaignFactory

pytestmark = [pytest.mark.worker, pytest.mark.xdist_group("celery-worker"), pytest.mark.django_db(transaction=True)]

PEOPLE = 5_000
KILLS = 3
CONNECTIONS = 2
FAST = {"JOB_HEARTBEAT_SECONDS": "1", "JOB_STALE_SECONDS": "3", "MARKETING_SMTP_CONNECTIONS": str(CONNECTIONS)}


def test_a_mailing_whose_worker_is_killed_three_times_sends_nobody_two_messages(
        marketer, monkeypatch, smtp_sink, workers):  # noqa: F811 - the fixtures imported above
    Contact.objects.bulk_create([
        Contact(first_name=("Анна", "Пётр", "Ярослава", "Богдан")[n % 4], last_name=f"Читатель{n}",
                emails=[f"reader{n}@example.com"], email_opt_in=True, tags=["хаос"], owner=marketer,
                team=marketer.team)
        for n in range(PEOPLE)], batch_size=2500)
    segment = services.segment_create(actor=marketer, name="Хаос", criteria={"tags": ["хаос"]})
    mailing = services.mailing_create(actor=marketer, campaign=CampaignFactory(owner=marketer), segment=segment,
                                      subject="Новости для {first_name}", body="Здравствуйте, {first_name}!")
    port, sink_file = smtp_sink
    env = {"EMAIL_URL": f"smtp://127.0.0.1:{port}?timeout=10", **FAST}
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    in_flight: list[int] = []
    in_flight_ids: set[int] = set()
    worker = workers.start(connection.settings_dict, **env)
    monkeypatch.setitem(celery_app.conf, "task_default_queue", worker["queue"])
    assert mailings.mailing_start(mailing=mailing, actor=marketer, base_url="https://crm.example.com")
    for kill in range(1, KILLS + 1):
        target = kill * PEOPLE // (KILLS + 2)  # killed at about 1/5, 2/5 and 3/5 of the way
        assert wait_for(lambda target=target: len(received(sink_file)) >= target, timeout=120), workers.log()
        stop_worker(worker, kill=True)  # SIGKILL: no handler, no clean-up
        claimed = set(Delivery.objects.filter(mailing=mailing, status=DeliveryStatus.SENDING).values_list("pk",
                                                                                                       flat=True))
        in_flight.append(len(claimed))
        in_flight_ids.update(claimed)
        worker = workers.start(connection.settings_dict, **env)
        before = len(received(sink_file))

        def resumed(before=before, worker=worker):
            if len(received(sink_file)) > before:
                return True
            scheduler_tick.apply_async(queue=worker["queue"])  # beat's minute tick, sooner
            time.sleep(1)
            return False

        assert wait_for(resumed, timeout=60), workers.log()
    assert wait_for(lambda: Mailing.objects.get(pk=mailing.pk).status == MailingStatus.SENT, timeout=300), \
        workers.log()
    workers.stop_all()

    lines = received(sink_file)
    # Each kill left at most one batch per connection in flight; exactly those rows became unknown.
    figures = assert_mailing_sent_once_each(Mailing.objects.get(pk=mailing.pk), lines, people=PEOPLE,
                                            in_flight=in_flight, connections=CONNECTIONS)
    # A row caught in flight may have reached the server: it is never sent again, only counted unknown.
    assert set(Delivery.objects.filter(pk__in=in_flight_ids).values_list("status", flat=True)) == {
        DeliveryStatus.UNKNOWN}
    print(f"chaos: {KILLS} kills, in flight {in_flight}, sent {figures.sent}, unknown {figures.unknown}, "  # noqa: T201
          f"received {len(lines)}")
