""""Send by e-mail" on a quote while the mail server is down, in the system Chromium: the rep is told
the e-mail is queued (no error page, nothing to send again); when the server is back, the scheduler
tick sends it, once."""

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from crm import scheduler
from crm.env import mailer_from_url
from crm.models import OutboxMail, OutboxStatus
from crm.tests.mail_helpers import SmtpSink
from sales.models import Quote, QuoteStatus
from sales.tests.quote_factories import make_quote

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_a_quote_sent_while_the_mail_server_is_down_is_queued_and_goes_out_later(page, owner, settings):
    smtp = SmtpSink()  # not started: the port refuses connections
    settings.MAILERS = {"default": mailer_from_url(smtp.url)}
    quote = make_quote(owner)
    sign_in(page, owner)
    try:
        page.goto(quote.get_absolute_url())
        page.locator("#send-quote").click()
        page.locator("#id_to").fill("ada@acme.example")
        page.get_by_label("Message").fill("Our offer is attached.")
        page.get_by_role("button", name="Send", exact=True).click()
        expect(page.locator("#quote-status")).to_contain_text("Sent")
        expect(page.locator("#toasts")).to_contain_text("The mail server is not answering")
        expect(page.locator("#toasts")).to_contain_text("You do not need to send it again.")
        assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.SENT
        queued = OutboxMail.objects.get(key=f"quote:{quote.pk}")
        assert queued.status == OutboxStatus.QUEUED

        smtp.start()
        scheduler.tick(now=queued.next_attempt_at)
        assert [message["To"] for message in smtp.messages] == ["ada@acme.example"]
        assert OutboxMail.objects.get(pk=queued.pk).status == OutboxStatus.SENT
        assert not [error for error in page.failed_requests if error.startswith("5")], page.failed_requests
    finally:
        smtp.stop()
