"""Bounces as a marketer sees them, in the system Chromium: after a mailing, a hard bounce read from the
bounce mailbox shows on the mailing's page, and the next mailing leaves the address out."""

import mailbox

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from marketing import bounces, mailings, services
from marketing.models import Delivery
from marketing.tests.factories import CampaignFactory
from marketing.tests.test_bounces import report

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_a_hard_bounce_shows_on_the_mailing_and_is_left_out_next_time(page, live_server, marketer, owner, settings,
                                                                     tmp_path):
    settings.EMAIL_OUTBOX_DIR = tmp_path / "mail"
    settings.MAILERS = {"default": {"BACKEND": "crm.mail.OutboxBackend"}}
    for name in ("Олег", "Мария"):
        ContactFactory(owner=owner, first_name=name, emails=[f"{len(name)}@example.com"], email_opt_in=True)
    static_list = services.static_list_create(actor=marketer, name="Подписчики")
    services.static_list_add(static_list=static_list, actor=marketer, contacts=Contact.objects.all())
    campaign = CampaignFactory(owner=marketer, name="Осень")
    mailing = services.mailing_create(actor=marketer, campaign=campaign, static_list=static_list, subject="Осень",
                                      body="Текст")
    mailings.mailing_start(mailing=mailing, actor=marketer, base_url=live_server.url)  # eager: sent at once
    bounced = Delivery.objects.get(mailing=mailing, email="4@example.com")
    mailbox.Maildir(tmp_path / "bounces", create=True).add(report(bounces.return_path(bounced.pk), "5.1.1"))
    assert bounces.read_maildir(tmp_path / "bounces") == 1

    sign_in(page, marketer)
    page.goto(mailing.get_absolute_url())
    expect(page.locator("[data-count=sent]")).to_have_text("2")
    expect(page.locator("[data-count=bounced]")).to_have_text("1")
    expect(page.locator("#mailing-counts")).to_contain_text("1 hard, 0 soft")

    second = services.mailing_create(actor=marketer, campaign=campaign, static_list=static_list, subject="Зима",
                                     body="Текст")
    page.goto(second.get_absolute_url())
    page.locator("#mailing-send").click()
    expect(page.get_by_text("The mailing is being sent.")).to_be_visible()
    page.reload()
    expect(page.locator("[data-count=sent]")).to_have_text("1")
    expect(page.locator("[data-count=suppressed]")).to_have_text("1")
    assert page.console_errors == [] and page.failed_requests == []
