"""The Celery application. Workers: `celery -A crm worker`; beat: `celery -A crm beat`."""

import logging
import os
import sys

from celery import Celery, signals
from celery.worker.consumer import Consumer as CeleryConsumer

from crm import metrics, observability

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

logger = logging.getLogger(__name__)

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Log lines of a task carry the id of the request that started it; task outcomes are counted.
observability.connect_celery_signals()
metrics.connect_celery_signals()


@signals.worker_init.connect
@signals.beat_init.connect
def refuse_bad_configuration(**kwargs):
    """A configuration error or a data service that does not answer stops the worker (or beat) with
    one sentence, instead of a traceback or endless reconnecting."""
    from crm.preflight import problems

    found = problems()
    for problem in found:
        sys.stderr.write(f"Configuration error: {problem}\n")
    if found:
        sys.stderr.flush()
        os._exit(2)


class Consumer(CeleryConsumer):
    """Celery's consumer, which survives the broker going away while tasks run (Redis restarted).

    Celery 5.7 drops the lost connection (collect, then close) before kombu's Redis channel puts the
    running tasks' unacknowledged messages back, and when such a task ends its ack goes to that
    channel too: with no connection left both raise AttributeError, which is not a connection error,
    so the worker stopped ("Unrecoverable error", killing the tasks it ran) and a supervisor restarting
    it while Redis is down crash-looped (crm.preflight). Here the worker logs it, reconnects, and the
    running tasks' messages are left alone: they stay in Redis's unacked set (back after the visibility
    timeout, as after a crash; an emptied Redis has lost them) and our tasks are safe to run twice
    (marketing/tests/test_redis_restarted.py)."""

    def on_connection_error_after_connected(self, exc):
        from celery.worker.state import active_requests

        for request in tuple(active_requests):
            request.acknowledged = True  # its channel is gone: no ack or reject can reach Redis any more
        try:
            super().on_connection_error_after_connected(exc)
        except AttributeError as error:
            logger.warning("Lost the broker connection (%r); its clean-up failed (%r); reconnecting", exc, error)


app.conf.worker_consumer = "crm.celery:Consumer"
