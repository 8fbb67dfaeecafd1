"""A mailing driven as a marketer would, in the system Chromium: write it to a segment, send it,
read the captured message, and unsubscribe through its link with the one-click POST."""

import email
import email.policy

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm.mail import outbox_dir
from marketing import services
from marketing.tests.factories import CampaignFactory

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_send_a_mailing_to_a_segment_and_unsubscribe(page, live_server, marketer, owner, settings, tmp_path):
    settings.EMAIL_OUTBOX_DIR = tmp_path / "mail"
    settings.MAILERS = {"default": {"BACKEND": "crm.mail.OutboxBackend"}}
    ContactFactory(owner=owner, first_name="Anna", last_name="Berg", emails=["anna@example.com"], email_opt_in=True)
    ContactFactory(owner=owner, first_name="Иван", last_name="Петров", emails=["ivan@example.com"], email_opt_in=True)
    ContactFactory(owner=owner, first_name="No", last_name="Consent", emails=["no@example.com"], email_opt_in=False)
    services.segment_create(actor=marketer, name="Everyone", criteria={})
    CampaignFactory(owner=marketer, name="Spring news")
    sign_in(page, marketer)

    page.goto("/marketing/campaigns/")
    page.get_by_role("link", name="Spring news").click()
    page.locator("#new-mailing").click()
    page.get_by_label("Segment").select_option(label="Everyone")
    page.locator("#id_subject").fill("News for {first_name}")
    page.locator("#id_html").fill("Hello {first_name}, our spring range is here.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#mailing-preview")).to_contain_text("Hello Anna, our spring range is here.")
    page.locator("#mailing-send").click()
    expect(page.get_by_text("The mailing is being sent.")).to_be_visible()
    page.reload()  # the task ran in the test process (eager)
    expect(page.locator("[data-count=sent]")).to_have_text("2")
    expect(page.locator("[data-count=suppressed]")).to_have_text("1")

    files = sorted(outbox_dir().glob("*.eml"))
    assert len(files) == 2
    message = next(m for m in (email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files)
                   if str(m["To"]) == "ivan@example.com")
    assert str(message["Subject"]) == "News for Иван"
    link = str(message["List-Unsubscribe"]).split(",")[0].strip().strip("<>")  # https first, then mailto
    assert link in message.get_body(("plain",)).get_content()

    page.context.clear_cookies()  # the reader is not signed in
    page.goto(link.replace("http://testserver", live_server.url))
    expect(page.get_by_text("Stop marketing e-mail to ivan@example.com?")).to_be_visible()
    page.locator("#unsubscribe-button").click()
    expect(page.locator("#unsubscribed")).to_have_text("You are unsubscribed")
    assert Contact.objects.get(emails=["ivan@example.com"]).email_opted_out_at is not None
    assert page.console_errors == [] and page.failed_requests == []
