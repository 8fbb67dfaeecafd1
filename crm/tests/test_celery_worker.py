"""Tests that run a real Celery worker process against the real Redis broker."""

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from crm import scheduler
from crm.models import JobStatus
from crm.tasks import scheduler_tick
from crm.tests.celery_helpers import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.xdist_group("celery-worker")]


@pytest.mark.django_db(transaction=True)
def test_worker_runs_the_scheduler_tick_and_sends_the_mail(real_worker):
    job = scheduler.schedule_job(kind="email", run_at=timezone.now() - timedelta(seconds=5),
                                 payload={"to": ["ann@example.com"], "subject": "From the worker", "body": "Hi"})
    scheduler_tick.apply_async(queue=real_worker["queue"])

    def done():
        job.refresh_from_db()
        return job.status == JobStatus.DONE

    assert wait_for(done), (real_worker["var_dir"] / "worker.log").read_text()[-3000:]
    mails = [path for path in (real_worker["var_dir"] / "mail").glob("*.eml") if "From the worker" in path.read_text()]
    assert len(mails) == 1


@pytest.mark.django_db(transaction=True)
def test_healthz_sees_the_worker(client, real_worker):
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    assert json.loads(response.content)["checks"]["worker"] == "ok"


def test_beat_schedule_has_the_tick():
    entry = settings.CELERY_BEAT_SCHEDULE["scheduler-tick"]
    assert entry["task"] == "crm.tasks.scheduler_tick"
    assert entry["schedule"] == 60.0
