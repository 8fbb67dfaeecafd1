"""An agent calls the leads of a static list, in the system Chromium: a lead entry is worked to "interested"
(the lead is qualified, no second lead) and another to "call back" (a task on the lead); the progress counts
them, and the call is on the lead's timeline."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import sign_in
from crm.models import Role
from crm.tests.factories import UserFactory
from marketing import calllists, services
from marketing.models import LeadAttribution
from marketing.tests.factories import CampaignFactory
from sales.models import Lead, LeadStatus
from sales.tests.factories import LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_an_agent_works_lead_entries_to_interested_and_call_back(page, marketer, owner):
    agent = UserFactory(email="caller@example.com", first_name="Дарина", last_name="Дзвінка", role=Role.MARKETER)
    leads = [LeadFactory(owner=owner, first_name="Олена", last_name="Коваль", company="ТОВ Зоря",
                         email="olena@example.com", phone="+380441234567"),
             LeadFactory(owner=owner, first_name="Іван", last_name="Петренко", company="ПП Лан",
                         email="ivan@example.com", phone="+380447654321")]
    static_list = services.static_list_create(actor=marketer, name="Ліди з виставки")
    services.static_list_add_leads(static_list=static_list, actor=marketer,
                                   leads=Lead.objects.filter(pk__in=[lead.pk for lead in leads]))
    campaign = CampaignFactory(owner=marketer, name="Осінній обзвін", type="telemarketing")
    call_list = calllists.call_list_create(actor=marketer, campaign=campaign, name="Обзвін лідів", agents=[agent],
                                           static_list=static_list, script="Добрий день! Дзвоню щодо виставки.")

    sign_in(page, agent)
    page.goto(f"/marketing/call-lists/{call_list.pk}/work/")
    expect(page.locator("#call-script")).to_contain_text("Дзвоню щодо виставки")
    expect(page.locator("#callee-heading")).to_contain_text("Олена Коваль")  # by last name
    expect(page.locator("#callee-is-lead")).to_have_text("Lead")
    expect(page.locator("#callee-phones a")).to_have_attribute("href", "tel:+380441234567")
    expect(page.locator("#lead-outcome-note")).to_be_visible()
    expect(page.get_by_label("Create a lead for the sales team")).to_have_count(0)

    page.get_by_label("Interested", exact=True).check()
    page.get_by_label("Notes").fill("Хоче комерційну пропозицію")
    page.locator("#log-outcome").click()
    expect(page.get_by_text("Logged: Interested. Lead Олена Коваль (ТОВ Зоря) is qualified")).to_be_visible()

    expect(page.locator("#callee-heading")).to_contain_text("Іван Петренко")
    page.get_by_label("Call back at a time").check()
    page.locator("#log-outcome").click()  # no time chosen: refused, nothing logged
    expect(page.get_by_text("Choose when to call back.")).to_be_visible()
    when = timezone.localtime() + datetime.timedelta(days=1)
    page.get_by_label("Call back at", exact=True).fill(when.strftime("%Y-%m-%dT%H:%M"))
    page.locator("#log-outcome").click()
    expect(page.get_by_text("A call-back task with a reminder is in your day.")).to_be_visible()
    expect(page.locator("#queue-empty")).to_contain_text("The next call-back or retry is due at")
    expect(page.locator("#my-callbacks")).to_have_text("1")

    page.goto(call_list.get_absolute_url())
    expect(page.locator("#figure-done")).to_have_text("1 / 2")
    expect(page.locator("#outcome-interested")).to_contain_text("1")
    expect(page.locator("#recent-calls")).to_contain_text("Олена Коваль")

    page.goto(leads[0].get_absolute_url())
    expect(page.get_by_text("Осінній обзвін: Interested").first).to_be_visible()
    assert Lead.objects.count() == 2  # no second lead
    assert Lead.objects.get(pk=leads[0].pk).status == LeadStatus.QUALIFIED
    assert Lead.objects.get(pk=leads[1].pk).status == LeadStatus.WORKING
    assert LeadAttribution.objects.get().lead_id == leads[0].pk
    assert page.console_errors == [] and page.failed_requests == []
