"""Static lists driven as a marketer would, in the system Chromium: make a list, tick people on the
contacts list (or leads on the leads list) and add them with the action marketing registers there,
then remove one; a lead's page shows the lists it is on."""

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from contacts.tests.factories import ContactFactory
from marketing import services
from marketing.models import StaticList
from sales.tests.factories import LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_tick_contacts_into_a_static_list_and_remove_one(page, marketer, owner):
    ContactFactory(owner=owner, first_name="Anna", last_name="Berg")
    ContactFactory(owner=owner, first_name="Иван", last_name="Петров")
    ContactFactory(owner=owner, first_name="Zoe", last_name="Zimmer")
    sign_in(page, marketer)

    page.goto("/marketing/")
    page.locator("#overview-lists").click()
    page.locator("#list-create").click()
    page.locator("#id_name").fill("Гости выставки")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Гости выставки")
    expect(page.locator("#list-members")).to_contain_text("Nobody is on this list yet.")

    page.locator("#add-from-contacts").click()
    page.get_by_label("Tick: Anna Berg").check()
    page.get_by_label("Tick: Иван Петров").check()
    page.locator("#bulk-action").select_option("add_to_static_list")
    page.locator("#bulk-choice-add_to_static_list").select_option(label="Гости выставки")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("2 contacts added to Гости выставки.")).to_be_visible()

    page.goto(StaticList.objects.get().get_absolute_url())
    expect(page.locator("#list-total")).to_have_text("2")
    expect(page.locator("#list-members")).to_contain_text("Иван Петров")
    page.get_by_label("Tick to remove").first.check()
    page.get_by_role("button", name="Remove the ticked people").click()
    expect(page.get_by_text("1 person removed from the list.")).to_be_visible()
    expect(page.locator("#list-total")).to_have_text("1")
    assert page.console_errors == [] and page.failed_requests == []


def test_tick_leads_into_a_static_list_remove_one_and_see_the_list_on_a_lead(page, marketer, owner):
    LeadFactory(owner=owner, first_name="Ольга", last_name="Соколова", company="ООО «Ромашка»")
    kept = LeadFactory(owner=owner, first_name="Тарас", last_name="Шевчук", company="")
    LeadFactory(owner=owner, first_name="Zoe", last_name="Zimmer", company="")
    static_list = services.static_list_create(actor=marketer, name="Гости вебинара")
    sign_in(page, marketer)

    page.goto(static_list.get_absolute_url())
    page.locator("#add-from-leads").click()
    page.get_by_label("Tick: Ольга Соколова").check()
    page.get_by_label("Tick: Тарас Шевчук").check()
    page.locator("#bulk-action").select_option("add_to_static_list")
    page.locator("#bulk-choice-add_to_static_list").select_option(label="Гости вебинара")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("2 leads added to Гости вебинара.")).to_be_visible()

    page.goto(static_list.get_absolute_url())
    expect(page.locator("#list-total")).to_have_text("2")
    expect(page.locator("#list-members")).to_contain_text("Ольга Соколова")
    expect(page.locator("#list-leads-note")).to_contain_text("2 leads are on this list")
    page.locator("#list-members li", has_text="Ольга Соколова").get_by_label("Tick to remove").check()
    page.get_by_role("button", name="Remove the ticked people").click()
    expect(page.get_by_text("1 person removed from the list.")).to_be_visible()
    expect(page.locator("#list-total")).to_have_text("1")
    expect(page.locator("#list-members")).not_to_contain_text("Ольга Соколова")

    page.locator("#list-members").get_by_role("link", name="Тарас Шевчук").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Тарас Шевчук")
    expect(page.locator("#lead-lists")).to_contain_text("Гости вебинара")
    assert page.url.endswith(kept.get_absolute_url())
    assert page.console_errors == [] and page.failed_requests == []
