"""Leads, deals, quotes, orders, invoices and products in the global search (sales/search.py):
each found by someone who may see it, never by a rep of another team, within the query budget."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import AccountFactory
from crm.search import search
from sales.tests.billing_helpers import invoice_for
from sales.tests.factories import LeadFactory, OpportunityFactory, ProductFactory

SEES_SALES = ["owner", "manager", "executive"]
SEES_NO_SALES = ["outsider", "support_agent"]


@pytest.fixture
def deals(owner):
    return {
        "deal": OpportunityFactory(owner=owner, name="Fleet Renewal Zephyr"),
        "lead": LeadFactory(owner=owner, first_name="Quentin", last_name="Blackwood", company="Brightline Labs",
                            email="q.blackwood@brightline.example", phone="+44 20 7946 0555"),
        "invoice": invoice_for(owner),
    }


def _user(request, role):
    return request.getfixturevalue(role)


@pytest.mark.parametrize("role", SEES_SALES)
def test_a_deal_is_found_by_name_by_whoever_may_see_it(request, role, deals):
    assert search(_user(request, role), "renewal zeph").records("opportunities") == [deals["deal"]]


@pytest.mark.parametrize("role", SEES_NO_SALES)
def test_a_deal_is_not_found_by_others(request, role, deals):
    assert deals["deal"] not in search(_user(request, role), "Fleet Renewal Zephyr").records("opportunities")


@pytest.mark.parametrize("role", [*SEES_SALES, "marketer"])
def test_a_lead_is_found_by_email_phone_name_and_company(request, role, deals):
    user, lead = _user(request, role), deals["lead"]
    assert search(user, "Q.Blackwood@Brightline.example").records("leads") == [lead]
    assert search(user, "020 7946 0555").records("leads") == [lead]
    assert search(user, "blackwood").records("leads") == [lead]
    assert search(user, "brightline").records("leads") == [lead]


@pytest.mark.parametrize("role", SEES_NO_SALES)
def test_a_lead_is_not_found_by_others(request, role, deals):
    user = _user(request, role)
    assert search(user, "q.blackwood@brightline.example").empty
    assert search(user, "Blackwood").records("leads") == []


@pytest.mark.parametrize("role", SEES_SALES)
def test_documents_are_found_by_number_or_its_beginning(request, role, deals):
    user, invoice = _user(request, role), deals["invoice"]
    order, quote = invoice.order, invoice.order.quote
    assert search(user, invoice.number).records("invoices") == [invoice]
    assert search(user, invoice.number.lower()[:-2]).records("invoices") == [invoice]
    assert search(user, order.number).records("orders") == [order]
    assert search(user, quote.number).records("quotes") == [quote]


@pytest.mark.parametrize("role", SEES_NO_SALES)
def test_documents_are_not_found_by_others(request, role, deals):
    assert search(_user(request, role), deals["invoice"].number).empty


def test_a_linked_account_the_user_may_not_see_is_never_named(owner, outsider):
    """A deal of mine on another team's account: found, the account not named."""
    secret = AccountFactory(owner=outsider, name="Secretco Holdings")
    OpportunityFactory(owner=owner, account=secret, name="Hidden Account Deal")
    hits = [hit for group in search(owner, "hidden account deal").groups for hit in group.hits]
    assert hits and all("Secretco" not in hit.title + hit.subtitle for hit in hits)


@pytest.mark.parametrize("role", ["owner", "outsider", "support_agent", "marketer"])
def test_products_by_sku_or_name_for_everyone_signed_in(db, request, role):
    product = ProductFactory(sku="ZX-1000", name="Quantum Flux Router")
    user = _user(request, role)
    assert search(user, "zx-1000").records("products") == [product]
    assert search(user, "flux rout").records("products") == [product]


def test_search_page_shows_every_group(client, owner, deals):
    client.force_login(owner)
    page = client.get(reverse("search"), {"q": deals["invoice"].number}).content.decode()
    assert "Invoices" in page and deals["invoice"].get_absolute_url() in page


def _provider_queries(user, text) -> int:
    with CaptureQueriesContext(connection) as queries:
        search(user, text)
    return len(queries)


def test_one_query_per_provider_at_most_whatever_the_row_count(owner, deals):
    """Words: accounts, contacts, leads, deals, products, tickets, articles, campaigns (8); a number: accounts,
    contacts, leads, deals, products, tickets and quotes, orders, invoices (9); an e-mail asks the three who have
    e-mails; the typo search only when nothing matched."""
    assert _provider_queries(owner, "renewal") == 8
    assert _provider_queries(owner, deals["invoice"].number) == 9
    assert _provider_queries(owner, "q.blackwood@brightline.example") == 3
    assert _provider_queries(owner, "+44 20 7946 0555") == 4  # accounts, contacts, leads, products (a SKU)
    # A national number needs the user's country once (then remembered on the user).
    assert _provider_queries(owner, "020 7946 0555") == 4 + 1
    assert _provider_queries(owner, "020 7946 0555") == 4
    for number in range(20):
        OpportunityFactory(owner=owner, name=f"Renewal {number}")
        LeadFactory(owner=owner, last_name=f"Renewal{number}")
    assert _provider_queries(owner, "renewal") == 8
    assert _provider_queries(owner, "zzqqxx nothing") == 8 + 2  # + the typo search of accounts and contacts


def test_search_page_query_count(client, owner, deals, django_assert_max_num_queries):
    client.force_login(owner)
    client.get(reverse("search"), {"q": "renewal"})
    with django_assert_max_num_queries(12):
        client.get(reverse("search"), {"q": "renewal"})
    with django_assert_max_num_queries(15):
        client.get(reverse("search"), {"q": deals["invoice"].number})


def test_caller_lookup_offers_the_lead(client, owner, outsider, deals):
    client.force_login(owner)
    lookup = client.get(reverse("lookup_phone"), {"phone": "+442079460555"}).json()
    assert [(row["lead"], row["text"]) for row in lookup["results"]] == [(deals["lead"].pk, str(deals["lead"]))]
    client.force_login(outsider)
    assert client.get(reverse("lookup_phone"), {"phone": "+442079460555"}).json()["results"] == []
