"""marketing/mime.py writes a mailing message's bytes itself (Django's builder costs ~4 ms a message).
The standard library must read back from them exactly what it reads from Django's: every header, every
part's type and text. And the sender uses them over SMTP: a real server (aiosmtpd) receives them."""

import email
import email.policy

import pytest
from django.core.mail import EmailMultiAlternatives
from django.db import connection

from crm.env import mailer_from_url
from crm.tests.mail_helpers import SmtpSink
from marketing import mailings, mime, services
from marketing.models import Delivery, DeliveryStatus
from marketing.tests.factories import CampaignFactory

LONG_URL = "https://crm.example.com/m/unsubscribe/" + "Ab9" * 60 + "/"
CYRILLIC = "Здравствуйте, Анна!\n\nНовый склад в Казани: доставка по Поволжью за один день.\n.точка в начале строки"


def message(*, subject="Новости для Анны", body=CYRILLIC, html: str | None = "<p>Здравствуйте, <b>Анна</b>!</p>",
            sender="Отдел маркетинга <news@crm.example>", to="anna@example.com") -> EmailMultiAlternatives:
    built = mailings.MailingMessage(
        subject=subject, body=body, to=[to], from_email="bounce+d1.x@crm.example",
        headers={"From": sender, "Message-ID": "<mailing-1.delivery-2@crm.example>", "Content-Language": "ru",
                 "List-Unsubscribe": f"<{LONG_URL}>, <mailto:unsubscribe+d2@crm.example?subject=unsubscribe>",
                 "List-Unsubscribe-Post": "List-Unsubscribe=One-Click", "Date": "Mon, 07 Dec 2026 10:00:00 +0000"})
    if html is not None:
        built.attach_alternative(html, "text/html")
    return built


def read(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def summary(parsed: email.message.EmailMessage) -> dict:
    """What a mail client sees: the headers that matter, and each part's type and text."""
    headers = {name: str(parsed[name]) for name in (
        "From", "To", "Subject", "Date", "Message-ID", "Content-Language", "List-Unsubscribe",
        "List-Unsubscribe-Post", "MIME-Version")}
    parts = [(part.get_content_type(), part.get_content_charset(), part.get_content())
             for part in parsed.walk() if not part.is_multipart()]
    return {"headers": headers, "type": parsed.get_content_type(), "parts": parts}


def djangos(built: EmailMultiAlternatives) -> bytes:
    return built.message(policy=email.policy.SMTP).as_bytes()


@pytest.mark.parametrize("html", ["<p>Здравствуйте, <b>Анна</b>!</p>", None])
def test_the_same_message_as_djangos_builder(html):
    built = message(html=html)
    ours = read(mime.as_bytes(built))
    assert summary(ours) == summary(read(djangos(built)))
    assert str(ours["Subject"]) == "Новости для Анны"
    assert str(ours["From"]) == "Отдел маркетинга <news@crm.example>"
    assert str(ours["List-Unsubscribe"]).startswith(f"<{LONG_URL}>")  # one line: mail clients follow it as is
    assert not ours.defects


def test_long_lines_and_long_subjects_stay_within_smtp_limits():
    body = "Строка " * 400 + "\nвторая строка"  # one line of 5,600 octets: more than SMTP allows in 8bit
    built = message(subject="Очень длинная тема письма " * 12, body=body, html="<p>" + "слово " * 500 + "</p>")
    raw = mime.as_bytes(built)
    assert max(len(line) for line in raw.split(b"\r\n")) <= mime.MAX_LINE
    assert summary(read(raw)) == summary(read(djangos(built)))
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only


def test_a_line_break_in_a_header_is_refused():
    with pytest.raises(ValueError, match="line break"):
        mime.as_bytes(message(subject="Новости\r\nBcc: everyone@example.com"))


def test_envelope_addresses():
    assert mime.envelope("Отдел маркетинга <news@crm.example>") == "news@crm.example"
    assert mime.envelope("bounce+d1.x@crm.example") == "bounce+d1.x@crm.example"
    for forged in ("", "a@b.example\r\nRCPT TO:<x@y.example>", "<>"):
        with pytest.raises(ValueError, match="not an e-mail address"):
            mime.envelope(forged)


def test_other_messages_go_through_django():
    with_attachment = message()
    with_attachment.attach("price.txt", "цена", "text/plain")
    international = message(to="anna@пример.рф")
    assert not mime.simple(with_attachment) and not mime.simple(international)
    assert mime.as_bytes(with_attachment).count(b'filename="price.txt"') == 1
    assert summary(read(mime.as_bytes(international))) == summary(read(djangos(international)))


@pytest.mark.django_db(transaction=True)
def test_a_mailing_over_smtp_arrives_as_written(settings, monkeypatch, marketer, owner):
    from contacts.tests.factories import ContactFactory

    sink = SmtpSink().start()
    try:
        settings.MAILERS = {"default": mailer_from_url(sink.url)}
        settings.DEFAULT_FROM_EMAIL = "Маркетинг <news@crm.example>"
        contacts = [ContactFactory(owner=owner, first_name=name, emails=[f"guest{n}@example.com"], email_opt_in=True)
                    for n, name in enumerate(["Анна", "Богдан", "Олена"])]
        static_list = services.static_list_create(actor=marketer, name="Гости")
        services.static_list_add(static_list=static_list, actor=marketer,
                                 contacts=type(contacts[0]).objects.filter(pk__in=[c.pk for c in contacts]))
        mailing = services.mailing_create(actor=marketer, campaign=CampaignFactory(owner=marketer),
                                          static_list=static_list, subject="Новости для {first_name}",
                                          body="Здравствуйте, {first_name}!")
        monkeypatch.setattr(mailings, "_send_to_worker", lambda mailing_id: None)  # sent here, not by a worker
        assert mailings.mailing_start(mailing=mailing, actor=marketer, base_url="https://crm.example.com")
        assert mailings.mailing_send(mailing.pk) == 3
    finally:
        sink.stop()
    assert sorted(str(received["Subject"]) for received in sink.messages) == [
        "Новости для Анна", "Новости для Богдан", "Новости для Олена"]
    assert all(str(received["From"]) == "Маркетинг <news@crm.example>" for received in sink.messages)
    assert all(received.get_body(("plain",)).get_content().startswith("Здравствуйте, ") for received in sink.messages)
    assert set(Delivery.objects.filter(mailing=mailing).values_list("status", flat=True)) == {DeliveryStatus.SENT}
    # Only the "sent" marks skip waiting for the disk: the claims (and everything after) still wait.
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
