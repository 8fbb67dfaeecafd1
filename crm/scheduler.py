"""The scheduler: beat runs `crm.tasks.scheduler_tick` every minute; the tick picks due
rows from our own tables and claims each with a compare-and-set UPDATE, so two ticks
running at once (or a tick redelivered after a worker died) never run a row twice.

A module that has due work registers a source: a function `(now) -> int` that claims
and runs its due rows and returns how many it ran. ScheduledJob is the generic source:
one-off jobs of a registered kind ("email" is the first).
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, Q
from django.utils import timezone

from crm.models import JobStatus, ScheduledJob

logger = logging.getLogger(__name__)

STALE_CLAIM = timedelta(minutes=10)  # a claim older than this belongs to a dead worker
MAX_ATTEMPTS = 5
BATCH = 200

JobHandler = Callable[[ScheduledJob], None]
Source = Callable[[datetime], int]

JOB_HANDLERS: dict[str, JobHandler] = {}
SOURCES: dict[str, Source] = {}


def job_handler(kind: str) -> Callable[[JobHandler], JobHandler]:
    def register(func: JobHandler) -> JobHandler:
        JOB_HANDLERS[kind] = func
        return func

    return register


LAST_SOURCES: set[str] = set()


def source(name: str, *, last: bool = False) -> Callable[[Source], Source]:
    """`last`: run after every other source of the tick (the mail outbox sends what they queued)."""

    def register(func: Source) -> Source:
        SOURCES[name] = func
        if last:
            LAST_SOURCES.add(name)
        return func

    return register


def tick(now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    ordered = sorted(SOURCES.items(), key=lambda item: item[0] in LAST_SOURCES)  # a source may import another
    return {name: run_source(now) for name, run_source in ordered}


def claimable(now: datetime) -> Q:
    """Due and waiting, or running under a claim so old that its worker must be dead."""
    return Q(status=JobStatus.PENDING, run_at__lte=now) | Q(status=JobStatus.RUNNING, claimed_at__lt=now - STALE_CLAIM)


def claim_job(job: ScheduledJob, now: datetime) -> bool:
    """Compare-and-set: only the caller whose UPDATE matched the row's old state owns it, and only
    while the row is still claimable (a fresh read of a job another tick just took is not)."""
    matched = ScheduledJob.objects.filter(
        claimable(now), pk=job.pk, status=job.status, claimed_at=job.claimed_at, attempts=job.attempts
    )
    claimed = matched.update(status=JobStatus.RUNNING, claimed_at=now, attempts=F("attempts") + 1)
    return claimed == 1


@source("scheduled_jobs")
def run_due_jobs(now: datetime) -> int:
    due = ScheduledJob.objects.filter(claimable(now))
    ran = 0
    for job in due.order_by("run_at")[:BATCH]:
        if not claim_job(job, now):
            continue  # another tick got it first
        job.refresh_from_db()
        _run(job)
        ran += 1
    return ran


def _run(job: ScheduledJob) -> None:
    handler = JOB_HANDLERS.get(job.kind)
    try:
        if handler is None:
            raise LookupError(f"No handler for job kind {job.kind!r}")
        handler(job)
    except Exception as exc:  # noqa: BLE001 - a failing job must not stop the tick
        logger.exception("Scheduled job %s failed", job.pk)
        final = job.attempts >= MAX_ATTEMPTS or handler is None
        job.status = JobStatus.FAILED if final else JobStatus.PENDING
        job.run_at = timezone.now() + timedelta(minutes=2**job.attempts)
        job.last_error = f"{type(exc).__name__}: {exc}"
        job.save(update_fields=["status", "run_at", "last_error"])
        return
    job.status = JobStatus.DONE
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "finished_at"])


def schedule_job(*, kind: str, run_at: datetime, payload: dict[str, Any]) -> ScheduledJob:
    if kind not in JOB_HANDLERS:
        raise ValueError(f"Unknown job kind {kind!r}")
    return ScheduledJob.objects.create(kind=kind, run_at=run_at, payload=payload)


@job_handler("email")
def send_email_job(job: ScheduledJob) -> None:
    """Payload: to (list), subject, body. Queued in the mail outbox once per job (its key), which sends it
    with retries, even if the job is retried after a worker died mid-run."""
    from django.core.mail import EmailMessage

    from crm import outbox

    payload = job.payload
    outbox.queue(EmailMessage(payload["subject"], payload["body"], to=payload["to"]), key=f"scheduled-job:{job.pk}")
