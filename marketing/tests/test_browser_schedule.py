"""Scheduling and the hourly limit as a marketer uses them, in the system Chromium: write a mailing with a
limit, schedule it for tomorrow, change one's mind, send it now, and see it pause at the limit."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import sign_in
from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from marketing import services
from marketing.tests.factories import CampaignFactory

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_schedule_cancel_and_send_with_an_hourly_limit(page, live_server, marketer, owner, settings, tmp_path):
    settings.EMAIL_OUTBOX_DIR = tmp_path / "mail"
    settings.MAILERS = {"default": {"BACKEND": "crm.mail.OutboxBackend"}}
    for name in ("Анна", "Богдан", "Віра"):
        ContactFactory(owner=owner, first_name=name, emails=[f"{len(name)}{name[0]}@example.com".lower()],
                       email_opt_in=True)
    static_list = services.static_list_create(actor=marketer, name="Гости")
    services.static_list_add(static_list=static_list, actor=marketer, contacts=Contact.objects.all())
    CampaignFactory(owner=marketer, name="Выставка")
    sign_in(page, marketer)

    page.goto("/marketing/campaigns/")
    page.get_by_role("link", name="Выставка").click()
    page.locator("#new-mailing").click()
    page.wait_for_load_state("load")
    page.get_by_label("or a static list").select_option(label="Гости")
    page.locator("#id_subject").fill("Приглашение")
    page.locator("#id_html").fill("Ждём вас, {first_name}!")
    page.get_by_label("At most per hour").fill("2")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#mailing-limit")).to_have_text("At most 2 messages per hour.")

    tomorrow = timezone.localtime() + timezone.timedelta(days=1)
    page.locator("#id_send_at").fill(tomorrow.strftime("%Y-%m-%dT%H:%M"))
    page.locator("#mailing-schedule").click()
    expect(page.get_by_text("The mailing is scheduled.")).to_be_visible()
    expect(page.locator("#mailing-scheduled")).to_be_visible()
    page.locator("#mailing-unschedule").click()
    expect(page.get_by_text("The schedule is cancelled")).to_be_visible()

    page.locator("#mailing-send").click()
    expect(page.get_by_text("The mailing is being sent.")).to_be_visible()
    page.reload()  # the task ran in the test process (eager) and stopped at the limit
    expect(page.locator("[data-count=sent]")).to_have_text("2")
    expect(page.locator("[data-count=pending]")).to_have_text("1")
    expect(page.locator("#mailing-paused")).to_be_visible()
    assert page.console_errors == [] and page.failed_requests == []
