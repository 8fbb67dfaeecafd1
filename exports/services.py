"""Exports run as Celery jobs: the file is written on the server, downloadable by its
requester only, for 24 hours. Each job row is the audit record (who, what, how many rows)."""

import csv
import logging
import zoneinfo
from datetime import date, datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm import custom_fields, jobs, scheduler, security
from crm.list_tools import neutralise
from crm.models import SecurityEventKind
from exports.models import DOWNLOAD_LIFETIME, ExportFormat, ExportJob, ExportStatus
from exports.registry import EXPORTERS, filtered_rows

logger = logging.getLogger(__name__)

PROGRESS_EVERY = 1000


@transaction.atomic
def export_start(*, user, target: str, query: str, format: str) -> ExportJob:
    if target not in EXPORTERS:
        raise ValueError(f"Unknown export {target!r}")
    if format not in ExportFormat.values:
        format = ExportFormat.CSV
    # heartbeat_at: when it was queued, so a job no worker picks up is sent again by the tick.
    job = ExportJob.objects.create(user=user, target=target, query=query[:1000], format=format,
                                   heartbeat_at=timezone.now())
    security.log(SecurityEventKind.EXPORT, user=user, target=target, format=format, job=job.pk)
    transaction.on_commit(lambda: _send_to_worker(job.pk), robust=True)  # a dead broker: the tick sends it
    return job


def _send_to_worker(job_id: int) -> None:
    from exports.tasks import run_export

    run_export.delay(job_id)


def _give_up(job_id: int) -> None:
    job = ExportJob.objects.filter(pk=job_id).first()
    if job is None:
        return
    job.remove_partial_files()
    ExportJob.objects.filter(pk=job_id).update(
        status=ExportStatus.FAILED, finished_at=timezone.now(),
        error="The export stopped its worker every time it ran; try a smaller selection.")


def _retry(job_id: int) -> bool:
    """A failed export is queued again as it was asked for (the admins' Background work page)."""
    job = ExportJob.objects.filter(pk=job_id, status=ExportStatus.FAILED).first()
    if job is None:
        return False
    job.remove_partial_files()
    retried = ExportJob.objects.filter(pk=job_id, status=ExportStatus.FAILED).update(
        status=ExportStatus.QUEUED, error="", run_token=None, run_attempts=0, heartbeat_at=timezone.now(),
        processed_rows=0, finished_at=None)
    if retried:
        transaction.on_commit(lambda: _send_to_worker(job_id), robust=True)
    return bool(retried)


def _title(job: ExportJob) -> str:
    label = EXPORTERS[job.target].label if job.target in EXPORTERS else job.target
    return f"{label} ({job.format.upper()}) · {job.user}"


EXPORT_JOBS = jobs.register(jobs.JobKind(
    name="exports", model=ExportJob, waiting=Q(status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]),
    resend=_send_to_worker, give_up=_give_up,
    on_claim=lambda now: {"status": ExportStatus.RUNNING, "started_at": now, "processed_rows": 0},
    label=gettext_lazy("Exports"), failed=Q(status=ExportStatus.FAILED), error_field="error", title=_title,
    related=("user",), retry=_retry))


def _columns(target: str):
    columns = list(EXPORTERS[target].columns)
    for definition in custom_fields.definitions(target):
        columns.append((definition.shown_label, lambda row, key=definition.key: (row.custom or {}).get(key)))
    return columns


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")  # in the reader's language; the importer reads both back
    if isinstance(value, datetime):
        # The reader's time zone (run_export sets it), with its offset, so the value is unambiguous.
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M %z")
    return value if isinstance(value, int | float) else neutralise(value)


def run_export(job_id: int) -> None:
    """Claims the job (crm/jobs.py), writes the file under a temporary name and renames it when it is
    whole. Idempotent: a job done, or held by a live worker, is left alone; a job whose worker died
    is restarted from the beginning (the dead run's partial file is removed)."""
    run = jobs.claim(EXPORT_JOBS.name, job_id)
    if run is None:
        return
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    try:
        # Headers in the reader's language, times in their time zone (the headers say which).
        with translation.override(job.user.language or settings.LANGUAGE_CODE), \
                timezone.override(zoneinfo.ZoneInfo(job.user.time_zone or settings.TIME_ZONE)):
            count = _write(job, run)
    except jobs.LostClaim:
        logger.warning("Export %s was taken over by another worker", job_id)
        return
    except Exception as error:
        logger.exception("Export %s failed", job_id)
        run.finish(status=ExportStatus.FAILED, error=str(error)[:1000], finished_at=timezone.now())
        return
    finished = timezone.now()
    label = job.target.split(".")[-1] + "s"
    run.finish(status=ExportStatus.DONE, processed_rows=count, total_rows=count, finished_at=finished,
               expires_at=finished + DOWNLOAD_LIFETIME,
               file_name=f"{label}-{timezone.localtime(finished):%Y-%m-%d}.{job.format}")


def _write(job: ExportJob, run: jobs.Run) -> int:
    rows = filtered_rows(EXPORTERS[job.target], job.user, job.query)
    run.beat(total_rows=rows.count())
    job.path.parent.mkdir(parents=True, exist_ok=True)
    job.remove_partial_files()  # a dead run's leftovers: this run starts over
    partial = job.partial_path(run.token)
    columns = _columns(job.target)
    headers = _headers(columns, rows)
    writer = _write_xlsx if job.format == ExportFormat.XLSX else _write_csv
    try:
        count = writer(partial, job, rows, columns, headers, run)
        run.beat(processed_rows=count)  # still ours? A worker taken over must not publish its file
    except Exception:
        partial.unlink(missing_ok=True)  # (a killed worker leaves it: the next run removes it)
        raise
    partial.replace(job.path)  # atomic: readers see no file or the whole file
    return count


HEADER_SAMPLE = 200


def _headers(columns, rows) -> list[str]:
    """The column names in the reader's language; a column of times says in which time zone they are
    (the reader's, active while the export runs), found from the first rows."""
    sample = list(rows[:HEADER_SAMPLE])
    zone = timezone.get_current_timezone_name()
    headers = []
    for header, get in columns:
        text = str(header)
        if any(isinstance(get(row), datetime) for row in sample):
            text = _("%(column)s (time zone %(zone)s)") % {"column": text, "zone": zone}
        headers.append(text)
    return headers


def _progress(run: jobs.Run, count: int) -> None:
    if count % PROGRESS_EVERY == 0:
        run.beat(processed_rows=count)
    else:
        run.beat()  # at most one UPDATE every JOB_HEARTBEAT_SECONDS
    after_row(count)


def after_row(count: int) -> None:
    """A seam for tests (a worker that dies mid-export)."""


def _write_csv(path, job, rows, columns, headers, run) -> int:
    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:  # BOM: Excel reads UTF-8
        writer = csv.writer(handle, lineterminator="\r\n")  # RFC 4180
        writer.writerow(headers)
        for row in rows.iterator(chunk_size=2000):
            writer.writerow([_cell(get(row)) for _header, get in columns])
            count += 1
            _progress(run, count)
    return count


def _write_xlsx(path, job, rows, columns, headers, run) -> int:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=job.target.split(".")[-1].capitalize()[:30])
    sheet.append(headers)
    count = 0
    for row in rows.iterator(chunk_size=2000):
        sheet.append([_xlsx_cell(sheet, get(row)) for _header, get in columns])
        count += 1
        _progress(run, count)
    workbook.save(path)
    return count


def _xlsx_cell(sheet, value):
    """A typed cell: dates and times as dates with a number format (times in the reader's time
    zone), numbers as numbers, yes/no as booleans, everything else as text. A text cell is never
    read as a formula, so "=…" stays exactly what was typed, without an apostrophe."""
    from decimal import Decimal

    from openpyxl.cell import WriteOnlyCell

    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=timezone.localtime(value).replace(tzinfo=None))
        cell.number_format = "yyyy-mm-dd hh:mm"
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    cell = WriteOnlyCell(sheet, value=str(value))
    cell.data_type = "s"  # text, even when it starts with "=": Excel shows it, never runs it
    return cell


@scheduler.source("expired_exports")
def delete_expired_files(now: datetime) -> int:
    """Downloads expire: their files are removed; the job row stays as the audit record."""
    removed = 0
    for job in ExportJob.objects.filter(status=ExportStatus.DONE, expires_at__lte=now).exclude(file_name="")[:200]:
        job.path.unlink(missing_ok=True)
        ExportJob.objects.filter(pk=job.pk).update(file_name="")
        removed += 1
    return removed
