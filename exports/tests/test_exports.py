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

