"""Chaos: Redis (the broker and the cache) dies and comes back empty under a mailing. A private
redis-server on a free port (never the shared one), a real Celery worker with the production pool
(prefork, two processes) on it, a real SMTP server (marketing.smtp_sink, aiosmtpd on 127.0.0.1).

1. The mailing's task waits in Redis (no worker yet) and Redis restarts empty: the task is lost. The
   worker comes, nothing sends; the scheduler tick (beat's minute tick, sent sooner here) finds the
   mailing nobody holds and sends it to the worker again.
2. Twice while it sends: Redis is SIGKILLed, stays down DOWN_SECONDS, starts again empty (every queue,
   lock and counter gone). Then the task is sent once more, as a Redis that kept its data would
   redeliver it (or an operator's second click): the second pool process must leave the mailing alone.

Afterwards: every address got at most one message, nothing is pending or sending,
sent + unknown + suppressed + failed + pending = recipients, unknown ≤ the rows in flight when Redis
died, and the worker never stopped (it reconnected each time)."""

import time
import uuid

import pytest
from django.db import connection

from contacts.models import Contact
from crm.celery import app as celery_app
from crm.queues import queue_name
from crm.tasks import scheduler_tick
from crm.tests.celery_helpers import (  # noqa: F401 - workers is a fixture
    broker,
    received,
    reset_broker_connections,
    sink_process,
    wait_for,
    workers,
)
from crm.tests.mailing_checks import assert_mailing_sent_once_each
from crm.tests.redis_helpers import PrivateRedis
from marketing import mailings, services
from marketing.models import Delivery, DeliveryStatus, Mailing, MailingStatus
from marketing.tasks import send_mailing
from marketing.tests.factories import CampaignFactory

pytestmark = [pytest.mark.worker, pytest.mark.xdist_group("celery-worker"), pytest.mark.django_db(transaction=True)]

PEOPLE = 3_000
RESTARTS_WHILE_SENDING = 2
DOWN_SECONDS = 3
# The mail server takes this long per message, so the mailing is still sending at the second restart: at full speed
# the 3,000 went out in 9 s in CI, during the first outage, and the test could not see the worker carry on.
SINK_DELAY_MS = 10
CONNECTIONS = 2
FAST = {"JOB_HEARTBEAT_SECONDS": "1", "JOB_STALE_SECONDS": "3", "MARKETING_SMTP_CONNECTIONS": str(CONNECTIONS)}


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


def restart_empty(server: PrivateRedis) -> None:
    """SIGKILL, down for DOWN_SECONDS, then a new empty Redis on the same port."""
    server.kill()
    time.sleep(DOWN_SECONDS)
    server.start()
    reset_broker_connections()  # ours point at the dead one


@pytest.fixture
def slow_smtp_sink(tmp_path):
    with sink_process(tmp_path, delay_ms=SINK_DELAY_MS) as sink:
        yield sink


def test_a_mailing_survives_redis_restarting_empty_and_sends_nobody_two_messages(
        marketer, monkeypatch, private_redis, slow_smtp_sink, workers):  # noqa: F811 - workers is imported above
    Contact.objects.bulk_create([
        Contact(first_name=("Олена", "Тарас", "Ирина", "Глеб")[n % 4], last_name=f"Подписчик{n}",
                emails=[f"subscriber{n}@example.com"], email_opt_in=True, tags=["redis"], owner=marketer,
                team=marketer.team)
        for n in range(PEOPLE)], batch_size=1500)
    segment = services.segment_create(actor=marketer, name="Redis", criteria={"tags": ["redis"]})
    mailing = services.mailing_create(actor=marketer, campaign=CampaignFactory(owner=marketer), segment=segment,
                                      subject="Новости для {first_name}", body="Здравствуйте, {first_name}!")
    port, sink_file = slow_smtp_sink
    queue = f"test-{uuid.uuid4().hex[:10]}"
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    monkeypatch.setitem(celery_app.conf, "task_default_queue", queue)
    env = {"EMAIL_URL": f"smtp://127.0.0.1:{port}?timeout=10", "REDIS_URL": private_redis.url, **FAST}
    in_flight: list[int] = []
    with broker(private_redis.url):
        # 1. The task waits in Redis for a worker; Redis restarts empty and loses it.
        assert mailings.mailing_start(mailing=mailing, actor=marketer, base_url="https://crm.example.com")
        assert private_redis.client().llen(queue_name(queue, "mail")) == 1
        restart_empty(private_redis)
        assert private_redis.client().dbsize() == 0
        worker = workers.start(connection.settings_dict, queue=queue, pool="prefork", concurrency=2, **env)
        time.sleep(1)
        assert received(sink_file) == []  # nothing in the queue: without the tick it would wait forever

        def sending() -> bool:
            if received(sink_file):
                return True
            scheduler_tick.apply_async(queue=queue)  # beat's minute tick, sooner
            time.sleep(1)
            return False

        assert wait_for(sending, timeout=30), workers.log()

        # 2. Twice while it sends, Redis dies and comes back empty.
        for restart in range(1, RESTARTS_WHILE_SENDING + 1):
            target = restart * PEOPLE // (RESTARTS_WHILE_SENDING + 2)  # at about 1/4 and 2/4 of the way
            assert wait_for(lambda target=target: len(received(sink_file)) >= target, timeout=60), workers.log()
            private_redis.kill()
            claimed = set(Delivery.objects.filter(mailing=mailing, status=DeliveryStatus.SENDING).values_list(
                "pk", flat=True))
            in_flight.append(len(claimed))
            before = len(received(sink_file))
            time.sleep(DOWN_SECONDS)
            private_redis.start()
            reset_broker_connections()
            assert worker["process"].poll() is None, workers.log()  # no crash: the worker reconnects
            assert wait_for(lambda: celery_app.control.ping(destination=[worker["node"]], timeout=0.5),
                            timeout=30), workers.log()
            send_mailing.delay(mailing.pk)  # redelivered: the second pool process must do nothing
            assert wait_for(lambda before=before: len(received(sink_file)) > before, timeout=30), workers.log()

        def finished() -> bool:
            if Mailing.objects.get(pk=mailing.pk).status == MailingStatus.SENT:
                return True
            scheduler_tick.apply_async(queue=queue)  # were the task lost, the tick would resume it
            time.sleep(2)
            return False

        assert wait_for(finished, timeout=120), workers.log()
        time.sleep(2)  # the mailing's task acknowledged on a channel that died with the first Redis
        assert worker["process"].poll() is None, workers.log()  # the worker never stopped
        assert celery_app.control.ping(destination=[worker["node"]], timeout=2), workers.log()
    workers.stop_all()

    lines = received(sink_file)
    figures = assert_mailing_sent_once_each(Mailing.objects.get(pk=mailing.pk), lines, people=PEOPLE,
                                            in_flight=in_flight, connections=CONNECTIONS)
    print(f"redis chaos: 1 restart with the task queued, {RESTARTS_WHILE_SENDING} while sending, "  # noqa: T201
          f"in flight {in_flight}, sent {figures.sent}, unknown {figures.unknown}, received {len(lines)}")
