"""Celery queues (crm/queues.py): each kind of heavy work goes to its own queue under the default
queue's name, so production can give each a worker pool; `make run`'s one worker listens to all."""

import pytest
import redis
from django.conf import settings
from django.utils.module_loading import import_string

import stack
from crm.celery import app
from crm.queues import GROUPS, all_queues, queue_name


def routed(task_name: str) -> str:
    task = import_string(task_name)  # imports the module, which registers the task
    return app.amqp.router.route({}, task_name, (), {}, task)["queue"].name


@pytest.mark.parametrize("task_name, group", [
    ("crm.tasks.send_outbox_mail", "mail"),
    ("marketing.tasks.send_mailing", "mail"),
    ("service.tasks.send_reply", "mail"),
    ("portal.tasks.send_survey", "mail"),
    ("imports.tasks.run_import", "imports"),
    ("exports.tasks.run_export", "reports"),
    ("crm.tasks.scheduler_tick", None),
    ("webhooks.tasks.deliver", None),
])
def test_each_task_goes_to_its_groups_queue(task_name, group):
    assert routed(task_name) == queue_name(settings.CELERY_TASK_DEFAULT_QUEUE, group)


def test_queue_names_follow_the_default_queue_so_two_sites_never_share_one(monkeypatch):
    monkeypatch.setitem(app.conf, "task_default_queue", "site-b")
    assert routed("crm.tasks.send_outbox_mail") == "site-b.mail"
    assert all_queues("site-b") == ["site-b", "site-b.mail", "site-b.imports", "site-b.reports"]


def test_the_launchers_worker_listens_to_every_queue():
    assert stack.QUEUE_GROUPS == GROUPS


@pytest.mark.django_db
def test_a_routed_task_waits_in_its_own_queue_in_redis(monkeypatch):
    base = "test-queues-routing"
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(*all_queues(base))
    monkeypatch.setitem(app.conf, "task_default_queue", base)
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    import_string("crm.tasks.send_outbox_mail").delay(0)
    import_string("crm.tasks.scheduler_tick").delay()
    assert (client.llen(f"{base}.mail"), client.llen(base), client.llen(f"{base}.imports")) == (1, 1, 0)
    client.delete(*all_queues(base))
