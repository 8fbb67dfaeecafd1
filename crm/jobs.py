"""Background jobs that survive a dead worker: one claim, a heartbeat, and a takeover.

Every long job (an export, an import, a mailing) is a row of a model that inherits
`crm.models.HeartbeatJob` and a `JobKind` registered here by its module. The machinery is the same
for all of them:

1. `claim(kind, pk)` takes the job with a compare-and-set UPDATE: a job that waits for a worker
   (`run_token` empty), or one whose worker has not beaten for `stale_after()` (it died: kill -9,
   out of memory, the machine rebooted). The claim writes a fresh `run_token`; of two callers
   (a redelivered task, a task sent again by the tick) only one UPDATE matches.
2. While it runs, the job calls `run.beat()` often (cheap: at most one UPDATE every
   JOB_HEARTBEAT_SECONDS, or whenever it reports progress). The UPDATE only matches while the token
   is still ours: a worker that was thought dead and taken over gets `LostClaim` at its next beat
   and stops without touching the job's output.
3. `run.finish(**fields)` writes the outcome and clears the token, again only if it is still ours.
4. The scheduler source `stalled_jobs` (every tick) finds jobs whose heartbeat is older than
   `stale_after()`: it releases the dead claim and sends the job's task again (on commit), or gives
   the job up after `max_attempts` claims (a job that kills its worker every time). The task claims
   it, and the module's run resumes (an import continues after its last committed batch) or restarts
   cleanly (an export removes the dead run's partial file and writes its own under a temporary name).

A job that was queued but never picked up (the broker lost the message) is sent again the same way.
"""

import functools
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from crm import scheduler

logger = logging.getLogger(__name__)

BATCH = 100


class LostClaim(Exception):
    """Another worker took the job over (ours was thought dead): stop, and leave its output alone."""


def stale_after() -> timedelta:
    """A job not heard from for this long lost its worker."""
    return timedelta(seconds=getattr(settings, "JOB_STALE_SECONDS", 60))


def beat_every() -> float:
    return float(getattr(settings, "JOB_HEARTBEAT_SECONDS", 10))


@dataclass(frozen=True)
class JobKind:
    """What the machinery needs to know about one kind of job.

    waiting: the rows that still have work (queued or running), e.g. Q(status__in=["queued", "running"]).
    on_claim: the fields a claim sets besides the token (status "running", started_at...).
    resend: enqueues the job's task again (called after the tick's transaction commits).
    give_up: marks the job failed after `max_attempts` claims that all ended with a dead worker.

    For the admins' Background work page (crm/background.py), when `label` is set:
    failed: the rows that ended in failure; error_field: where their error is written;
    title: one line naming a job (`related`: what it reads, loaded with the rows);
    retry: queues a failed job again (True) or does nothing (False).
    """

    name: str
    model: type[models.Model]
    waiting: Q
    resend: Callable[[int], None]
    give_up: Callable[[int], None]
    on_claim: Callable[[datetime], dict[str, Any]] = field(default=lambda now: {})
    max_attempts: int = 5
    label: Any = ""  # str or lazy translation
    failed: Q | None = None
    error_field: str = ""
    title: Callable[[Any], str] = str
    related: tuple[str, ...] = ()
    retry: Callable[[int], bool] | None = None


KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    KINDS[kind.name] = kind
    return kind


@dataclass
class Run:
    """One worker's hold on one job."""

    kind: JobKind
    pk: int
    token: uuid.UUID
    last_beat: float = field(default_factory=time.monotonic)

    def _mine(self) -> models.QuerySet[Any]:
        return self.kind.model._default_manager.filter(pk=self.pk, run_token=self.token)

    def beat(self, **fields: Any) -> None:
        """Tells the others this worker is alive (and records progress, if given). Raises LostClaim
        when the job was taken over meanwhile."""
        if not fields and time.monotonic() - self.last_beat < beat_every():
            return
        if not self._mine().update(heartbeat_at=timezone.now(), **fields):
            raise LostClaim(f"{self.kind.name} {self.pk}")
        self.last_beat = time.monotonic()

    def finish(self, **fields: Any) -> bool:
        """Records the outcome and lets go of the job; False when it was no longer ours."""
        return bool(self._mine().update(run_token=None, heartbeat_at=timezone.now(), **fields))


def claim(kind_name: str, pk: int, now: datetime | None = None) -> Run | None:
    """Takes a waiting job whose worker is gone (or that has none yet); None when someone else holds it."""
    kind = KINDS[kind_name]
    now = now or timezone.now()
    token = uuid.uuid4()
    free = Q(run_token__isnull=True) | Q(heartbeat_at__lt=now - stale_after()) | Q(heartbeat_at__isnull=True)
    claimed = kind.model._default_manager.filter(kind.waiting, free, pk=pk, run_attempts__lt=kind.max_attempts).update(
        run_token=token, heartbeat_at=now, run_attempts=F("run_attempts") + 1, **kind.on_claim(now))
    return Run(kind, pk, token) if claimed else None


def is_stalled(job: Any, now: datetime | None = None) -> bool:
    """For pages: a waiting job nobody has heard from for `stale_after()`."""
    now = now or timezone.now()
    return job.heartbeat_at is not None and job.heartbeat_at < now - stale_after()


@scheduler.source("stalled_jobs")
def take_over_stalled(now: datetime) -> int:
    """Releases the claims of dead workers and sends their jobs again (or gives them up)."""
    handed = 0
    for kind in list(KINDS.values()):
        manager = kind.model._default_manager
        stale = manager.filter(kind.waiting).filter(
            Q(heartbeat_at__lt=now - stale_after()) | Q(heartbeat_at__isnull=True))
        for pk, token, beaten, attempts in stale.values_list(
                "pk", "run_token", "heartbeat_at", "run_attempts").order_by("pk")[:BATCH]:
            # Compare-and-set on what we read: a worker that just beat, or another tick, wins.
            released = manager.filter(pk=pk, run_token=token, heartbeat_at=beaten).update(
                run_token=None, heartbeat_at=now)
            if not released:
                continue
            if attempts >= kind.max_attempts:
                logger.error("%s %s: its worker died %s times, giving up", kind.name, pk, attempts)
                kind.give_up(pk)
                continue
            logger.warning("%s %s: no heartbeat since %s, sending it to a worker again", kind.name, pk, beaten)
            transaction.on_commit(functools.partial(kind.resend, pk))
            handed += 1
    return handed
