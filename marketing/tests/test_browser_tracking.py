"""Tracking as people meet it, in the system Chromium: a reader (not signed in) clicks a tracked link in
the captured message and lands on the mailing's link; the marketer then sees the click on the mailing
and the reader as a "responded" member of the campaign."""

import email
import email.policy
import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from conftest import sign_in
from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm.mail import outbox_dir
from marketing import services
from marketing.tests.factories import CampaignFactory

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_click_a_tracked_link_and_see_the_response(page, live_server, marketer, owner, settings, tmp_path):
    settings.EMAIL_OUTBOX_DIR = tmp_path / "mail"
    settings.MAILERS = {"default": {"BACKEND": "crm.mail.OutboxBackend"}}
    ContactFactory(owner=owner, first_name="Дарья", last_name="Соколова", emails=["darya@example.com"],
                   email_opt_in=True)
    static_list = services.static_list_create(actor=marketer, name="Читатели")
    services.static_list_add(static_list=static_list, actor=marketer, contacts=Contact.objects.all())
    campaign = CampaignFactory(owner=marketer, name="Весенний каталог")
    target = f"{live_server.url}{reverse('login')}?from=mail"
    mailing = services.mailing_create(actor=marketer, campaign=campaign, static_list=static_list,
                                      subject="Каталог", body=f"Смотрите каталог: {target}")
    sign_in(page, marketer)
    page.goto(mailing.get_absolute_url())
    page.locator("#mailing-send").click()
    expect(page.get_by_text("The mailing is being sent.")).to_be_visible()

    [path] = sorted(outbox_dir().glob("*.eml"))
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()
    assert target not in text
    link = re.search(r"http://\S+/marketing/t/c/\S+/", text).group(0)

    page.context.clear_cookies()  # the reader is not signed in
    page.goto(link)
    page.wait_for_load_state("load")
    assert page.url == target

    sign_in(page, marketer)
    page.goto(mailing.get_absolute_url())
    expect(page.locator("[data-count=clicked]")).to_have_text("1")
    expect(page.locator("[data-count=opened]")).to_have_text("1")
    links = page.get_by_role("region", name="Clicks per link")
    expect(links.get_by_role("row")).to_have_count(2)  # the header and the mailing's one link
    expect(links.get_by_role("row").nth(1)).to_contain_text(target)
    expect(links.get_by_role("row").nth(1).get_by_role("cell").nth(1)).to_have_text("1")
    page.goto(campaign.get_absolute_url())
    expect(page.locator("#figure-email [data-figure=opened]")).to_have_text("1")
    expect(page.locator("#members")).to_contain_text("Соколова")
    expect(page.locator("#members")).to_contain_text("Responded")
    assert page.console_errors == [] and page.failed_requests == [], (page.console_errors, page.failed_requests)
