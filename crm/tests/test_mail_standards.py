"""Mail that other software reads: Message-IDs on the configured site domain, RFC 2047 encoded words of at
most 75 characters, and an HTML part beside the text of a quote e-mail."""

import email
import email.policy
import re

import pytest
from django.core import mail
from django.core.mail import EmailMessage

from crm import outbox
from crm.models import OutboxMail

pytestmark = pytest.mark.django_db

ENCODED_WORD = re.compile(rb"=\?[^?]+\?[bBqQ]\?[^?]*\?=")
# Python's own folding made a 76-character encoded word of this subject (RFC 2047 allows 75).
REMINDER_SUBJECT = "Напоминание: " + ("Звонок клиенту ООО «Ромашка» по договору №" * 2)[:33] + " в 10:00"


def test_encoded_words_stay_within_75_characters_and_read_back(django_capture_on_commit_callbacks):
    subjects = [REMINDER_SUBJECT] + [f"Нагадування: {'Дзвінок клієнту ТОВ «Ромашка» ' * 3}"[:n] for n in range(20, 95)]
    for number, subject in enumerate(subjects):
        with django_capture_on_commit_callbacks(execute=True):
            outbox.queue(EmailMessage(subject, "текст", to=["rep@example.com"]), key=f"subject-test:{number}")
        raw = bytes(OutboxMail.objects.get(key=f"subject-test:{number}").raw)
        words = ENCODED_WORD.findall(raw)
        assert words and max(len(word) for word in words) <= 75, subject
        assert all(len(line.rstrip(b"\r")) <= 78 for line in raw.split(b"\n")[:20])
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert str(parsed["Subject"]) == subject
    assert [message.subject for message in mail.outbox][:1] == [REMINDER_SUBJECT]


def test_message_ids_use_the_configured_site_domain(settings, django_capture_on_commit_callbacks):
    settings.SITE_DOMAIN = "crm.example.ru"
    settings.DEFAULT_FROM_EMAIL = "CRM <noreply@mail.example.ru>"  # the sender's domain does not decide it
    with django_capture_on_commit_callbacks(execute=True):
        queued = outbox.queue(EmailMessage("Hello", "x", to=["a@example.com"]), key="invoice-overdue:7")
    assert queued.message_id == "<invoice-overdue.7@crm.example.ru>"
    assert mail.outbox[0].extra_headers["Message-ID"] == "<invoice-overdue.7@crm.example.ru>"


def test_the_site_domain_defaults_to_the_public_urls_host(monkeypatch):
    from crm import settings as crm_settings

    assert crm_settings.SITE_DOMAIN == (crm_settings.urlsplit(crm_settings.PUBLIC_URL).hostname or "localhost")


def test_a_quote_email_has_an_html_part_beside_the_text(owner, django_capture_on_commit_callbacks):
    from sales import quote_services
    from sales.tests.quote_factories import make_quote

    quote = make_quote(owner, title="Трубы <стальные>")
    with django_capture_on_commit_callbacks(execute=True):
        quote_services.quote_send(quote=quote, actor=owner, to=["ada@acme.example"], subject="Наше предложение",
                                  message="Добрый день!\n\nЦены <b>с НДС</b>.")
    raw = bytes(OutboxMail.objects.get(key=quote_services.quote_mail_key(quote)).raw)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    plain = parsed.get_body(preferencelist=("plain",)).get_content()
    html = parsed.get_body(preferencelist=("html",)).get_content()
    assert "Цены <b>с НДС</b>." in plain
    assert "Цены &lt;b&gt;с НДС&lt;/b&gt;." in html and "<b>" not in html  # typed text is escaped
    assert quote.number in html and "Трубы &lt;стальные&gt;" in html and "240.00" in html
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert len(mail.outbox) == 1
