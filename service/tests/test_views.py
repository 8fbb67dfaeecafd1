"""The desk's pages: who reaches what, what they change, and how many queries each page costs."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from accounts.tests.factories import AccountFactory
from contacts.tests.factories import ContactFactory
from crm.models import Role
from crm.tests.factories import UserFactory
from service import services, sla_clock
from service.models import CannedResponse, MessageKind, Queue, Status, Ticket, TicketAttachment
from service.tests.factories import PolicyFactory, QueueFactory, agent

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def desk(db, owner):
    lead = UserFactory(email="lead@example.com", role=Role.SUPPORT_LEAD)
    worker = agent(email="worker@example.com")
    queue = QueueFactory(lead=lead, is_default=True)
    queue.members.set([worker, lead])
    PolicyFactory(calendar__around_the_clock=True)
    account = AccountFactory(owner=owner, name="ООО «Вектор»")
    contact = ContactFactory(owner=owner, account=account, first_name="Пётр", last_name="Смирнов",
                             phones=["+79166383811"], emails=["petr@vector.ru"])
    ticket = services.ticket_create(actor=worker, subject="Не печатает принтер", contact=contact)
    return {"lead": lead, "agent": worker, "queue": queue, "account": account, "contact": contact, "ticket": ticket}


def test_the_agent_works_a_ticket_end_to_end(client, desk):
    client.force_login(desk["agent"])
    ticket = desk["ticket"]
    assert client.get(reverse("service:home")).status_code == 200
    response = client.post(reverse("service:take_next"), {"queue": desk["queue"].pk})
    assert response.url == ticket.get_absolute_url()
    response = client.post(reverse("service:ticket_reply", args=[ticket.pk]),
                           {"body": "Перезагрузите, пожалуйста.", "status": "resolved",
                            "files": [SimpleUploadedFile("screen.png", PNG, "image/png")]})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED and ticket.owner == desk["agent"] and ticket.first_responded_at
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert "Перезагрузите, пожалуйста." in page and "screen.png" in page


def test_a_sales_rep_reads_the_tickets_of_their_customers_only(client, desk, owner, outsider):
    ticket = desk["ticket"]
    client.force_login(owner)
    assert client.get(ticket.get_absolute_url()).status_code == 200
    assert "Не печатает принтер" in client.get(reverse("service:ticket_list")).content.decode()
    assert client.post(reverse("service:ticket_reply", args=[ticket.pk]), {"body": "x"}).status_code == 403
    client.force_login(outsider)
    assert client.get(ticket.get_absolute_url()).status_code == 404
    assert "Не печатает принтер" not in client.get(reverse("service:ticket_list")).content.decode()


def test_marketers_reach_no_ticket(client, desk, marketer):
    client.force_login(marketer)
    for url in (reverse("service:home"), reverse("service:ticket_list"), desk["ticket"].get_absolute_url(),
                reverse("service:hotline")):
        assert client.get(url).status_code == 404


def test_attachments_are_served_only_to_those_who_see_the_ticket(client, desk, outsider, owner):
    message = services.ticket_reply(ticket=desk["ticket"], actor=desk["agent"], body="файл",
                                    uploads=[SimpleUploadedFile("scan.png", PNG, "image/png")])
    attachment = TicketAttachment.objects.get(message=message)
    url = reverse("service:attachment", args=[desk["ticket"].pk, attachment.pk])
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    client.force_login(owner)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    other = services.ticket_create(actor=desk["agent"], subject="другой")
    # A forged pair (someone else's file under a ticket I may see) is a 404 too.
    client.force_login(desk["agent"])
    assert client.get(reverse("service:attachment", args=[other.pk, attachment.pk])).status_code == 404


def test_a_disguised_file_is_refused_with_a_message(client, desk):
    client.force_login(desk["agent"])
    response = client.post(reverse("service:ticket_reply", args=[desk["ticket"].pk]),
                           {"body": "см. вложение",
                            "files": [SimpleUploadedFile("a.pdf", b"<script>", "application/pdf")]},
                           follow=True)
    assert "is not really a PDF file" in response.content.decode()
    assert not desk["ticket"].messages.exists()


def test_the_hotline_finds_the_caller_by_phone_in_any_format(client, desk):
    client.force_login(desk["agent"])
    for typed in ("+7 916 638-38-11", "+79166383811", "007 (916) 638 38 11", "8 (916) 638-38-11", "89166383811"):
        page = client.get(reverse("service:hotline"), {"phone": typed}).content.decode()
        assert "Пётр Смирнов" in page and "Не печатает принтер" in page, typed


def test_the_hotline_opens_a_ticket_and_adds_a_call(client, desk):
    client.force_login(desk["agent"])
    response = client.post(reverse("service:hotline_ticket"), {
        "contact": desk["contact"].pk, "subject": "Счёт не пришёл", "call_note": "Звонил в 10:00",
        "category": "billing", "priority": "2", "phone": "+79166383811"})
    ticket = Ticket.objects.get(subject="Счёт не пришёл")
    assert response.url == ticket.get_absolute_url()
    assert ticket.channel == "phone" and ticket.contact == desk["contact"] and ticket.account == desk["account"]
    assert ticket.owner == desk["agent"]
    assert ticket.messages.get().kind == MessageKind.CALL
    client.post(reverse("service:hotline_call"), {"ticket": ticket.pk, "call_note": "Перезвонил"})
    assert ticket.messages.filter(kind=MessageKind.CALL).count() == 2


def test_the_hotline_refuses_a_forged_contact(client, desk):
    client.force_login(desk["agent"])
    response = client.post(reverse("service:hotline_ticket"), {"contact": desk["contact"].pk + 10_000,
                                                               "subject": "подделка"})
    assert response.status_code == 404
    assert not Ticket.objects.filter(subject="подделка").exists()


def test_sales_may_not_open_tickets_from_the_hotline(client, desk, owner):
    client.force_login(owner)
    response = client.post(reverse("service:hotline_ticket"), {"contact": desk["contact"].pk, "subject": "x"})
    assert response.status_code == 403


def test_a_canned_response_fills_the_reply_box(client, desk):
    canned = CannedResponse.objects.create(title="Привет", body="Здравствуйте, {contact.first_name}!")
    client.force_login(desk["agent"])
    response = client.get(reverse("service:canned_fill", args=[desk["ticket"].pk]), {"canned": canned.pk})
    assert "Здравствуйте, Пётр!" in response.content.decode()


def test_setup_is_for_the_support_lead(client, desk):
    client.force_login(desk["agent"])
    assert client.get(reverse("service:setup", args=["queues"])).status_code == 200
    assert client.get(reverse("service:setup_new", args=["queues"])).status_code == 403
    client.force_login(desk["lead"])
    response = client.post(reverse("service:setup_new", args=["queues"]),
                           {"name": "Вторая линия", "assignment": "round_robin", "members": [desk["agent"].pk]})
    assert response.status_code == 302
    assert list(Queue.objects.get(name="Вторая линия").members.all()) == [desk["agent"]]
    response = client.post(reverse("service:setup_new", args=["calendars"]), {
        "name": "Киев", "time_zone": "Europe/Kyiv", "work_days": ["0", "1"], "opens_at": "18:00",
        "closes_at": "09:00", "holiday_lines": "2027-01-07 Рождество\nnot-a-date"})
    assert "is not a date like" in response.content.decode() and "Closing must come after opening" in \
        response.content.decode()


def test_at_risk_tickets_show_on_the_agents_page(client, desk):
    ticket = desk["ticket"]
    sla_clock.check_sla(ticket.first_response_due + timedelta(minutes=1))
    client.force_login(desk["lead"])
    page = client.get(reverse("service:home")).content.decode()
    assert "Breached" in page and ticket.number in page


def test_tickets_appear_on_the_account_and_contact_pages(client, desk, owner):
    client.force_login(owner)
    assert "Не печатает принтер" in client.get(desk["account"].get_absolute_url()).content.decode()
    assert "Не печатает принтер" in client.get(desk["contact"].get_absolute_url()).content.decode()


def test_tickets_are_found_by_number_and_words(client, desk):
    client.force_login(desk["agent"])
    for text in (desk["ticket"].number, "принтер"):
        assert desk["ticket"].number in client.get(reverse("search"), {"q": text}).content.decode()


@pytest.mark.parametrize("rows", [1, 50])
def test_query_counts_do_not_grow_with_rows(client, desk, rows, django_assert_max_num_queries):
    for n in range(rows - 1):
        services.ticket_create(actor=desk["agent"], subject=f"Заявка {n}", contact=desk["contact"],
                               owner=desk["agent"])
    client.force_login(desk["agent"])
    with django_assert_max_num_queries(14):
        assert client.get(reverse("service:ticket_list")).status_code == 200
    with django_assert_max_num_queries(14):
        assert client.get(reverse("service:home")).status_code == 200
    with django_assert_max_num_queries(15):
        assert client.get(desk["ticket"].get_absolute_url()).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("service:hotline"), {"phone": "+79166383811"}).status_code == 200


def test_the_list_defaults_to_open_tickets(client, desk):
    services.ticket_set_status(ticket=desk["ticket"], actor=desk["agent"], status=Status.CLOSED,
                               now=timezone.now())
    client.force_login(desk["agent"])
    assert "Не печатает принтер" not in client.get(reverse("service:ticket_list")).content.decode()
    assert "Не печатает принтер" in client.get(reverse("service:ticket_list"), {"view": "all"}).content.decode()


@pytest.mark.parametrize(("language", "closed", "resolved", "deal_closed"), [
    ("ru", "Закрыта", "Решена", "Дата закрытия"),
    ("uk", "Закрита", "Вирішена", "Дата закриття"),
])
def test_a_closed_ticket_reads_closed_not_a_date(client, desk, language, closed, resolved, deal_closed):
    """"Closed" the ticket status (msgctxt "ticket status") is not "Closed" the deal's date column."""
    with translation.override(language):
        assert (str(Status.CLOSED.label), str(Status.RESOLVED.label)) == (closed, resolved)
        assert translation.gettext("Closed") == deal_closed  # the deals' column keeps its meaning
        assert str(translation.pgettext("queue", "Lead")) != translation.gettext("Lead")  # not a sales lead
    ticket = desk["ticket"]
    services.ticket_set_status(ticket=ticket, actor=desk["agent"], status=Status.CLOSED)
    desk["agent"].language = language
    desk["agent"].save(update_fields=["language"])
    client.force_login(desk["agent"])
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert f'<span class="badge ticket-status-closed" id="ticket-status">{closed}</span>' in page
