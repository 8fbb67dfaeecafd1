"""What the background work is doing, for the admins' page (Administration → Background work).

Each source of background work is one `Source`: how many of its jobs wait, run, stalled (their
worker died; the scheduler tick takes them over within a minute) or failed lately, the rows worth
looking at (failed and stalled first), and, where a failed job can simply run again, a retry.

The core's own sources are the mail outbox and the scheduled jobs. Every heartbeat job kind
(crm/jobs.py: exports, imports, mailings) is a source by registering its `JobKind`; a module with
other background work (webhook deliveries) registers a source in its `background.py`.
"""

import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from crm import jobs, outbox
from crm.models import JobStatus, OutboxMail, OutboxStatus, ScheduledJob

RECENT = timedelta(days=7)  # failures older than this are history, not work
ROWS = 20

WAITING, RUNNING, STALLED, FAILED, RETRYING = "waiting", "running", "stalled", "failed", "retrying"
STATE_LABELS = {
    WAITING: _("Waiting"), RUNNING: _("Running"), STALLED: _("Stalled"), FAILED: _("Failed"),
    RETRYING: _("Retrying"),
}


@dataclass(frozen=True)
class Row:
    pk: int
    title: str
    state: str
    at: datetime | None  # the last sign of life: heartbeat, attempt or due time
    attempts: int = 0
    error: str = ""
    url: str = ""
    can_retry: bool = False

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])


@dataclass(frozen=True)
class Source:
    key: str
    label: str | Promise
    counts: Callable[[datetime], dict[str, int]]  # state -> how many
    rows: Callable[[datetime], list[Row]]
    # (pk, admin) -> True: a failed job queued again; False: it is not failed; None: there is no such job.
    retry: Callable[[int, Any], bool | None] | None = None
    note: str | Promise = ""


SOURCES: dict[str, Source] = {}


def register(source: Source) -> Source:
    SOURCES[source.key] = source
    return source


def tally(manager: Any, states: dict[str, Q]) -> dict[str, int]:
    """How many rows are in each state, in one query (a filtered COUNT per state)."""
    either = functools.reduce(operator.or_, states.values())
    counts = {state: Count("pk", filter=condition) for state, condition in states.items()}
    return manager.filter(either).aggregate(**counts)


def sources() -> list[Source]:
    """Every source: the registered ones, then one per heartbeat job kind that has a label."""
    found = dict(SOURCES)
    for kind in jobs.KINDS.values():
        if kind.label and kind.name not in found:
            found[kind.name] = job_kind_source(kind)
    return sorted(found.values(), key=lambda source: str(source.label))


# --- Heartbeat jobs (crm/jobs.py) ---------------------------------------------------------------


def job_kind_source(kind: jobs.JobKind) -> Source:
    manager = kind.model._default_manager.all()
    if kind.related:
        manager = manager.select_related(*kind.related)
    failed = kind.failed if kind.failed is not None else Q(pk__in=[])

    def stale(now: datetime) -> Q:
        return Q(heartbeat_at__lt=now - jobs.stale_after()) | Q(heartbeat_at__isnull=True, run_token__isnull=False)

    def counts(now: datetime) -> dict[str, int]:
        waiting = kind.waiting & ~stale(now)
        return tally(manager, {
            WAITING: waiting & Q(run_token__isnull=True),
            RUNNING: waiting & Q(run_token__isnull=False),
            STALLED: kind.waiting & stale(now),
            FAILED: failed & Q(heartbeat_at__gte=now - RECENT),
        })

    def row(job: Any, state: str) -> Row:
        return Row(pk=job.pk, title=kind.title(job), state=state, at=job.heartbeat_at, attempts=job.run_attempts,
                   error=getattr(job, kind.error_field, "") if kind.error_field else "",
                   url=job.get_absolute_url() if hasattr(job, "get_absolute_url") else "",
                   can_retry=state == FAILED and kind.retry is not None)

    def rows(now: datetime) -> list[Row]:
        recent_failures = failed & Q(heartbeat_at__gte=now - RECENT)
        found = manager.filter(recent_failures | kind.waiting).annotate(
            is_failed=ExpressionWrapper(recent_failures, output_field=BooleanField()))
        return [row(job, FAILED if job.is_failed else state_of(job, now))
                for job in found.order_by("-is_failed", "-heartbeat_at")[:ROWS]]

    def state_of(job: Any, now: datetime) -> str:
        return STALLED if jobs.is_stalled(job, now) else (RUNNING if job.run_token else WAITING)

    def retry(pk: int, actor: Any) -> bool | None:
        if not kind.model._default_manager.filter(pk=pk).exists():
            return None
        return kind.retry(pk) if kind.retry else False

    return Source(key=kind.name, label=kind.label, counts=counts, rows=rows, retry=retry if kind.retry else None)


# --- The mail outbox (crm/outbox.py) ------------------------------------------------------------


def _outbox_counts(now: datetime) -> dict[str, int]:
    return tally(OutboxMail.objects, {
        WAITING: Q(status=OutboxStatus.QUEUED, attempts=0),
        RETRYING: Q(status=OutboxStatus.QUEUED, attempts__gt=0),
        RUNNING: Q(status=OutboxStatus.SENDING),
        FAILED: Q(status=OutboxStatus.FAILED, failed_at__gte=now - RECENT),
    })


def _outbox_rows(now: datetime) -> list[Row]:
    trouble = (OutboxMail.objects.filter(Q(status=OutboxStatus.FAILED, failed_at__gte=now - RECENT)
                                         | Q(status=OutboxStatus.QUEUED, attempts__gt=0))
               .only("pk", "subject", "recipients", "status", "attempts", "last_error", "failed_at", "next_attempt_at")
               .order_by("-failed_at", "-pk")[:ROWS])
    return [Row(pk=mail.pk, title=f"{mail.subject} → {', '.join(mail.recipients)}",
                state=FAILED if mail.status == OutboxStatus.FAILED else RETRYING,
                at=mail.failed_at if mail.status == OutboxStatus.FAILED else mail.next_attempt_at,
                attempts=mail.attempts, error=mail.last_error, can_retry=mail.status == OutboxStatus.FAILED)
            for mail in trouble]


def _outbox_retry(pk: int, actor: Any) -> bool | None:
    """A failed e-mail goes back in the queue with a fresh set of attempts, and is sent at once."""
    if not OutboxMail.objects.filter(pk=pk).exists():
        return None
    retried = OutboxMail.objects.filter(pk=pk, status=OutboxStatus.FAILED).update(
        status=OutboxStatus.QUEUED, attempts=0, next_attempt_at=timezone.now(), claimed_at=None)
    if retried:
        transaction.on_commit(lambda: outbox.send_soon(pk), robust=True)
    return bool(retried)


register(Source(key="outbox", label=_("Outgoing e-mail"), counts=_outbox_counts, rows=_outbox_rows,
                retry=_outbox_retry,
                note=_("Every e-mail waits here until the mail server accepts it; refused ones are tried again "
                       "with growing pauses, and marked failed after the last attempt.")))


# --- Scheduled jobs (crm/scheduler.py) ----------------------------------------------------------


def _scheduled_counts(now: datetime) -> dict[str, int]:
    return tally(ScheduledJob.objects, {
        WAITING: Q(status=JobStatus.PENDING, run_at__lte=now),
        RUNNING: Q(status=JobStatus.RUNNING),
        FAILED: Q(status=JobStatus.FAILED, run_at__gte=now - RECENT),
    })


def _scheduled_rows(now: datetime) -> list[Row]:
    trouble = (ScheduledJob.objects.filter(Q(status=JobStatus.FAILED, run_at__gte=now - RECENT)
                                           | Q(status=JobStatus.PENDING, run_at__lte=now) | Q(status=JobStatus.RUNNING))
               .order_by("-run_at")[:ROWS])
    states = {JobStatus.FAILED: FAILED, JobStatus.PENDING: WAITING, JobStatus.RUNNING: RUNNING}
    return [Row(pk=job.pk, title=job.kind, state=states[job.status], at=job.run_at, attempts=job.attempts,
                error=job.last_error, can_retry=job.status == JobStatus.FAILED)
            for job in trouble]


def _scheduled_retry(pk: int, actor: Any) -> bool | None:
    if not ScheduledJob.objects.filter(pk=pk).exists():
        return None
    return bool(ScheduledJob.objects.filter(pk=pk, status=JobStatus.FAILED).update(
        status=JobStatus.PENDING, run_at=timezone.now(), attempts=0, claimed_at=None))


register(Source(key="scheduled", label=_("Scheduled jobs"), counts=_scheduled_counts, rows=_scheduled_rows,
                retry=_scheduled_retry,
                note=_("One-off jobs the scheduler runs when they are due (every minute); a failed one is "
                       "tried again with growing pauses, five times.")))


@dataclass
class Overview:
    """The page's headline: the scheduler's pulse and the Celery queues."""

    tick_age: float | None = None  # seconds since the scheduler tick last ran; None: never or unknown
    queues: list[tuple[str, int]] = field(default_factory=list)
    redis_ok: bool = True
    replica: Any = None  # crm.replica.ReplicaStatus, measured for the page


def overview() -> Overview:
    import time

    from django.conf import settings

    from crm import metrics, replica
    from crm.queues import all_queues

    result = Overview(replica=replica.measure())
    try:
        client = metrics._redis()
        result.queues = [(name, client.llen(name)) for name in all_queues(settings.CELERY_TASK_DEFAULT_QUEUE)]
        if last := client.get(metrics.TICK_KEY):
            result.tick_age = max(0.0, time.time() - float(last))
    except Exception:  # noqa: BLE001 - Redis down: the page says so and shows what the database knows
        result.redis_ok = False
    return result
