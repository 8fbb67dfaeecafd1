"""What a portal user sees and does: their own tickets (or their company's when allowed), never another
customer's, never an internal note or its files, whatever the id in the URL."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portal.models import Survey
from portal.tests.factories import PORTAL_PASSWORD
from service import services
from service.models import Channel, MessageKind, Status, Ticket, TicketAttachment

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
# What differs on every render: CSP nonces and masked CSRF tokens.
NONCE = re.compile(r'nonce="[^"]*"|name="csrfmiddlewaretoken" value="[^"]*"|"X-CSRFToken": "[^"]*"')


@pytest.fixture
def portal(client, customer):
    response = client.post(reverse("portal:login"), {"email": customer.email, "password": PORTAL_PASSWORD})
    assert response.status_code == 302
    return client


def body(response) -> str:
    return NONCE.sub("", response.content.decode())


def test_the_list_shows_own_tickets_only(portal, desk):
    page = portal.get(reverse("portal:home")).content.decode()
    assert "Не печатает принтер" in page
    assert "Счёт на оплату" not in page  # a colleague's ticket: not without the company setting
    assert "Чужая заявка" not in page


def test_with_the_setting_the_list_shows_the_companys_tickets(portal, desk, customer):
    customer.sees_account_tickets = True
    customer.save(update_fields=["sees_account_tickets"])
    page = portal.get(reverse("portal:home")).content.decode()
    assert "Не печатает принтер" in page and "Счёт на оплату" in page and "Чужая заявка" not in page
    assert portal.get(reverse("portal:ticket", args=[desk["colleague_ticket"].pk])).status_code == 200


def test_another_customers_ticket_answers_like_a_missing_one(portal, desk):
    missing = portal.get(reverse("portal:ticket", args=[999_999]))
    foreign = portal.get(reverse("portal:ticket", args=[desk["foreign"].pk]))
    colleague = portal.get(reverse("portal:ticket", args=[desk["colleague_ticket"].pk]))
    assert missing.status_code == foreign.status_code == colleague.status_code == 404
    assert body(missing) == body(foreign) == body(colleague)
    assert "Чужая заявка" not in foreign.content.decode()


def test_forged_ids_change_nothing(portal, desk):
    foreign = desk["foreign"]
    assert portal.post(reverse("portal:ticket_reply", args=[foreign.pk]), {"body": "взлом"}).status_code == 404
    assert not foreign.messages.exists()
    services.ticket_set_status(ticket=foreign, actor=desk["agent"], status=Status.RESOLVED)
    survey = Survey.objects.get(ticket=foreign)
    # Their own ticket in the URL, another customer's survey in the form.
    response = portal.post(reverse("portal:ticket_rate", args=[desk["ticket"].pk]),
                           {"survey": survey.pk, "rating": "1"})
    assert response.status_code == 404
    assert portal.post(reverse("portal:ticket_rate", args=[foreign.pk]), {"survey": survey.pk, "rating": "1"}
                       ).status_code == 404
    survey.refresh_from_db()
    assert survey.answered_at is None


def test_a_deleted_ticket_is_gone(portal, desk):
    services.ticket_delete(ticket=desk["ticket"], actor=desk["agent"])
    assert portal.get(reverse("portal:ticket", args=[desk["ticket"].pk])).status_code == 404


def test_internal_notes_and_their_files_are_never_shown(portal, desk):
    ticket = desk["ticket"]
    services.ticket_reply(ticket=ticket, actor=desk["agent"], body="Секретная заметка: клиент капризный",
                          internal=True, uploads=[SimpleUploadedFile("note.png", PNG, "image/png")])
    services.ticket_reply(ticket=ticket, actor=desk["agent"], body="Перезагрузите принтер",
                          uploads=[SimpleUploadedFile("guide.png", PNG, "image/png")])
    services.ticket_customer_message(ticket=ticket, body="Позвонил, говорит злой", kind=MessageKind.CALL,
                                     author=desk["agent"])
    page = portal.get(reverse("portal:ticket", args=[ticket.pk])).content.decode()
    assert "Перезагрузите принтер" in page and "guide.png" in page
    assert "Секретная заметка" not in page and "note.png" not in page and "говорит злой" not in page
    note_file = TicketAttachment.objects.get(name="note.png")
    public_file = TicketAttachment.objects.get(name="guide.png")
    assert portal.get(reverse("portal:attachment", args=[ticket.pk, note_file.pk])).status_code == 404
    response = portal.get(reverse("portal:attachment", args=[ticket.pk, public_file.pk]))
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_another_customers_file_is_not_served_through_ones_own_ticket(portal, desk):
    services.ticket_reply(ticket=desk["foreign"], actor=desk["agent"], body="Ваш договор",
                          uploads=[SimpleUploadedFile("contract.png", PNG, "image/png")])
    foreign_file = TicketAttachment.objects.get(name="contract.png")
    for ticket_id in (desk["ticket"].pk, desk["foreign"].pk):
        assert portal.get(reverse("portal:attachment", args=[ticket_id, foreign_file.pk])).status_code == 404


def test_a_portal_user_opens_a_ticket_with_a_file(portal, desk, customer):
    response = portal.post(reverse("portal:ticket_new"), {
        "subject": "Не приходят счета", "description": "С понедельника нет писем", "category": "billing",
        "files": [SimpleUploadedFile("скрин.png", PNG, "image/png")]})
    ticket = Ticket.objects.get(subject="Не приходят счета")
    assert response.url == reverse("portal:ticket", args=[ticket.pk])
    assert ticket.channel == Channel.PORTAL and ticket.contact == desk["contact"] and ticket.account == desk["account"]
    assert ticket.number.startswith("T-") and ticket.queue == desk["queue"] and ticket.sla_policy is not None
    assert TicketAttachment.objects.filter(ticket=ticket, name="скрин.png").exists()
    assert "скрин.png" in portal.get(response.url).content.decode()


def test_a_disguised_file_is_refused_and_no_ticket_is_left(portal):
    response = portal.post(reverse("portal:ticket_new"), {
        "subject": "Вирус", "description": "x", "category": "question",
        "files": [SimpleUploadedFile("virus.pdf", b"MZ\x90\x00" + b"\x00" * 64, "application/pdf")]})
    assert response.status_code == 200 and "is not really a PDF file" in response.content.decode()
    assert not Ticket.objects.filter(subject="Вирус").exists()


def test_an_empty_request_gets_messages(portal):
    response = portal.post(reverse("portal:ticket_new"), {"subject": "", "description": ""})
    assert response.status_code == 200 and "This field is required." in response.content.decode()


def test_a_reply_from_the_portal_reopens_a_resolved_ticket(portal, desk):
    ticket = desk["ticket"]
    services.ticket_set_status(ticket=ticket, actor=desk["agent"], status=Status.RESOLVED)
    portal.post(reverse("portal:ticket_reply", args=[ticket.pk]), {"body": "Всё ещё не печатает"})
    ticket.refresh_from_db()
    message = ticket.messages.get()
    assert ticket.status == Status.OPEN and message.kind == MessageKind.CUSTOMER and message.author is None


def test_a_resolved_ticket_is_rated_in_the_portal_once(portal, desk):
    ticket = desk["ticket"]
    services.ticket_set_status(ticket=ticket, actor=desk["agent"], status=Status.RESOLVED)
    survey = Survey.objects.get(ticket=ticket)
    page = portal.get(reverse("portal:ticket", args=[ticket.pk])).content.decode()
    assert 'id="portal-rate"' in page
    portal.post(reverse("portal:ticket_rate", args=[ticket.pk]), {"survey": survey.pk, "rating": "4",
                                                                   "comment": "Спасибо"})
    portal.post(reverse("portal:ticket_rate", args=[ticket.pk]), {"survey": survey.pk, "rating": "1"})
    survey.refresh_from_db()
    assert survey.rating == 4 and survey.answered_in_portal
    page = portal.get(reverse("portal:ticket", args=[ticket.pk])).content.decode()
    assert 'id="portal-rate"' not in page and 'id="portal-rated"' in page


@pytest.mark.parametrize("rows", [1, 30])
def test_portal_pages_cost_a_constant_number_of_queries(portal, desk, rows, django_assert_max_num_queries):
    for n in range(rows):
        ticket = services.ticket_create(actor=desk["agent"], subject=f"Заявка {n}", contact=desk["contact"],
                                        owner=desk["agent"])
        services.ticket_reply(ticket=ticket, actor=desk["agent"], body=f"Ответ {n}",
                              uploads=[SimpleUploadedFile("a.png", PNG, "image/png")])
    ticket = desk["ticket"]
    for n in range(rows):
        services.ticket_reply(ticket=ticket, actor=desk["agent"], body=f"Ответ {n}",
                              uploads=[SimpleUploadedFile("b.png", PNG, "image/png")])
    with django_assert_max_num_queries(6):
        assert portal.get(reverse("portal:home")).status_code == 200
    with django_assert_max_num_queries(8):
        assert portal.get(reverse("portal:ticket", args=[ticket.pk])).status_code == 200


@pytest.mark.parametrize("page", ["99999999999999999999999", "-5", "NaN"])
def test_any_page_number_answers_a_page(portal, desk, page):
    """A huge page number overflowed the OFFSET (a 500, found by crm/tests/test_fuzz_matrix.py)."""
    response = portal.get(reverse("portal:home"), {"page": page})
    assert response.status_code == 200
