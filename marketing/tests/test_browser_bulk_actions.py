"""From ticked rows, as people would in the system Chromium: a marketer adds contacts to a campaign
from the contacts list, a rep gives ticked leads their source campaign on the leads list."""

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from contacts.tests.factories import ContactFactory
from marketing.tests.factories import CampaignFactory
from sales.tests.factories import LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_tick_contacts_into_a_campaign(page, marketer, owner):
    ContactFactory(owner=owner, first_name="Анна", last_name="Берг")
    ContactFactory(owner=owner, first_name="Тарас", last_name="Шевчук")
    campaign = CampaignFactory(owner=marketer, name="Осенняя выставка")
    sign_in(page, marketer)
    page.goto("/contacts/")
    page.get_by_label("Tick: Анна Берг").check()
    page.get_by_label("Tick: Тарас Шевчук").check()
    page.locator("#bulk-action").select_option("add_to_campaign")
    page.locator("#bulk-choice-add_to_campaign").select_option(label="Осенняя выставка")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("2 contacts added to Осенняя выставка.")).to_be_visible()
    page.goto(campaign.get_absolute_url())
    expect(page.locator("#member-rows")).to_contain_text("Тарас Шевчук")
    assert page.console_errors == [] and page.failed_requests == []


def test_tick_leads_to_give_them_a_source_campaign(page, owner, marketer):
    LeadFactory(owner=owner, first_name="Ольга", last_name="Соколова", company="ООО «Ромашка»")
    CampaignFactory(owner=marketer, name="Вебинар для дилеров")
    sign_in(page, owner)
    page.goto("/sales/leads/")
    page.get_by_label("Tick: Ольга Соколова").check()
    page.locator("#bulk-action").select_option("set_lead_campaign")
    page.locator("#bulk-choice-set_lead_campaign").select_option(label="Вебинар для дилеров")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("1 lead now comes from Вебинар для дилеров.")).to_be_visible()
    page.get_by_role("link", name="Ольга Соколова").click()
    expect(page.locator("#lead-campaign")).to_contain_text("Вебинар для дилеров")
    assert page.console_errors == [] and page.failed_requests == []


def test_find_a_campaign_with_the_global_search(page, owner, marketer):
    campaign = CampaignFactory(owner=marketer, name="Зимний марафон скидок")
    sign_in(page, owner)
    page.locator("h1").first.click()
    page.keyboard.press("/")
    page.keyboard.type("марафон скид")
    hit = page.locator('#search-dropdown [data-search-group="campaigns"]').get_by_role("link",
                                                                                     name="Зимний марафон скидок")
    expect(hit).to_be_visible()
    hit.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(campaign.name)
    assert page.console_errors == [] and page.failed_requests == []
