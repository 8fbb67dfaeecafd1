"""Surveys leave the CRM through the API (`/api/surveys/`), the export job (`portal.survey`) and the
`survey.answered` webhook — each only for the feedback readers, on the tickets they may see."""

import csv

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import Team
from exports import services as export_services
from exports.models import ExportJob
from portal import services as portal_services
from portal.models import Survey
from service import services
from service.models import Status
from service.tests.factories import QueueFactory
from webhooks.models import WebhookDelivery
from webhooks.tests.factories import EndpointFactory

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def surveys(desk):
    """Two answered surveys (5 and 1) and one still waiting for its answer."""
    rows = []
    for ticket in (desk["ticket"], desk["colleague_ticket"], desk["foreign"]):
        services.ticket_set_status(ticket=ticket, actor=desk["agent"], status=Status.RESOLVED)
        rows.append(Survey.objects.get(ticket=ticket))
    portal_services.survey_answer(survey=rows[0], rating=5, comment="Спасибо, всё работает")
    portal_services.survey_answer(survey=rows[1], rating=1, comment="=cmd|' /C calc'!A0")
    return rows


def test_the_api_lists_and_filters_surveys(client, desk, surveys):
    client.force_login(desk["agent"])
    listed = client.get("/api/surveys/").json()["results"]
    assert {row["id"] for row in listed} == {s.pk for s in surveys}
    low = client.get("/api/surveys/", {"low": "true"}).json()["results"]
    assert [(row["ticket_number"], row["rating"]) for row in low] == [(desk["colleague_ticket"].number, 1)]
    waiting = client.get("/api/surveys/", {"answered": "no"}).json()["results"]
    assert [row["id"] for row in waiting] == [surveys[2].pk]
    one = client.get(f"/api/surveys/{surveys[0].pk}/").json()
    assert one["comment"] == "Спасибо, всё работает" and one["agent"] == desk["agent"].pk


def test_sales_and_marketing_get_no_survey_through_the_api(client, desk, surveys, owner, marketer):
    for user in (owner, marketer):
        client.force_login(user)
        assert client.get("/api/surveys/").json()["results"] == []
        assert client.get(f"/api/surveys/{surveys[0].pk}/").status_code == 404


def test_a_deleted_tickets_survey_is_gone_from_the_api(client, desk, surveys):
    services.ticket_delete(ticket=desk["ticket"], actor=desk["lead"])
    client.force_login(desk["agent"])
    assert client.get(f"/api/surveys/{surveys[0].pk}/").status_code == 404


def test_the_export_writes_the_answers_with_formulas_neutralised(client, desk, surveys, settings, tmp_path,
                                                                  django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(desk["lead"])
    page = client.get(reverse("portal_staff:feedback")).content.decode()
    assert 'value="portal.survey"' in page and "answered=yes" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("exports:start"), {"target": "portal.survey", "format": "csv",
                                                          "query": "answered=yes"})
    assert response.status_code == 302
    job = ExportJob.objects.get()
    job.refresh_from_db()
    assert job.status == "done", job.error
    with open(job.path, encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:3] == ["ID", "Ticket", "Subject"] and "Rating" in rows[0]
    by_ticket = {row[1]: row for row in rows[1:]}
    assert set(by_ticket) == {desk["ticket"].number, desk["colleague_ticket"].number}
    rating = rows[0].index("Rating")
    comment = rows[0].index("Comment")
    assert by_ticket[desk["colleague_ticket"].number][rating] == "1"
    assert by_ticket[desk["colleague_ticket"].number][comment].startswith("'=")


def test_sales_cannot_export_surveys(desk, surveys, owner):
    rows = export_services.EXPORTERS["portal.survey"].queryset(owner)
    assert not rows.exists()


def test_an_answer_is_sent_to_subscribed_endpoints_once(desk, django_capture_on_commit_callbacks):
    EndpointFactory(events=["survey.answered"])
    services.ticket_set_status(ticket=desk["ticket"], actor=desk["agent"], status=Status.RESOLVED)
    survey = Survey.objects.get(ticket=desk["ticket"])
    with django_capture_on_commit_callbacks(execute=False):
        assert portal_services.survey_answer(survey=survey, rating=4, comment="Хорошо", now=timezone.now())
        assert not portal_services.survey_answer(survey=survey, rating=1)  # the second answer changes nothing
    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "survey.answered" and delivery.object_type == "portal.survey"
    data = delivery.payload["data"]
    assert (data["ticket_id"], data["rating"], data["comment"]) == (desk["ticket"].pk, 4, "Хорошо")


def test_a_refused_answer_sends_no_webhook(desk):
    EndpointFactory(events=["survey.answered"])
    services.ticket_set_status(ticket=desk["ticket"], actor=desk["agent"], status=Status.RESOLVED)
    survey = Survey.objects.get(ticket=desk["ticket"])
    with pytest.raises(Exception):  # noqa: B017 - the service's ValidationError
        portal_services.survey_answer(survey=survey, rating=9)
    assert not WebhookDelivery.objects.exists()


def test_an_agent_narrowed_to_their_teams_queues_reads_those_tickets_surveys_only(client, desk, settings):
    settings.SERVICE_AGENTS_SEE = "team-queues"
    north, south = Team.objects.create(name="Север"), Team.objects.create(name="Юг")
    desk["queue"].teams.set([north])
    south_queue = QueueFactory(name="Юг")
    south_queue.teams.set([south])
    desk["agent"].team = north
    desk["agent"].save(update_fields=["team"])
    theirs = services.ticket_create(actor=desk["lead"], subject="Южная", queue=south_queue, contact=desk["contact"])
    services.ticket_set_status(ticket=theirs, actor=desk["lead"], status=Status.RESOLVED)
    services.ticket_set_status(ticket=desk["ticket"], actor=desk["lead"], status=Status.RESOLVED)
    hidden, shown = Survey.objects.get(ticket=theirs), Survey.objects.get(ticket=desk["ticket"])
    assert list(Survey.objects.visible_to(desk["agent"])) == [shown]
    assert hidden in Survey.objects.visible_to(desk["lead"])
    client.force_login(desk["agent"])
    assert client.get(f"/api/surveys/{hidden.pk}/").status_code == 404
    assert [row["id"] for row in client.get("/api/surveys/").json()["results"]] == [shown.pk]
