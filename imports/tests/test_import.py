import csv
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AccountFactory
from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm import jobs
from imports import reader, services
from imports.models import ImportJob, ImportRow, ImportStatus

pytestmark = [pytest.mark.django_db]

HEADER = ["Фамилия", "Имя", "Эл. почта", "Телефон", "Компания", "Должность"]


def make_csv(rows, header=HEADER, encoding="cp1251", delimiter=";"):
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter).writerows([header, *rows])
    return SimpleUploadedFile("people.csv", buffer.getvalue().encode(encoding))


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def run(user, rows, policy="skip", clear_empty=False, **kwargs):
    job = services.job_create(user=user, target="contacts.contact", upload=make_csv(rows, **kwargs))
    job.duplicate_policy, job.clear_empty = policy, clear_empty
    job.save()
    services.job_start(job=job)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    services.job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def test_auto_mapping_from_russian_headers(owner):
    job = services.job_create(user=owner, target="contacts.contact",
                              upload=make_csv([["Иванов", "Иван", "", "", "", ""]]))
    assert job.mapping == {"0": "last_name", "1": "first_name", "2": "emails", "3": "phones", "4": "account_name",
                           "5": "title"}
    assert job.encoding == "cp1251" and job.delimiter == ";"


def test_preview_shows_errors_and_writes_nothing(owner):
    job = services.job_create(user=owner, target="contacts.contact", upload=make_csv([
        ["Иванов", "Иван", "ivan@example.com", "+44 20 7946 0001", "", ""],
        ["", "Пётр", "not-an-email", "", "", ""],
    ]))
    specs, outcomes = services.job_preview(job=job)
    assert outcomes[0].action == "created"
    assert "not a valid e-mail" in outcomes[1].reason and "required" in outcomes[1].reason
    assert Contact.objects.count() == 0


def test_counts_add_up_and_error_csv(owner, client):
    AccountFactory(owner=owner, name="Рога и копыта")
    job = run(owner, [
        ["Иванов", "Иван", "ivan@example.com", "+44 20 7946 0001", "Рога и копыта", "Директор"],
        ["Петров", "", "=cmd", "", "", ""],
        ["Сидоров", "", "", "", "Нет такой", ""],  # an account not found: created (the default)
        ["Иванов", "Иван", "ivan@example.com", "", "", ""],
    ])
    assert (job.created, job.updated, job.skipped, job.failed) == (2, 0, 1, 1)
    assert job.created + job.updated + job.skipped + job.failed == job.total_rows == 4
    assert Contact.objects.get(last_name="Сидоров").account.name == "Нет такой" and job.accounts_created == 1
    contact = Contact.objects.get(last_name="Иванов")
    assert contact.full_name == "Иван Иванов" and contact.phones == ["+442079460001"]
    assert contact.account.name == "Рога и копыта" and contact.owner == owner
    client.force_login(owner)
    response = client.get(f"/imports/{job.pk}/errors.csv")
    # As uploaded: Windows-1251 with semicolons, so the Excel or 1C that made the file opens it.
    assert response["Content-Type"] == "text/csv; charset=cp1251"
    body = response.content.decode("cp1251")
    lines = list(csv.reader(io.StringIO(body), delimiter=";"))
    assert lines[0] == [*HEADER, "reason"]
    assert lines[1][2] == "'=cmd" and "e-mail" in lines[1][-1]
    assert not (services.job_path(job)).exists() or job.file_path == ""


def test_update_never_blanks_and_clear_empty(owner):
    contact = ContactFactory(owner=owner, last_name="Old", first_name="Anna", title="CEO", emails=["a@example.com"])
    job = run(owner, [["Old", "", "a@example.com", "", "", "CTO"]], policy="update")
    contact.refresh_from_db()
    assert job.updated == 1 and contact.first_name == "Anna" and contact.title == "CTO"
    job = run(owner, [["Old", "", "a@example.com", "", "", "CTO"]], policy="update", clear_empty=True)
    contact.refresh_from_db()
    assert contact.first_name == ""


def test_create_anyway(owner):
    ContactFactory(owner=owner, emails=["a@example.com"])
    job = run(owner, [["New", "", "a@example.com", "", "", ""]], policy="create")
    assert job.created == 1 and Contact.objects.filter(emails__contains=["a@example.com"]).count() == 2


def test_someone_elses_match_is_never_touched(owner, outsider):
    theirs = ContactFactory(owner=outsider, last_name="Theirs", title="Keep", emails=["x@example.com"])
    job = run(owner, [["Mine", "", "x@example.com", "", "", "Changed"]], policy="update")
    theirs.refresh_from_db()
    assert job.skipped == 1 and theirs.title == "Keep"
    assert "someone else" in ImportRow.objects.get(job=job).reason


def test_another_users_job_is_404(owner, outsider, client):
    job = services.job_create(user=owner, target="contacts.contact", upload=make_csv([["A", "", "", "", "", ""]]))
    client.force_login(outsider)
    for url in ("", "mapping/", "preview/", "errors.csv"):
        assert client.get(f"/imports/{job.pk}/{url}").status_code == 404
    assert client.post(f"/imports/{job.pk}/undo/").status_code == 404


def test_undo_restores_and_reports_changed(owner):
    kept = ContactFactory(owner=owner, last_name="Kept", title="CEO", emails=["k@example.com"])
    job = run(owner, [["Kept", "", "k@example.com", "", "", "CTO"], ["Fresh", "", "f@example.com", "", "", ""],
                      ["Edited", "", "e@example.com", "", "", ""]], policy="update")
    edited = Contact.objects.get(last_name="Edited")
    Contact.objects.filter(pk=edited.pk).update(updated_at=timezone.now() + timedelta(minutes=1))
    report = services.job_undo(job=job, actor=owner)
    kept.refresh_from_db()
    assert kept.title == "CEO"
    assert Contact.objects.get(last_name="Fresh").deleted_at is not None
    assert Contact.objects.get(last_name="Edited").deleted_at is None
    assert report["not_undone"] == 1 and report["problems"][0]["row"] == 3


class Crash(BaseException):
    pass


def test_resume_after_crash(owner, monkeypatch):
    rows = [[f"N{i}", "", f"p{i}@example.com", "", "", ""] for i in range(25)]
    job = services.job_create(user=owner, target="contacts.contact", upload=make_csv(rows))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED, batch_size=10)
    calls = []

    def crash(job):
        calls.append(job.batches_done)
        if len(calls) == 2:
            raise Crash

    monkeypatch.setattr(services, "after_batch", crash)
    with pytest.raises(Crash):
        services.job_run(job_id=job.pk)
    assert services.job_run(job_id=job.pk) is None  # still claimed by the "dead" worker
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    monkeypatch.setattr(services, "after_batch", lambda job: None)
    job = services.job_run(job_id=job.pk)
    assert job.status == ImportStatus.DONE and job.created == 25
    assert Contact.objects.count() == 25 and ImportRow.objects.filter(job=job).count() == 25


def test_refused_upload_writes_nothing(owner, client, media):
    client.force_login(owner)
    response = client.post("/imports/new/", {"target": "contacts.contact",
                                             "file": SimpleUploadedFile("x.csv", b"\x00\x01binary")})
    assert response.status_code == 400 and "binary" in response.content.decode()
    assert ImportJob.objects.count() == 0 and not list((media / "imports").glob("*"))


def test_pages_flow(owner, client, django_capture_on_commit_callbacks):
    client.force_login(owner)
    response = client.post("/imports/new/", {"target": "contacts.contact",
                                             "file": make_csv([["Иванов", "Иван", "i@example.com", "", "", ""]])})
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert client.get(f"/imports/{job.pk}/mapping/").status_code == 200
    data = {"col_0": "last_name", "col_1": "first_name", "col_2": "emails", "duplicate_policy": "skip",
            "template_name": "Мой шаблон"}
    assert client.post(f"/imports/{job.pk}/mapping/", data).status_code == 302
    assert "Иванов" in client.get(f"/imports/{job.pk}/preview/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{job.pk}/start/")
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.created == 1
    assert client.get(f"/imports/{job.pk}/").status_code == 200
    assert client.get("/imports/").status_code == 200


def test_undo_never_touches_records_the_actor_may_no_longer_edit(owner, outsider):
    job = run(owner, [["Moved", "", "m@example.com", "", "", ""]])
    moved = Contact.objects.get(last_name="Moved")
    Contact.objects.filter(pk=moved.pk).update(owner=outsider, team=outsider.team,
                                                 updated_at=job.finished_at - timedelta(seconds=1))
    report = services.job_undo(job=job, actor=owner)
    assert Contact.objects.get(pk=moved.pk).deleted_at is None
    assert report["not_undone"] == 1


def test_an_import_upload_over_the_limit_is_refused_with_a_message(client, owner):
    """The declared length is checked before the body is read; the unbound form used to raise
    AttributeError when the refusal was added to it."""
    client.force_login(owner)
    upload = SimpleUploadedFile("big.csv", b"name\nAcme\n", content_type="text/csv")
    response = client.post(reverse("imports:upload"), {"target": "accounts.account", "file": upload},
                           CONTENT_LENGTH=str(reader.MAX_UPLOAD_BYTES + 2 * 1024 * 1024))
    assert response.status_code == 413
    assert "larger than 50 MB" in response.content.decode()


def test_a_stalled_import_shows_within_a_minute_and_the_tick_resumes_it(owner, client, monkeypatch,
                                                                        django_capture_on_commit_callbacks):
    rows = [[f"N{i}", "", f"s{i}@example.com", "", "", ""] for i in range(25)]
    job = services.job_create(user=owner, target="contacts.contact", upload=make_csv(rows))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED, batch_size=10)

    def crash(job):
        raise Crash  # the worker dies after its first batch

    monkeypatch.setattr(services, "after_batch", crash)
    with pytest.raises(Crash):
        services.job_run(job_id=job.pk)
    client.force_login(owner)
    assert 'id="import-stalled"' not in client.get(f"/imports/{job.pk}/").content.decode()  # heard from just now
    # 61 seconds without a report: stalled (it used to take five minutes)
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=61))
    assert ImportJob.objects.get(pk=job.pk).is_stalled
    assert 'id="import-stalled"' in client.get(f"/imports/{job.pk}/").content.decode()
    # A worker is back: the scheduler tick hands the job over, and it resumes after the committed batch.
    monkeypatch.setattr(services, "after_batch", lambda job: None)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.take_over_stalled(timezone.now()) == 1
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.created == 25 and not job.is_stalled
    assert 'id="import-stalled"' not in client.get(f"/imports/{job.pk}/").content.decode()


def test_a_queued_job_no_worker_picks_up_shows_as_stalled(owner, client):
    job = services.job_create(user=owner, target="contacts.contact", upload=make_csv([["N", "", "", "", "", ""]]))
    services.job_start(job=job)
    job.refresh_from_db()
    assert job.status == ImportStatus.QUEUED and not job.is_stalled
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=61))
    assert ImportJob.objects.get(pk=job.pk).is_stalled
