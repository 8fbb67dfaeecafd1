"""The Celery application. Workers: `celery -A crm worker`; beat: `celery -A crm beat`."""

import os
import sys

from celery import Celery, signals

from crm import metrics, observability

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

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
