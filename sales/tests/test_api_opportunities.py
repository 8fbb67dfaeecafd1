"""/api/opportunities/ and /api/pipelines/ and the opportunity export: the same policy and services as
the pages."""

import csv
import io

import pytest
from django.urls import reverse

from accounts.tests.factories import AccountFactory
from exports.models import ExportJob, ExportStatus
from sales.models import Opportunity
from sales.tests.factories import OpportunityFactory, PipelineFactory, stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline(db):
    return PipelineFactory(name="New business", is_default=True)


def test_list_and_detail_follow_the_policy(client, cast, pipeline):
    deal = OpportunityFactory(owner=cast["owner"], pipeline=pipeline)
    expected = {"owner": 200, "teammate": 404, "manager": 200, "outsider": 404, "executive": 200,
                "support_agent": 404, "marketer": 404, "admin": 200}
    for name, status in expected.items():
        client.force_login(cast[name])
        assert client.get(f"/api/opportunities/{deal.pk}/").status_code == status, name
        listing = client.get("/api/opportunities/")
        if name in {"support_agent", "marketer"}:  # no sales data at all: the list is a 404 too
            assert listing.status_code == 404, name
            continue
        ids = [row["id"] for row in listing.json()["results"]]
        assert (deal.pk in ids) == (status == 200), name
    client.force_login(cast["executive"])
    assert client.patch(f"/api/opportunities/{deal.pk}/", {"name": "x"}, content_type="application/json"
                        ).status_code == 403


def test_create_through_the_service_records_the_stage(client, owner, outsider, pipeline):
    account = AccountFactory(owner=owner)
    client.force_login(owner)
    payload = {"name": "API deal", "account": account.pk, "pipeline": pipeline.pk,
               "stage": stage(pipeline, "Proposal").pk, "amount": "2500.00", "currency": "eur",
               "expected_close_date": "2026-12-15"}
    response = client.post("/api/opportunities/", payload, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["probability"] == 50 and body["currency"] == "EUR" and body["lock_version"] == 1
    deal = Opportunity.objects.get(pk=body["id"])
    assert deal.stage_changes.count() == 1
    hidden = AccountFactory(owner=outsider)
    forged = client.post("/api/opportunities/", {**payload, "account": hidden.pk}, content_type="application/json")
    assert forged.status_code == 400 and "account" in forged.json()


def test_a_stale_write_answers_409_and_changes_nothing(client, owner, pipeline):
    deal = OpportunityFactory(owner=owner, pipeline=pipeline, name="Before")
    client.force_login(owner)
    first = client.patch(f"/api/opportunities/{deal.pk}/", {"name": "First", "lock_version": 1},
                         content_type="application/json")
    assert first.status_code == 200 and first.json()["lock_version"] == 2
    second = client.patch(f"/api/opportunities/{deal.pk}/", {"name": "Second", "lock_version": 1},
                          content_type="application/json")
    assert second.status_code == 409
    deal.refresh_from_db()
    assert deal.name == "First"


def test_lost_needs_a_reason_over_the_api(client, owner, pipeline):
    deal = OpportunityFactory(owner=owner, pipeline=pipeline)
    client.force_login(owner)
    response = client.patch(f"/api/opportunities/{deal.pk}/", {"stage": stage(pipeline, "Lost").pk,
                                                               "lock_version": deal.lock_version},
                            content_type="application/json")
    assert response.status_code == 400 and "lost_reason" in response.json()


def test_pipelines_are_for_sales_readers(client, owner, support_agent, pipeline):
    client.force_login(owner)
    data = client.get("/api/pipelines/").json()
    assert [p["name"] for p in data] == ["New business"] and len(data[0]["stages"]) == 6
    client.force_login(support_agent)
    assert client.get("/api/pipelines/").json() == []


def test_export_has_the_rows_the_user_sees(client, owner, outsider, pipeline, settings, tmp_path,
                                           django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    OpportunityFactory(owner=owner, pipeline=pipeline, name="Visible won", stage=stage(pipeline, "Won"))
    OpportunityFactory(owner=owner, pipeline=pipeline, name="Visible open")
    OpportunityFactory(owner=outsider, pipeline=pipeline, name="Hidden won", stage=stage(pipeline, "Won"))
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("exports:start"), {"target": "sales.opportunity", "query": "status=won",
                                                          "format": "csv"})
    job = ExportJob.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    assert job.status == ExportStatus.DONE
    body = b"".join(client.get(reverse("exports:download", args=[job.pk])).streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert [row[1] for row in rows[1:]] == ["Visible won"]
