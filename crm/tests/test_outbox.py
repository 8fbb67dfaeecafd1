"""The mail outbox against a real SMTP server on 127.0.0.1 (aiosmtpd), stopped and started by the test:
nothing is lost while it is down, retries back off, a message is marked sent only once the server took
it, and the Message-ID is the same on every attempt."""

import json
from datetime import timedelta

import pytest
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.urls import reverse
from django.utils import timezone

from activities import services as activity_services
from activities.models import Reminder, ReminderStatus
from crm import outbox, scheduler
from crm.env import mailer_from_url
from crm.models import Notification, OutboxMail, OutboxStatus
from crm.tests.mail_helpers import SmtpSink
from sales.models import Invoice, Quote, QuoteStatus
from sales.tests.billing_helpers import invoice_for
from sales.tests.quote_factories import make_quote


@pytest.fixture
def smtp(settings):
    """A real SMTP server the mail settings point at; it starts stopped (the port refuses connections)."""
    sink = SmtpSink()
    settings.MAILERS = {"default": mailer_from_url(sink.url)}
    settings.DEFAULT_FROM_EMAIL = "CRM <crm@crm.example>"
    settings.SITE_DOMAIN = "crm.example"  # the domain of every Message-ID
    yield sink
    sink.stop()


def overdue_invoice(owner) -> Invoice:
    return invoice_for(owner, due_in_days=-2)


def test_an_overdue_invoice_email_is_not_lost_while_the_mail_server_is_down(owner, smtp, client):
    invoice = overdue_invoice(owner)
    assert scheduler.tick()["overdue_invoices"] == 1  # server down: the tick's outbox pass is refused
    assert Invoice.objects.get(pk=invoice.pk).overdue_notified_at is not None
    assert Notification.objects.filter(user=owner).count() == 1
    queued = OutboxMail.objects.get(key=f"invoice-overdue:{invoice.pk}")
    assert queued.status == OutboxStatus.QUEUED and queued.attempts == 1
    assert "Connection refused" in queued.last_error or "ConnectionRefused" in queued.last_error
    health = json.loads(client.get("/healthz").content)
    assert health["mail"]["state"] == "failing" and health["mail"]["last_error"] == queued.last_error

    assert scheduler.tick(now=queued.next_attempt_at - timedelta(seconds=1))["outbox"] == 0  # backing off
    smtp.start()
    assert scheduler.tick(now=queued.next_attempt_at)["outbox"] == 1
    assert scheduler.tick(now=queued.next_attempt_at + timedelta(hours=1))["outbox"] == 0  # sent once
    [message] = smtp.messages
    assert message["Message-ID"] == f"<invoice-overdue.{invoice.pk}@crm.example>"
    assert invoice.number in message["Subject"] and message["To"] == owner.email
    queued.refresh_from_db()
    assert queued.status == OutboxStatus.SENT and queued.sent_at is not None and queued.attempts == 2
    health = json.loads(client.get("/healthz").content)
    assert health["mail"]["state"] == "ok" and health["mail"]["last_failure_at"]  # the failure stays on record


def test_retries_back_off_exponentially_and_give_up_after_the_last_attempt(owner, smtp):
    mail = outbox.queue(EmailMessage("Back-off", "x", to=["a@example.com"]), key="test:backoff")
    now = timezone.now()
    waits = []
    for _attempt in range(outbox.MAX_ATTEMPTS):
        assert outbox.send_due_mail(now) == 0
        mail.refresh_from_db()
        waits.append(round((mail.next_attempt_at - mail.failed_at).total_seconds() / 60))
        now = mail.next_attempt_at
    assert waits[:5] == [1, 2, 4, 8, 16] and max(waits) == 360  # at most six hours apart
    assert mail.status == OutboxStatus.FAILED and mail.attempts == outbox.MAX_ATTEMPTS
    smtp.start()
    assert outbox.send_due_mail(now + timedelta(days=1)) == 0 and smtp.messages == []  # given up


def test_a_message_is_marked_sent_only_after_the_server_accepted_it(owner, smtp):
    smtp.refuse_with = "451 4.3.0 Try again later"
    smtp.start()
    mail = outbox.queue(EmailMessage("Temporary", "x", to=["a@example.com"]), key="test:temporary")
    assert not outbox.deliver(mail.pk)
    mail.refresh_from_db()
    assert mail.status == OutboxStatus.QUEUED and mail.sent_at is None and "451" in mail.last_error
    smtp.refuse_with = None
    assert outbox.send_due_mail(mail.next_attempt_at) == 1
    mail.refresh_from_db()
    assert mail.status == OutboxStatus.SENT and len(smtp.messages) == 1


def test_a_sender_that_died_after_the_server_accepted_sends_again_with_the_same_message_id(owner, smtp, monkeypatch):
    """At least once: the server took the message, the worker died before recording it; the stale
    claim is taken over and the message goes again, recognisably the same message."""
    smtp.start()
    mail = outbox.queue(EmailMessage("Twice at worst", "x", to=["a@example.com"]), key="test:crash")
    real_update = OutboxMail.objects.filter

    class Killed(BaseException):
        pass

    def die_before_marking_sent(*args, **kwargs):
        if kwargs.get("status") == OutboxStatus.SENDING and "claimed_at" in kwargs:
            raise Killed
        return real_update(*args, **kwargs)

    monkeypatch.setattr(OutboxMail.objects, "filter", die_before_marking_sent)
    with pytest.raises(Killed):
        outbox.deliver(mail.pk)
    monkeypatch.undo()
    assert len(smtp.messages) == 1
    assert outbox.send_due_mail(timezone.now()) == 0  # the claim is fresh: the sender may still be at it
    assert outbox.send_due_mail(timezone.now() + outbox.STALE_SENDING + timedelta(seconds=1)) == 1
    first, second = smtp.messages
    assert first["Message-ID"] == second["Message-ID"] == mail.message_id


def test_sent_messages_are_deleted_after_thirty_days_and_nothing_else_is(owner, smtp):
    smtp.start()
    sent = outbox.queue(EmailMessage("Old", "x", to=["a@example.com"]), key="test:old")
    assert outbox.deliver(sent.pk)
    waiting = outbox.queue(EmailMessage("Waiting", "x", to=["a@example.com"]), key="test:waiting")
    OutboxMail.objects.filter(pk=waiting.pk).update(next_attempt_at=timezone.now() + timedelta(days=60))
    outbox.send_due_mail(timezone.now() + timedelta(days=29))
    assert OutboxMail.objects.count() == 2
    outbox.send_due_mail(timezone.now() + timedelta(days=31))
    assert list(OutboxMail.objects.values_list("key", flat=True)) == ["test:waiting"]


def test_the_same_cause_queues_one_message(owner):
    first = outbox.queue(EmailMessage("One", "x", to=["a@example.com"]), key="invoice-overdue:99")
    second = outbox.queue(EmailMessage("One again", "x", to=["a@example.com"]), key="invoice-overdue:99")
    assert first.pk == second.pk and OutboxMail.objects.count() == 1
    assert first.message_id == outbox.message_id_for("invoice-overdue:99")


def test_a_reminder_email_is_not_late_because_the_mail_server_was_down(owner, smtp):
    """It used to wait ten minutes for its stale claim and then arrive marked "(late)"."""
    activity = activity_services.activity_create(
        actor=owner, kind="meeting", subject="Board review", occurred_at=timezone.now() + timedelta(minutes=14),
        remind_minutes_before=15)
    scheduler.tick()
    reminder = Reminder.objects.get(activity=activity)
    assert reminder.status == ReminderStatus.SENT and not reminder.late  # the in-app notice is on time
    queued = OutboxMail.objects.get()
    assert queued.status == OutboxStatus.QUEUED and queued.failed_at is not None
    smtp.start()
    scheduler.tick(now=timezone.now() + timedelta(minutes=12))
    [message] = smtp.messages
    assert "Board review" in message["Subject"] and "late" not in message["Subject"]
    assert "late" not in message.get_body(preferencelist=("plain",)).get_content()
    assert Notification.objects.filter(user=owner).count() == 1


def test_send_by_email_with_the_mail_server_down_queues_the_quote_with_a_clear_message(
        owner, smtp, client, django_capture_on_commit_callbacks):
    quote = make_quote(owner)
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("sales:quote_send", args=[quote.pk]), {
            "to": "ada@acme.example", "subject": "Our offer", "message": "Attached.",
            "version": quote.lock_version}, follow=True)
    assert response.status_code == 200
    assert "The mail server is not answering" in response.content.decode()
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.SENT
    queued = OutboxMail.objects.get(key=f"quote:{quote.pk}")
    assert queued.status == OutboxStatus.QUEUED
    smtp.start()
    scheduler.tick(now=queued.next_attempt_at)
    [message] = smtp.messages
    assert message["Subject"] == "Our offer"
    assert [part.get_filename() for part in message.iter_attachments()] == [f"{quote.number}.pdf"]


def test_send_by_email_says_sent_when_the_server_took_it(owner, smtp, client, django_capture_on_commit_callbacks):
    smtp.start()
    quote = make_quote(owner)
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("sales:quote_send", args=[quote.pk]), {
            "to": "ada@acme.example", "subject": "Our offer", "message": "Attached.",
            "version": quote.lock_version}, follow=True)
    assert f"Quote {quote.display_number} was sent to ada@acme.example." in response.content.decode()
    assert len(smtp.messages) == 1


# Found by mutation testing (`make mutation`): each of these failed to notice a mutant of crm/outbox.py.


def queued(key: str) -> OutboxMail:
    return outbox.queue(EmailMessage("Счёт", "Текст", "crm@crm.example", ["buh@example.ru"]), key=key)


def test_a_message_waiting_out_its_back_off_is_not_claimed_early(db):
    mail = queued("backoff:1")
    now = timezone.now()
    OutboxMail.objects.filter(pk=mail.pk).update(next_attempt_at=now + timedelta(minutes=5))
    assert not outbox.claim(mail.pk, now)
    assert outbox.claim(mail.pk, now + timedelta(minutes=6))


def test_a_sent_message_is_never_claimed_again(db):
    mail = queued("sent:1")
    long_ago = timezone.now() - timedelta(days=1)
    OutboxMail.objects.filter(pk=mail.pk).update(status=OutboxStatus.SENT, claimed_at=long_ago, sent_at=long_ago)
    assert not outbox.claim(mail.pk, timezone.now())


def test_a_claim_and_its_outcome_touch_only_their_own_message(db, smtp):
    smtp.start()
    first, second = queued("own:1"), queued("own:2")
    now = timezone.now()
    assert outbox.claim(second.pk, now)  # another worker, at the same moment
    assert outbox._deliver(first.pk, now) == outbox.SENT
    second.refresh_from_db()
    assert second.status == OutboxStatus.SENDING and second.sent_at is None and second.attempts == 1


def test_the_backend_gets_the_stored_message_whole(db, settings, mailoutbox):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    message = EmailMultiAlternatives("Счёт № 42 просрочен", "Оплатите, пожалуйста.", "CRM <crm@crm.example>",
                                     ["buh@example.ru"], reply_to=["manager@crm.example"])
    message.attach_alternative("<p>Оплатите, пожалуйста.</p>", "text/html")
    mail = outbox.queue(message, key="whole:1")
    assert outbox.deliver(mail.pk)
    sent = mailoutbox[-1]
    assert (sent.subject, sent.from_email, sent.body.strip()) == (
        "Счёт № 42 просрочен", "CRM <crm@crm.example>", "Оплатите, пожалуйста.")
    assert sent.extra_headers["Message-ID"] == mail.message_id
    assert sent.extra_headers["Reply-To"] == "manager@crm.example"
