"""The Celery queues: one default queue and one per kind of heavy work, so a production site can
give each its own worker pool (a mailing of 100,000 does not hold up a password-reset e-mail behind
it, and a long import does not hold up either). `make run` starts one worker that listens to all.

A task says which group it belongs to with `@shared_task(queue_group="mail")`; the router below
sends it to "<default queue>.mail". Names follow the default queue (CELERY_QUEUE, "crm"), so two
sites, or two test runs, on one Redis never share a queue:

    crm          the scheduler tick, webhook deliveries and anything without a group
    crm.mail     every e-mail: the outbox, mailings, replies, surveys
    crm.imports  imports
    crm.reports  exports and scheduled reports (long reads)
"""

from typing import Any

GROUPS = ("mail", "imports", "reports")  # stack.py starts its worker on these too (test_queues checks)


def queue_name(base: str, group: str | None = None) -> str:
    return f"{base}.{group}" if group else base


def all_queues(base: str) -> list[str]:
    return [base, *(queue_name(base, group) for group in GROUPS)]


def route(name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **extra: Any) -> dict[str, str] | None:
    """Celery's router (CELERY_TASK_ROUTES): the task's group queue under the current default queue."""
    group = getattr(task, "queue_group", None)
    if group not in GROUPS:
        return None
    from crm.celery import app

    return {"queue": queue_name(app.conf.task_default_queue, group)}
