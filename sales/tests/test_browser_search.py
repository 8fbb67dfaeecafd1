"""The global search box, driven as a person would, in the system Chromium: "/" focuses it, the
dropdown shows the groups, and a rep of another team sees nothing of another team's rows."""

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from sales.tests.billing_helpers import invoice_for
from sales.tests.factories import LeadFactory, OpportunityFactory

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def type_into_search(page, text):
    page.locator("h1").first.click()  # not typing anywhere: "/" is the shortcut
    page.keyboard.press("/")
    expect(page.locator("#global-search")).to_be_focused()
    page.keyboard.type(text)
    return page.locator("#search-dropdown")


def test_a_deal_an_invoice_and_a_lead_for_the_owner_and_nothing_for_another_team(page, owner, outsider):
    deal = OpportunityFactory(owner=owner, name="Orbital Freight Expansion")
    invoice = invoice_for(owner)
    lead = LeadFactory(owner=owner, first_name="Ottilie", last_name="Marchbanks", company="Kestrel Works",
                       email="ottilie@kestrel.example")

    sign_in(page, owner)
    dropdown = type_into_search(page, "orbital freight")
    deals = dropdown.locator('[data-search-group="opportunities"]')
    expect(deals.get_by_role("link", name="Orbital Freight Expansion")).to_be_visible()
    expect(dropdown).to_contain_text("Opportunities")

    page.locator("#global-search").fill("")
    dropdown = type_into_search(page, invoice.number.lower())
    expect(dropdown.locator('[data-search-group="invoices"]').get_by_role("link", name=invoice.number)).to_be_visible()

    page.locator("#global-search").fill("")
    dropdown = type_into_search(page, "Ottilie@Kestrel.example")
    hit = dropdown.locator('[data-search-group="leads"]').get_by_role("link", name=str(lead))
    expect(hit).to_be_visible()
    hit.click()  # the hit opens the lead
    expect(page.get_by_role("heading", level=1)).to_have_text("Ottilie Marchbanks")
    assert page.console_errors == [], page.failed_requests

    page.context.clear_cookies()
    sign_in(page, outsider)
    for text in ("orbital freight", invoice.number, "ottilie@kestrel.example"):
        page.locator("#global-search").fill("")
        dropdown = type_into_search(page, text)
        expect(dropdown).to_contain_text("Nothing you may see matches")
        expect(dropdown.locator(".search-hit")).to_have_count(0)
        for secret in (deal.name, "Marchbanks", "Kestrel Works"):
            expect(dropdown).not_to_contain_text(secret)


def test_enter_opens_the_full_results_page(page, owner):
    OpportunityFactory(owner=owner, name="Orbital Freight Expansion")
    sign_in(page, owner)
    type_into_search(page, "orbital")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("orbital")
    expect(page.get_by_role("link", name="Orbital Freight Expansion")).to_be_visible()
