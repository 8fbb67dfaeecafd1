"""E-mail to ticket over IMAP, against a real IMAP server on 127.0.0.1 (pymap, service/tests/imap_server.py):
STARTTLS and TLS from the start, certificates checked, UIDs remembered, mail moved or marked read after it
is recorded, one worker per mailbox, and each message once whatever dies where."""

from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.tests.factories import ContactFactory
from crm import scheduler
from crm.models import Role
from crm.tests.factories import UserFactory
from service import imap, inbound, services
from service.models import Channel, ImapMailbox, InboundEmail, InboundOutcome, MailboxSecurity, Status, Ticket
from service.tests.factories import QueueFactory
from service.tests.imap_server import PASSWORD, USER
from service.tests.test_inbound import PNG, letter

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(db):
    lead = UserFactory(email="desk-lead@example.com", role=Role.SUPPORT_LEAD)
    return QueueFactory(is_default=True, lead=lead, name="Первая линия")


@pytest.fixture
def mailbox(imap_server, desk):
    return ImapMailbox.objects.create(name="Поддержка", host="127.0.0.1", port=imap_server.port,
                                      security=MailboxSecurity.STARTTLS, username=USER, password=PASSWORD,
                                      done_folder="Обработано", queue=QueueFactory(name="Почта"))


def test_a_new_message_opens_a_ticket_and_is_moved_to_the_processed_folder(imap_server, mailbox):
    uid = imap_server.deliver(letter(message_id="<imap1@romashka.ru>",
                                     attachments=[("photo.png", PNG, "image", "png")]))
    assert imap.read(mailbox.pk) == 1
    ticket = Ticket.objects.get()
    assert (ticket.subject, ticket.channel, ticket.queue) == ("Не работает принтер", Channel.EMAIL, mailbox.queue)
    assert ticket.contact.emails == ["olga@romashka.ru"] and ticket.description == "Печатает пустые листы."
    assert [a.name for a in ticket.attachments.all()] == ["photo.png"]
    record = InboundEmail.objects.get()
    assert (record.outcome, record.mailbox, record.ticket) == (InboundOutcome.NEW_TICKET, mailbox, ticket)
    assert imap_server.messages("INBOX") == {} and len(imap_server.messages("Обработано")) == 1
    mailbox.refresh_from_db()
    assert mailbox.last_uid == uid and mailbox.uid_validity and mailbox.last_error == ""
    assert mailbox.last_read_at is not None and mailbox.claimed_by == "" and mailbox.claimed_until is None


def test_tls_from_the_start_and_mail_left_in_place_marked_read(imap_server, mailbox):
    ImapMailbox.objects.filter(pk=mailbox.pk).update(security=MailboxSecurity.SSL, port=imap_server.ssl_port,
                                                     done_folder="")
    first = imap_server.deliver(letter(message_id="<imap2@romashka.ru>"))
    second = imap_server.deliver(letter(message_id="<imap3@romashka.ru>", subject="Второй вопрос"))
    assert imap.read(mailbox.pk) == 2
    assert imap_server.messages("INBOX") == {first: {r"\Seen"}, second: {r"\Seen"}}
    assert imap.read(mailbox.pk) == 0  # nothing new past the last UID
    assert Ticket.objects.count() == 2
    assert ImapMailbox.objects.get().last_uid == second


def test_a_reply_with_the_number_joins_its_ticket(imap_server, mailbox):
    contact = ContactFactory(emails=["olga@romashka.ru"])
    ticket = services.ticket_create(actor=UserFactory(role=Role.SUPPORT_AGENT), subject="Принтер", contact=contact)
    services.ticket_set_status(ticket=ticket, actor=contact.owner, status=Status.RESOLVED)
    imap_server.deliver(letter(subject=f"RE: [{ticket.number}] Принтер", body="Опять", message_id="<imap4@r.ru>"))
    imap.read(mailbox.pk)
    ticket.refresh_from_db()
    assert Ticket.objects.count() == 1 and ticket.status == Status.OPEN
    assert InboundEmail.objects.get().outcome == InboundOutcome.REPLY


def test_automatic_replies_are_recorded_ignored_and_tidied(imap_server, mailbox):
    imap_server.deliver(letter(message_id="<imap5@r.ru>", subject="Автоответ: в отпуске до понедельника"))
    assert imap.read(mailbox.pk) == 1
    assert not Ticket.objects.exists() and InboundEmail.objects.get().outcome == InboundOutcome.AUTO_REPLY
    assert imap_server.messages("INBOX") == {}


def test_the_same_message_delivered_twice_makes_one_ticket(imap_server, mailbox):
    raw = letter(message_id="<imap6@romashka.ru>").as_bytes()
    imap_server.deliver(raw)
    assert imap.read(mailbox.pk) == 1
    imap_server.deliver(raw)  # the sender's server retried: a new UID, the same Message-ID
    assert imap.read(mailbox.pk) == 0
    assert Ticket.objects.count() == 1 and imap_server.messages("INBOX") == {}
    assert len(imap_server.messages("Обработано")) == 2


def test_a_worker_killed_before_the_commit_leaves_nothing_and_the_next_run_does_it(imap_server, mailbox):
    uid = imap_server.deliver(letter(message_id="<imap7@romashka.ru>"))
    with mock.patch("service.services.ticket_create", side_effect=RuntimeError("worker killed")), \
            pytest.raises(RuntimeError):
        imap.read(mailbox.pk)
    assert not Ticket.objects.exists() and not InboundEmail.objects.exists()
    assert ImapMailbox.objects.get().last_uid == 0  # the step of the UID rolled back with the ticket
    assert imap_server.messages("INBOX") == {uid: set()}  # still there, still unread (BODY.PEEK)
    assert imap.read(mailbox.pk) == 1
    assert Ticket.objects.count() == 1 and imap_server.messages("INBOX") == {}


def test_a_worker_killed_after_the_commit_only_has_its_message_tidied_next_time(imap_server, mailbox):
    uid = imap_server.deliver(letter(message_id="<imap8@romashka.ru>"))
    with mock.patch("service.imap._dispose", side_effect=RuntimeError("worker killed")), pytest.raises(RuntimeError):
        imap.read(mailbox.pk)
    assert Ticket.objects.count() == 1 and ImapMailbox.objects.get().last_uid == uid
    assert list(imap_server.messages("INBOX")) == [uid]  # recorded but not moved yet
    with mock.patch("service.inbound.message_process", wraps=inbound.message_process) as processed:
        assert imap.read(mailbox.pk) == 0
    processed.assert_not_called()  # at or under the last UID: tidied, never recorded again
    assert Ticket.objects.count() == 1 and imap_server.messages("INBOX") == {}
    assert list(imap_server.messages("Обработано").values()) == [set()]


def test_a_mailbox_another_worker_holds_is_left_alone(imap_server, mailbox):
    imap_server.deliver(letter(message_id="<imap9@romashka.ru>"))
    token = imap.claim(mailbox.pk)
    assert token and imap.claim(mailbox.pk) is None  # compare-and-set: one holder
    assert imap.read(mailbox.pk) == 0
    assert not Ticket.objects.exists() and len(imap_server.messages("INBOX")) == 1
    assert imap.mailboxes_due() == []
    imap.release(mailbox.pk, token)
    assert imap.mailboxes_due() == [mailbox.pk]
    assert imap.read(mailbox.pk) == 1


def test_the_lease_of_a_dead_worker_runs_out(imap_server, mailbox):
    imap_server.deliver(letter(message_id="<imap10@romashka.ru>"))
    ImapMailbox.objects.filter(pk=mailbox.pk).update(claimed_by="dead-worker",
                                                     claimed_until=timezone.now() - timedelta(seconds=1))
    assert imap.mailboxes_due() == [mailbox.pk]
    assert imap.read(mailbox.pk) == 1


def test_a_worker_whose_claim_was_taken_over_records_nothing(imap_server, mailbox):
    uid = imap_server.deliver(letter(message_id="<imap11@romashka.ru>"))
    real_fetch = imap._fetch

    def slow_fetch(connection, fetched_uid):
        # The lease ran out while this worker stalled, and the next worker claimed the mailbox.
        ImapMailbox.objects.filter(pk=mailbox.pk).update(claimed_by="next-worker")
        return real_fetch(connection, fetched_uid)

    with mock.patch("service.imap._fetch", side_effect=slow_fetch):
        assert imap.read(mailbox.pk) == 0
    assert not Ticket.objects.exists() and not InboundEmail.objects.exists()
    row = ImapMailbox.objects.get()
    assert (row.last_uid, row.claimed_by) == (0, "next-worker")  # the new holder's claim is untouched
    assert list(imap_server.messages("INBOX")) == [uid]


def test_a_renumbered_folder_is_read_again_without_doubling(imap_server, mailbox):
    imap_server.deliver(letter(message_id="<imap12@romashka.ru>"))
    assert imap.read(mailbox.pk) == 1
    # The server says the folder's UIDs start over (another UIDVALIDITY): the remembered UID means nothing.
    ImapMailbox.objects.filter(pk=mailbox.pk).update(uid_validity=1, last_uid=10**9)
    new = imap_server.deliver(letter(message_id="<imap13@romashka.ru>", subject="Новый вопрос"))
    assert imap.read(mailbox.pk) == 1
    row = ImapMailbox.objects.get()
    assert row.uid_validity != 1 and row.last_uid == new and Ticket.objects.count() == 2


def test_an_untrusted_certificate_is_refused_before_the_password_is_sent(imap_server, mailbox, settings):
    settings.SERVICE_IMAP_CA_FILE = ""
    imap_server.deliver(letter(message_id="<imap14@romashka.ru>"))
    for security, port in ((MailboxSecurity.STARTTLS, imap_server.port), (MailboxSecurity.SSL, imap_server.ssl_port)):
        ImapMailbox.objects.filter(pk=mailbox.pk).update(security=security, port=port)
        assert imap.read(mailbox.pk) == 0
        assert "CERTIFICATE_VERIFY_FAILED" in ImapMailbox.objects.get().last_error
    assert not Ticket.objects.exists() and len(imap_server.messages("INBOX")) == 1


def test_a_wrong_password_is_reported_on_the_mailbox(imap_server, mailbox):
    ImapMailbox.objects.filter(pk=mailbox.pk).update(password="не тот")
    assert imap.read(mailbox.pk) == 0
    row = ImapMailbox.objects.get()
    assert row.last_error == imap.BAD_LOGIN and row.claimed_by == ""
    ImapMailbox.objects.filter(pk=mailbox.pk).update(password=PASSWORD)
    imap_server.deliver(letter(message_id="<imap15@romashka.ru>"))
    assert imap.read(mailbox.pk) == 1 and ImapMailbox.objects.get().last_error == ""


def test_an_inactive_mailbox_is_not_read(imap_server, mailbox):
    ImapMailbox.objects.filter(pk=mailbox.pk).update(is_active=False)
    imap_server.deliver(letter(message_id="<imap16@romashka.ru>"))
    assert imap.mailboxes_due() == [] and imap.read(mailbox.pk) == 0


def test_the_scheduler_tick_sends_a_task_per_free_mailbox(imap_server, mailbox):
    imap_server.deliver(letter(message_id="<imap17@romashka.ru>"))
    busy = ImapMailbox.objects.create(name="Занятый", host="127.0.0.1", port=imap_server.port,
                                      security=MailboxSecurity.STARTTLS, username=USER, password=PASSWORD)
    assert imap.claim(busy.pk)
    with mock.patch("service.tasks.read_imap_mailbox.delay") as delay:
        assert imap.read_mailboxes_tick(timezone.now()) == 1
    delay.assert_called_once_with(mailbox.pk)
    result = scheduler.tick()  # Celery runs eagerly in the tests: the task reads the mailbox
    assert result["service_imap_mailboxes"] == 1 and Ticket.objects.count() == 1


def test_try_connection_counts_the_waiting_messages(imap_server, mailbox):
    imap_server.deliver(letter(message_id="<imap18@romashka.ru>"))
    assert imap.try_connection(mailbox) == "1"
    mailbox.folder = "Нет такой"
    with pytest.raises(imap.MailboxError):
        imap.try_connection(mailbox)


# --- The set-up pages: Desk set-up → IMAP mailboxes ----------------------------------------------------


def _form(imap_server, **changes):
    data = {"name": "Поддержка", "host": "127.0.0.1", "port": imap_server.port, "security": "starttls",
            "username": USER, "password": PASSWORD, "folder": "INBOX", "done_folder": "Обработано", "is_active": "on"}
    data.update(changes)
    return data


def test_the_lead_adds_a_mailbox_and_its_password_is_never_shown_again(client, imap_server, desk):
    client.force_login(desk.lead)
    response = client.post(reverse("service:setup_new", args=["mailboxes"]), _form(imap_server, queue=desk.pk))
    assert response.status_code == 302
    mailbox = ImapMailbox.objects.get()
    assert (mailbox.name, mailbox.password, mailbox.queue) == ("Поддержка", PASSWORD, desk)
    page = client.get(reverse("service:setup_edit", args=["mailboxes", mailbox.pk])).content.decode()
    assert PASSWORD not in page and "Check the connection" in page
    ImapMailbox.objects.filter(pk=mailbox.pk).update(uid_validity=7, last_uid=40)
    client.post(reverse("service:setup_edit", args=["mailboxes", mailbox.pk]), _form(imap_server, password=""))
    mailbox.refresh_from_db()
    assert mailbox.password == PASSWORD and (mailbox.uid_validity, mailbox.last_uid) == (7, 40)  # kept
    client.post(reverse("service:setup_edit", args=["mailboxes", mailbox.pk]), _form(imap_server, folder="Заявки"))
    mailbox.refresh_from_db()
    assert (mailbox.folder, mailbox.uid_validity, mailbox.last_uid) == ("Заявки", None, 0)  # another folder


@pytest.mark.parametrize(("changes", "message"), [
    ({"host": "imaps://mail.romashka.ru:993"}, "without a port or a scheme"),
    ({"port": 70000}, "from 1 to 65535"),
    ({"password": ""}, "This field is required"),
    ({"done_folder": "INBOX"}, "another folder than the one read"),
])
def test_bad_settings_are_refused_with_a_reason(client, imap_server, desk, changes, message):
    client.force_login(desk.lead)
    response = client.post(reverse("service:setup_new", args=["mailboxes"]), _form(imap_server, **changes))
    assert response.status_code == 200 and message in response.content.decode()
    assert not ImapMailbox.objects.exists()


def test_agents_and_sales_never_reach_the_mailboxes(client, mailbox):
    for role in (Role.SUPPORT_AGENT, Role.SALES_REP, Role.EXECUTIVE, Role.MARKETER):
        client.force_login(UserFactory(role=role))
        # 404, like a page that does not exist (crm.visibility.require_read): roles that never see mailboxes
        assert client.get(reverse("service:setup", args=["mailboxes"])).status_code == 404
        assert client.get(reverse("service:setup_edit", args=["mailboxes", mailbox.pk])).status_code == 404
        assert client.post(reverse("service:mailbox_read", args=[mailbox.pk])).status_code == 404
        assert client.post(reverse("service:mailbox_check", args=[mailbox.pk])).status_code == 404
    assert not Ticket.objects.exists()
    client.force_login(UserFactory(role=Role.SUPPORT_AGENT))
    tabs = client.get(reverse("service:setup", args=["queues"])).content.decode()
    assert "IMAP mailboxes" not in tabs and reverse("service:setup", args=["mailboxes"]) not in tabs


def test_check_the_connection_says_what_it_found(client, imap_server, mailbox, desk):
    imap_server.deliver(letter(message_id="<imap19@romashka.ru>"))
    client.force_login(desk.lead)
    page = client.post(reverse("service:mailbox_check", args=[mailbox.pk]), follow=True).content.decode()
    assert "Connected. Messages in INBOX: 1." in page
    ImapMailbox.objects.filter(pk=mailbox.pk).update(password="wrong")
    client.cookies["django_language"] = "ru"
    desk.lead.language = "ru"
    desk.lead.save(update_fields=["language"])
    page = client.post(reverse("service:mailbox_check", args=[mailbox.pk]), follow=True).content.decode()
    assert "Нет соединения: Сервер не принял имя пользователя или пароль." in page
    assert not Ticket.objects.exists()  # checking reads nothing


def test_read_it_now_fills_the_support_mailbox_log(client, imap_server, mailbox, desk, django_assert_max_num_queries):
    imap_server.deliver(letter(message_id="<imap20@romashka.ru>"))
    client.force_login(desk.lead)
    response = client.post(reverse("service:mailbox_read", args=[mailbox.pk]), follow=True)
    page = response.content.decode()
    ticket = Ticket.objects.get()
    assert ticket.number in page and "Поддержка" in page and "olga@romashka.ru" in page
    for n in range(30):
        InboundEmail.objects.create(message_id=f"<more{n}@r.ru>", sender=f"c{n}@r.ru", subject="Вопрос",
                                    outcome=InboundOutcome.NEW_TICKET, ticket=ticket, mailbox=mailbox)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("service:inbound_log")).status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(reverse("service:setup", args=["mailboxes"])).status_code == 200
