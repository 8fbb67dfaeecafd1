"""Accounts and contacts in the global search (accounts/search.py, contacts/search.py), their
search selects (accounts/lookups.py, contacts/lookups.py) and the caller lookup."""

import pytest
from django.urls import reverse

from accounts.tests.factories import AccountFactory
from contacts.tests.factories import ContactFactory
from crm.search import search


@pytest.fixture
def book(owner, outsider):
    return {
        "mine": AccountFactory(owner=owner, name="Northwind Traders", phone="+44 20 7946 0001",
                               tax_number="7701234567", email="orders@northwind.example"),
        "theirs": AccountFactory(owner=outsider, name="Northwind Logistics"),
        "person": ContactFactory(owner=owner, first_name="Дмитрий", last_name="Иванов", phones=["+74951234567"],
                                 emails=["d.ivanov@example.ru"]),
        "hidden_person": ContactFactory(owner=outsider, first_name="Dmitri", last_name="Ivanov",
                                        phones=["+74951234567"]),
    }


def test_short_terms_get_a_hint(owner):
    results = search(owner, "no")
    assert results.too_short and results.empty


def test_name_search_shows_only_visible_rows(owner, outsider, book):
    assert search(owner, "northwind").records("accounts") == [book["mine"]]
    assert search(outsider, "northwind").records("accounts") == [book["theirs"]]


def test_typo_tolerant(owner, book):
    assert search(owner, "Nortwind Traders").records("accounts") == [book["mine"]]
    assert search(owner, "Иваноф").records("contacts") == [book["person"]]


@pytest.mark.parametrize("typed", ["+7 (495) 123-45-67", "+74951234567", "+7 495 123 4567", "007 495 1234567"])
def test_phone_in_any_format(owner, book, typed):
    assert search(owner, typed).records("contacts") == [book["person"]]


def test_account_phone_and_tax_number(owner, book):
    assert search(owner, "020 7946 0001").records("accounts") == [book["mine"]]
    assert search(owner, "7701234567").records("accounts") == [book["mine"]]


def test_email(owner, book):
    assert search(owner, "D.Ivanov@example.ru").records("contacts") == [book["person"]]
    assert search(owner, "Orders@Northwind.example").records("accounts") == [book["mine"]]


@pytest.mark.parametrize("role", ["manager", "executive", "support_agent"])
def test_who_else_finds_the_account(request, role, book):
    """The team's manager, an executive and support (customer data: all) find it; another team's rep does not."""
    user = request.getfixturevalue(role)
    assert book["mine"] in search(user, "Northwind Traders").records("accounts")


def test_outsider_finds_neither_my_account_nor_my_contact(outsider, book):
    assert book["mine"] not in search(outsider, "Northwind Traders").records("accounts")
    assert search(outsider, "d.ivanov@example.ru").empty
    assert search(outsider, "+74951234567").records("contacts") == [book["hidden_person"]]


def test_search_page_groups_and_htmx_fragment(client, owner, book):
    client.force_login(owner)
    page = client.get(reverse("search"), {"q": "northwind"}).content.decode()
    assert "Accounts" in page and "Northwind Traders" in page and "Northwind Logistics" not in page
    assert "bi-building" in page and book["mine"].get_absolute_url() in page
    fragment = client.get(reverse("search"), {"q": "northwind"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and "Northwind Traders" in fragment and "All results" in fragment
    hint = client.get(reverse("search"), {"q": "ab"}, HTTP_HX_REQUEST="true").content.decode()
    assert "at least 3 characters" in hint


def test_a_contacts_hidden_account_is_not_named(client, owner, outsider):
    secret = AccountFactory(owner=outsider, name="Secretco Holdings")
    ContactFactory(owner=owner, account=secret, last_name="Visible")
    results = search(owner, "Visible")
    hit = results.groups[0].hits[0]
    assert "Secretco" not in hit.title + hit.subtitle


def test_search_query_count(client, owner, book, django_assert_max_num_queries):
    client.force_login(owner)
    client.get(reverse("search"), {"q": "northwind"})
    with django_assert_max_num_queries(12):  # one query per search provider (tickets and articles joined)
        client.get(reverse("search"), {"q": "northwind"})


def test_autocomplete_goes_through_visibility(client, owner, book):
    client.force_login(owner)
    accounts = client.get(reverse("autocomplete_accounts"), {"q": "north"}).json()["results"]
    assert [row["text"] for row in accounts] == ["Northwind Traders"]
    contacts = client.get(reverse("autocomplete_contacts"), {"q": "Иван"}).json()["results"]
    assert [row["id"] for row in contacts] == [book["person"].pk]


def test_autocomplete_paths_are_unchanged():
    assert reverse("autocomplete_accounts") == "/autocomplete/accounts/"
    assert reverse("autocomplete_contacts") == "/autocomplete/contacts/"
    assert reverse("lookup_phone") == "/autocomplete/phone/"


def test_caller_lookup_runs_over_the_providers(client, owner, book):
    account = AccountFactory(owner=owner, name="Ivanov & Co", phone="+7 495 123-45-67")
    client.force_login(owner)
    lookup = client.get(reverse("lookup_phone"), {"phone": "+7 495 123-45-67"}).json()
    assert lookup["phone"] == "+74951234567"
    # People first, then companies; the outsider's contact with the same number is not there.
    assert [(row["contact"], row["account"]) for row in lookup["results"]] == [
        (book["person"].pk, None), (None, account.pk)]
    assert lookup["results"][1]["account_text"] == "Ivanov & Co"
    assert client.get(reverse("lookup_phone"), {"phone": "12"}).json() == {"phone": None, "results": []}
