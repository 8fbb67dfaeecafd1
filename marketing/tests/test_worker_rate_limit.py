"""The hourly limit with a real Celery worker, Redis and a real SMTP server (aiosmtpd on 127.0.0.1):
the worker sends exactly the limit, pauses, sends nothing more while the hour is full, and goes on by
itself when the scheduler tick finds the hour has room again (the hour is moved into the past)."""

import time
from collections import Counter

import pytest
from django.db import connection

from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm.celery import app as celery_app
from crm.tasks import scheduler_tick
from crm.tests.celery_helpers import spawn_worker, stop_worker, wait_for
from crm.tests.mail_helpers import SmtpSink
from marketing import mailings, services
from marketing.models import Mailing, MailingStatus
from marketing.tests.factories import CampaignFactory
from marketing.tests.test_schedule import an_hour_passes

pytestmark = [pytest.mark.worker, pytest.mark.xdist_group("celery-worker"), pytest.mark.django_db(transaction=True)]

PEOPLE = 10
LIMIT = 4


def test_a_real_worker_never_sends_more_than_the_hourly_limit(marketer, owner, tmp_path, monkeypatch):
    for n in range(PEOPLE):
        ContactFactory(owner=owner, first_name=f"Читатель{n}", emails=[f"reader{n}@example.com"], email_opt_in=True)
    static_list = services.static_list_create(actor=marketer, name="Все")
    services.static_list_add(static_list=static_list, actor=marketer, contacts=Contact.objects.all())
    mailing = services.mailing_create(actor=marketer, campaign=CampaignFactory(owner=marketer), static_list=static_list,
                                      subject="Новости", body="Здравствуйте, {first_name}", hourly_limit=LIMIT)
    sink = SmtpSink().start()
    worker = spawn_worker(connection.settings_dict, tmp_path, EMAIL_URL=sink.url, JOB_HEARTBEAT_SECONDS="1",
                          JOB_STALE_SECONDS="4")
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    monkeypatch.setitem(celery_app.conf, "task_default_queue", worker["queue"])
    log = tmp_path / "worker.log"

    def paused_after(sent: int):
        def check():
            current = Mailing.objects.get(pk=mailing.pk)
            return (current.run_token is None and current.next_run_at is not None
                    and mailings.counts(current).sent == sent)
        return check

    try:
        assert mailings.mailing_start(mailing=mailing, actor=marketer, base_url="https://crm.example.com")
        assert wait_for(paused_after(LIMIT), timeout=60), log.read_text()[-3000:]
        time.sleep(3)  # the worker and its ticks have time to overstep, and must not
        scheduler_tick.apply_async(queue=worker["queue"])
        time.sleep(2)
        assert len(sink.messages) == LIMIT

        for expected in (2 * LIMIT, PEOPLE):
            an_hour_passes(mailing)
            scheduler_tick.apply_async(queue=worker["queue"])  # beat's minute tick, sooner
            if expected < PEOPLE:
                assert wait_for(paused_after(expected), timeout=60), log.read_text()[-3000:]
            else:
                assert wait_for(lambda: Mailing.objects.get(pk=mailing.pk).status == MailingStatus.SENT,
                                timeout=60), log.read_text()[-3000:]
            assert len(sink.messages) == expected
    finally:
        stop_worker(worker)
        sink.stop()
    received = Counter(str(message["To"]) for message in sink.messages)
    assert len(received) == PEOPLE and set(received.values()) == {1}
