"""The customer 360 as a sales manager sees it in Chromium: the account page shows the account's
deals, quotes, orders, invoices and receivables with amounts (panels sales contributes); the
contact page shows the deals the person takes part in; a click on a count opens the same rows."""

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import AccountFactory
from conftest import sign_in
from contacts.tests.factories import ContactFactory
from sales.models import ContactRole, OpportunityContactRole
from sales.tests.billing_helpers import accepted_quote, invoice_for
from sales.tests.factories import OpportunityFactory, PipelineFactory

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_manager_reads_the_account_360_and_the_contacts_deals(page, owner, manager):
    account = AccountFactory(owner=owner, team=owner.team, name="ООО «Северный ветер»")
    contact = ContactFactory(owner=owner, team=owner.team, account=account, first_name="Анна", last_name="Петрова")
    pipeline = PipelineFactory()
    deal = OpportunityFactory(owner=owner, account=account, pipeline=pipeline, name="Поставка турбин",
                              amount="2500000.00", currency="RUB")
    OpportunityContactRole.objects.create(opportunity=deal, contact=contact, role=ContactRole.ECONOMIC_BUYER)
    OpportunityFactory(owner=owner, account=account, pipeline=pipeline, name="Сервисный контракт",
                       amount="480000.00", currency="RUB")
    invoice = invoice_for(owner, account=account, due_in_days=-10, currency="RUB")
    quote = accepted_quote(owner, account=account, currency="RUB")

    sign_in(page, manager)
    page.goto(account.get_absolute_url())
    deals = page.locator("#account-deals")
    expect(deals).to_contain_text("Поставка турбин")
    expect(deals).to_contain_text("2,500,000.00 RUB")
    expect(deals.locator(".badge").first).to_have_text("2")
    expect(page.locator("#account-quotes")).to_contain_text(quote.number)
    expect(page.locator("#account-invoices")).to_contain_text(invoice.number)
    expect(page.locator("#receivables-card")).to_contain_text("overdue")
    expect(page.locator("#account-contacts")).to_contain_text("Петрова")

    # The open-pipeline figure opens the list of exactly those deals.
    page.locator("#figure-open-pipeline").click()
    expect(page.locator("#opportunity-table")).to_contain_text("Поставка турбин")
    expect(page.locator("#opportunity-table")).to_contain_text("Сервисный контракт")

    page.goto(contact.get_absolute_url())
    contact_deals = page.locator("#contact-deals")
    expect(contact_deals).to_contain_text("Поставка турбин")
    expect(contact_deals).to_contain_text(str(ContactRole.ECONOMIC_BUYER.label))
    expect(contact_deals).not_to_contain_text("Сервисный контракт")


def test_a_phone_sees_the_figures_and_deals_without_scrolling_sideways(page, owner):
    account = AccountFactory(owner=owner, team=owner.team, name="Acme")
    OpportunityFactory(owner=owner, account=account, name="Fleet renewal", amount="125000.00")
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, owner)
    page.goto(account.get_absolute_url())
    expect(page.locator("#account-deals")).to_contain_text("Fleet renewal")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
