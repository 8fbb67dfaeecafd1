"""Administration → Background work (crm/background.py): every kind of background job with its
waiting, running, stalled and failed rows, the error, and a retry that queues a failed job again."""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import JobStatus, OutboxMail, OutboxStatus, ScheduledJob
from exports.models import ExportJob, ExportStatus
from webhooks.models import DeliveryStatus, WebhookDelivery
from webhooks.tests.factories import DeliveryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def trouble(owner):
    now = timezone.now()
    return {
        "export": ExportJob.objects.create(user=owner, target="contacts.contact", status=ExportStatus.FAILED,
                                           error="disk full on /var/crm", heartbeat_at=now, run_attempts=5),
        "stalled": ExportJob.objects.create(user=owner, target="accounts.account", status=ExportStatus.RUNNING,
                                            run_token=uuid.uuid4(), heartbeat_at=now - timedelta(minutes=5)),
        "mail": OutboxMail.objects.create(key="invoice-overdue:7", message_id="<x@crm>", from_email="crm@example.com",
                                          recipients=["бухгалтерия@example.ru"], subject="Счёт просрочен", raw=b"",
                                          status=OutboxStatus.FAILED, attempts=12, failed_at=now,
                                          last_error="SMTP 554: relay denied"),
        "job": ScheduledJob.objects.create(kind="email", run_at=now - timedelta(hours=1), status=JobStatus.FAILED,
                                           attempts=5, last_error="LookupError: no template"),
        "delivery": DeliveryFactory(status=DeliveryStatus.FAILED, attempts=8, last_status_code=503,
                                    last_error="Service Unavailable", delivered_at=None),
    }


def test_the_admin_sees_every_kind_of_work_with_its_errors(client, admin_user, trouble):
    client.force_login(admin_user)
    page = client.get(reverse("background_work")).content.decode()
    for section in ["background-exports", "background-imports", "background-mailings", "background-outbox",
                    "background-scheduled", "background-webhooks"]:
        assert f'id="{section}"' in page
    for error in ["disk full on /var/crm", "SMTP 554: relay denied", "LookupError: no template", "503 Service"]:
        assert error in page
    assert "Счёт просрочен → бухгалтерия@example.ru" in page
    assert "Stalled: 1" in page and "Failed: 1" in page


def test_the_page_costs_a_few_queries_whatever_it_shows(client, admin_user, trouble, django_assert_max_num_queries):
    client.force_login(admin_user)
    with django_assert_max_num_queries(18):  # session and user, then a count and a page of rows per source
        client.get(reverse("background_work"))


def test_only_admins_see_it_or_retry(client, owner, trouble):
    client.force_login(owner)
    assert client.get(reverse("background_work")).status_code == 403
    assert client.post(reverse("background_retry", args=["exports", trouble["export"].pk])).status_code == 403
    assert ExportJob.objects.get(pk=trouble["export"].pk).status == ExportStatus.FAILED


def test_a_failed_export_is_queued_again_and_runs(client, admin_user, trouble, django_capture_on_commit_callbacks):
    client.force_login(admin_user)
    export = trouble["export"]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("background_retry", args=["exports", export.pk]))
    assert response.url == reverse("background_work") and len(callbacks) == 1
    export.refresh_from_db()
    assert export.status == ExportStatus.DONE and export.error == ""  # the worker (eager in tests) ran it


def test_a_failed_email_goes_back_in_the_queue_with_fresh_attempts(client, admin_user, trouble):
    client.force_login(admin_user)
    client.post(reverse("background_retry", args=["outbox", trouble["mail"].pk]))
    mail = OutboxMail.objects.get(pk=trouble["mail"].pk)
    assert (mail.status, mail.attempts) == (OutboxStatus.QUEUED, 0)


def test_a_failed_scheduled_job_is_due_again(client, admin_user, trouble):
    client.force_login(admin_user)
    client.post(reverse("background_retry", args=["scheduled", trouble["job"].pk]))
    job = ScheduledJob.objects.get(pk=trouble["job"].pk)
    assert (job.status, job.attempts) == (JobStatus.PENDING, 0) and job.run_at <= timezone.now()


def test_a_failed_webhook_delivery_is_sent_again_as_a_new_delivery(client, admin_user, trouble):
    client.force_login(admin_user)
    client.post(reverse("background_retry", args=["webhooks", trouble["delivery"].pk]))
    assert WebhookDelivery.objects.filter(resend_of=trouble["delivery"]).count() == 1


def test_only_failed_jobs_are_retried_and_unknown_sources_are_refused(client, admin_user, trouble):
    client.force_login(admin_user)
    stalled = trouble["stalled"]
    response = client.post(reverse("background_retry", args=["exports", stalled.pk]), follow=True)
    assert "nothing to retry" in response.content.decode()
    assert ExportJob.objects.get(pk=stalled.pk).run_token == stalled.run_token  # left to the tick's takeover
    assert client.post(reverse("background_retry", args=["mailings", 1])).status_code == 404  # at most once
    assert client.post(reverse("background_retry", args=["nothing", 1])).status_code == 404
    assert client.post(reverse("background_retry", args=["exports", 987654321])).status_code == 404
    assert client.get(reverse("background_retry", args=["exports", stalled.pk])).status_code == 405
