import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.tests.factories import AccountFactory
from crm import scheduler
from crm.models import CustomField
from exports.models import ExportJob, ExportStatus


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def start(client, target, query="", fmt="csv", capture=None):
    with capture(execute=True):
        response = client.post(reverse("exports:start"), {"target": target, "query": query, "format": fmt})
    return ExportJob.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def download_csv(client, job) -> list[list[str]]:
    response = client.get(reverse("exports:download", args=[job.pk]))
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_export_has_exactly_the_rows_the_user_sees_with_the_filters(client, owner, outsider,
                                                                    django_capture_on_commit_callbacks):
    AccountFactory(owner=owner, name="Alpha Steel", tags=["steel"])
    AccountFactory(owner=owner, name="Beta Foods")
    AccountFactory(owner=outsider, name="Gamma Steel", tags=["steel"])
    CustomField.objects.create(target="accounts.account", key="fleet", label="Fleet size", kind="number")
    client.force_login(owner)
    job = start(client, "accounts.account", "tag=steel&page=4", capture=django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE and job.total_rows == 1 and job.query == "tag=steel"
    rows = download_csv(client, job)
    assert rows[0][:2] == ["ID", "Company name"] and rows[0][-1] == "Fleet size"
    assert [row[1] for row in rows[1:]] == ["Alpha Steel"]


def test_xlsx_and_formula_neutralising(client, owner, django_capture_on_commit_callbacks):
    AccountFactory(owner=owner, name='=HYPERLINK("http://evil","x")', annual_revenue=1500)
    client.force_login(owner)
    job = start(client, "accounts.account", fmt="xlsx", capture=django_capture_on_commit_callbacks)
    response = client.get(reverse("exports:download", args=[job.pk]))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [cell.value for cell in sheet[2]]
    # A text cell, never a formula: the value keeps its text, without an apostrophe.
    assert values[1] == '=HYPERLINK("http://evil","x")' and sheet[2][1].data_type == "s"
    assert 1500.0 in values


def test_only_the_requester_can_download(client, owner, teammate, admin_user, django_capture_on_commit_callbacks):
    AccountFactory(owner=owner)
    client.force_login(owner)
    job = start(client, "accounts.account", capture=django_capture_on_commit_callbacks)
    for other in (teammate, admin_user):
        client.force_login(other)
        assert client.get(reverse("exports:download", args=[job.pk])).status_code == 404
        assert client.get(reverse("exports:detail", args=[job.pk])).status_code == 404


def test_downloads_expire_and_their_files_are_removed(client, owner, django_capture_on_commit_callbacks):
    AccountFactory(owner=owner)
    client.force_login(owner)
    job = start(client, "accounts.account", capture=django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert job.path.exists()
    scheduler.tick(now=job.expires_at + timedelta(minutes=1))
    job.refresh_from_db()
    assert not job.path.exists() and job.file_name == ""
    response = client.get(reverse("exports:download", args=[job.pk]))
    assert response.status_code == 302  # back to the job page, which says it expired
    assert "expired" in client.get(response["Location"]).content.decode()


def test_export_log_is_for_admins(client, owner, admin_user, django_capture_on_commit_callbacks):
    AccountFactory(owner=owner)
    client.force_login(owner)
    start(client, "accounts.account", "type=customer", capture=django_capture_on_commit_callbacks)
    assert client.get(reverse("exports:log")).status_code == 403
    client.force_login(admin_user)
    body = client.get(reverse("exports:log")).content.decode()
    assert str(owner) in body and "type=customer" in body


def test_a_job_runs_once(owner, django_capture_on_commit_callbacks):
    from exports import services

    AccountFactory(owner=owner)
    job = ExportJob.objects.create(user=owner, target="accounts.account")
    services.run_export(job.pk)
    job.refresh_from_db()
    finished = job.finished_at
    services.run_export(job.pk)  # a redelivered task
    job.refresh_from_db()
    assert job.finished_at == finished and job.status == ExportStatus.DONE


def test_unknown_target_is_refused(client, owner):
    client.force_login(owner)
    assert client.post(reverse("exports:start"), {"target": "crm.user"}).status_code == 404
    assert not ExportJob.objects.exists()


def test_stale_running_job_is_taken_over(owner):
    from exports import services

    AccountFactory(owner=owner)
    job = ExportJob.objects.create(user=owner, target="accounts.account", status=ExportStatus.RUNNING,
                                   started_at=timezone.now() - timedelta(hours=1))
    services.run_export(job.pk)
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE



@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_times_in_the_readers_time_zone_said_in_the_header_and_headers_in_their_language(
        client, owner, django_capture_on_commit_callbacks, fmt):
    import datetime

    owner.language, owner.time_zone = "ru", "Europe/Moscow"
    owner.save(update_fields=["language", "time_zone"])
    account = AccountFactory(owner=owner, name="Ромашка")
    created = datetime.datetime(2026, 3, 1, 21, 30, tzinfo=datetime.UTC)  # 2 March, 00:30 in Moscow
    type(account).objects.filter(pk=account.pk).update(created_at=created)
    client.force_login(owner)
    job = start(client, "accounts.account", fmt=fmt, capture=django_capture_on_commit_callbacks)
    response = client.get(reverse("exports:download", args=[job.pk]))
    content = b"".join(response.streaming_content)
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    else:
        rows = [[cell.value for cell in row] for row in load_workbook(io.BytesIO(content)).active.iter_rows()]
    headers = rows[0]
    assert headers[1] == "Название компании"  # the reader's language
    vip = rows[1][headers.index("VIP")]
    assert vip == ("нет" if fmt == "csv" else False)  # CSV says it in words the importer reads back
    column = headers.index("Создано (часовой пояс Europe/Moscow)")
    value = rows[1][column]
    if fmt == "csv":
        assert value == "2026-03-02 00:30 +0300"
    else:
        assert value == datetime.datetime(2026, 3, 2, 0, 30)  # noqa: DTZ001 - a spreadsheet cell holds a naive local time
