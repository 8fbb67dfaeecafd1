"""Bounces and retries, against a real SMTP server (aiosmtpd on 127.0.0.1): each message's envelope
sender is the delivery's signed VERP return path; reports read from a Maildir mark hard bounces (never
mailed again) and count soft ones (suppressed after the limit); a forged return path changes nothing; a
temporary SMTP refusal is tried again after a back-off, never twice once accepted."""

import mailbox
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm.env import mailer_from_url
from crm.tests.mail_helpers import SmtpSink
from marketing import bounces, mailings, services
from marketing.models import BouncedAddress, Delivery, DeliveryStatus, Mailing, MailingStatus
from marketing.tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db

BASE = "https://crm.example.com"


@pytest.fixture
def sink(settings):
    sink = SmtpSink().start()
    settings.MAILERS = {"default": mailer_from_url(sink.url)}
    settings.DEFAULT_FROM_EMAIL = "Маркетинг <news@crm.example>"
    settings.MARKETING_BOUNCE_ADDRESS = ""
    yield sink
    sink.stop()


@pytest.fixture
def people(owner, marketer):
    contacts = [ContactFactory(owner=owner, first_name=f"Гость{n}", emails=[f"guest{n}@example.com"],
                               email_opt_in=True) for n in range(4)]
    static_list = services.static_list_create(actor=marketer, name="Гости")
    services.static_list_add(static_list=static_list, actor=marketer, contacts=Contact.objects.all())
    return {"contacts": contacts, "list": static_list}


def send(marketer, people, django_capture_on_commit_callbacks) -> Mailing:
    mailing = services.mailing_create(actor=marketer, campaign=CampaignFactory(owner=marketer),
                                      static_list=people["list"], subject="Новости", body="Текст")
    with django_capture_on_commit_callbacks(execute=False):
        assert mailings.mailing_start(mailing=mailing, actor=marketer, base_url=BASE)
    mailings.mailing_send(mailing.pk)
    return mailing


def report(to: str, status: str, action: str = "failed") -> bytes:
    """A delivery status notification (RFC 3464) as a receiving server sends it."""
    return (f"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\nTo: {to}\r\n"
            "Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
            "--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nYour message could not be delivered.\r\n\r\n"
            "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n"
            f"Final-Recipient: rfc822; someone@example.com\r\nAction: {action}\r\nStatus: {status}\r\n"
            f"Diagnostic-Code: smtp; {status.replace('.', '')[:3]} {status} mailbox problem\r\n\r\n--B--\r\n").encode()


def drop(folder, *messages: bytes):
    box = mailbox.Maildir(folder, create=True)
    for raw in messages:
        box.add(raw)
    return box


def return_path_of(delivery: Delivery) -> str:
    return bounces.return_path(delivery.pk)


def test_each_message_carries_its_signed_return_path(sink, marketer, people, django_capture_on_commit_callbacks):
    mailing = send(marketer, people, django_capture_on_commit_callbacks)
    assert len(sink.messages) == 4
    for message, sender in zip(sink.messages, sink.envelope_senders, strict=True):
        delivery = Delivery.objects.get(mailing=mailing, email=str(message["To"]))
        assert sender == bounces.return_path(delivery.pk)
        assert sender.startswith(f"bounce+{delivery.pk}-") and sender.endswith("@crm.example")
        assert bounces.delivery_id_from(sender) == delivery.pk
        assert "news@crm.example" in str(message["From"])  # the reader sees our address, not the return path


def test_a_hard_bounce_suppresses_the_address_for_good(sink, marketer, people, tmp_path,
                                                       django_capture_on_commit_callbacks):
    mailing = send(marketer, people, django_capture_on_commit_callbacks)
    first = Delivery.objects.get(mailing=mailing, email="guest0@example.com")
    box = drop(tmp_path / "bounces", report(return_path_of(first), "5.1.1"),
               b"From: boss@example.com\r\nTo: bounce@crm.example\r\nSubject: Out of office\r\n\r\nBack Monday.\r\n")
    assert bounces.read_maildir(tmp_path / "bounces") == 1
    assert len(box) == 0  # every file is tidied away, the auto-reply too
    first.refresh_from_db()
    assert first.bounce == "hard" and first.bounced_at and first.status == DeliveryStatus.SENT
    assert BouncedAddress.objects.get(email="guest0@example.com").suppressed_at is not None
    assert mailings.counts(mailing).hard_bounces == 1

    # The same report again (a run killed before it removed the file) counts nothing twice.
    drop(tmp_path / "bounces", report(return_path_of(first), "5.1.1"))
    assert bounces.read_maildir(tmp_path / "bounces") == 0

    sink.messages.clear()
    later = send(marketer, people, django_capture_on_commit_callbacks)
    assert Delivery.objects.get(mailing=later, email="guest0@example.com").reason == "bounced"
    assert sorted(str(message["To"]) for message in sink.messages) == [f"guest{n}@example.com" for n in (1, 2, 3)]


def test_soft_bounces_are_counted_and_suppress_after_the_limit(sink, marketer, people, tmp_path, settings,
                                                               django_capture_on_commit_callbacks):
    settings.MARKETING_SOFT_BOUNCE_LIMIT = 3
    for round_ in range(3):
        mailing = send(marketer, people, django_capture_on_commit_callbacks)
        delivery = Delivery.objects.get(mailing=mailing, email="guest1@example.com")
        assert delivery.status == DeliveryStatus.SENT  # not yet suppressed: it was sent
        drop(tmp_path / "bounces", report(return_path_of(delivery), "4.2.2", action="delayed"),
             report(return_path_of(delivery), "4.2.2"))  # two reports for one message count once
        assert bounces.read_maildir(tmp_path / "bounces") == 1
        address = BouncedAddress.objects.get(email="guest1@example.com")
        assert address.soft_bounces == round_ + 1
        assert (address.suppressed_at is not None) == (round_ == 2)
    mailing = send(marketer, people, django_capture_on_commit_callbacks)
    assert Delivery.objects.get(mailing=mailing, email="guest1@example.com").reason == "bounced"


def test_a_forged_return_path_changes_nothing(sink, marketer, people, tmp_path, django_capture_on_commit_callbacks):
    mailing = send(marketer, people, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(mailing=mailing, email="guest2@example.com")
    genuine = return_path_of(delivery)
    forged = [genuine[:-len("@crm.example") - 1] + ("0" if genuine[-len("@crm.example") - 1] != "0" else "1")
              + "@crm.example",
              f"bounce+{delivery.pk}-0000000000000000@crm.example",
              f"bounce+{delivery.pk}@crm.example"]
    drop(tmp_path / "bounces", *(report(address, "5.1.1") for address in forged))
    assert bounces.read_maildir(tmp_path / "bounces") == 0
    delivery.refresh_from_db()
    assert not delivery.bounce and not BouncedAddress.objects.exists()


def test_the_management_command_reads_a_maildir(sink, marketer, people, tmp_path, capsys,
                                                django_capture_on_commit_callbacks):
    mailing = send(marketer, people, django_capture_on_commit_callbacks)
    rows = Delivery.objects.filter(mailing=mailing).order_by("id")
    drop(tmp_path / "box", *(report(return_path_of(row), "5.1.1") for row in rows))
    call_command("process_bounces", "--maildir", str(tmp_path / "box"))
    assert "4 new bounce(s) recorded." in capsys.readouterr().out
    assert BouncedAddress.objects.filter(suppressed_at__isnull=False).count() == 4


def test_the_tick_reads_the_configured_maildir(sink, marketer, people, tmp_path, settings,
                                               django_capture_on_commit_callbacks):
    settings.MARKETING_BOUNCE_MAILDIR = tmp_path / "configured"
    mailing = send(marketer, people, django_capture_on_commit_callbacks)
    drop(tmp_path / "configured", report(return_path_of(Delivery.objects.filter(mailing=mailing).first()), "5.0.0"))
    from crm import scheduler

    assert scheduler.tick()["marketing_bounces"] == 1


# --- Temporary refusals ------------------------------------------------------------------------------------


def test_a_temporary_refusal_is_tried_again_after_a_back_off(sink, marketer, people,
                                                             django_capture_on_commit_callbacks):
    sink.refuse_with = "451 4.3.0 Try again later"
    mailing = send(marketer, people, django_capture_on_commit_callbacks)
    assert not sink.messages
    rows = Delivery.objects.filter(mailing=mailing)
    assert {(row.status, row.attempts) for row in rows} == {(DeliveryStatus.PENDING, 1)}
    assert all(timedelta(seconds=50) < row.next_attempt_at - timezone.now() <= timedelta(minutes=1) for row in rows)
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SENDING and mailing.next_run_at >= min(r.next_attempt_at for r in rows)
    assert mailings.counts(mailing).retrying == 4
    assert mailings.mailing_send(mailing.pk) == 0  # paused until the first retry is due

    sink.refuse_with = None
    rows.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    Mailing.objects.filter(pk=mailing.pk).update(next_run_at=timezone.now() - timedelta(seconds=1))
    assert mailings.mailing_send(mailing.pk) == 4
    assert Counter(str(message["To"]) for message in sink.messages) == Counter(
        {f"guest{n}@example.com": 1 for n in range(4)})
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SENT


def test_a_server_that_is_down_is_tried_again_and_gives_up_after_the_attempts(
        sink, marketer, people, django_capture_on_commit_callbacks):
    sink.stop()  # connection refused
    mailing = send(marketer, people, django_capture_on_commit_callbacks)
    for attempt in range(2, mailings.MAX_SEND_ATTEMPTS + 1):
        Delivery.objects.filter(mailing=mailing).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        Mailing.objects.filter(pk=mailing.pk).update(next_run_at=None)
        mailings.mailing_send(mailing.pk)
        assert set(Delivery.objects.filter(mailing=mailing).values_list("attempts", flat=True)) == {attempt}
    assert set(Delivery.objects.filter(mailing=mailing).values_list("status", flat=True)) == {DeliveryStatus.FAILED}
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SENT  # nothing left to send
    sink.start()


def test_a_permanent_refusal_fails_at_once(sink, marketer, people, django_capture_on_commit_callbacks):
    sink.refuse_with = "550 5.7.1 Rejected"
    mailing = send(marketer, people, django_capture_on_commit_callbacks)
    rows = Delivery.objects.filter(mailing=mailing)
    assert {(row.status, row.attempts) for row in rows} == {(DeliveryStatus.FAILED, 1)}
    assert "550" in rows.first().reason
