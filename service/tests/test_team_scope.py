"""Per-team scoping of support agents (SERVICE_AGENTS_SEE=team-queues): an agent sees and works only the
tickets of the queues their team serves and those assigned to them — in the list, the ticket page, its
actions, search, both exports, the API, the hotline, "take next", work orders and surveys. The rule is the
ticket policy's narrowing (service.models.TEAM_QUEUES, crm.visibility.Narrowing); with the default
setting ("all") every agent works every ticket, as before."""

import csv
import io

import pytest
from django.urls import reverse

from accounts.tests.factories import AccountFactory
from contacts.tests.factories import ContactFactory
from crm.models import Role, Team
from crm.tests.factories import UserFactory
from crm.visibility import can_edit, can_see
from exports.registry import EXPORTERS
from service import field_services, services
from service.models import Status, Ticket, WorkOrder
from service.tests.factories import PolicyFactory, QueueFactory, agent

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def scoped(settings):
    settings.SERVICE_AGENTS_SEE = "team-queues"


@pytest.fixture
def desk(db, owner):
    north, south = Team.objects.create(name="Поддержка Север"), Team.objects.create(name="Поддержка Юг")
    north_agent = agent(email="north@example.com", team=north, first_name="Нина")
    south_agent = agent(email="south@example.com", team=south, first_name="Семён")
    lead = UserFactory(email="lead@example.com", role=Role.SUPPORT_LEAD)
    north_queue = QueueFactory(name="Север", is_default=True)
    south_queue = QueueFactory(name="Юг")
    north_queue.teams.set([north])
    south_queue.teams.set([south])
    # The north agent is also a member of the south queue: membership alone does not open it.
    north_queue.members.set([north_agent])
    south_queue.members.set([south_agent, north_agent])
    PolicyFactory(calendar__around_the_clock=True)
    account = AccountFactory(owner=owner, name="ООО «Вектор»")
    contact = ContactFactory(owner=owner, account=account, last_name="Смирнов", phones=["+79166383811"],
                             emails=["petr@vector.ru"])
    north_ticket = services.ticket_create(actor=lead, subject="Северная заявка", contact=contact,
                                          queue=north_queue)
    south_ticket = services.ticket_create(actor=lead, subject="Южная заявка", contact=contact, queue=south_queue)
    handed = services.ticket_create(actor=lead, subject="Южная, но моя", contact=contact, queue=south_queue,
                                    owner=north_agent)
    return {"north": north_agent, "south": south_agent, "lead": lead, "north_queue": north_queue,
            "south_queue": south_queue, "north_ticket": north_ticket, "south_ticket": south_ticket,
            "handed": handed, "contact": contact}


def test_the_policy_narrows_agents_to_their_teams_queues(desk, scoped):
    north = desk["north"]
    assert set(Ticket.objects.visible_to(north)) == {desk["north_ticket"], desk["handed"]}
    assert set(Ticket.objects.editable_by(north)) == {desk["north_ticket"], desk["handed"]}
    assert set(Ticket.objects.visible_to(desk["south"])) == {desk["south_ticket"], desk["handed"]}
    assert not can_see(north, desk["south_ticket"]) and not can_edit(north, desk["south_ticket"])
    assert can_see(north, desk["handed"]) and can_edit(north, desk["handed"])
    # The support lead and executives are not narrowed.
    assert Ticket.objects.visible_to(desk["lead"]).count() == 3


def test_an_agent_without_a_team_sees_only_their_own_tickets(desk, scoped):
    loner = agent(email="loner@example.com")
    mine = services.ticket_create(actor=desk["lead"], subject="Моя", owner=loner)
    assert list(Ticket.objects.visible_to(loner)) == [mine]


def test_by_default_every_agent_works_every_ticket(desk):
    assert Ticket.objects.visible_to(desk["north"]).count() == 3
    assert can_edit(desk["north"], desk["south_ticket"])


def test_pages_and_actions_hold_the_scope(client, desk, scoped):
    client.force_login(desk["north"])
    south = desk["south_ticket"]
    listed = client.get(reverse("service:ticket_list"), {"view": "all"}).content.decode()
    assert "Северная заявка" in listed and "Южная, но моя" in listed and "Южная заявка" not in listed
    assert client.get(south.get_absolute_url()).status_code == 404
    assert client.get(desk["handed"].get_absolute_url()).status_code == 200
    assert client.post(reverse("service:ticket_reply", args=[south.pk]), {"body": "Чужое"}).status_code == 404
    assert client.post(reverse("service:ticket_status", args=[south.pk]), {"status": "closed"}).status_code == 404
    assert client.get(reverse("service:ticket_edit", args=[south.pk])).status_code == 404
    south.refresh_from_db()
    assert south.status == Status.NEW and not south.messages.exists()
    # Global search and the hotline's open tickets of the caller.
    found = client.get(reverse("search"), {"q": "Южная"}).content.decode()
    assert "Южная, но моя" in found and "Южная заявка" not in found
    hotline = client.get(reverse("service:hotline"), {"phone": "+7 916 638-38-11"}).content.decode()
    assert "Северная заявка" in hotline and "Южная заявка" not in hotline


def test_take_next_only_takes_from_the_teams_queues(client, desk, scoped):
    client.force_login(desk["north"])
    home = client.get(reverse("service:home")).content.decode()
    assert "Север" in home and f'value="{desk["south_queue"].pk}"' not in home
    # Asking for the south queue falls back to the agent's own queues: the north ticket, never the south one.
    response = client.post(reverse("service:take_next"), {"queue": desk["south_queue"].pk})
    assert response.url == desk["north_ticket"].get_absolute_url()
    response = client.post(reverse("service:take_next"), {"queue": desk["south_queue"].pk})
    assert response.url == reverse("service:home")
    assert Ticket.objects.get(pk=desk["south_ticket"].pk).owner is None


def test_exports_and_the_api_hold_the_scope(client, desk, scoped):
    north, south = desk["north"], desk["south_ticket"]
    assert south not in EXPORTERS["service.ticket"].queryset(north)
    client.force_login(north)
    ticked = client.post(reverse("service:ticket_bulk"), {"action": "export", "query": "",
                                                          "ids": [south.pk, desk["north_ticket"].pk]})
    numbers = [row[0] for row in csv.reader(io.StringIO(ticked.content.decode("utf-8-sig")))][1:]
    assert numbers == [desk["north_ticket"].number]
    listed = client.get("/api/tickets/", {"view": "all"}).json()["results"]
    assert {row["id"] for row in listed} == {desk["north_ticket"].pk, desk["handed"].pk}
    assert client.get(f"/api/tickets/{south.pk}/").status_code == 404
    assert client.patch(f"/api/tickets/{south.pk}/", {"subject": "Взлом"},
                        content_type="application/json").status_code == 404


def test_work_orders_follow_their_ticket(client, desk, scoped):
    """(Surveys too: portal/tests/test_survey_data.py.)"""
    south = desk["south_ticket"]
    visit = field_services.work_order_create(ticket=south, actor=desk["lead"])
    north = desk["north"]
    assert visit not in WorkOrder.objects.visible_to(north) and visit in WorkOrder.objects.visible_to(desk["south"])
    client.force_login(north)
    assert client.get(reverse("service:work_order_detail", args=[visit.pk])).status_code == 404
    assert client.get(f"/api/work-orders/{visit.pk}/").status_code == 404


def test_a_ticket_opened_into_another_teams_queue_says_where_it_went(client, desk, scoped):
    client.force_login(desk["north"])
    desk["south_queue"].categories = ["complaint"]
    desk["south_queue"].save()
    response = client.post(reverse("service:ticket_create"), {
        "subject": "Жалоба", "channel": "phone", "category": "complaint", "priority": 3}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("service:ticket_list")
    assert "which your team does not serve" in response.content.decode()


def test_the_queue_form_names_the_teams_that_serve_it(client, desk):
    client.force_login(desk["lead"])
    queue = desk["south_queue"]
    page = client.get(reverse("service:setup_edit", args=["queues", queue.pk])).content.decode()
    assert "Поддержка Север" in page
    north = Team.objects.get(name="Поддержка Север")
    client.post(reverse("service:setup_edit", args=["queues", queue.pk]), {
        "name": queue.name, "assignment": "manual", "teams": [north.pk]})
    assert list(queue.teams.all()) == [north]
