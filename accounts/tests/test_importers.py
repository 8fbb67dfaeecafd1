"""The account importer (accounts/importers.py), run through the imports machinery."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Account
from imports import services
from imports.models import ImportJob, ImportStatus

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_accounts_import_through_the_same_path(owner):
    data = "Название;ИНН;Телефон;Выручка\nРога и копыта;7701234567;+44 20 7946 0111;1 234,56\nБез ИНН;;;\n"
    job = services.job_create(user=owner, target="accounts.account",
                              upload=SimpleUploadedFile("a.csv", data.encode("cp1251")))
    services.job_start(job=job)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    job = services.job_run(job_id=job.pk)
    assert (job.created, job.failed) == (2, 0), job.error
    account = Account.objects.get(tax_number="7701234567")
    assert account.phone_e164 == "+442079460111" and str(account.annual_revenue) == "1234.56"
    assert account.owner == owner and account.created_at and account.updated_at
