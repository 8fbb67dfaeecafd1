"""E-mail to ticket, from a real Maildir in a temporary folder: a new message opens a ticket, a reply
with the number joins it, attachments are kept (or named when refused), automatic replies and loops
are ignored, and each message counts once even when the reader runs twice or dies mid-way."""

import mailbox
from email.message import EmailMessage
from unittest import mock

import pytest
from django.utils import timezone

from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm.models import Role
from crm.tests.factories import UserFactory
from service import inbound, services
from service.models import Channel, InboundEmail, InboundOutcome, MessageKind, Status, Ticket
from service.tests.factories import QueueFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def maildir(tmp_path, settings, db):
    settings.SERVICE_MAILDIR = tmp_path / "support"
    lead = UserFactory(email="desk-lead@example.com", role=Role.SUPPORT_LEAD)
    QueueFactory(is_default=True, lead=lead)
    return mailbox.Maildir(tmp_path / "support", create=True)


def letter(sender="Ольга Петрова <olga@romashka.ru>", subject="Не работает принтер", body="Печатает пустые листы.",
           message_id=None, attachments=(), **headers) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "support@demo.crm", subject
    if message_id:
        message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    for name, data, maintype, subtype in attachments:
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message


def test_a_new_message_opens_a_ticket_for_a_new_contact(maildir):
    maildir.add(letter(message_id="<1@romashka.ru>", attachments=[("photo.png", PNG, "image", "png")]))
    assert inbound.read_mailbox() == 1
    ticket = Ticket.objects.get()
    assert ticket.subject == "Не работает принтер" and ticket.channel == Channel.EMAIL
    assert ticket.description == "Печатает пустые листы."
    contact = Contact.objects.get(emails__contains=["olga@romashka.ru"])
    assert (contact.first_name, contact.last_name) == ("Ольга", "Петрова") and ticket.contact == contact
    assert [a.name for a in ticket.attachments.all()] == ["photo.png"]
    assert list(maildir.keys()) == []  # the file has done its job
    assert InboundEmail.objects.get().outcome == InboundOutcome.NEW_TICKET


def test_a_known_sender_keeps_their_contact(maildir):
    known = ContactFactory(emails=["olga@romashka.ru"])
    maildir.add(letter(message_id="<2@romashka.ru>"))
    inbound.read_mailbox()
    assert Ticket.objects.get().contact == known


def test_a_reply_with_the_number_joins_the_ticket_and_reopens_it(maildir):
    contact = ContactFactory(emails=["olga@romashka.ru"])
    ticket = services.ticket_create(actor=UserFactory(role=Role.SUPPORT_AGENT), subject="Принтер", contact=contact)
    services.ticket_set_status(ticket=ticket, actor=ticket.contact.owner, status=Status.RESOLVED)
    maildir.add(letter(subject=f"Re: [{ticket.number}] Принтер", body="Снова не печатает", message_id="<3@r.ru>"))
    inbound.read_mailbox()
    ticket.refresh_from_db()
    assert Ticket.objects.count() == 1 and ticket.status == Status.OPEN and ticket.reopened_count == 1
    assert ticket.messages.get(kind=MessageKind.CUSTOMER).body == "Снова не печатает"


def test_each_message_counts_once_even_when_read_twice(maildir, tmp_path):
    raw = letter(message_id="<4@romashka.ru>").as_bytes()
    maildir.add(raw)
    assert inbound.read_mailbox() == 1
    maildir.add(raw)  # delivered again (fetchmail retried)
    assert inbound.message_process(raw, now=timezone.now()) is False
    assert inbound.read_mailbox() == 0
    assert Ticket.objects.count() == 1 and list(maildir.keys()) == []


def test_a_reader_killed_mid_way_leaves_nothing_half_done(maildir):
    maildir.add(letter(message_id="<5@romashka.ru>"))
    with mock.patch("service.services.ticket_create", side_effect=RuntimeError("worker killed")), \
            pytest.raises(RuntimeError):
        inbound.read_mailbox()
    assert not InboundEmail.objects.exists() and not Ticket.objects.exists()
    assert len(maildir.keys()) == 1  # still there for the next run
    assert inbound.read_mailbox() == 1
    assert Ticket.objects.count() == 1 and InboundEmail.objects.count() == 1


@pytest.mark.parametrize("headers", [
    {"Auto_Submitted": "auto-replied"},
    {"X_Autoreply": "yes"},
    {"Precedence": "bulk"},
    {"subject": "Out of office: back on Monday"},
    {"subject": "Автоответ: в отпуске"},
    {"sender": "MAILER-DAEMON@mx.romashka.ru", "subject": "Undelivered"},
])
def test_automatic_replies_are_ignored(maildir, headers):
    maildir.add(letter(message_id="<auto@r.ru>", **headers))
    inbound.read_mailbox()
    assert not Ticket.objects.exists()
    assert InboundEmail.objects.get().outcome == InboundOutcome.AUTO_REPLY


def test_our_own_mail_and_floods_are_loops(maildir, settings):
    settings.DEFAULT_FROM_EMAIL = "CRM <support@demo.crm>"
    maildir.add(letter(sender="support@demo.crm", message_id="<own@demo.crm>"))
    for n in range(inbound.FLOOD_LIMIT + 3):
        maildir.add(letter(sender="robot@spam.example", subject=f"Заказ {n}", message_id=f"<flood{n}@spam>"))
    inbound.read_mailbox()
    assert InboundEmail.objects.get(sender="support@demo.crm").outcome == InboundOutcome.LOOP
    assert Ticket.objects.filter(contact__emails__contains=["robot@spam.example"]).count() == inbound.FLOOD_LIMIT + 1
    assert InboundEmail.objects.filter(outcome=InboundOutcome.LOOP, sender="robot@spam.example").count() == 2


def test_a_refused_attachment_is_named_not_dropped(maildir):
    maildir.add(letter(message_id="<6@r.ru>",
                       attachments=[("virus.exe", b"MZ\x90\x00", "application", "octet-stream")]))
    inbound.read_mailbox()
    ticket = Ticket.objects.get()
    assert not ticket.attachments.exists()
    assert "[virus.exe:" in ticket.description


def test_html_only_mail_becomes_text(maildir):
    message = EmailMessage()
    message["From"], message["Subject"], message["Message-ID"] = "ivan@example.ru", "HTML", "<7@r.ru>"
    message.set_content("<p>Здравствуйте!<br><b>Срочно</b></p><script>alert(1)</script>", subtype="html")
    maildir.add(message)
    inbound.read_mailbox()
    description = Ticket.objects.get().description
    assert "Здравствуйте!" in description and "<b>" not in description and "<script>" not in description
