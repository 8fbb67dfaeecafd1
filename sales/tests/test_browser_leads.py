"""A lead from entry to conversion, driven as a person would, in the system Chromium."""

import pytest
from playwright.sync_api import expect

from accounts.models import Account
from conftest import sign_in
from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from sales.models import Lead, LeadStatus, Opportunity
from sales.tests.factories import PipelineFactory

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_create_lead_see_duplicate_qualify_and_convert(page, owner, outsider):
    PipelineFactory(name="New business", is_default=True)
    ContactFactory(owner=outsider, first_name="Hidden", last_name="Person", emails=["grace@navylabs.test"],
                   phones=[])
    sign_in(page, owner)

    page.goto("/sales/leads/")
    page.get_by_role("link", name="New lead").first.click()
    page.locator("#id_first_name").fill("Grace")
    page.locator("#id_last_name").fill("Hopper")
    page.locator("#id_company").fill("Navy Labs")
    page.locator("#id_email").fill("grace@navylabs.test")  # the hidden contact's e-mail
    warning = page.locator("#duplicate-warning")
    expect(warning).to_be_visible(timeout=20_000)  # the live (debounced) check
    expect(warning).to_contain_text(f"owned by {outsider}")
    expect(warning).not_to_contain_text("Hidden Person")
    page.locator("#id_source").select_option("event")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#duplicate-warning")).to_be_visible()  # the server asks too
    page.get_by_label("I checked the possible duplicates: save anyway").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Grace Hopper")

    page.locator("#id_status").select_option("qualified")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator("#lead-status")).to_have_text("Qualified")

    page.get_by_role("link", name="Log a call").click()
    page.locator("#id_subject").fill("Discovery call")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Grace Hopper")  # back on the lead
    expect(page.locator("#timeline-items")).to_contain_text("Discovery call")

    page.locator("#convert-lead").click()
    expect(page.locator("#id_account_name")).to_have_value("Navy Labs")
    page.get_by_label("Also create an opportunity").check()
    page.locator("#id_opportunity_name").fill("Navy Labs – pilot")
    page.locator("#id_amount").fill("5000")
    page.locator("#convert-submit").click()

    became = page.locator("#lead-became")
    expect(became).to_be_visible()
    expect(became).to_contain_text("Navy Labs – pilot")
    lead = Lead.objects.get(last_name="Hopper")
    assert lead.status == LeadStatus.CONVERTED
    account = Account.objects.get(name="Navy Labs")
    deal = Opportunity.objects.get()
    assert lead.converted_account == account and deal.account == account
    assert Contact.objects.get(account=account).last_name == "Hopper"
    expect(page.locator("#convert-lead")).to_have_count(0)  # cannot be converted twice

    expect(became.get_by_role("link", name="Navy Labs – pilot")).to_be_visible()
    expect(became.get_by_role("link", name="Grace Hopper")).to_be_visible()
    became.get_by_role("link", name="Navy Labs", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Navy Labs")
    expect(page.locator("#timeline-items")).to_contain_text("Discovery call")  # the history came along
    assert page.console_errors == [], page.failed_requests  # no CSP violation, no script error
