"""Opening, routing, assigning, taking, answering and reopening tickets."""

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import AccountFactory
from contacts.tests.factories import ContactFactory
from crm import scheduler
from crm.models import OutboxMail
from service import mail as service_mail
from service import routing, services
from service.models import (
    AssignmentMode,
    CannedResponse,
    Category,
    MessageKind,
    Priority,
    Status,
    Ticket,
    TicketMessage,
)
from service.tests.factories import QueueFactory, agent

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def agents(db):
    return [agent(email=f"agent{n}@example.com") for n in range(3)]


def test_numbers_are_sequential_per_year(agents):
    first = services.ticket_create(actor=agents[0], subject="Один")
    second = services.ticket_create(actor=agents[0], subject="Два")
    year = first.created_at.year
    assert (first.number, second.number) == (f"T-{year}-000001", f"T-{year}-000002")


def test_the_category_picks_the_queue_else_the_default(agents):
    default = QueueFactory(is_default=True)
    billing = QueueFactory(categories=[Category.BILLING, Category.COMPLAINT])
    assert services.ticket_create(actor=agents[0], subject="Счёт", category=Category.BILLING).queue == billing
    assert services.ticket_create(actor=agents[0], subject="Вопрос").queue == default


def test_round_robin_takes_turns(agents):
    queue = QueueFactory(is_default=True, assignment=AssignmentMode.ROUND_ROBIN)
    queue.members.set(agents)
    owners = [services.ticket_create(actor=agents[0], subject=f"T{n}").owner for n in range(4)]
    assert owners == [agents[0], agents[1], agents[2], agents[0]]
    assert all(t.status == Status.OPEN for t in Ticket.objects.all())


def test_round_robin_skips_people_who_left(agents):
    queue = QueueFactory(is_default=True, assignment=AssignmentMode.ROUND_ROBIN)
    queue.members.set(agents)
    agents[1].is_active = False
    agents[1].save()
    owners = [services.ticket_create(actor=agents[0], subject=f"T{n}").owner for n in range(3)]
    assert owners == [agents[0], agents[2], agents[0]]


def test_least_loaded_gives_the_ticket_to_the_freest_agent(agents):
    queue = QueueFactory(is_default=True, assignment=AssignmentMode.LEAST_LOADED)
    queue.members.set(agents)
    for _ in range(2):
        services.ticket_create(actor=agents[0], subject="busy", owner=agents[0])
    services.ticket_create(actor=agents[0], subject="busy", owner=agents[1])
    assert services.ticket_create(actor=agents[0], subject="new").owner == agents[2]


def test_manual_queues_leave_tickets_waiting(agents):
    queue = QueueFactory(is_default=True)
    queue.members.set(agents)
    ticket = services.ticket_create(actor=agents[0], subject="ждёт")
    assert ticket.owner is None and ticket.status == Status.NEW


def test_vip_customers_are_served_first_within_a_priority_level(agents):
    queue = QueueFactory(is_default=True)
    normal = services.ticket_create(actor=agents[0], subject="normal", priority=Priority.HIGH)
    vip = services.ticket_create(actor=agents[0], subject="vip", priority=Priority.HIGH,
                                 account=AccountFactory(is_vip=True))
    urgent = services.ticket_create(actor=agents[0], subject="urgent", priority=Priority.URGENT)
    key = services.ticket_create(actor=agents[0], subject="key", priority=Priority.NORMAL,
                                 account=AccountFactory(tier="key"))
    order = list(routing.waiting_in([queue.pk]))
    # Ranks: VIP high 2 (= urgent 2), plain high 4, key-tier normal 5.
    assert order.index(vip) < order.index(normal)
    assert order.index(urgent) < order.index(normal)
    assert order.index(normal) < order.index(key)
    assert [vip.queue_rank, urgent.queue_rank, normal.queue_rank, key.queue_rank] == [2, 2, 4, 5]


@pytest.mark.django_db(transaction=True)
def test_two_agents_taking_at_once_get_different_tickets(agents):
    queue = QueueFactory(is_default=True)
    queue.members.set(agents)
    for n in range(2):
        services.ticket_create(actor=agents[0], subject=f"T{n}")
    barrier, taken = threading.Barrier(2), []

    def take(person):
        barrier.wait()
        try:
            taken.append(services.ticket_take_next(actor=person, queue_ids=[queue.pk]))
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(person,)) for person in agents[:2]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({ticket.pk for ticket in taken if ticket}) == 2
    assert services.ticket_take_next(actor=agents[2], queue_ids=[queue.pk]) is None


def test_a_reply_is_emailed_once_with_the_number_in_the_subject(agents, django_capture_on_commit_callbacks):
    contact = ContactFactory(emails=["ivan@example.ru"], first_name="Иван")
    ticket = services.ticket_create(actor=agents[0], subject="Не работает", contact=contact)
    with django_capture_on_commit_callbacks(execute=True):
        message = services.ticket_reply(ticket=ticket, actor=agents[0], body="Здравствуйте, Иван!",
                                        uploads=[SimpleUploadedFile("screen.png", PNG, "image/png")])
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.subject == f"[{ticket.number}] Не работает" and sent.to == ["ivan@example.ru"]
    assert sent.attachments[0][0] == "screen.png"
    assert service_mail.reply_send(message_id=message.pk) is False  # redelivered task: nothing more
    assert service_mail.send_pending_replies(message.created_at + timedelta(hours=1)) == 0
    assert len(mail.outbox) == 1


def test_a_reply_refused_by_the_mail_server_waits_in_the_outbox(agents, settings):
    contact = ContactFactory(emails=["ivan@example.ru"])
    ticket = services.ticket_create(actor=agents[0], subject="x", contact=contact)
    message = services.ticket_reply(ticket=ticket, actor=agents[0], body="Ответ")
    settings.MAILERS = {"default": {"BACKEND": "crm.tests.mail_helpers.RefusingBackend"}}
    assert service_mail.send_pending_replies(message.created_at + timedelta(minutes=5)) == 1  # queued
    assert service_mail.send_pending_replies(message.created_at + timedelta(minutes=5)) == 0  # once
    queued = OutboxMail.objects.get(key=f"ticket-{ticket.pk}-{message.pk}")
    assert scheduler.tick(now=timezone.now())["outbox"] == 0 and "mail server down" in OutboxMail.objects.get(
        pk=queued.pk).last_error
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    assert scheduler.tick(now=OutboxMail.objects.get(pk=queued.pk).next_attempt_at)["outbox"] == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].extra_headers["Message-ID"] == (
        TicketMessage.objects.get(pk=message.pk).email_message_id)


def test_internal_notes_are_never_emailed(agents, django_capture_on_commit_callbacks):
    contact = ContactFactory(emails=["ivan@example.ru"])
    ticket = services.ticket_create(actor=agents[0], subject="x", contact=contact)
    with django_capture_on_commit_callbacks(execute=True):
        note = services.ticket_reply(ticket=ticket, actor=agents[0], body="секрет", internal=True)
    assert note.kind == MessageKind.NOTE and note.emailed_to == ""
    assert mail.outbox == []
    assert service_mail.reply_send(message_id=note.pk) is False


def test_a_customer_reply_reopens_a_resolved_ticket(agents):
    ticket = services.ticket_create(actor=agents[0], subject="x", owner=agents[0])
    services.ticket_set_status(ticket=ticket, actor=agents[0], status=Status.RESOLVED)
    services.ticket_customer_message(ticket=ticket, body="Опять сломалось")
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN and ticket.reopened_count == 1 and ticket.resolved_at is None


def test_attachments_are_checked_and_nothing_is_kept_on_refusal(agents):
    ticket = services.ticket_create(actor=agents[0], subject="x")
    fake = SimpleUploadedFile("invoice.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")
    with pytest.raises(ValidationError):
        services.ticket_reply(ticket=ticket, actor=agents[0], body="см. файл", uploads=[fake])
    assert not TicketMessage.objects.filter(ticket=ticket).exists()


def test_canned_responses_fill_merge_fields_as_plain_text(agents):
    contact = ContactFactory(first_name="Ольга", account=AccountFactory(name="ООО «Ромашка»"))
    ticket = services.ticket_create(actor=agents[0], subject="Доставка", contact=contact)
    canned = CannedResponse.objects.create(
        title="t", body="Здравствуйте, {contact.first_name}! {ticket.number} для {account.name}. "
                        "{ticket.secret} {{ agent.password }}")
    text = services.canned_render(canned, ticket=ticket, agent=agents[0])
    # Unknown fields stay as written, and nothing is evaluated as a template.
    assert text == f"Здравствуйте, Ольга! {ticket.number} для ООО «Ромашка». {{ticket.secret}} {{{{ agent.password }}}}"


def test_the_contact_brings_its_account(agents):
    account = AccountFactory()
    ticket = services.ticket_create(actor=agents[0], subject="x", contact=ContactFactory(account=account))
    assert ticket.account == account
