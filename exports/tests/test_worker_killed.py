"""A real Celery worker killed with SIGKILL in the middle of an export: the scheduler tick, run by a
second real worker, takes the job over within seconds (the stale limit is lowered for the test), and
exactly one whole file is left."""

import csv
import time

import pytest
from django.db import connection

from accounts.models import Account
from crm.celery import app as celery_app
from crm.tasks import scheduler_tick
from crm.tests.celery_helpers import spawn_worker, stop_worker, wait_for
from exports import services
from exports.models import ExportStatus

pytestmark = [pytest.mark.worker, pytest.mark.xdist_group("celery-worker"), pytest.mark.django_db(transaction=True)]

ROWS = 25_000
FAST = {"JOB_HEARTBEAT_SECONDS": "1", "JOB_STALE_SECONDS": "4"}


def test_an_export_whose_worker_is_killed_is_finished_by_another_with_one_file(owner, tmp_path, monkeypatch,
                                                                             settings):
    Account.objects.bulk_create([Account(name=f"Killed export {n:05d}", owner=owner, team=owner.team)
                                 for n in range(ROWS)], batch_size=5000)
    for name in ("shared-var", "first", "second"):
        (tmp_path / name).mkdir()
    shared = tmp_path / "shared-var"
    first = spawn_worker(connection.settings_dict, tmp_path / "first", CRM_VAR_DIR=str(shared), **FAST)
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    monkeypatch.setitem(celery_app.conf, "task_default_queue", first["queue"])
    settings.MEDIA_ROOT = shared / "media"
    exports_dir = shared / "media" / "exports"
    second = None
    try:
        job = services.export_start(user=owner, target="accounts.account", query="", format="csv")

        def progressing():
            job.refresh_from_db()
            return job.status == ExportStatus.RUNNING and job.processed_rows >= 2000

        assert wait_for(progressing, timeout=60), (tmp_path / "first" / "worker.log").read_text()[-3000:]
        stop_worker(first, kill=True)  # SIGKILL: no clean-up code runs
        job.refresh_from_db()
        assert job.status == ExportStatus.RUNNING and 0 < job.processed_rows < ROWS
        leftovers = [path.name for path in exports_dir.iterdir()]
        assert len(leftovers) == 1 and leftovers[0].endswith(".part")  # the half-written file
        killed_at = time.monotonic()

        second = spawn_worker(connection.settings_dict, tmp_path / "second", CRM_VAR_DIR=str(shared), **FAST)

        def finished():
            scheduler_tick.apply_async(queue=second["queue"])  # beat's minute tick, sooner
            job.refresh_from_db()
            return job.status == ExportStatus.DONE

        assert wait_for(finished, timeout=90), (tmp_path / "second" / "worker.log").read_text()[-3000:]
        taken_over_in = time.monotonic() - killed_at
        assert job.run_attempts == 2 and job.run_token is None and job.processed_rows == ROWS
        assert [path.name for path in exports_dir.iterdir()] == [job.path.name]  # one finished file, no part
        with open(job.path, encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
        assert len(rows) == ROWS + 1 and len({row[0] for row in rows[1:]}) == ROWS
        log = (tmp_path / "second" / "worker.log").read_text()
        assert "no heartbeat since" in log and "exports.tasks.run_export" in log
        print(f"taken over and finished {taken_over_in:.1f} s after the kill")  # noqa: T201 - in the note
    finally:
        if first["process"].poll() is None:
            stop_worker(first, kill=True)
        if second is not None:
            stop_worker(second)
