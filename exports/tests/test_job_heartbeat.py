"""The shared job heartbeat (crm/jobs.py), through its first user, the export job: claim, beat,
takeover by the scheduler tick or by a redelivered task, giving up, and no half-written file."""

import csv
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AccountFactory
from crm import jobs, scheduler
from exports import services
from exports.models import ExportJob, ExportStatus


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


class Killed(BaseException):
    """What kill -9 looks like from inside: the worker stops between two statements."""


def queued_job(owner) -> ExportJob:
    return ExportJob.objects.create(user=owner, target="accounts.account", heartbeat_at=timezone.now())


def files(media) -> list[str]:
    return sorted(path.name for path in (media / "exports").iterdir())


def test_of_two_claims_only_one_wins_and_the_loser_cannot_beat(owner):
    job = queued_job(owner)
    first = jobs.claim("exports", job.pk)
    assert first is not None
    assert jobs.claim("exports", job.pk) is None  # a redelivered task while the worker is alive
    first.beat(processed_rows=5)
    job.refresh_from_db()
    assert job.status == ExportStatus.RUNNING and job.processed_rows == 5 and job.run_attempts == 1

    # A minute of silence: the job is free again, and the old holder learns it at its next beat.
    ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=61))
    second = jobs.claim("exports", job.pk)
    assert second is not None and second.token != first.token
    with pytest.raises(jobs.LostClaim):
        first.beat(processed_rows=6)
    assert not first.finish(status=ExportStatus.DONE)  # the old holder writes nothing
    job.refresh_from_db()
    assert job.status == ExportStatus.RUNNING and job.run_token == second.token and job.run_attempts == 2


def test_beats_are_throttled_but_progress_is_always_written(owner, settings, django_assert_num_queries):
    settings.JOB_HEARTBEAT_SECONDS = 3600
    run = jobs.claim("exports", queued_job(owner).pk)
    with django_assert_num_queries(0):
        for _ in range(100):
            run.beat()
    with django_assert_num_queries(1):
        run.beat(processed_rows=100)


def test_a_worker_killed_mid_export_is_taken_over_by_the_tick_and_leaves_one_whole_file(
        owner, media, monkeypatch, django_capture_on_commit_callbacks):
    AccountFactory.create_batch(5, owner=owner)
    job = queued_job(owner)
    monkeypatch.setattr(services, "PROGRESS_EVERY", 2)

    def die(count):
        if count == 3:
            raise Killed

    monkeypatch.setattr(services, "after_row", die)
    with pytest.raises(Killed):
        services.run_export(job.pk)
    job.refresh_from_db()
    assert job.status == ExportStatus.RUNNING and job.processed_rows == 2
    # What a dead worker leaves: a partial file under a temporary name, never the download's name.
    assert [name.endswith(".part") for name in files(media)] == [True]
    assert not job.path.exists()

    monkeypatch.setattr(services, "after_row", lambda count: None)
    with django_capture_on_commit_callbacks(execute=True):
        assert scheduler.tick(timezone.now())["stalled_jobs"] == 0  # heard from just now: left alone
    with django_capture_on_commit_callbacks(execute=True) as sent:
        assert jobs.take_over_stalled(timezone.now() + timedelta(seconds=61)) == 1
    assert len(sent) == 1  # the task is sent again (run here: tests run tasks in-process)
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE and job.total_rows == 5 and job.run_attempts == 2
    assert job.run_token is None
    assert files(media) == [job.path.name]  # exactly one finished file, no partial one
    with open(job.path, encoding="utf-8-sig") as handle:
        assert len(list(csv.reader(handle))) == 6


def test_the_page_says_when_an_export_lost_its_worker(owner, client, monkeypatch):
    AccountFactory(owner=owner)
    job = queued_job(owner)
    monkeypatch.setattr(services, "after_row", lambda count: (_ for _ in ()).throw(Killed))
    with pytest.raises(Killed):
        services.run_export(job.pk)
    client.force_login(owner)
    url = reverse("exports:detail", args=[job.pk])
    assert 'id="export-stalled"' not in client.get(url).content.decode()  # heard from just now
    ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=61))
    assert 'id="export-stalled"' in client.get(url, headers={"HX-Request": "true"}).content.decode()
    jobs.take_over_stalled(timezone.now())  # released and sent again: no longer stalled
    assert 'id="export-stalled"' not in client.get(url).content.decode()


def test_a_redelivered_task_takes_over_a_job_whose_worker_went_silent(owner, media, monkeypatch):
    AccountFactory.create_batch(3, owner=owner)
    job = queued_job(owner)
    monkeypatch.setattr(services, "after_row", lambda count: (_ for _ in ()).throw(Killed))
    with pytest.raises(Killed):
        services.run_export(job.pk)
    monkeypatch.setattr(services, "after_row", lambda count: None)
    services.run_export(job.pk)  # redelivered at once: the worker might still be alive
    assert ExportJob.objects.get(pk=job.pk).status == ExportStatus.RUNNING
    ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=61))
    services.run_export(job.pk)
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE and files(media) == [job.path.name]


def test_a_worker_taken_over_never_publishes_its_file(owner, media, monkeypatch):
    """The slow worker that was thought dead finishes writing after another took over: it must not
    rename its file into place or mark the job done."""
    AccountFactory.create_batch(3, owner=owner)
    job = queued_job(owner)

    def taken_over(count):
        if count == 2:
            ExportJob.objects.filter(pk=job.pk).update(run_token=None, heartbeat_at=timezone.now())

    monkeypatch.setattr(services, "after_row", taken_over)
    services.run_export(job.pk)
    job.refresh_from_db()
    assert job.status == ExportStatus.RUNNING and not job.path.exists()
    assert list((media / "exports").iterdir()) == []  # its partial file is gone too


def test_a_job_that_kills_its_worker_every_time_is_given_up(owner, media, monkeypatch):
    AccountFactory(owner=owner)
    job = queued_job(owner)
    monkeypatch.setattr(services, "after_row", lambda count: (_ for _ in ()).throw(Killed))
    now = timezone.now()
    for attempt in range(1, 6):
        with pytest.raises(Killed):
            services.run_export(job.pk)
        assert ExportJob.objects.get(pk=job.pk).run_attempts == attempt
        now += timedelta(seconds=61)
        ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=now - timedelta(seconds=61))
        if attempt < 5:
            assert jobs.take_over_stalled(now) == 1
    assert jobs.take_over_stalled(now) == 0
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED and "stopped its worker" in job.error
    assert list((media / "exports").iterdir()) == []


def test_a_queued_job_whose_message_was_lost_is_sent_again(owner, media, django_capture_on_commit_callbacks):
    AccountFactory(owner=owner)
    job = queued_job(owner)  # queued, but no worker ever got the message
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.take_over_stalled(timezone.now()) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.take_over_stalled(timezone.now() + timedelta(seconds=61)) == 1
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE and job.run_attempts == 1


# Found by mutation testing (`make mutation`): each of these failed to notice a mutant of crm/jobs.py.


def test_a_claim_marks_the_job_alive_and_started_now(owner):
    job = queued_job(owner)
    ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=30))
    before = timezone.now()
    jobs.claim("exports", job.pk)
    job.refresh_from_db()
    assert job.heartbeat_at >= before and job.started_at >= before  # not stale the moment it starts


def test_a_claim_takes_only_the_job_it_names(owner):
    job, other = queued_job(owner), queued_job(owner)
    assert jobs.claim("exports", job.pk) is not None
    other.refresh_from_db()
    assert other.run_token is None and other.run_attempts == 0


def test_a_finished_job_is_never_claimed_again(owner):
    """A task redelivered after its export finished must not run it a second time."""
    job = queued_job(owner)
    run = jobs.claim("exports", job.pk)
    run.finish(status=ExportStatus.DONE)
    assert jobs.claim("exports", job.pk) is None


def test_a_job_that_used_up_its_attempts_is_not_claimed(owner):
    job = queued_job(owner)
    ExportJob.objects.filter(pk=job.pk).update(run_attempts=jobs.KINDS["exports"].max_attempts)
    assert jobs.claim("exports", job.pk) is None


def test_a_beat_moves_the_heartbeat_on_after_the_interval(owner, settings):
    settings.JOB_HEARTBEAT_SECONDS = 30
    job = queued_job(owner)
    run = jobs.claim("exports", job.pk)
    ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=45))
    run.last_beat -= 20  # within the configured 30 s: nothing written
    run.beat()
    job.refresh_from_db()
    assert job.heartbeat_at < timezone.now() - timedelta(seconds=40)
    run.last_beat -= 11  # past it
    run.beat()
    job.refresh_from_db()
    assert job.heartbeat_at > timezone.now() - timedelta(seconds=5)
