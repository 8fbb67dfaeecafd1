import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from crm import scheduler
from crm.models import JobStatus, OutboxMail, OutboxStatus, ScheduledJob

CALLS: list[int] = []


@scheduler.job_handler("test.count")
def count_job(job):
    CALLS.append(job.pk)


@scheduler.job_handler("test.fail")
def failing_job(job):
    raise RuntimeError("remote system down")


@pytest.fixture(autouse=True)
def clear_calls():
    CALLS.clear()


def test_due_email_job_is_sent_once(db):
    job = scheduler.schedule_job(kind="email", run_at=timezone.now() - timedelta(seconds=1),
                                 payload={"to": ["ann@example.com"], "subject": "Hello", "body": "Hi Ann"})
    assert scheduler.tick()["scheduled_jobs"] == 1
    assert scheduler.tick()["scheduled_jobs"] == 0
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.finished_at is not None
    assert [m.subject for m in mail.outbox] == ["Hello"]


def test_future_job_waits(db):
    scheduler.schedule_job(kind="test.count", run_at=timezone.now() + timedelta(minutes=5), payload={})
    scheduler.tick()
    assert CALLS == []


def test_unknown_kind_is_refused(db):
    with pytest.raises(ValueError, match="Unknown job kind"):
        scheduler.schedule_job(kind="nope", run_at=timezone.now(), payload={})


def test_failing_job_is_retried_later_then_given_up(db):
    job = scheduler.schedule_job(kind="test.fail", run_at=timezone.now(), payload={})
    scheduler.tick()
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING and job.attempts == 1
    assert job.run_at > timezone.now()
    assert "remote system down" in job.last_error
    for _ in range(scheduler.MAX_ATTEMPTS):
        scheduler.tick(now=job.run_at + timedelta(days=1))
        job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.attempts == scheduler.MAX_ATTEMPTS


def test_claim_abandoned_by_a_dead_worker_is_taken_over(db):
    stale = timezone.now() - scheduler.STALE_CLAIM - timedelta(minutes=1)
    job = ScheduledJob.objects.create(kind="test.count", run_at=stale, status=JobStatus.RUNNING, claimed_at=stale,
                                      attempts=1)
    scheduler.tick()
    assert CALLS == [job.pk]


@pytest.mark.django_db(transaction=True)
def test_two_ticks_at_once_run_a_due_row_once(monkeypatch):
    job = scheduler.schedule_job(kind="test.count", run_at=timezone.now(), payload={})
    # Both ticks read the row as pending, then both try the compare-and-set together.
    barrier = threading.Barrier(2, timeout=10)
    real_claim = scheduler.claim_job

    def claim_together(job, now):
        barrier.wait()
        return real_claim(job, now)

    monkeypatch.setattr(scheduler, "claim_job", claim_together)
    results = []

    def run_tick():
        try:
            results.append(scheduler.tick()["scheduled_jobs"])
        finally:
            connection.close()

    threads = [threading.Thread(target=run_tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(results) == [0, 1]
    assert CALLS == [job.pk]
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.attempts == 1


def test_email_job_retried_after_a_crash_is_not_sent_twice(db):
    """A worker sent the mail, then died before marking the job done."""
    job = scheduler.schedule_job(kind="email", run_at=timezone.now(), payload={"to": ["a@example.com"],
                                 "subject": "Once", "body": "x"})
    assert scheduler.claim_job(job, timezone.now())
    job.refresh_from_db()
    scheduler.send_email_job(job)  # ...and the worker is killed here
    later = timezone.now() + scheduler.STALE_CLAIM + timedelta(minutes=1)
    scheduler.tick(now=later)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert [m.subject for m in mail.outbox] == ["Once"]


def test_refused_email_is_queued_and_retried(db, settings):
    settings.MAILERS = {"default": {"BACKEND": "crm.tests.test_scheduler.RefusingBackend"}}
    job = scheduler.schedule_job(kind="email", run_at=timezone.now(), payload={"to": ["a@example.com"],
                                 "subject": "Retry", "body": "x"})
    scheduler.tick()
    job.refresh_from_db()
    assert job.status == JobStatus.DONE  # its e-mail is in the outbox
    queued = OutboxMail.objects.get(key=f"scheduled-job:{job.pk}")
    assert queued.status == OutboxStatus.QUEUED and "mail server down" in queued.last_error
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    scheduler.tick(now=queued.next_attempt_at)
    assert [m.subject for m in mail.outbox] == ["Retry"]


class RefusingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


# Found by mutation testing (`make mutation`): each of these failed to notice a mutant before.


def test_a_failing_job_waits_twice_as_long_after_each_attempt(db):
    job = ScheduledJob.objects.create(kind="test.fail", run_at=timezone.now(), attempts=2)
    scheduler.tick()
    job.refresh_from_db()
    waited = job.run_at - timezone.now()
    assert timedelta(minutes=7, seconds=50) < waited <= timedelta(minutes=8)  # 2 ** 3 minutes after the third
    assert job.last_error == "RuntimeError: remote system down"


def test_a_claimed_job_is_running_so_the_next_tick_does_not_claim_it_again(db):
    job = ScheduledJob.objects.create(kind="test.count", run_at=timezone.now())
    now = timezone.now()
    assert scheduler.claim_job(job, now)
    assert ScheduledJob.objects.get(pk=job.pk).status == JobStatus.RUNNING
    assert not scheduler.claim_job(ScheduledJob.objects.get(pk=job.pk), now)  # a fresh read by the next tick


def test_a_job_finished_since_it_was_read_is_not_claimed(db):
    job = ScheduledJob.objects.create(kind="test.count", run_at=timezone.now())
    ScheduledJob.objects.filter(pk=job.pk).update(status=JobStatus.DONE)  # another worker finished it
    assert not scheduler.claim_job(job, timezone.now())


def test_a_source_marked_last_runs_after_every_other(db, monkeypatch):
    order: list[str] = []
    monkeypatch.setattr(scheduler, "SOURCES", {})
    monkeypatch.setattr(scheduler, "LAST_SOURCES", set())
    scheduler.source("a-sender", last=True)(lambda now: order.append("sender") or 0)
    scheduler.source("z-queuer")(lambda now: order.append("queuer") or 0)
    scheduler.tick()
    assert order == ["queuer", "sender"]
