"""What sales shows on the account and contact pages (sales/panels.py through crm/panels.py)."""

import pytest
from django.urls import reverse

from accounts.tests.factories import AccountFactory
from contacts.tests.factories import ContactFactory
from crm import panels
from sales.models import ContactRole, OpportunityContactRole
from sales.tests.billing_helpers import accepted_quote, invoice_for
from sales.tests.factories import OpportunityFactory, PipelineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(owner):
    return AccountFactory(owner=owner, team=owner.team, name="Волга Логистик")


def test_manager_sees_the_accounts_deals_documents_and_receivables_with_amounts(client, owner, manager, account):
    pipeline = PipelineFactory()
    OpportunityFactory(owner=owner, account=account, pipeline=pipeline, name="Fleet renewal", amount="125000.00",
                       currency="RUB")
    invoice = invoice_for(owner, account=account, due_in_days=-5, currency="RUB")
    quote = accepted_quote(owner, account=account, currency="RUB")
    client.force_login(manager)
    page = client.get(account.get_absolute_url()).content.decode()
    assert 'id="account-deals"' in page and "Fleet renewal" in page and "125,000.00 RUB" in page
    assert 'id="account-quotes"' in page and quote.number in page
    assert 'id="account-invoices"' in page and invoice.number in page
    assert 'id="account-orders"' in page and invoice.order.number in page
    assert 'id="receivables-card"' in page and "overdue" in page
    assert 'id="figure-open-pipeline"' in page
    # The counts link to the lists filtered the same way.
    assert f"{reverse('sales:opportunity_list')}?account={account.pk}&amp;status=open" in page


def test_a_deal_the_reader_may_not_see_is_not_on_the_account_page(client, owner, outsider, manager, account):
    OpportunityFactory(owner=outsider, team=outsider.team, account=account, name="Other team's secret deal")
    client.force_login(manager)
    page = client.get(account.get_absolute_url()).content.decode()
    assert "Other team&#x27;s secret deal" not in page and "secret deal" not in page


def test_roles_without_sales_data_get_no_sales_panels(client, owner, support_agent, account):
    OpportunityFactory(owner=owner, account=account, name="Fleet renewal")
    client.force_login(support_agent)
    page = client.get(account.get_absolute_url()).content.decode()
    assert client.get(account.get_absolute_url()).status_code == 200
    assert "Fleet renewal" not in page and 'id="account-deals"' not in page and 'id="receivables-card"' not in page


def test_contact_page_shows_the_deals_where_the_contact_has_a_role(client, owner, account):
    contact = ContactFactory(owner=owner, account=account, first_name="Ирина", last_name="Соколова")
    with_role = OpportunityFactory(owner=owner, account=account, name="Warehouse robots")
    OpportunityContactRole.objects.create(opportunity=with_role, contact=contact, role=ContactRole.DECISION_MAKER)
    as_primary = OpportunityFactory(owner=owner, account=account, name="Spare parts", primary_contact=contact)
    OpportunityFactory(owner=owner, account=account, name="Unrelated deal")
    client.force_login(owner)
    page = client.get(contact.get_absolute_url()).content.decode()
    assert 'id="contact-deals"' in page
    assert with_role.name in page and as_primary.name in page and "Unrelated deal" not in page
    assert str(ContactRole.DECISION_MAKER.label) in page
    # The list the panel links to shows the same deals.
    listed = client.get(reverse("sales:opportunity_list"), {"contact": contact.pk}).content.decode()
    assert with_role.name in listed and as_primary.name in listed and "Unrelated deal" not in listed


@pytest.mark.parametrize("deals", [1, 12])
def test_account_page_query_count_does_not_grow_with_deals(client, owner, account, deals,
                                                           django_assert_max_num_queries):
    pipeline = PipelineFactory()
    OpportunityFactory.create_batch(deals, owner=owner, account=account, pipeline=pipeline)
    client.force_login(owner)
    client.get(account.get_absolute_url())  # warm the session
    with django_assert_max_num_queries(15):
        assert client.get(account.get_absolute_url()).status_code == 200


def test_every_sales_panel_is_registered_for_its_page():
    account_panels = {panel.key for panel in panels.registered("accounts.account")}
    assert {"sales.panels.account_figures", "sales.panels.account_open_deals", "sales.panels.account_documents",
            "sales.panels.account_receivables_card"} <= account_panels
    assert "sales.panels.contact_deals" in {panel.key for panel in panels.registered("contacts.contact")}


def test_my_day_shows_the_sellers_own_pipeline_and_overdue_invoices(client, owner, teammate, account):
    pipeline = PipelineFactory()
    OpportunityFactory(owner=owner, account=account, pipeline=pipeline, amount="1000.00")
    OpportunityFactory(owner=teammate, account=account, pipeline=pipeline, amount="999999.00")  # not mine
    invoice_for(owner, account=account, due_in_days=-3)
    client.force_login(owner)
    page = client.get(reverse("home")).content.decode()
    # Headline figures are whole amounts with the currency (the formatting layer's money_whole).
    assert 'id="figure-my-pipeline"' in page and "1,000 EUR" in page and "999,999" not in page
    assert 'id="figure-my-overdue-invoices"' in page


def test_my_day_has_no_sales_figures_for_roles_without_sales_data(client, support_agent):
    client.force_login(support_agent)
    assert 'id="figure-my-pipeline"' not in client.get(reverse("home")).content.decode()


@pytest.mark.parametrize("deals", [1, 15])
def test_my_day_query_count_does_not_grow_with_deals(client, owner, account, deals, django_assert_max_num_queries):
    OpportunityFactory.create_batch(deals, owner=owner, account=account, pipeline=PipelineFactory())
    client.force_login(owner)
    client.get(reverse("home"))
    with django_assert_max_num_queries(15):
        assert client.get(reverse("home")).status_code == 200
