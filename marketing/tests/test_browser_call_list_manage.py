"""A call list after it is built, driven as people would in the system Chromium: the manager hands the
people waiting for one agent over to another (the one being called right now stays), an agent logs
"interested" with a deal for the person's company, and the manager closes the list, after which it
hands out nobody."""

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import AccountFactory
from conftest import sign_in
from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm.models import Role
from crm.tests.factories import UserFactory
from marketing import calllists, services
from marketing.models import CallListItem, DealAttribution
from marketing.tests.factories import CampaignFactory
from sales.models import Opportunity
from sales.tests.factories import PipelineFactory

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_hand_over_calls_log_a_deal_and_close_the_list(page, marketer, owner):
    PipelineFactory(is_default=True)
    caller = UserFactory(email="caller@example.com", first_name="Дарья", last_name="Звонова", role=Role.MARKETER)
    account = AccountFactory(owner=owner, name="ООО Ромашка")
    people = [ContactFactory(owner=owner, account=account, first_name=first, last_name=last, phones=["+74951234567"])
              for first, last in (("Анна", "Андреева"), ("Борис", "Борисов"), ("Вера", "Васильева"),
                                  ("Глеб", "Горин"))]
    static_list = services.static_list_create(actor=marketer, name="Выставка")
    services.static_list_add(static_list=static_list, actor=marketer,
                             contacts=Contact.objects.filter(pk__in=[p.pk for p in people]))
    campaign = CampaignFactory(owner=marketer, name="Осень", type="telemarketing")
    call_list = calllists.call_list_create(actor=marketer, campaign=campaign, name="Обзвон выставки",
                                           agents=[owner, caller], static_list=static_list)
    busy = calllists.call_next(call_list=call_list, agent=caller)  # Дарья is on a call right now

    sign_in(page, marketer)
    page.goto(call_list.get_absolute_url())
    page.locator("#hand-over").click()
    expect(page.locator("#entries")).to_contain_text("on a call with Дарья Звонова")
    for item in CallListItem.objects.filter(call_list=call_list, agent=caller):
        page.locator(f"#tick-{item.pk}").check()
    page.get_by_label("Give them to").select_option(label=str(owner))
    page.locator("#reassign").click()
    expect(page.get_by_text(f"1 person went to {owner}.")).to_be_visible()
    expect(page.get_by_text("1 person is being called right now and stays with their agent.")).to_be_visible()
    assert CallListItem.objects.get(pk=busy.pk).agent_id == caller.pk
    assert CallListItem.objects.filter(call_list=call_list, agent=owner).count() == 3

    page.context.clear_cookies()
    sign_in(page, owner)
    page.goto(call_list.get_absolute_url())
    page.locator("#start-calling").click()
    expect(page.locator("#callee-heading")).to_be_visible()
    page.get_by_label("Interested", exact=True).check()
    page.get_by_label("Create a deal with their company instead of a lead").check()
    page.get_by_label("Notes").fill("Просят КП")
    page.locator("#log-outcome").click()
    expect(page.get_by_text("Logged: Interested. Deal ООО Ромашка: Осень was created.")).to_be_visible()
    deal = Opportunity.objects.get()
    assert DealAttribution.objects.get(opportunity=deal).campaign == campaign and deal.owner == owner
    page.locator("#stop-calling").click()

    page.context.clear_cookies()
    sign_in(page, marketer)
    page.goto(call_list.get_absolute_url())
    page.locator("#close-list").click()
    expect(page.get_by_text("is closed: it hands out nobody to call.")).to_be_visible()
    expect(page.locator("#closed-badge")).to_be_visible()

    page.context.clear_cookies()
    sign_in(page, owner)
    page.goto(call_list.get_absolute_url())
    expect(page.locator("#start-calling")).to_have_count(0)
    page.goto(f"/marketing/call-lists/{call_list.pk}/work/")
    expect(page.locator("#list-closed")).to_be_visible()
    assert not CallListItem.objects.filter(call_list=call_list, claimed_by=owner).exists()
