"""Chaos: a mailing to 5,000 people, a real Celery worker (Redis broker) SIGKILLed three times while
it sends to a real SMTP server (marketing.smtp_sink, aiosmtpd on 127.0.0.1, in its own process), and
started again each time. The scheduler tick of the new worker takes the mailing over within seconds
(the stale limit is lowered for the test). Afterwards: every address got at most one message, nothing
is pending or sending, unknown ≤ the rows that were in flight at the kills, and
sent + unknown + suppressed + failed + pending = recipients."""

import subprocess
import sys
import time
from collections import Counter

import pytest
from django.db import connection

from contacts.models import Contact
from crm.celery import app as celery_app
from crm.tasks import scheduler_tick
from crm.tests.celery_helpers import spawn_worker, stop_worker, wait_for
from crm.tests.mail_helpers import free_port
from marketing import mailings, services
from marketing.models import Delivery, DeliveryStatus, Mailing, MailingStatus
from marketing.tests.factories import CampaignFactory

pytestmark = [pytest.mark.worker, pytest.mark.xdist_group("celery-worker"), pytest.mark.django_db(transaction=True)]

PEOPLE = 5_000
KILLS = 3
CONNECTIONS = 2
FAST = {"JOB_HEARTBEAT_SECONDS": "1", "JOB_STALE_SECONDS": "3", "MARKETING_SMTP_CONNECTIONS": str(CONNECTIONS)}


def received(path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def test_a_mailing_whose_worker_is_killed_three_times_sends_nobody_two_messages(marketer, tmp_path, monkeypatch):
    Contact.objects.bulk_create([
        Contact(first_name=("Анна", "Пётр", "Ярослава", "Богдан")[n % 4], last_name=f"Читатель{n}",
                emails=[f"reader{n}@example.com"], email_opt_in=True, tags=["хаос"], owner=marketer,
                team=marketer.team)
        for n in range(PEOPLE)], batch_size=2500)
    segment = services.segment_create(actor=marketer, name="Хаос", criteria={"tags": ["хаос"]})
    mailing = services.mailing_create(actor=marketer, campaign=CampaignFactory(owner=marketer), segment=segment,
                                      subject="Новости для {first_name}", body="Здравствуйте, {first_name}!")
    sink_file = tmp_path / "received.txt"
    port = free_port()
    sink = subprocess.Popen([sys.executable, "-m", "marketing.smtp_sink", str(port), str(sink_file)],  # noqa: S603
                            stdout=subprocess.PIPE, text=True)
    assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
    env = {"EMAIL_URL": f"smtp://127.0.0.1:{port}?timeout=10", **FAST}
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    workers = []

    def start_worker():
        directory = tmp_path / f"worker{len(workers)}"
        directory.mkdir()
        worker = spawn_worker(connection.settings_dict, directory, **env)
        workers.append(worker)
        return worker

    in_flight: list[int] = []
    in_flight_ids: set[int] = set()
    try:
        worker = start_worker()
        monkeypatch.setitem(celery_app.conf, "task_default_queue", worker["queue"])
        assert mailings.mailing_start(mailing=mailing, actor=marketer, base_url="https://crm.example.com")
        for kill in range(1, KILLS + 1):
            target = kill * PEOPLE // (KILLS + 2)  # killed at about 1/5, 2/5 and 3/5 of the way
            log = worker["var_dir"] / "worker.log"
            assert wait_for(lambda target=target: len(received(sink_file)) >= target, timeout=120), \
                log.read_text()[-3000:]
            stop_worker(worker, kill=True)  # SIGKILL: no handler, no clean-up
            claimed = set(Delivery.objects.filter(mailing=mailing, status=DeliveryStatus.SENDING).values_list("pk",
                                                                                                           flat=True))
            in_flight.append(len(claimed))
            in_flight_ids.update(claimed)
            worker = start_worker()
            before = len(received(sink_file))

            def resumed(before=before, worker=worker):
                if len(received(sink_file)) > before:
                    return True
                scheduler_tick.apply_async(queue=worker["queue"])  # beat's minute tick, sooner
                time.sleep(1)
                return False

            assert wait_for(resumed, timeout=60), (worker["var_dir"] / "worker.log").read_text()[-3000:]
        assert wait_for(lambda: Mailing.objects.get(pk=mailing.pk).status == MailingStatus.SENT, timeout=300), \
            (worker["var_dir"] / "worker.log").read_text()[-3000:]
    finally:
        for worker in workers:
            if worker["process"].poll() is None:
                stop_worker(worker)
            elif not worker["log"].closed:
                worker["log"].close()
        sink.terminate()
        sink.wait(timeout=30)

    lines = received(sink_file)
    per_address = Counter(line.split(" ", 1)[0] for line in lines)
    assert max(per_address.values()) == 1  # nobody got two messages
    figures = mailings.counts(Mailing.objects.get(pk=mailing.pk))
    assert figures.recipients == PEOPLE and figures.pending == 0 and figures.sending == 0
    assert figures.sent + figures.unknown + figures.suppressed + figures.failed + figures.pending == figures.recipients
    # Each kill left at most one batch per connection in flight; exactly those rows became unknown.
    assert all(0 <= rows <= mailings.BATCH * CONNECTIONS for rows in in_flight)
    assert figures.unknown <= sum(in_flight)
    # A row caught in flight may have reached the server: it is never sent again, only counted unknown.
    assert set(Delivery.objects.filter(pk__in=in_flight_ids).values_list("status", flat=True)) == {
        DeliveryStatus.UNKNOWN}
    sent = set(Delivery.objects.filter(mailing=mailing, status=DeliveryStatus.SENT).values_list("email", flat=True))
    unknown = set(Delivery.objects.filter(mailing=mailing, status=DeliveryStatus.UNKNOWN).values_list("email",
                                                                                                      flat=True))
    assert sent <= set(per_address) <= sent | unknown  # every "sent" arrived; whatever arrived was sent or unknown
    assert figures.failed == 0 and figures.sent >= PEOPLE - sum(in_flight)
    print(f"chaos: {KILLS} kills, in flight {in_flight}, sent {figures.sent}, unknown {figures.unknown}, "  # noqa: T201
          f"received {len(lines)}")
