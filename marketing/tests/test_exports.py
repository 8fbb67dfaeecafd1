"""The campaigns list's export: the rows and filters of the page, for the roles that read campaigns,
with the cost and leads computed from the records."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from exports.models import ExportJob, ExportStatus
from marketing import services
from marketing.models import CampaignStatus
from marketing.tests.factories import CampaignFactory


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def start(client, query, capture):
    with capture(execute=True):
        response = client.post(reverse("exports:start"), {"target": "marketing.campaign", "query": query,
                                                          "format": "csv"})
    return response


def test_the_export_has_the_filtered_campaigns_with_their_cost(client, marketer, owner,
                                                               django_capture_on_commit_callbacks):
    running = CampaignFactory(owner=marketer, name="Выставка «Иннопром»", currency="RUB")
    services.campaign_cost_add(campaign=running, actor=marketer, description="Стенд", amount=Decimal("150000.00"))
    CampaignFactory(owner=marketer, name="Прошлогодняя", status=CampaignStatus.COMPLETED)
    client.force_login(owner)  # a rep reads every campaign
    assert 'value="marketing.campaign"' in client.get(reverse("marketing:campaign_list")).content.decode()
    response = start(client, "status=active", django_capture_on_commit_callbacks)
    job = ExportJob.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    assert job.status == ExportStatus.DONE and job.total_rows == 1
    body = b"".join(client.get(reverse("exports:download", args=[job.pk])).streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:3] == ["ID", "Name", "Type"]
    assert rows[1][1] == "Выставка «Иннопром»" and "150000.00" in rows[1]


def test_support_exports_no_campaign(client, support_agent, django_capture_on_commit_callbacks):
    CampaignFactory(name="Секретная")
    client.force_login(support_agent)  # reads no campaigns: the export goes through the same policy
    start(client, "", django_capture_on_commit_callbacks)
    job = ExportJob.objects.get()
    assert job.status == ExportStatus.DONE and job.total_rows == 0
