"""Tests that run a real Celery worker process against the real Redis broker."""

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.utils import timezone

from crm import scheduler
from crm.celery import app as celery_app
from crm.models import JobStatus
from crm.tasks import scheduler_tick

pytestmark = [pytest.mark.worker, pytest.mark.xdist_group("celery-worker")]
ROOT = Path(__file__).resolve().parents[2]


def database_url(settings_dict) -> str:
    host = settings_dict["HOST"] or "127.0.0.1"
    host = quote(host, safe="") if host.startswith("/") else host
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    auth = quote(settings_dict["USER"] or "", safe="")
    if settings_dict["PASSWORD"]:
        auth += ":" + quote(settings_dict["PASSWORD"], safe="")
    return f"postgres://{auth}@{host}{port}/{settings_dict['NAME']}"


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.db import connection

    queue = f"test-{uuid.uuid4().hex[:10]}"
    node = f"{queue}@localhost"
    var_dir = tmp_path_factory.mktemp("worker-var")
    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "DJANGO_SETTINGS_MODULE": "crm.settings_test",
        "CELERY_QUEUE": queue,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CRM_VAR_DIR": str(var_dir),
    }
    log = open(var_dir / "worker.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "crm", "worker", "-Q", queue, "-n", node, "--pool", "solo",
         "--without-mingle", "--without-gossip", "--loglevel", "INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not celery_app.control.ping(destination=[node], timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("The Celery worker did not start:\n" + (var_dir / "worker.log").read_text())
        yield {"queue": queue, "node": node, "var_dir": var_dir}
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def real_worker(celery_worker_process, monkeypatch):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    return celery_worker_process


@pytest.mark.django_db(transaction=True)
def test_worker_runs_the_scheduler_tick_and_sends_the_mail(real_worker):
    job = scheduler.schedule_job(kind="email", run_at=timezone.now() - timedelta(seconds=5),
                                 payload={"to": ["ann@example.com"], "subject": "From the worker", "body": "Hi"})
    scheduler_tick.apply_async(queue=real_worker["queue"])

    def done():
        job.refresh_from_db()
        return job.status == JobStatus.DONE

    assert wait_for(done), (real_worker["var_dir"] / "worker.log").read_text()[-3000:]
    mails = list((real_worker["var_dir"] / "mail").glob("*.eml"))
    assert len(mails) == 1
    assert "From the worker" in mails[0].read_text()


@pytest.mark.django_db(transaction=True)
def test_healthz_sees_the_worker(client, real_worker):
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    assert json.loads(response.content)["checks"]["worker"] == "ok"


def test_beat_schedule_has_the_tick():
    entry = settings.CELERY_BEAT_SCHEDULE["scheduler-tick"]
    assert entry["task"] == "crm.tasks.scheduler_tick"
    assert entry["schedule"] == 60.0
