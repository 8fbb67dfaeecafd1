"""Writes for imports: upload, mapping, preview, the run (in batches, resumable), undo, cleanup."""

import itertools
import logging
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pghistory
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm import jobs
from crm.phones import user_region
from imports import destinations, reader
from imports.importers import RowOutcome, get_importer, insert_rows
from imports.models import (
    DuplicatePolicy,
    ImportedRecord,
    ImportJob,
    ImportRow,
    ImportStatus,
    MappingTemplate,
    RowAction,
)

log = logging.getLogger(__name__)
PREVIEW_ROWS = 20
ABANDON_AFTER = timedelta(hours=24)  # an upload never started is deleted after this
UNDO_REPORT_LIMIT = 1000


def upload_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports"


def job_path(job: ImportJob) -> Path:
    return Path(settings.MEDIA_ROOT) / job.file_path


def delete_file(job: ImportJob) -> None:
    if job.file_path:
        job_path(job).unlink(missing_ok=True)
        ImportJob.objects.filter(pk=job.pk).update(file_path="")
        job.file_path = ""


# --- Upload and mapping ---------------------------------------------------------------
def job_create(*, user, target: str, upload) -> ImportJob:
    """Stores the upload, reads it once, and creates the job; a refused file leaves nothing behind."""
    importer = get_importer(target)
    file_format = reader.file_format_of(upload.name)
    if upload.size > reader.MAX_UPLOAD_BYTES:
        raise reader.FileRefused(_("The file is larger than 50 MB."))
    directory = upload_dir()
    directory.mkdir(parents=True, exist_ok=True)
    relative = f"imports/{uuid.uuid4().hex}.{file_format}"
    path = Path(settings.MEDIA_ROOT) / relative
    try:
        with path.open("wb") as destination:
            for chunk in upload.chunks():
                destination.write(chunk)
        table = reader.inspect(path, file_format)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    job = ImportJob(user=user, target=target, original_name=Path(upload.name).name[:255], file_path=relative,
                    file_format=file_format, encoding=table.encoding, delimiter=table.delimiter,
                    headers=table.headers, total_rows=table.total_rows, phone_region=user_region(user))
    job.mapping = importer.auto_map(table.headers, importer.fields())
    job.save()
    return job


def job_set_mapping(*, job: ImportJob, mapping: dict[str, str], duplicate_policy: str, clear_empty: bool,
                    phone_region: str | None = None, create_accounts: bool | None = None,
                    chosen_destinations: dict[str, dict | None] | None = None) -> None:
    """`phone_region`: where numbers without a country code are read; None: the user's region.
    `create_accounts`: create the organisations rows name that do not exist (None: unchanged).
    `chosen_destinations`: {destination key: options or None} from the mapping form (None: unchanged)."""
    job.mapping = {k: v for k, v in mapping.items() if v}
    job.duplicate_policy = duplicate_policy
    job.clear_empty = clear_empty
    job.phone_region = phone_region or user_region(job.user)
    if create_accounts is not None:
        job.create_accounts = create_accounts
    if chosen_destinations is not None:
        job.destinations = {key: options for key, options in chosen_destinations.items() if options is not None}
    job.save(update_fields=["mapping", "duplicate_policy", "clear_empty", "phone_region", "create_accounts",
                            "destinations"])


def mapping_template_save(*, job: ImportJob, user, name: str, shared: bool) -> MappingTemplate:
    columns = {reader_header_key(job.headers[int(i)]): key for i, key in job.mapping.items()}
    template, _created = MappingTemplate.objects.update_or_create(
        user=user, target=job.target, name=name, defaults={"columns": columns, "shared": shared})
    return template


def reader_header_key(header: str) -> str:
    from imports.importers import normalise_header

    return normalise_header(header)


def mapping_from_template(job: ImportJob, template: MappingTemplate) -> dict[str, str]:
    return {str(i): template.columns[reader_header_key(h)] for i, h in enumerate(job.headers)
            if reader_header_key(h) in template.columns}


def _data_rows(job: ImportJob):
    iterator = reader.rows(job_path(job), job.file_format, job.encoding, job.delimiter)
    next(iterator, None)  # the header
    return iterator


def job_preview(*, job: ImportJob) -> tuple[list, list[RowOutcome]]:
    """The first rows as they would be saved, with their errors and what would happen; writes nothing."""
    importer = job.importer
    specs = importer.fields()
    importer.prepare(job, specs)
    mapped = [spec for spec in specs if spec.key in set(job.mapping.values())]
    batch = list(zip(itertools.count(1), itertools.islice(_data_rows(job), PREVIEW_ROWS), strict=False))
    with transaction.atomic():
        outcomes = importer.process_batch(job, batch, write=False)
        transaction.set_rollback(True)
    for outcome in outcomes:
        outcome.shown = importer.display(outcome, mapped)
    return mapped, outcomes


def job_plan(*, job: ImportJob) -> list[str]:
    """What the import will do beyond its rows, over the whole file ("7 accounts will be created")."""
    importer = job.importer
    importer.prepare(job, importer.fields())
    plan = importer.plan(job, _data_rows(job))
    return plan + [destination.describe(job, options) for destination, options in destinations.chosen(job)]


# --- The run ------------------------------------------------------------------------------
@transaction.atomic
def job_start(*, job: ImportJob) -> bool:
    # heartbeat_at: when it was queued, so a job no worker picks up shows as stalled and is sent again.
    started = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.MAPPING).update(
        status=ImportStatus.QUEUED, heartbeat_at=timezone.now())
    if started and job.destinations:
        # Each destination settles its options once, as the job's user (a new list is created here).
        job.destinations = {destination.key: destination.start(job, options)
                            for destination, options in destinations.chosen(job)}
        ImportJob.objects.filter(pk=job.pk).update(destinations=job.destinations)
    if started:
        transaction.on_commit(lambda: _send_to_worker(job.pk), robust=True)  # a dead broker: the tick sends it
    return bool(started)


def _send_to_worker(job_id: int) -> None:
    from imports.tasks import run_import

    run_import.delay(job_id)


def _give_up(job_id: int) -> None:
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportStatus.FAILED, finished_at=timezone.now(),
        error="The import stopped its worker every time it ran, at the same place; the rows before it are saved.")
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is not None:
        delete_file(job)


IMPORT_JOBS = jobs.register(jobs.JobKind(
    name="imports", model=ImportJob, waiting=Q(status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING]),
    resend=_send_to_worker, give_up=_give_up,
    on_claim=lambda now: {"status": ImportStatus.RUNNING, "started_at": Coalesce(F("started_at"), now)},
    # No retry: a failed import's file is deleted (the rows before the failure are kept); upload it again.
    label=gettext_lazy("Imports"), failed=Q(status=ImportStatus.FAILED), error_field="error",
    title=lambda job: f"{job.original_name} · {job.user}", related=("user",)))
LostClaim = jobs.LostClaim


def claim(job_id: int, now=None) -> jobs.Run | None:
    """A queued job, or a running one whose worker went silent, is taken by one caller (crm/jobs.py)."""
    return jobs.claim(IMPORT_JOBS.name, job_id, now)


def job_run(*, job_id: int) -> ImportJob | None:
    """Runs (or resumes) an import. Each batch commits its records, its row reports and the job's
    progress together, so a job restarted after a crash continues after the last committed batch."""
    run = claim(job_id)
    if run is None:
        return None
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    try:
        # The row reports are read by the person who ran the import: in their language.
        with translation.override(job.user.language or settings.LANGUAGE_CODE):
            _run_batches(job, run)
    except LostClaim:
        return None
    except Exception as error:
        log.exception("import %s failed", job.pk)
        run.finish(status=ImportStatus.FAILED, error=str(error)[:2000], finished_at=timezone.now())
        job.refresh_from_db()
        delete_file(job)
        return job
    job.refresh_from_db()
    return job


def _run_batches(job: ImportJob, run: jobs.Run) -> None:
    importer = job.importer
    specs = importer.fields()
    importer.prepare(job, specs)
    skip = job.batches_done * job.batch_size
    numbered = zip(itertools.count(skip + 1), itertools.islice(_data_rows(job), skip, None), strict=False)
    language = translation.get_language()

    def read_and_parse():
        # In a thread: reading and validating the next batch (pure Python) overlaps with the
        # database writing the current one (psycopg2 releases the GIL while it waits).
        with translation.override(language):
            return importer.parse_batch(list(itertools.islice(numbered, job.batch_size)))

    # The GIL changes hands every 5 ms by default: each time a query returns, this thread would wait
    # up to that long for the parsing thread to let go (~1,500 queries for 100k rows).
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(min(switch_interval, 0.0005))
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"import-{job.pk}") as pool:
            upcoming = pool.submit(read_and_parse)
            while parsed := upcoming.result():
                upcoming = pool.submit(read_and_parse)
                _run_batch(job, run, importer, parsed)
                job.batches_done += 1
                after_batch(job)
    finally:
        sys.setswitchinterval(switch_interval)
    upload = job_path(job) if job.file_path else None
    # DONE and "no upload any more" in one UPDATE: nobody sees a finished job that still names its file.
    if run.finish(status=ImportStatus.DONE, finished_at=timezone.now(), file_path="") and upload is not None:
        upload.unlink(missing_ok=True)


def _run_batch(job: ImportJob, run: jobs.Run, importer, parsed: list[RowOutcome]) -> None:
    # `actor`: the history names the person who ran the import, not "system".
    with transaction.atomic(), pghistory.context(source="import", import_job=job.pk, actor=job.user_id):
        importer.accounts_created = []
        outcomes = importer.process_batch(job, [], write=True, parsed=parsed)
        insert_rows(ImportRow, ROW_COLUMNS, [_row_record(job, o) for o in outcomes])
        counts = {action: 0 for action in RowAction.values}
        warnings = 0
        for outcome in outcomes:
            counts[outcome.action] += 1
            warnings += bool(outcome.warnings) and outcome.action in (RowAction.CREATED, RowAction.UPDATED)
        destination_counts = _fill_destinations(job, outcomes)
        moved = ImportJob.objects.filter(
            pk=job.pk, run_token=run.token, batches_done=job.batches_done,
        ).update(batches_done=F("batches_done") + 1, rows_done=F("rows_done") + len(outcomes),
                 created=F("created") + counts["created"], updated=F("updated") + counts["updated"],
                 skipped=F("skipped") + counts["skipped"], failed=F("failed") + counts["failed"],
                 warnings=F("warnings") + warnings,
                 accounts_created=F("accounts_created") + len(getattr(importer, "accounts_created", ())),
                 destination_counts=destination_counts, heartbeat_at=timezone.now())
        if moved != 1:
            raise LostClaim  # another worker took the job over: roll this batch back
    job.destination_counts = destination_counts


def _fill_destinations(job: ImportJob, outcomes: list[RowOutcome]) -> dict:
    """Hands the batch's records (created, updated or matched; failed rows have none) to the destinations
    the user chose, in the batch's transaction; returns the job's counts with this batch's added. The
    counts are written by the batch's conditional UPDATE, so a batch rolled back counts nothing."""
    counts = {key: dict(value) for key, value in (job.destination_counts or {}).items()}
    chosen = list(destinations.chosen(job))
    if not chosen:
        return counts
    ids = list(dict.fromkeys(o.record_id for o in outcomes if o.record_id is not None and o.action != RowAction.FAILED))
    for destination, options in chosen:
        added = destination.add(job, options, ids) if ids else 0
        mine = counts.setdefault(destination.key, {"rows": 0, "added": 0})
        mine["rows"] += len(ids)
        mine["added"] += added
    return counts


def after_batch(job: ImportJob) -> None:
    """A seam for tests (a simulated crash between batches)."""


ROW_COLUMNS = ["job", "row_number", "action", "object_id", "previous", "reason", "values"]


def _row_record(job: ImportJob, outcome: RowOutcome) -> tuple:
    """An ImportRow as a tuple in ROW_COLUMNS order (inserted without model instances)."""
    failed = outcome.action == RowAction.FAILED
    return (job.pk, outcome.row_number, outcome.action,
            outcome.object_id if outcome.action in (RowAction.CREATED, RowAction.UPDATED) else None,
            outcome.previous, outcome.reason[:2000], outcome.cells if failed else None)


def destination_results(job: ImportJob) -> list[tuple[str, str, str]]:
    """(text, url, link text) per destination the job filled, for the result page."""
    return [destination.result(job, options, (job.destination_counts or {}).get(destination.key, {}))
            for destination, options in destinations.chosen(job)]


# --- Undo ----------------------------------------------------------------------------------
def job_undo(*, job: ImportJob, actor) -> dict:
    """Rolls the whole import back in one transaction: created records are soft-deleted, updated
    ones get their previous values back — unless changed (or deleted) since the import finished."""
    importer = job.importer
    model = importer.model
    manager = model.objects.editable_by(actor)  # only rows the actor may still change
    now = timezone.now()
    report = {"deleted": 0, "restored": 0, "not_undone": 0, "problems": []}

    def problem(row, reason):
        report["not_undone"] += 1
        if len(report["problems"]) < UNDO_REPORT_LIMIT:
            report["problems"].append({"row": row, "reason": reason})

    with transaction.atomic(), pghistory.context(source="import-undo", import_job=job.pk, actor=actor.pk):
        locked = ImportJob.objects.select_for_update().filter(
            pk=job.pk, status__in=[ImportStatus.DONE, ImportStatus.FAILED]).first()
        if locked is None:
            return {}
        finished = locked.finished_at or now
        created = ImportRow.objects.filter(job=job, action=RowAction.CREATED).values_list("row_number", "object_id")
        for chunk in _chunks(created.order_by("row_number").iterator(chunk_size=2000), 1000):
            row_of = {object_id: row for row, object_id in chunk}
            states = dict(manager.filter(pk__in=row_of).values_list("pk", "updated_at"))
            deletable = [pk for pk, updated in states.items() if updated <= finished]
            deleted = set(manager.filter(pk__in=deletable, deleted_at__isnull=True, updated_at__lte=finished)
                          .values_list("pk", flat=True))
            manager.filter(pk__in=deleted).update(deleted_at=now, updated_at=now)
            report["deleted"] += len(deleted)
            for pk, row in row_of.items():
                if pk in deleted:
                    continue
                problem(row, _("Not removed: the record was changed or deleted after the import.")
                        if pk in states else _("Not removed: the record no longer exists."))
        updated = ImportRow.objects.filter(job=job, action=RowAction.UPDATED).values_list(
            "row_number", "object_id", "previous")
        for chunk in _chunks(updated.order_by("row_number").iterator(chunk_size=2000), 1000):
            objects = manager.in_bulk([object_id for _row, object_id, _prev in chunk])
            restored, fields = [], set()
            for row, object_id, previous in chunk:
                obj = objects.get(object_id)
                if obj is None or obj.deleted_at is not None:
                    problem(row, _("Not restored: the record was deleted after the import."))
                    continue
                if obj.updated_at > finished:
                    problem(row, _("Not restored: the record was changed after the import."))
                    continue
                for attname, value in (previous or {}).items():
                    setattr(obj, attname, model._meta.get_field(attname).to_python(value))
                    fields.add(model._meta.get_field(attname).name)
                importer.finalise(obj)
                obj.updated_at = now
                restored.append(obj)
            if restored:
                manager.bulk_update(restored, fields=sorted(fields | set(importer.derived_fields) | {"updated_at"}))
            report["restored"] += len(restored)
        ImportedRecord.objects.filter(job=job).delete()
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.UNDONE, undone_at=now, undo_report=report)
    job.refresh_from_db()
    delete_file(job)
    return report


def _chunks(iterable, size):
    iterator = iter(iterable)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


# --- Abandoned uploads and silent workers ------------------------------------------------
def job_abandon(*, job: ImportJob) -> bool:
    abandoned = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.MAPPING).update(
        status=ImportStatus.ABANDONED)
    if abandoned:
        delete_file(job)
    return bool(abandoned)


def cleanup(now=None) -> int:
    """Deletes uploads nobody started within a day. (Jobs whose worker went silent are taken over by
    crm/jobs.py's `stalled_jobs` source, which resumes them after the last committed batch.)"""
    now = now or timezone.now()
    count = 0
    for job in ImportJob.objects.filter(status=ImportStatus.MAPPING, created_at__lt=now - ABANDON_AFTER):
        count += job_abandon(job=job)
    return count


__all__ = ["DuplicatePolicy"]
