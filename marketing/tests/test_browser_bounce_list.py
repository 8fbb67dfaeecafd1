"""As a marketer would, in the system Chromium: find a bounced address from the marketing overview, open
its contact, see the marketing e-mail on the contact's timeline, and clear the address."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import sign_in
from contacts.tests.factories import ContactFactory
from marketing.models import BouncedAddress
from marketing.tests.test_timeline import mailing_to

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_find_a_bounced_address_see_the_timeline_and_clear_it(page, marketer, owner):
    contact = ContactFactory(owner=owner, first_name="Мария", last_name="Кузнецова", emails=["maria@example.com"])
    now = timezone.now()
    mailing_to(marketer, contact, "Новая коллекция", sent_at=now - datetime.timedelta(days=2),
               opened_at=now - datetime.timedelta(days=1), clicked_at=now - datetime.timedelta(hours=20))
    mailing_to(marketer, contact, "Распродажа", sent_at=now - datetime.timedelta(hours=5), bounce="hard",
               bounced_at=now - datetime.timedelta(hours=4))
    BouncedAddress.objects.create(email="maria@example.com", hard_bounced_at=now, suppressed_at=now,
                                  last_reason="550 5.1.1 Mailbox unavailable")
    sign_in(page, marketer)
    page.goto("/marketing/")
    page.locator("#overview-bounces").click()
    expect(page.locator("#bounce-rows")).to_contain_text("550 5.1.1 Mailbox unavailable")
    page.locator("#bounce-rows").get_by_role("link", name="Мария Кузнецова").click()
    timeline = page.locator("#timeline-items")
    expect(timeline).to_contain_text("Clicked a link in “Новая коллекция”")
    expect(timeline).to_contain_text("Opened the e-mail “Новая коллекция”")
    expect(timeline).to_contain_text("“Распродажа” bounced (Hard bounce)")
    page.go_back()
    page.get_by_role("button", name="Clear maria@example.com").click()
    expect(page.get_by_text("maria@example.com is cleared: mailings go to it again.")).to_be_visible()
    expect(page.locator("#bounce-total")).to_have_text("0")
    assert page.console_errors == [] and page.failed_requests == []
