import pytest
from django.urls import reverse

from accounts.tests.factories import AccountFactory
from contacts.tests.factories import ContactFactory
from crm.search import search


@pytest.fixture
def book(owner, outsider):
    return {
        "mine": AccountFactory(owner=owner, name="Northwind Traders", phone="+44 20 7946 0001",
                               tax_number="7701234567"),
        "theirs": AccountFactory(owner=outsider, name="Northwind Logistics"),
        "person": ContactFactory(owner=owner, first_name="Дмитрий", last_name="Иванов", phones=["+74951234567"],
                                 emails=["d.ivanov@example.ru"]),
        "hidden_person": ContactFactory(owner=outsider, first_name="Dmitri", last_name="Ivanov",
                                        phones=["+74951234567"]),
    }


def test_short_terms_get_a_hint(owner):
    results = search(owner, "no")
    assert results.too_short and results.empty


def test_name_search_shows_only_visible_rows(owner, book):
    results = search(owner, "northwind")
    assert results.accounts == [book["mine"]]


def test_typo_tolerant(owner, book):
    assert search(owner, "Nortwind Traders").accounts == [book["mine"]]
    assert search(owner, "Иваноф").contacts == [book["person"]]


@pytest.mark.parametrize("typed", ["+7 (495) 123-45-67", "+74951234567", "+7 495 123 4567", "007 495 1234567"])
def test_phone_in_any_format(owner, book, typed):
    assert search(owner, typed).contacts == [book["person"]]


def test_account_phone_and_tax_number(owner, book):
    assert search(owner, "020 7946 0001").accounts == [book["mine"]]
    assert search(owner, "7701234567").accounts == [book["mine"]]


def test_email(owner, book):
    assert search(owner, "D.Ivanov@example.ru").contacts == [book["person"]]


def test_search_page_groups_and_htmx_fragment(client, owner, book):
    client.force_login(owner)
    page = client.get(reverse("search"), {"q": "northwind"}).content.decode()
    assert "Accounts" in page and "Northwind Traders" in page and "Northwind Logistics" not in page
    fragment = client.get(reverse("search"), {"q": "northwind"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and "Northwind Traders" in fragment and "All results" in fragment
    hint = client.get(reverse("search"), {"q": "ab"}, HTTP_HX_REQUEST="true").content.decode()
    assert "at least 3 characters" in hint


def test_search_query_count(client, owner, book, django_assert_max_num_queries):
    client.force_login(owner)
    client.get(reverse("search"), {"q": "northwind"})
    with django_assert_max_num_queries(10):
        client.get(reverse("search"), {"q": "northwind"})


def test_autocomplete_goes_through_visibility(client, owner, book):
    client.force_login(owner)
    accounts = client.get(reverse("autocomplete_accounts"), {"q": "north"}).json()["results"]
    assert [row["text"] for row in accounts] == ["Northwind Traders"]
    contacts = client.get(reverse("autocomplete_contacts"), {"q": "Иван"}).json()["results"]
    assert [row["id"] for row in contacts] == [book["person"].pk]
    lookup = client.get(reverse("lookup_phone"), {"phone": "+7 495 123-45-67"}).json()
    assert [row["contact"] for row in lookup["results"]] == [book["person"].pk]
