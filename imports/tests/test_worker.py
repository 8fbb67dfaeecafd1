"""An import run by a real Celery worker process through the real Redis broker."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contacts.models import Contact, ContactEvent
from contacts.tests.factories import ContactFactory
from crm.celery import app as celery_app
from crm.tests.celery_helpers import wait_for
from imports import services
from imports.models import DuplicatePolicy, ImportedRecord, ImportJob, ImportRow, ImportStatus

pytestmark = [pytest.mark.worker, pytest.mark.xdist_group("celery-worker"), pytest.mark.django_db(transaction=True)]

ROWS = 2500  # three batches of 1,000


@pytest.fixture
def worker(real_worker, monkeypatch, settings):
    # The task enqueued on commit by job_start goes to this worker's private queue, and the upload is
    # stored where the worker reads it (its MEDIA_ROOT is <its var dir>/media).
    monkeypatch.setitem(celery_app.conf, "task_default_queue", real_worker["queue"])
    settings.MEDIA_ROOT = real_worker["var_dir"] / "media"
    return real_worker


def worker_log(worker) -> str:
    return (worker["var_dir"] / "worker.log").read_text()[-3000:]


def upload() -> SimpleUploadedFile:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(["Фамилия", "Имя", "Эл. почта", "Телефон", "ID"])
    for n in range(1, ROWS + 1):
        if n == 1500:
            writer.writerow(["", "Без фамилии", "", "", f"W-{n}"])  # fails
        elif n == 2100:
            writer.writerow(["Рабочий1", "Иван", "worker1@example.com", "", f"W-{n}"])  # repeats row 1
        elif n == 700:
            writer.writerow(["Старый", "Новое имя", "old@example.com", "", f"W-{n}"])  # an existing contact
        else:
            writer.writerow([f"Рабочий{n}", "Иван", f"worker{n}@example.com", "", f"W-{n}"])
    return SimpleUploadedFile("worker.csv", buffer.getvalue().encode("cp1251"))


def test_the_worker_runs_an_import_started_by_the_user(owner, worker):
    existing = ContactFactory(owner=owner, team=owner.team, last_name="Старый", first_name="Прежнее имя",
                              emails=["old@example.com"], phones=[])
    job = services.job_create(user=owner, target="contacts.contact", upload=upload())
    assert (worker["var_dir"] / "media" / job.file_path).exists()
    services.job_set_mapping(job=job, mapping={**job.mapping, "4": "external_id"},
                             duplicate_policy=DuplicatePolicy.UPDATE, clear_empty=False)

    assert services.job_start(job=job)  # enqueued on commit (autocommit here: at once)

    def finished():
        job.refresh_from_db()
        return job.status in (ImportStatus.DONE, ImportStatus.FAILED)

    assert wait_for(finished, timeout=90), worker_log(worker)
    assert job.status == ImportStatus.DONE, job.error
    assert "imports.tasks.run_import" in worker_log(worker)  # run by the worker, not in this process
    # row 2100 repeats row 1, which an earlier batch created: it updates nothing new → skipped
    assert (job.created, job.updated, job.skipped, job.failed) == (ROWS - 3, 1, 1, 1)
    assert job.created + job.updated + job.skipped + job.failed == job.total_rows == ROWS
    assert job.batches_done == 3 and job.rows_done == ROWS
    assert job.file_path == "" and not any((worker["var_dir"] / "media" / "imports").iterdir())

    existing.refresh_from_db()
    assert existing.first_name == "Новое имя" and existing.full_name == "Новое имя Старый"
    assert Contact.objects.filter(owner=owner, deleted_at__isnull=True).count() == ROWS - 3 + 1
    created = Contact.objects.get(last_name="Рабочий42")
    assert created.emails == ["worker42@example.com"] and created.team == owner.team
    assert ImportedRecord.objects.filter(job=job).count() == ROWS - 3 + 1
    assert ImportRow.objects.filter(job=job).count() == ROWS
    failed = ImportRow.objects.get(job=job, action="failed")
    assert failed.row_number == 1500 and "Last name is required" in failed.reason

    # The audit history: one event per created and per updated record, in the import's context
    events = ContactEvent.objects.filter(pgh_context__metadata__import_job=job.pk)
    assert events.filter(pgh_label="insert").count() == ROWS - 3
    assert events.filter(pgh_label="update", pgh_obj=existing).count() == 1
    assert events.first().pgh_context.metadata["source"] == "import"

    # Undo goes through the same records
    report = services.job_undo(job=ImportJob.objects.get(pk=job.pk), actor=owner)
    assert (report["deleted"], report["restored"], report["not_undone"]) == (ROWS - 3, 1, 0)
    existing.refresh_from_db()
    assert existing.first_name == "Прежнее имя"
