"""/api/tickets/: the same rules as the pages, through the same services."""

import pytest

from accounts.tests.factories import AccountFactory
from contacts.tests.factories import ContactFactory
from crm.tests.api_helpers import api_for
from service import services
from service.models import MessageKind, Ticket
from service.tests.factories import QueueFactory, agent


@pytest.fixture
def setting(db, owner):
    worker = agent(email="api-agent@example.com")
    QueueFactory(is_default=True).members.set([worker])
    account = AccountFactory(owner=owner)
    contact = ContactFactory(owner=owner, account=account)
    ticket = services.ticket_create(actor=worker, subject="Через API", contact=contact)
    services.ticket_reply(ticket=ticket, actor=worker, body="секретная заметка", internal=True)
    return {"agent": worker, "account": account, "contact": contact, "ticket": ticket}


def test_an_agent_opens_and_assigns_a_ticket(setting):
    client = api_for(setting["agent"])
    response = client.post("/api/tickets/", {"subject": "Новая заявка", "contact": setting["contact"].pk,
                                             "priority": 2, "category": "incident"}, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["number"].startswith("T-") and data["account"] == setting["account"].pk
    response = client.patch(f"/api/tickets/{data['id']}/", {"owner": setting["agent"].pk, "priority": 1},
                            format="json")
    assert response.status_code == 200
    ticket = Ticket.objects.get(pk=data["id"])
    assert ticket.owner == setting["agent"] and ticket.priority == 1


def test_sales_reads_its_customers_tickets_and_writes_none(setting, owner, outsider):
    client = api_for(owner)
    ticket = setting["ticket"]
    assert [row["id"] for row in client.get("/api/tickets/").json()["results"]] == [ticket.pk]
    assert client.patch(f"/api/tickets/{ticket.pk}/", {"subject": "x"}, format="json").status_code == 403
    assert client.post("/api/tickets/", {"subject": "x"}, format="json").status_code == 403
    outsider_client = api_for(outsider)
    assert outsider_client.get(f"/api/tickets/{ticket.pk}/").status_code == 404
    assert outsider_client.get(f"/api/tickets/{ticket.pk}/messages/").status_code == 404
    assert outsider_client.get("/api/tickets/").json()["results"] == []


def test_messages_list_the_conversation(setting):
    rows = api_for(setting["agent"]).get(f"/api/tickets/{setting['ticket'].pk}/messages/").json()
    assert [row["kind"] for row in rows] == [MessageKind.NOTE]


def test_a_forged_contact_is_refused(setting, outsider):
    hidden = ContactFactory(owner=outsider)
    client = api_for(setting["agent"])
    # Support reads every customer, so a missing id is the forgery here.
    response = client.post("/api/tickets/", {"subject": "x", "contact": hidden.pk + 10_000}, format="json")
    assert response.status_code == 400
    assert not Ticket.objects.filter(subject="x").exists()
